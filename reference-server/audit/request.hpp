#pragma once
// An audit entry for an administrator's request, as every feature's admin routes record it.

#include "audit/log.hpp"
#include "http/request_context.hpp"

#include <paaskit/auth/roles.hpp>
#include <paaskit/core/clock.hpp>

namespace paaskit::server::audit {

/// Who made the request (an administrator, or an API token of one), which route, on what, before and after.
inline entry admin_entry(const request_context& ctx, core::uuid actor, auth::role role, std::optional<core::uuid> token, std::string action,
                         std::string target_type, std::string target_id, boost::json::value before, boost::json::value after)
{
    return {.actor_user = actor,
            .actor_token = token,
            .actor_role = std::string(auth::to_string(role)),
            .action = std::move(action),
            .method = std::string(ctx.request.method_string()),
            .route = std::string(ctx.route_label),
            .target_type = std::move(target_type),
            .target_id = std::move(target_id),
            .before = std::move(before),
            .after = std::move(after),
            .client_address = ctx.client_address,
            .request_id = ctx.request_id};
}

/// `append` with a new id at the clock's time.
inline async<void> append_now(pg::connection& c, const entry& e, const core::clock& clock)
{
    co_return co_await append(c, e, core::uuid_v7_generator(clock).next(), clock.now());
}

} // namespace paaskit::server::audit
