#pragma once
// A fresh directory for one test, removed with everything in it at the end.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

namespace paaskit::test {

struct scratch_dir {
    std::filesystem::path path;

    explicit scratch_dir(const std::string& prefix = "paaskit-test")
    {
        static std::atomic<int> n{0};
        path = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        std::filesystem::create_directories(path);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }

    /// Writes `text` to `name` under the directory (creating folders); its path.
    std::filesystem::path write(const std::string& name, const std::string& text) const
    {
        const auto file = path / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file;
    }

    /// The whole content of `name` under the directory ("" when absent).
    std::string read(const std::string& name) const
    {
        std::ifstream in(path / name, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
};

} // namespace paaskit::test
