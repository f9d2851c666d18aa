// paaskit_fuzz_replay TARGET PATH...: runs one fuzz target over every file in the given files and
// directories (the kept corpus and past crashes), so that scripts/test replays them under the
// sanitizers with no fuzzer. Exits non-zero when a path is missing or holds no input.

#include "harness.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

namespace {

int replay_file(paaskit::fuzz::target_fn run, const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::cerr << "usage: paaskit_fuzz_replay TARGET PATH...\ntargets:";
        for (const auto& t : paaskit::fuzz::all_targets)
            std::cerr << ' ' << t.name;
        std::cerr << '\n';
        return 2;
    }
    const auto* target = std::find_if(std::begin(paaskit::fuzz::all_targets), std::end(paaskit::fuzz::all_targets),
                                      [&](const auto& t) { return t.name == argv[1]; });
    if (target == std::end(paaskit::fuzz::all_targets)) {
        std::cerr << "paaskit_fuzz_replay: no target \"" << argv[1] << "\"\n";
        return 2;
    }
    std::size_t inputs = 0;
    for (int i = 2; i < argc; ++i) {
        const std::filesystem::path path(argv[i]);
        std::vector<std::filesystem::path> files;
        if (std::filesystem::is_directory(path)) {
            for (const auto& entry : std::filesystem::directory_iterator(path))
                if (entry.is_regular_file())
                    files.push_back(entry.path());
        } else if (std::filesystem::is_regular_file(path)) {
            files.push_back(path);
        } else if (!std::filesystem::exists(path)) {
            std::cerr << "paaskit_fuzz_replay: " << path << " does not exist\n";
            return 2;
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            replay_file(target->run, file); // a failure aborts inside the target
            ++inputs;
        }
    }
    if (inputs == 0) {
        std::cerr << "paaskit_fuzz_replay: no inputs for " << target->name << "\n";
        return 1;
    }
    std::cout << target->name << ": " << inputs << " inputs replayed\n";
    return 0;
}
