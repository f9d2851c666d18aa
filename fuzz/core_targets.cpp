// Fuzz targets for core's parsers: bounded JSON, money, RFC 3339 timestamps, UUIDs.

#include "harness.hpp"

#include <paaskit/core/json.hpp>
#include <paaskit/core/money.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/core/uuid.hpp>

#include <boost/json/serialize.hpp>

namespace paaskit::fuzz {

int json(const std::uint8_t* data, std::size_t size)
{
    auto parsed = core::parse_json(text_of(data, size), {.max_bytes = 64 * 1024, .max_depth = 32});
    if (parsed) {
        // What we write we can read back, to the same value.
        auto again = core::parse_json(boost::json::serialize(*parsed), {.max_bytes = 1 << 20, .max_depth = 32});
        PAASKIT_FUZZ_CHECK(again && *again == *parsed);
    }
    return 0;
}

int money(const std::uint8_t* data, std::size_t size)
{
    auto parsed = core::money::parse(text_of(data, size));
    if (parsed) {
        auto again = core::money::parse(parsed->to_string());
        PAASKIT_FUZZ_CHECK(again && again->minor_units() == parsed->minor_units());
    }
    return 0;
}

int timestamp(const std::uint8_t* data, std::size_t size)
{
    auto parsed = core::parse_rfc3339(text_of(data, size));
    if (parsed) {
        auto again = core::parse_rfc3339(core::format_rfc3339(*parsed, core::fraction_digits::nanos));
        PAASKIT_FUZZ_CHECK(again && *again == *parsed);
    }
    return 0;
}

int uuid(const std::uint8_t* data, std::size_t size)
{
    auto parsed = core::uuid::parse(text_of(data, size));
    if (parsed) {
        auto again = core::uuid::parse(parsed->to_string());
        PAASKIT_FUZZ_CHECK(again && *again == *parsed);
    }
    return 0;
}

} // namespace paaskit::fuzz
