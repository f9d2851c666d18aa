#include "catalog/bootstrap.hpp"

#include "catalog/service.hpp"
#include "catalog/store.hpp"
#include "platform/startup.hpp"

#include <paaskit/core/uuid.hpp>
#include <paaskit/pg/connection.hpp>

namespace paaskit::server::store {

core::result<void> prepare_service_catalog(const std::string& conninfo, service_catalog& catalog, const core::clock& clock,
                                           const core::logger& log)
{
    return startup::run_on_own_loop([&](boost::asio::io_context& io) -> boost::asio::awaitable<core::result<void>> {
        auto conn = co_await pg::connection::connect(io.get_executor(), conninfo);
        if (!conn)
            co_return conn.error();
        core::uuid_v7_generator ids(clock);
        auto seeded = co_await seed_builtin_services(*conn, ids, clock.now());
        if (!seeded)
            co_return seeded.error();
        if (*seeded > 0)
            log.info("seeded the built-in services", {{"count", *seeded}});
        co_return co_await catalog.reload(*conn);
    });
}

} // namespace paaskit::server::store
