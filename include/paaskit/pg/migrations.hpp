#pragma once
/// \file
/// Versioned schema migrations: ordered SQL scripts per component, each applied once.

#include <paaskit/core/result.hpp>
#include <paaskit/pg/connection.hpp>
#include <paaskit/pg/error.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace paaskit::pg {

/// One migration: a positive version (the order), a name, and its SQL script.
struct migration {
    std::int64_t version = 0;
    std::string name{};
    std::string sql{};
};

/// Reads `<dir>/<version>_<name>.sql` files (e.g. `0001_create_accounts.sql`), sorted by version.
/// A file name without a version, or two files with the same version, is `errc::migration_invalid`.
inline core::result<std::vector<migration>> load_migrations(const std::filesystem::path& dir)
{
    std::vector<migration> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const auto file = entry.path().filename().string();
        if (entry.path().extension() != ".sql")
            continue;
        std::int64_t version = 0;
        const auto [end, parse_ec] = std::from_chars(file.data(), file.data() + file.size(), version);
        if (parse_ec != std::errc{} || version <= 0 || *end != '_')
            return core::error(errc::migration_invalid, file + ": the name must be <version>_<name>.sql with a positive version");
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        found.push_back({version, file.substr(static_cast<std::size_t>(end - file.data()) + 1, file.size() - 4 - static_cast<std::size_t>(end - file.data()) - 1), text.str()});
    }
    if (ec)
        return core::error(errc::migration_invalid, "cannot read " + dir.string() + ": " + ec.message());
    std::sort(found.begin(), found.end(), [](const migration& a, const migration& b) { return a.version < b.version; });
    for (std::size_t i = 1; i < found.size(); ++i)
        if (found[i].version == found[i - 1].version)
            return core::error(errc::migration_invalid, "two migrations with version " + std::to_string(found[i].version));
    return found;
}

/// What `migrate` did.
struct migration_report {
    std::vector<std::int64_t> applied{}; ///< versions applied by this call
    std::size_t already_applied = 0;     ///< versions found applied before
};

/// Brings `component`'s schema up to date: applies, in version order, the migrations not applied
/// yet, all in one transaction, recording each in `paaskit_migrations` with the SHA-256 of its
/// text. Guarantees:
/// - all or nothing: a failing migration rolls back the whole call;
/// - once: concurrent callers (several servers starting at once) serialise on a PostgreSQL
///   advisory lock, and the later ones find everything applied;
/// - an applied migration whose text has since changed is refused (`migration_checksum_mismatch`)
///   before anything is applied, as is a database with a version this program does not know, or
///   a new migration older than one already applied (`migration_invalid`).
/// Migrations that cannot run inside a transaction (CREATE INDEX CONCURRENTLY) are not supported.
inline asio::awaitable<core::result<migration_report>> migrate(connection& conn, std::string_view component,
                                                               std::span<const migration> migrations)
{
    for (std::size_t i = 0; i < migrations.size(); ++i)
        if (migrations[i].version <= 0 || (i > 0 && migrations[i].version <= migrations[i - 1].version))
            co_return core::error(errc::migration_invalid, "migrations must have positive, strictly increasing versions");

    const auto fail = [&](core::error e) -> asio::awaitable<core::result<migration_report>> {
        if (conn.is_open())
            (void)co_await conn.query("ROLLBACK");
        co_return e;
    };
    if (auto begun = co_await conn.query("BEGIN"); !begun)
        co_return begun.error();
    // One lock for all components: the table below is shared, and migrating is rare.
    if (auto locked = co_await conn.query("SELECT pg_advisory_xact_lock(hashtext('paaskit_migrations'))"); !locked)
        co_return co_await fail(locked.error());
    if (auto created = co_await conn.query("CREATE TABLE IF NOT EXISTS paaskit_migrations ("
                                           " component text NOT NULL, version bigint NOT NULL, name text NOT NULL,"
                                           " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),"
                                           " PRIMARY KEY (component, version))");
        !created)
        co_return co_await fail(created.error());

    auto applied = co_await conn.query("SELECT version, checksum, name FROM paaskit_migrations WHERE component = $1 ORDER BY version",
                                       params(component));
    if (!applied)
        co_return co_await fail(applied.error());
    std::vector<std::string> checksums;
    for (const auto& m : migrations) {
        auto sum = co_await conn.query("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", params(m.sql));
        if (!sum)
            co_return co_await fail(sum.error());
        checksums.push_back(sum->get<std::string>(0, 0).value());
    }

    migration_report report;
    std::int64_t highest_applied = 0;
    std::set<std::int64_t> applied_versions;
    for (int row = 0; row < applied->rows(); ++row) {
        const auto version = applied->get<std::int64_t>(row, 0).value();
        const auto checksum = applied->get<std::string>(row, 1).value();
        const auto it = std::find_if(migrations.begin(), migrations.end(), [&](const migration& m) { return m.version == version; });
        if (it == migrations.end())
            co_return co_await fail(core::error(errc::migration_invalid,
                                                std::string(component) + ": the database has migration " + std::to_string(version) + " (" +
                                                    applied->get<std::string>(row, 2).value() + ") that this program does not know"));
        if (checksums[static_cast<std::size_t>(it - migrations.begin())] != checksum)
            co_return co_await fail(core::error(errc::migration_checksum_mismatch,
                                                std::string(component) + " migration " + std::to_string(version) + " (" + it->name +
                                                    ") was edited after it was applied; add a new migration instead"));
        applied_versions.insert(version);
        highest_applied = std::max(highest_applied, version);
    }
    report.already_applied = applied_versions.size();

    for (std::size_t i = 0; i < migrations.size(); ++i) {
        const auto& m = migrations[i];
        if (applied_versions.contains(m.version))
            continue;
        if (m.version < highest_applied)
            co_return co_await fail(core::error(errc::migration_invalid,
                                                std::string(component) + " migration " + std::to_string(m.version) + " (" + m.name +
                                                    ") is new but " + std::to_string(highest_applied) + " is already applied"));
        if (auto ran = co_await conn.run_script(m.sql); !ran)
            co_return co_await fail(core::error(ran.error().code(), std::string(component) + " migration " + std::to_string(m.version) +
                                                                        " (" + m.name + "): " + ran.error().detail()));
        if (auto recorded = co_await conn.query("INSERT INTO paaskit_migrations (component, version, name, checksum) VALUES ($1, $2, $3, $4)",
                                                params(component, m.version, m.name, checksums[i]));
            !recorded)
            co_return co_await fail(recorded.error());
        report.applied.push_back(m.version);
    }
    if (auto committed = co_await conn.query("COMMIT"); !committed)
        co_return committed.error();
    co_return report;
}

} // namespace paaskit::pg
