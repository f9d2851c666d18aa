#pragma once
// State that belongs to one event loop and is only used on its thread, so that the request path
// shares no cache line with the other loops: its own request-id generator and a cache of the
// metric children its requests update.

#include <paaskit/core/uuid.hpp>
#include <paaskit/metrics/counter.hpp>
#include <paaskit/metrics/histogram.hpp>

#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>

namespace paaskit::server {

struct loop_context {
    explicit loop_context(const core::clock& clock) : request_ids(clock) {}

    core::uuid_v7_generator request_ids;

    /// A request's telemetry series. `route` must point to storage that outlives the cache
    /// (a route's pattern, or a string literal).
    struct telemetry_key {
        boost::beast::http::verb method;
        std::string_view route;
        unsigned status;
        bool operator==(const telemetry_key& other) const noexcept
        {
            return method == other.method && route.data() == other.route.data() && status == other.status;
        }
    };
    struct telemetry_key_hash {
        std::size_t operator()(const telemetry_key& k) const noexcept
        {
            return std::hash<const void*>{}(k.route.data()) ^ (static_cast<std::size_t>(k.method) << 20) ^ k.status;
        }
    };
    struct telemetry_series {
        metrics::counter* requests;
        metrics::histogram* duration;
    };
    std::unordered_map<telemetry_key, telemetry_series, telemetry_key_hash> telemetry;
};

} // namespace paaskit::server
