#pragma once
// Runs a shell command for a test and returns its standard output; fails the test on a non-zero exit.

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

namespace paaskit::test {

inline std::string run_command(const std::string& command)
{
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
        output.append(buf, n);
    const int status = ::pclose(pipe);
    INFO(command << "\n" << output);
    REQUIRE(status == 0);
    while (!output.empty() && output.back() == '\n')
        output.pop_back();
    return output;
}

} // namespace paaskit::test
