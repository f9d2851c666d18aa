#include "platform/database.hpp"

#include "platform/migrations.hpp"

#include <paaskit/auth/pg_refresh_token_store.hpp>
#include <paaskit/billing/credit_ledger.hpp>
#include <paaskit/jobs/queue.hpp>
#include <paaskit/pg/migrations.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <unistd.h>

namespace paaskit::server::store {

namespace {

// Applies the migrations and records the instance, on a short-lived io_context of its own.
core::result<pg::migration_report> prepare(const std::string& conninfo, core::uuid instance_id)
{
    boost::asio::io_context io;
    auto done = boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<core::error> {
            auto conn = co_await pg::connection::connect(io.get_executor(), conninfo);
            if (!conn)
                co_return conn.error();
            // The components' tables first: the server's own migrations may add to them (triggers).
            if (auto sessions = co_await auth::install_refresh_token_store(*conn); !sessions)
                co_return sessions.error();
            if (auto queue = co_await jobs::install(*conn); !queue)
                co_return queue.error();
            const core::system_clock clock;
            const billing::credit_ledger credit(ledger::pg_engine::create(clock, {.schema = std::string(credit_ledger_schema)}).value());
            if (auto books = co_await credit.install(*conn); !books)
                co_return books.error();
            const auto migrations = server_migrations();
            auto migrated = co_await pg::migrate(*conn, "server", migrations);
            if (!migrated)
                co_return migrated.error();
            char host[256] = {};
            ::gethostname(host, sizeof host - 1);
            auto recorded = co_await conn->query("INSERT INTO paaskit_server_instances (id, hostname) VALUES ($1, $2)",
                                                 pg::params(instance_id, std::string(host)));
            if (!recorded)
                co_return recorded.error();
            co_return core::error{};
        },
        boost::asio::use_future);
    io.run();
    const auto failure = done.get();
    if (failure.code())
        return failure;
    return pg::migration_report{};
}

} // namespace

core::result<std::unique_ptr<database>> database::open(const std::string& database_url, const std::filesystem::path& data_dir,
                                                       core::uuid instance_id, const core::logger& log)
{
    std::unique_ptr<database> db(new database());
    if (database_url.empty()) {
        auto cluster = pg::local_cluster::start({.directory = data_dir / "pg"});
        if (!cluster)
            return cluster.error();
        db->cluster_ = std::move(*cluster);
        db->conninfo_ = db->cluster_->conninfo();
        log.info("embedded PostgreSQL started", {{"directory", db->cluster_->directory().string()}});
    } else {
        db->conninfo_ = database_url;
    }
    if (auto prepared = prepare(db->conninfo_, instance_id); !prepared)
        return prepared.error();
    return db;
}

database::~database()
{
    if (cluster_)
        (void)cluster_->stop();
}

std::shared_ptr<pg::pool> database::make_pool(boost::asio::any_io_executor executor, std::size_t size) const
{
    return pg::pool::create(std::move(executor), {.conninfo = conninfo_, .size = size});
}

} // namespace paaskit::server::store
