#pragma once
// The fuzz targets: one function per parser of outside input, each taking arbitrary bytes. Each
// returns 0 and must neither crash, leak, overflow nor trip a sanitizer, whatever the input; a
// broken invariant aborts through PAASKIT_FUZZ_CHECK.
//
// The same functions run two ways: under libFuzzer (clang, `scripts/fuzz`), and in
// `paaskit_fuzz_replay`, which feeds them the kept corpora and past crashes under GCC's sanitizers
// in `scripts/test`.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define PAASKIT_FUZZ_CHECK(condition)                                                                   \
    do {                                                                                                \
        if (!(condition)) {                                                                             \
            std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                               \
        }                                                                                               \
    } while (false)

namespace paaskit::fuzz {

using target_fn = int (*)(const std::uint8_t* data, std::size_t size);

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) noexcept
{
    return {reinterpret_cast<const char*>(data), size};
}

// One declaration per target; each is defined in fuzz/<name>.cpp.
int json(const std::uint8_t*, std::size_t);
int money(const std::uint8_t*, std::size_t);
int timestamp(const std::uint8_t*, std::size_t);
int uuid(const std::uint8_t*, std::size_t);
int quantity(const std::uint8_t*, std::size_t);
int names(const std::uint8_t*, std::size_t);
int templates(const std::uint8_t*, std::size_t);
int jwt(const std::uint8_t*, std::size_t);
int kubeconfig(const std::uint8_t*, std::size_t);
int catalog(const std::uint8_t*, std::size_t);
int schema(const std::uint8_t*, std::size_t);
int mime(const std::uint8_t*, std::size_t);

struct target {
    std::string_view name;
    target_fn run;
};

inline constexpr target all_targets[] = {
    {"json", json},         {"money", money}, {"timestamp", timestamp}, {"uuid", uuid},       {"quantity", quantity}, {"names", names},
    {"templates", templates}, {"jwt", jwt},   {"kubeconfig", kubeconfig}, {"catalog", catalog}, {"schema", schema},
    {"mime", mime},
};

} // namespace paaskit::fuzz
