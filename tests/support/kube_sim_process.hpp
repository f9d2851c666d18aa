#pragma once
// Starts the paaskit-kube-sim program on a free loopback port and reads its URL from the line it
// prints once it serves (for the client tests and the client benchmark).

#include "support/child_process.hpp"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::test {

/// Runs `binary --listen 127.0.0.1:0 args...` in `process`; the URL it serves. Throws when it
/// does not say so within 30 seconds (with what it printed).
inline std::string start_kube_sim(child_process& process, const std::string& binary, const std::vector<std::string>& args)
{
    std::vector<std::string> all{binary, "--listen", "127.0.0.1:0"};
    all.insert(all.end(), args.begin(), args.end());
    process.start(all);
    constexpr std::string_view banner = "paaskit-kube-sim: serving ";
    const auto serving = process.wait_for_line([&](const std::string& line) { return line.starts_with(banner); }, std::chrono::seconds(30));
    if (!serving)
        throw std::runtime_error("paaskit-kube-sim did not start:\n" + process.output());
    return serving->substr(banner.size(), serving->find(' ', banner.size()) - banner.size());
}

} // namespace paaskit::test
