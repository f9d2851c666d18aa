#include "accounts/bootstrap.hpp"

#include "accounts/store.hpp"
#include "platform/startup.hpp"

#include <paaskit/auth/detail/base64url.hpp>
#include <paaskit/core/detail/os_random.hpp>
#include <paaskit/pg/connection.hpp>

#include <openssl/sha.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace paaskit::server::store {

namespace {

using startup::config_error;
using startup::read_file;
using startup::run_on_own_loop;
using startup::write_private_file;

// A key id that names the key without revealing it: the start of its SHA-256.
std::string key_id(std::string_view prefix, std::string_view material)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
    return std::string(prefix) + auth::detail::base64_encode(std::as_bytes(std::span(digest, 9)));
}

core::result<auth::jwt_key_set> one_key(core::result<auth::jwt_key> key)
{
    if (!key)
        return key.error();
    auth::jwt_key_set keys;
    if (auto added = keys.add(std::move(*key)); !added)
        return added.error();
    return keys;
}

} // namespace

core::result<auth::jwt_key_set> load_jwt_keys(const server_options& options, const core::logger& log)
{
    if (!options.jwt_secret.empty())
        return one_key(auth::jwt_key::hs256(key_id("hs-", options.jwt_secret), options.jwt_secret));
    if (!options.jwt_key_file.empty()) {
        auto text = read_file(options.jwt_key_file);
        if (!text)
            return text.error();
        if (text->find("-----BEGIN") != std::string::npos)
            return one_key(auth::jwt_key::ed25519_from_pem(key_id("ed-", *text), *text));
        while (!text->empty() && (text->back() == '\n' || text->back() == '\r'))
            text->pop_back();
        return one_key(auth::jwt_key::hs256(key_id("hs-", *text), *text));
    }
    if (!options.database_url.empty())
        log.warn("no --jwt-secret or --jwt-key-file: using a key kept in the data directory; replicas must share one key",
                 {{"data_dir", options.data_dir}});
    const auto path = std::filesystem::path(options.data_dir) / "jwt-secret";
    if (!std::filesystem::exists(path)) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        std::array<std::byte, 48> raw;
        core::detail::fill_os_random(raw);
        const auto secret = auth::detail::base64_encode(raw);
        // O_EXCL: of two servers starting on one data directory, one makes the key, both use it.
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            const bool written = ::write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size()) && ::fsync(fd) == 0;
            ::close(fd);
            if (!written)
                return config_error("cannot write " + path.string());
            log.info("generated the access-token key", {{"file", path.string()}});
        } else if (errno != EEXIST) {
            return config_error("cannot create " + path.string() + ": " + std::strerror(errno));
        }
    }
    auto secret = read_file(path);
    if (!secret)
        return secret.error();
    return one_key(auth::jwt_key::hs256(key_id("hs-", *secret), *secret));
}

core::result<void> ensure_first_administrator(const std::string& conninfo, const server_options& options, bool embedded,
                                              const auth::password_hasher& hasher, const core::clock& clock,
                                              const core::logger& log)
{
    const char* env_password = std::getenv("PAASKIT_ADMIN_PASSWORD");
    std::string email = options.admin_email;
    std::string password = env_password ? env_password : "";
    bool generated = false;
    if (email.empty() && !password.empty())
        return config_error("PAASKIT_ADMIN_PASSWORD is set but --admin-email / PAASKIT_ADMIN_EMAIL is not");
    const bool wanted = !email.empty() || embedded; // production without one configured: nothing to create
    if (email.empty())
        email = "admin@paaskit.local";

    auto outcome = run_on_own_loop([&](boost::asio::io_context& io) -> boost::asio::awaitable<core::result<void>> {
        auto conn = co_await pg::connection::connect(io.get_executor(), conninfo);
        if (!conn)
            co_return conn.error();
        if (auto filled = co_await fill_email_identities(*conn, log); !filled)
            co_return filled.error();
        else if (*filled > 0)
            log.info("filled the normalised e-mail of existing accounts", {{"accounts", *filled}});
        if (!wanted)
            co_return core::result<void>{};
        auto normalized = auth::normalize_email(email);
        if (!normalized)
            co_return config_error("--admin-email: " + normalized.error().detail());
        auto existing = co_await find_credentials_by_email(*conn, normalized->canonical);
        if (!existing)
            co_return existing.error();
        if (*existing) {
            if ((*existing)->account.role != auth::role::administrator)
                log.warn("the --admin-email account exists and is not an administrator; left unchanged", {{"email", normalized->address}});
            co_return core::result<void>{};
        }
        if (options.admin_email.empty()) {
            auto any = co_await any_administrator(*conn);
            if (!any)
                co_return any.error();
            if (*any)
                co_return core::result<void>{}; // the embedded default made one on an earlier start
        }
        if (password.empty()) {
            if (!options.admin_email.empty())
                co_return config_error("--admin-email needs the password in PAASKIT_ADMIN_PASSWORD");
            std::array<std::byte, 18> raw;
            core::detail::fill_os_random(raw);
            password = auth::detail::base64_encode(raw);
            generated = true;
        }
        if (auto policy = auth::check_password(password, normalized->address); !policy)
            co_return config_error("PAASKIT_ADMIN_PASSWORD: " + policy.error().detail());
        auto hash = hasher.hash(password);
        if (!hash)
            co_return hash.error();
        core::uuid_v7_generator ids(clock);
        const auto now = clock.now();
        // A named object: GCC 12 destroys a braced temporary in a co_await argument twice.
        const user admin{ids.next(), normalized->address, "Administrator", auth::role::administrator, user_status::active, now, now,
                         std::nullopt};
        auto inserted = co_await insert_user(*conn, admin, *normalized, *hash);
        if (!inserted)
            co_return inserted.error();
        log.info("created the first administrator", {{"email", normalized->address}, {"user", inserted->id.to_string()}});
        co_return core::result<void>{};
    });
    if (outcome && generated) {
        // Never into the log stream (it is collected and kept): into a file only the server's
        // user can read, whose place is logged.
        const auto file = std::filesystem::path(options.data_dir) / "initial-admin-password";
        if (auto written = write_private_file(file, "e-mail: " + email + "\npassword: " + password + "\n"); !written)
            return written.error();
        log.warn("created the first administrator with a generated password: read it from the file, sign in, change it, "
                 "then delete the file",
                 {{"email", email}, {"password_file", std::filesystem::absolute(file).string()}});
    }
    return outcome;
}

} // namespace paaskit::server::store
