#pragma once
// kubectl, the independent client, against the shared server's simulated cluster.

#include "server/subscriptions_support.hpp"
#include "support/child_process.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace paaskit::test {

/// kubectl: the one scripts/bootstrap fetched, else the one on PATH.
inline std::string kubectl_binary()
{
    const auto fetched = std::filesystem::path(PAASKIT_TESTS_ROOT) / ".." / ".cache" / "tools" / "bin" / "kubectl";
    if (std::filesystem::exists(fetched))
        return fetched.string();
    std::istringstream path(std::getenv("PATH") != nullptr ? std::getenv("PATH") : "");
    for (std::string dir; std::getline(path, dir, ':');)
        if (!dir.empty() && std::filesystem::exists(std::filesystem::path(dir) / "kubectl"))
            return (std::filesystem::path(dir) / "kubectl").string();
    FAIL("kubectl not found: run scripts/bootstrap");
    return {};
}

/// kubectl against the shared server's simulated cluster: its exit status and output.
inline std::pair<int, std::string> kubectl(std::vector<std::string> args)
{
    args.insert(args.begin(), {kubectl_binary(), "--kubeconfig", apps_kubeconfig()});
    child_process p(args);
    const int status = p.wait_exit(std::chrono::seconds(30)).value_or(-1);
    return {status, p.output()};
}

} // namespace paaskit::test
