#pragma once
/// \file
/// One PostgreSQL connection driven by libpq's non-blocking API on an Asio executor: the
/// connection's socket is waited on through Asio, so no thread ever blocks on the database.

#include <paaskit/core/result.hpp>
#include <paaskit/core/string_hash.hpp>
#include <paaskit/pg/error.hpp>
#include <paaskit/pg/params.hpp>
#include <paaskit/pg/query_result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <libpq-fe.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace paaskit::pg {

namespace asio = boost::asio;

/// A NOTIFY received by a session that LISTENs on its channel.
struct notification {
    std::string channel;
    std::string payload;
    int sender_pid = 0; ///< the notifying session's backend pid
};

/// One statement of a pipeline.
struct statement {
    std::string sql{};
    pg::params args{};
    result_format format = result_format::text;
    bool prepared = false; ///< run as a prepared statement from the connection's cache
};

/// A connection. Every operation is a coroutine (`asio::awaitable`); one operation at a time per
/// connection (not thread-safe: use it from one strand or event loop, or through `pg::pool`).
///
/// Sessions are set to `DateStyle = ISO`, `TimeZone = 'UTC'` and `client_encoding = 'UTF8'`, which
/// the typed row access relies on.
class connection {
public:
    /// Connects with a libpq connection string (`host=/path/to/socket-dir dbname=app`, or a
    /// `postgresql://` URL). Fails with `errc::connection_failed` and libpq's explanation.
    static asio::awaitable<core::result<connection>> connect(asio::any_io_executor executor, std::string conninfo)
    {
        connection c(executor);
        c.conn_.reset(PQconnectStart(conninfo.c_str()));
        if (!c.conn_)
            co_return core::error(errc::connection_failed, "out of memory");
        if (PQstatus(c.conn_.get()) == CONNECTION_BAD)
            co_return core::error(errc::connection_failed, c.libpq_message());
        // libpq would print server notices (and the FATAL of a terminated session) on stderr.
        PQsetNoticeProcessor(c.conn_.get(), [](void*, const char*) {}, nullptr);
        PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
        for (;;) {
            if (poll == PGRES_POLLING_OK)
                break;
            if (poll == PGRES_POLLING_FAILED)
                co_return core::error(errc::connection_failed, c.libpq_message());
            if (auto attached = c.attach_socket(); !attached) // the socket can change while connecting
                co_return attached.error();
            const auto ec = co_await c.wait(poll == PGRES_POLLING_READING ? asio::posix::descriptor_base::wait_read
                                                                          : asio::posix::descriptor_base::wait_write);
            if (ec)
                co_return core::error(errc::connection_failed, ec.message());
            poll = PQconnectPoll(c.conn_.get());
        }
        if (auto attached = c.attach_socket(); !attached)
            co_return attached.error();
        if (PQsetnonblocking(c.conn_.get(), 1) != 0)
            co_return core::error(errc::connection_failed, c.libpq_message());
        auto session = co_await c.query("SELECT set_config('DateStyle', 'ISO', false), set_config('TimeZone', 'UTC', false), "
                                        "set_config('client_encoding', 'UTF8', false)");
        if (!session)
            co_return session.error();
        co_return std::move(c);
    }

    connection(connection&&) noexcept = default;
    connection& operator=(connection&&) noexcept = default;
    ~connection()
    {
        if (socket_) {
            boost::system::error_code ignored;
            socket_->close(ignored); // our dup of the descriptor; libpq closes its own
        }
    }

    /// Runs one statement with `$1, $2, ...` parameters (never spliced into the text).
    asio::awaitable<core::result<query_result>> query(std::string_view sql, const params& args = {},
                                                      result_format format = result_format::text)
    {
        sql_.assign(sql);
        args.fill_wire(wire_);
        const auto& w = wire_;
        if (!PQsendQueryParams(conn_.get(), sql_.c_str(), static_cast<int>(args.size()), w.types.data(), w.values.data(),
                               w.lengths.data(), w.formats.data(), static_cast<int>(format)))
            co_return send_failure();
        co_return co_await finish_single();
    }

    /// Runs a script of several statements with the simple query protocol, for trusted SQL such
    /// as migrations. It takes no parameters: never build its text from outside input.
    asio::awaitable<core::result<void>> run_script(std::string_view script)
    {
        sql_.assign(script);
        if (!PQsendQuery(conn_.get(), sql_.c_str()))
            co_return send_failure();
        if (auto flushed = co_await flush(); !flushed)
            co_return flushed.error();
        std::optional<core::error> failure;
        for (;;) {
            auto next = co_await next_result();
            if (!next)
                co_return next.error();
            if (*next == nullptr)
                break;
            auto r = to_result(*next);
            if (!r && !failure)
                failure = r.error();
        }
        if (failure)
            co_return *failure;
        co_return core::result<void>{};
    }

    /// Like `query`, but prepares the statement the first time this connection sees its text and
    /// reuses the prepared statement afterwards.
    asio::awaitable<core::result<query_result>> execute(std::string_view sql, const params& args = {},
                                                        result_format format = result_format::text)
    {
        auto name = prepared_name(sql);
        if (!name) {
            const std::string new_name = "paaskit_" + std::to_string(statements_.size() + 1);
            sql_.assign(sql);
            if (!PQsendPrepare(conn_.get(), new_name.c_str(), sql_.c_str(), 0, nullptr))
                co_return send_failure();
            auto prepared = co_await finish_single();
            if (!prepared)
                co_return prepared.error();
            name = &statements_.emplace(std::string(sql), new_name).first->second;
        }
        args.fill_wire(wire_);
        const auto& w = wire_;
        if (!PQsendQueryPrepared(conn_.get(), name->c_str(), static_cast<int>(args.size()), w.values.data(), w.lengths.data(),
                                 w.formats.data(), static_cast<int>(format)))
            co_return send_failure();
        co_return co_await finish_single();
    }

    /// Sends all `batch` statements in one round trip (libpq pipeline mode) and returns one
    /// result per statement, in order.
    ///
    /// Outside a transaction the batch runs as one implicit transaction: when a statement fails,
    /// the ones before it are rolled back and the ones after it are not run (they report
    /// `errc::pipeline_aborted`), so a batch applies entirely or not at all. A batch may also
    /// carry its own BEGIN ... COMMIT; if such a transaction fails, it is rolled back before this
    /// returns. Inside a transaction the caller opened, a failure leaves that transaction aborted,
    /// for the caller to roll back. The connection is usable afterwards in every case.
    asio::awaitable<std::vector<core::result<query_result>>> pipeline(std::span<const statement> batch)
    {
        std::vector<core::result<query_result>> results;
        results.reserve(batch.size());
        // Gives every statement without a result yet the error `e`.
        const auto fail_rest = [&](const core::error& e) {
            while (results.size() < batch.size())
                results.emplace_back(e);
        };
        const bool was_idle = PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
        if (PQenterPipelineMode(conn_.get()) != 1) {
            fail_rest(core::error(errc::client_error, libpq_message()));
            co_return std::move(results);
        }
        // Statements to prepare first, within the same round trip.
        std::vector<std::pair<std::string, std::string>> preparing;
        preparing.reserve(batch.size()); // pointers to the names below must stay valid
        std::vector<std::size_t> prepared_before; // statements preceded by their PREPARE
        for (const auto& s : batch) {
            const std::string* name = nullptr;
            if (s.prepared) {
                name = prepared_name(s.sql);
                if (!name) {
                    for (const auto& [sql, pending_name] : preparing)
                        if (sql == s.sql)
                            name = &pending_name;
                }
                if (!name) {
                    preparing.emplace_back(s.sql, "paaskit_" + std::to_string(statements_.size() + preparing.size() + 1));
                    name = &preparing.back().second;
                    if (!PQsendPrepare(conn_.get(), name->c_str(), s.sql.c_str(), 0, nullptr)) {
                        fail_rest(send_failure());
                        co_return std::move(results);
                    }
                    prepared_before.push_back(static_cast<std::size_t>(&s - batch.data()));
                }
            }
            s.args.fill_wire(wire_);
            const auto& w = wire_;
            const int sent = name ? PQsendQueryPrepared(conn_.get(), name->c_str(), static_cast<int>(s.args.size()), w.values.data(),
                                                        w.lengths.data(), w.formats.data(), static_cast<int>(s.format))
                                  : PQsendQueryParams(conn_.get(), s.sql.c_str(), static_cast<int>(s.args.size()), w.types.data(),
                                                      w.values.data(), w.lengths.data(), w.formats.data(), static_cast<int>(s.format));
            if (!sent) {
                fail_rest(send_failure());
                co_return std::move(results);
            }
        }
        if (PQpipelineSync(conn_.get()) != 1) {
            fail_rest(send_failure());
            co_return std::move(results);
        }
        if (auto flushed = co_await flush(); !flushed) {
            fail_rest(flushed.error());
            co_return std::move(results);
        }

        // Results come back in the order sent: for each statement (after its PREPARE, if any),
        // one result and a null, then the sync marker.
        std::size_t prepare_index = 0;
        bool prepare_failed = false;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (prepare_index < prepared_before.size() && prepared_before[prepare_index] == i) {
                ++prepare_index;
                auto prepared = co_await next_statement_result();
                if (!prepared)
                    prepare_failed = true;
            }
            auto r = co_await next_statement_result();
            if (!r && r.error() == errc::connection_lost) {
                fail_rest(r.error());
                co_return std::move(results);
            }
            results.push_back(std::move(r));
        }
        // Before the sync marker may come the failure of the batch's implicit commit (a deferred
        // constraint): then nothing of the batch stayed, and every statement reports it.
        std::optional<core::error> commit_failure;
        bool synced = false;
        for (int guard = 0; guard < 4 && !synced; ++guard) {
            auto sync = co_await next_result();
            if (!sync)
                break;
            if (*sync == nullptr)
                continue;
            if (PQresultStatus(*sync) == PGRES_PIPELINE_SYNC) {
                PQclear(*sync);
                synced = true;
            } else if (auto failed = to_result(*sync); !failed && !commit_failure) {
                commit_failure = failed.error();
            }
        }
        if (!synced) {
            fail_rest(core::error(errc::connection_lost, "pipeline did not end with its sync"));
            co_return std::move(results);
        }
        if (commit_failure && was_idle)
            for (auto& r : results)
                if (r)
                    r = *commit_failure;
        PQexitPipelineMode(conn_.get());
        if (was_idle && PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) {
            // The batch opened a transaction and did not finish it (it failed before its COMMIT).
            auto rolled_back = co_await query("ROLLBACK");
            if (!rolled_back) {
                results.clear();
                fail_rest(rolled_back.error());
                co_return std::move(results);
            }
        }
        if (!prepare_failed)
            for (auto& [sql, name] : preparing)
                statements_.emplace(std::move(sql), std::move(name));
        co_return std::move(results);
    }

    /// Subscribes this session to `channel` (LISTEN, the name quoted as an identifier): NOTIFYs on
    /// it arrive through `wait_for_notification`, including those that come while other
    /// statements run on this session. Use a connection of its own for listening, not a pooled one.
    asio::awaitable<core::result<void>> listen(std::string_view channel)
    {
        std::unique_ptr<char, decltype(&PQfreemem)> quoted(PQescapeIdentifier(conn_.get(), channel.data(), channel.size()), &PQfreemem);
        if (!quoted)
            co_return core::error(errc::client_error, libpq_message());
        auto listened = co_await query(std::string("LISTEN ") + quoted.get());
        if (!listened)
            co_return listened.error();
        listening_ = true;
        co_return core::result<void>{};
    }

    /// The next notification for a channel this session listens on, waiting at most `timeout`;
    /// nullopt when none came in time. Notifications are returned in the order the server sent
    /// them. An error when the connection is lost (the listener should reconnect and LISTEN again,
    /// and assume it missed some).
    asio::awaitable<core::result<std::optional<notification>>> wait_for_notification(std::chrono::milliseconds timeout)
    {
        using namespace asio::experimental::awaitable_operators;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (!PQconsumeInput(conn_.get()))
                co_return core::error(errc::connection_lost, libpq_message());
            if (PGnotify* raw = PQnotifies(conn_.get())) {
                notification got{raw->relname, raw->extra ? raw->extra : "", raw->be_pid};
                PQfreemem(raw);
                co_return std::optional<notification>(std::move(got));
            }
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline)
                co_return std::optional<notification>{};
            asio::steady_timer timer(executor_, deadline - now);
            auto woken = co_await (wait(asio::posix::descriptor_base::wait_read) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
            if (woken.index() == 0 && std::get<0>(woken))
                co_return core::error(errc::connection_lost, std::get<0>(woken).message());
        }
    }

    /// Reads whatever the server sent while the connection was idle, without waiting, and says
    /// whether the connection is still usable: a backend that was terminated or a server that
    /// restarted is noticed here, before a statement is sent to it.
    bool check_alive() noexcept
    {
        if (!is_open())
            return false;
        if (!PQconsumeInput(conn_.get()))
            return false;
        if (!listening_) // a pooled session never listens: whatever came is not for anyone
            while (PGnotify* notice = PQnotifies(conn_.get()))
                PQfreemem(notice);
        // A terminated backend sends its FATAL message and closes; libpq only notices the close on
        // its next read, so look for the end of the stream ourselves.
        char byte;
        const ssize_t peeked = ::recv(PQsocket(conn_.get()), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return false;
        return is_open() && !PQisBusy(conn_.get()) && PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
    }

    /// Whether the connection is usable (it is not after the server went away).
    bool is_open() const noexcept { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

    /// The server's process id for this session (for pg_terminate_backend and logs).
    int backend_pid() const noexcept { return PQbackendPID(conn_.get()); }

    PGconn* native_handle() const noexcept { return conn_.get(); }

    friend std::ostream& operator<<(std::ostream& out, const connection& c)
    {
        return out << "pg::connection{backend " << c.backend_pid() << (c.is_open() ? "" : ", closed") << '}';
    }

private:
    struct conn_deleter {
        void operator()(PGconn* c) const noexcept { PQfinish(c); }
    };

    explicit connection(asio::any_io_executor executor) : executor_(std::move(executor)) {}

    std::string libpq_message() const
    {
        std::string message = conn_ ? PQerrorMessage(conn_.get()) : "no connection";
        while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
            message.pop_back();
        return message;
    }

    core::error send_failure() const
    {
        return core::error(is_open() ? errc::client_error : errc::connection_lost, libpq_message());
    }

    const std::string* prepared_name(std::string_view sql) const
    {
        const auto it = statements_.find(sql);
        return it == statements_.end() ? nullptr : &it->second;
    }

    // Asio waits on a duplicate of libpq's socket, so that closing ours never closes libpq's.
    core::result<void> attach_socket()
    {
        const int fd = PQsocket(conn_.get());
        if (fd < 0)
            return core::error(errc::connection_failed, libpq_message());
        if (socket_ && fd == libpq_fd_)
            return {};
        if (socket_) {
            boost::system::error_code ignored;
            socket_->close(ignored);
        }
        const int copy = ::dup(fd);
        if (copy < 0)
            return core::error(errc::connection_failed, "dup failed");
        socket_.emplace(executor_, copy);
        libpq_fd_ = fd;
        return {};
    }

    asio::awaitable<boost::system::error_code> wait(asio::posix::descriptor_base::wait_type what)
    {
        auto [ec] = co_await socket_->async_wait(what, asio::as_tuple(asio::use_awaitable));
        co_return ec;
    }

    // Sends what libpq has buffered. While the socket is full, reads too: the server may be
    // blocked writing results to us, and would otherwise never read the rest of our batch.
    asio::awaitable<core::result<void>> flush()
    {
        using namespace asio::experimental::awaitable_operators;
        for (;;) {
            const int r = PQflush(conn_.get());
            if (r == 0)
                co_return core::result<void>{};
            if (r < 0)
                co_return core::error(errc::connection_lost, libpq_message());
            co_await (wait(asio::posix::descriptor_base::wait_write) || wait(asio::posix::descriptor_base::wait_read));
            if (!PQconsumeInput(conn_.get()))
                co_return core::error(errc::connection_lost, libpq_message());
        }
    }

    // The next PGresult, or nullptr at the end of a statement's results.
    asio::awaitable<core::result<PGresult*>> next_result()
    {
        if (auto ready = co_await until_not_busy(); !ready)
            co_return ready.error();
        co_return PQgetResult(conn_.get());
    }

    core::result<query_result> to_result(PGresult* raw) const
    {
        query_result result(raw);
        switch (PQresultStatus(raw)) {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK:
        case PGRES_EMPTY_QUERY: return result;
        case PGRES_PIPELINE_ABORTED: return core::error(errc::pipeline_aborted);
        default: break;
        }
        const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
        const char* primary = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
        const char* detail = PQresultErrorField(raw, PG_DIAG_MESSAGE_DETAIL);
        const char* hint = PQresultErrorField(raw, PG_DIAG_MESSAGE_HINT);
        std::string text = primary ? primary : libpq_message();
        if (state)
            text += std::string(" [SQLSTATE ") + state + "]";
        if (detail)
            text += std::string(" DETAIL: ") + detail;
        if (hint)
            text += std::string(" HINT: ") + hint;
        errc code = state ? errc_from_sqlstate(state) : errc::server_error;
        if (!is_open())
            code = errc::connection_lost; // e.g. pg_terminate_backend: the session is gone
        return core::error(code, std::move(text));
    }

    // Waits until libpq has a whole result buffered (no wait when it already has).
    asio::awaitable<core::result<void>> until_not_busy()
    {
        while (PQisBusy(conn_.get())) {
            const auto ec = co_await wait(asio::posix::descriptor_base::wait_read);
            if (ec)
                co_return core::error(errc::connection_lost, ec.message());
            if (!PQconsumeInput(conn_.get()))
                co_return core::error(errc::connection_lost, libpq_message());
        }
        co_return core::result<void>{};
    }

    // One statement's result: its PGresult, then the null that ends it. In a pipeline most
    // results are already buffered, so the waits are skipped without entering a coroutine.
    asio::awaitable<core::result<query_result>> next_statement_result()
    {
        if (PQisBusy(conn_.get()))
            if (auto ready = co_await until_not_busy(); !ready)
                co_return ready.error();
        PGresult* first = PQgetResult(conn_.get());
        if (first == nullptr)
            co_return core::error(errc::connection_lost, libpq_message());
        auto result = to_result(first);
        if (PQisBusy(conn_.get()))
            if (auto ready = co_await until_not_busy(); !ready)
                co_return ready.error();
        if (PGresult* extra = PQgetResult(conn_.get())) {
            auto later = to_result(extra); // an error here is the statement's commit failing
            co_return later ? core::error(errc::client_error, "a statement returned more than one result") : later.error();
        }
        co_return result;
    }

    // Flushes a single statement and collects its result (draining any further ones).
    asio::awaitable<core::result<query_result>> finish_single()
    {
        if (auto flushed = co_await flush(); !flushed)
            co_return flushed.error();
        auto first = co_await next_result();
        if (!first)
            co_return first.error();
        if (*first == nullptr)
            co_return core::error(errc::connection_lost, libpq_message());
        auto result = to_result(*first);
        for (;;) { // a connection is only ready for the next statement once it returned null
            auto more = co_await next_result();
            if (!more)
                co_return more.error();
            if (*more == nullptr)
                break;
            // An error after the statement's own result is its implicit commit failing (a deferred
            // constraint or trigger): the statement was rolled back, so its rows must not count.
            if (auto later = to_result(*more); !later && result)
                result = later.error();
        }
        co_return result;
    }

    asio::any_io_executor executor_;
    std::unique_ptr<PGconn, conn_deleter> conn_;
    std::optional<asio::posix::stream_descriptor> socket_;
    int libpq_fd_ = -1;
    std::string sql_; // null-terminated copy of the statement being sent
    std::unordered_map<std::string, std::string, core::string_hash, std::equal_to<>> statements_; // SQL text -> statement name
    params::wire wire_; // parameter arrays, reused across statements
    bool listening_ = false;
};

} // namespace paaskit::pg
