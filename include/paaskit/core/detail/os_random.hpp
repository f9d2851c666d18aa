#pragma once
// Bytes from the operating system's CSPRNG (getrandom(2)); never seeded by hand, never predictable.

#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <span>
#include <stdexcept>

namespace paaskit::core::detail {

inline void fill_os_random(std::span<std::byte> out)
{
    while (!out.empty()) {
        const ssize_t got = ::getrandom(out.data(), out.size(), 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            // No entropy source at all is a broken machine, not an expected outcome.
            throw std::runtime_error("getrandom failed");
        }
        out = out.subspan(static_cast<std::size_t>(got));
    }
}

} // namespace paaskit::core::detail
