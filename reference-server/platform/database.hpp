#pragma once
// The server's database: the one named by --database-url, or a private cluster under --data-dir.
// Opened, migrated and recorded before the server accepts connections.

#include <paaskit/core/log.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/uuid.hpp>
#include <paaskit/pg/local_cluster.hpp>
#include <paaskit/pg/pool.hpp>

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace paaskit::server::store {

/// The schema of the credit ledger (billing's money).
inline constexpr std::string_view credit_ledger_schema = "paaskit_ledger";

class database {
public:
    /// Starts the embedded cluster when `database_url` is empty, applies the server's migrations,
    /// and records this server instance. Runs before the event loops start.
    static core::result<std::unique_ptr<database>> open(const std::string& database_url, const std::filesystem::path& data_dir,
                                                        core::uuid instance_id, const core::logger& log);

    ~database();

    /// A pool whose connections live on `executor` (the server's main event loop).
    std::shared_ptr<pg::pool> make_pool(boost::asio::any_io_executor executor, std::size_t size) const;

    const std::string& conninfo() const noexcept { return conninfo_; }
    bool embedded() const noexcept { return cluster_ != nullptr; }

private:
    database() = default;

    std::unique_ptr<pg::local_cluster> cluster_;
    std::string conninfo_;
};

} // namespace paaskit::server::store
