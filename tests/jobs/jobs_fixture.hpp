#pragma once
// What the jobs tests share: a queue name of their own per test, so that tests sharing the
// database never see each other's jobs.

#include <atomic>
#include <string>
#include <string_view>

#include <unistd.h>

namespace paaskit::test {

inline std::string fresh_queue(std::string_view prefix = "q")
{
    static std::atomic<int> n{0};
    return std::string(prefix) + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

} // namespace paaskit::test
