#pragma once
// Where the shared test data (../shared next to the checkout) is: a folder-specific environment
// variable first, then PAASKIT_SHARED_DIR, then the path compiled in.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace paaskit::test {

inline std::filesystem::path shared_folder(const char* override_variable, const char* name)
{
    if (const char* dir = std::getenv(override_variable); dir != nullptr && *dir != '\0')
        return dir;
    if (const char* dir = std::getenv("PAASKIT_SHARED_DIR"); dir != nullptr && *dir != '\0')
        return std::filesystem::path(dir) / name;
    return std::filesystem::path(PAASKIT_SHARED_DIR) / name;
}

inline std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace paaskit::test
