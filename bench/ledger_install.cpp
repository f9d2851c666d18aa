// Installs (or upgrades) the ledger's PostgreSQL schema, for tools that drive it through SQL:
//   paaskit_ledger_install <conninfo> [schema]

#include <paaskit/ledger/pg_engine.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <iostream>

using namespace paaskit;

int main(int argc, char** argv)
{
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: paaskit_ledger_install <conninfo> [schema]\n";
        return 2;
    }
    core::system_clock clock;
    auto engine = ledger::pg_engine::create(clock, {.schema = argc == 3 ? argv[2] : "paaskit_ledger"});
    if (!engine) {
        std::cerr << engine.error().message() << '\n';
        return 2;
    }
    boost::asio::io_context io;
    auto done = boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<core::result<void>> {
        auto conn = co_await pg::connection::connect(io.get_executor(), argv[1]);
        if (!conn)
            co_return conn.error();
        co_return co_await engine->install(*conn);
    }, boost::asio::use_future);
    io.run();
    if (auto r = done.get(); !r) {
        std::cerr << "cannot install the ledger schema: " << r.error().message() << '\n';
        return 1;
    }
    return 0;
}
