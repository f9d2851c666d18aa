#pragma once
// The middleware chain every request passes through, outermost first:
//   request id -> telemetry (access log, metrics, Server-Timing) -> input guard -> dispatch.
// A middleware may answer by itself or call `next`; dispatch runs the routed handler.

#include "http/http_metrics.hpp"
#include "http/http_types.hpp"
#include "http/request_context.hpp"
#include "http/router.hpp"

#include <paaskit/core/uuid.hpp>

#include <memory>
#include <vector>

namespace paaskit::server {

class pipeline;

/// Continues with the rest of the chain.
class next_handler {
public:
    next_handler(const pipeline& chain, std::size_t index) noexcept : chain_(&chain), index_(index) {}
    asio::awaitable<http_response> operator()(request_context& ctx) const;

private:
    const pipeline* chain_;
    std::size_t index_;
};

class middleware {
public:
    virtual ~middleware() = default;
    virtual asio::awaitable<http_response> handle(request_context& ctx, next_handler next) const = 0;
};

/// The ordered middleware and the router behind them. Built at start-up; `run` is safe to call
/// from any number of threads at once.
class pipeline {
public:
    explicit pipeline(const router& routes) : router_(routes) {}

    void use(std::unique_ptr<middleware> layer) { layers_.push_back(std::move(layer)); }

    asio::awaitable<http_response> run(request_context& ctx) const { return run_from(0, ctx); }

    const router& routes() const noexcept { return router_; }

private:
    friend class next_handler;
    asio::awaitable<http_response> run_from(std::size_t index, request_context& ctx) const;
    asio::awaitable<http_response> dispatch(request_context& ctx) const;

    const router& router_;
    std::vector<std::unique_ptr<middleware>> layers_;
};

/// Takes a well-formed incoming `X-Request-Id` (1..128 of [A-Za-z0-9._:-]) or makes a UUIDv7;
/// it is bound to `ctx.log()` and returned in `X-Request-Id`.
class request_id_middleware final : public middleware {
public:
    asio::awaitable<http_response> handle(request_context& ctx, next_handler next) const override;
};

/// One access-log line per request, the request metrics, and a `Server-Timing` header.
class telemetry_middleware final : public middleware {
public:
    telemetry_middleware(http_metrics& metrics, bool access_log) : metrics_(metrics), access_log_(access_log) {}
    asio::awaitable<http_response> handle(request_context& ctx, next_handler next) const override;

private:
    http_metrics& metrics_;
    bool access_log_;
};

/// Answers requests that could not be read (400, 413, 431), requests with a header that may appear
/// once appearing twice (400), query or path parameters that are not UTF-8 text free of control
/// characters (400), and bodies that are not JSON in UTF-8 (415).
class input_guard_middleware final : public middleware {
public:
    asio::awaitable<http_response> handle(request_context& ctx, next_handler next) const override;
};

/// `application/json`, or any `application/...+json`, with no parameter but `charset=utf-8`.
bool is_json_media_type(std::string_view content_type) noexcept;

} // namespace paaskit::server
