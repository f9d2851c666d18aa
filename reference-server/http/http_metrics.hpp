#pragma once
// The server's own metrics, registered once in the application's registry.

#include <paaskit/metrics/registry.hpp>

namespace paaskit::server {

struct http_metrics {
    explicit http_metrics(metrics::registry& registry)
        : requests(registry.counters("paaskit_http_requests_total", "HTTP requests completed, by method, route and status.",
                                     {"method", "route", "status"})),
          duration(registry.histograms("paaskit_http_request_duration_seconds",
                                       "Time from a request's headers being read to its response being ready.",
                                       {"method", "route"},
                                       {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5, 1, 2.5, 5, 10})),
          in_flight(registry.add_gauge("paaskit_http_requests_in_flight", "Requests being handled now.")),
          open_connections(registry.add_gauge("paaskit_http_connections", "Open client connections.")),
          timeouts(registry.counters("paaskit_http_timeouts_total",
                                     "Connections closed because a read or write took too long, by phase.", {"phase"}))
    {
    }

    metrics::family<metrics::counter>& requests;
    metrics::family<metrics::histogram>& duration;
    metrics::gauge& in_flight;
    metrics::gauge& open_connections;
    metrics::family<metrics::counter>& timeouts;
};

} // namespace paaskit::server
