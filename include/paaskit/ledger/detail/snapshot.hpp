#pragma once
// The memory engine's snapshot file: "PKLEDGER", a format version, the state's fields in
// little-endian order, and a 64-bit FNV-1a checksum of everything before it. Indexes, per-account
// transfer lists and the expiry queue are rebuilt on load rather than stored.

#include <paaskit/ledger/detail/memory_state.hpp>
#include <paaskit/ledger/error.hpp>

#include <paaskit/core/result.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>

#include <paaskit/core/detail/fnv1a.hpp>

namespace paaskit::ledger::detail {

inline constexpr std::string_view snapshot_magic = "PKLEDGER";
inline constexpr std::uint32_t snapshot_version = 1;

using core::detail::fnv1a;

class snapshot_writer {
public:
    std::string bytes;

    void u64(std::uint64_t v)
    {
        for (int i = 0; i < 8; ++i)
            bytes.push_back(static_cast<char>(v >> (8 * i)));
    }
    void u32(std::uint32_t v) { u64(v); }
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void id(const uint128& v)
    {
        u64(v.high);
        u64(v.low);
    }
};

class snapshot_reader {
public:
    explicit snapshot_reader(std::string_view bytes) noexcept : rest_(bytes) {}

    bool failed() const noexcept { return failed_; }
    bool at_end() const noexcept { return rest_.empty(); }

    std::uint64_t u64() noexcept
    {
        if (rest_.size() < 8) {
            failed_ = true;
            rest_ = {};
            return 0;
        }
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v |= std::uint64_t{static_cast<unsigned char>(rest_[static_cast<std::size_t>(i)])} << (8 * i);
        rest_.remove_prefix(8);
        return v;
    }
    template <class Narrow>
    Narrow narrow() noexcept
    {
        const auto v = u64();
        if (v > std::numeric_limits<Narrow>::max())
            failed_ = true;
        return static_cast<Narrow>(v);
    }
    std::int64_t i64() noexcept { return static_cast<std::int64_t>(u64()); }
    uint128 id() noexcept
    {
        const auto high = u64();
        return {high, u64()};
    }

private:
    std::string_view rest_;
    bool failed_ = false;
};

inline void write_account(snapshot_writer& w, const account& a)
{
    w.id(a.id);
    w.i64(a.debits_pending);
    w.i64(a.debits_posted);
    w.i64(a.credits_pending);
    w.i64(a.credits_posted);
    w.id(a.user_data_128);
    w.u64(a.user_data_64);
    w.u32(a.user_data_32);
    w.u32(a.ledger);
    w.u64(a.code);
    w.u64(static_cast<std::uint16_t>(a.flags));
    w.u64(a.timestamp);
}

inline account read_account(snapshot_reader& r)
{
    account a;
    a.id = r.id();
    a.debits_pending = r.i64();
    a.debits_posted = r.i64();
    a.credits_pending = r.i64();
    a.credits_posted = r.i64();
    a.user_data_128 = r.id();
    a.user_data_64 = r.u64();
    a.user_data_32 = r.narrow<std::uint32_t>();
    a.ledger = r.narrow<std::uint32_t>();
    a.code = r.narrow<std::uint16_t>();
    a.flags = account_flags{r.narrow<std::uint16_t>()};
    a.timestamp = r.u64();
    return a;
}

inline void write_transfer(snapshot_writer& w, const transfer& t, pending_state state)
{
    w.id(t.id);
    w.id(t.debit_account_id);
    w.id(t.credit_account_id);
    w.i64(t.amount);
    w.id(t.pending_id);
    w.id(t.user_data_128);
    w.u64(t.user_data_64);
    w.u32(t.user_data_32);
    w.u32(t.timeout);
    w.u32(t.ledger);
    w.u64(t.code);
    w.u64(static_cast<std::uint16_t>(t.flags));
    w.u64(t.timestamp);
    w.u64(static_cast<std::uint8_t>(state));
}

inline transfer read_transfer(snapshot_reader& r, pending_state& state)
{
    transfer t;
    t.id = r.id();
    t.debit_account_id = r.id();
    t.credit_account_id = r.id();
    t.amount = r.i64();
    t.pending_id = r.id();
    t.user_data_128 = r.id();
    t.user_data_64 = r.u64();
    t.user_data_32 = r.narrow<std::uint32_t>();
    t.timeout = r.narrow<std::uint32_t>();
    t.ledger = r.narrow<std::uint32_t>();
    t.code = r.narrow<std::uint16_t>();
    t.flags = transfer_flags{r.narrow<std::uint16_t>()};
    t.timestamp = r.u64();
    state = pending_state{r.narrow<std::uint8_t>()};
    return t;
}

inline core::error snapshot_os_error(const char* what, const std::filesystem::path& path, int code)
{
    return core::error(errc::snapshot_io, std::string(what) + " " + path.string() + ": " + std::strerror(code));
}

inline core::result<void> save_snapshot(const memory_state& s, const std::filesystem::path& path)
{
    snapshot_writer w;
    w.bytes.append(snapshot_magic);
    w.u32(snapshot_version);
    w.u64(s.last_timestamp);
    w.u64(s.accounts.size());
    const std::vector<account_balance> none;
    for (std::uint32_t at = 0; at < s.accounts.size(); ++at) {
        write_account(w, s.account_at(at));
        const auto& history = s.details[at].history == no_position ? none : s.history_of(at);
        w.u64(history.size());
        for (const auto& b : history) {
            w.i64(b.debits_pending);
            w.i64(b.debits_posted);
            w.i64(b.credits_pending);
            w.i64(b.credits_posted);
            w.u64(b.timestamp);
        }
    }
    w.u64(s.transfers.size());
    for (std::size_t i = 0; i < s.transfers.size(); ++i)
        write_transfer(w, s.transfer_at(static_cast<std::uint32_t>(i)), s.transfers.state(i));
    w.u64(fnv1a(w.bytes));

    const auto temporary = std::filesystem::path(path.string() + ".tmp");
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return snapshot_os_error("cannot create", temporary, errno);
    std::size_t written = 0;
    while (written < w.bytes.size()) {
        const auto n = ::write(fd, w.bytes.data() + written, w.bytes.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int code = errno;
            ::close(fd);
            return snapshot_os_error("cannot write", temporary, code);
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        const int code = errno;
        ::close(fd);
        return snapshot_os_error("cannot fsync", temporary, code);
    }
    ::close(fd);
    if (::rename(temporary.c_str(), path.c_str()) != 0)
        return snapshot_os_error("cannot rename onto", path, errno);
    // Make the rename itself durable.
    const auto directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    if (const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return {};
}

/// Fills `s` (which must be empty) from the file; on error `s` is left in an unspecified state.
inline core::result<void> load_snapshot(memory_state& s, const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return snapshot_os_error("cannot open", path, errno);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        return snapshot_os_error("cannot read", path, errno);
    const auto corrupt = [&](const char* why) { return core::error(errc::snapshot_corrupt, path.string() + ": " + why); };
    if (bytes.size() < snapshot_magic.size() + 16 || std::string_view(bytes).substr(0, snapshot_magic.size()) != snapshot_magic)
        return corrupt("not a paaskit ledger snapshot");
    const std::string_view body = std::string_view(bytes).substr(0, bytes.size() - 8);
    snapshot_reader checksum(std::string_view(bytes).substr(bytes.size() - 8));
    if (checksum.u64() != fnv1a(body))
        return corrupt("checksum mismatch (truncated or damaged)");

    snapshot_reader r(body.substr(snapshot_magic.size()));
    if (r.u64() != snapshot_version)
        return corrupt("unsupported snapshot version");
    s.last_timestamp = r.u64();
    const auto account_count = r.u64();
    if (account_count >= no_position)
        return corrupt("too many accounts");
    for (std::uint64_t i = 0; i < account_count && !r.failed(); ++i) {
        const account a = read_account(r);
        std::vector<account_balance> history;
        const auto rows = r.u64();
        for (std::uint64_t j = 0; j < rows && !r.failed(); ++j) {
            account_balance b;
            b.debits_pending = r.i64();
            b.debits_posted = r.i64();
            b.credits_pending = r.i64();
            b.credits_posted = r.i64();
            b.timestamp = r.u64();
            history.push_back(b);
        }
        if (a.id.is_zero() || s.find_account(a.id) != no_position)
            return corrupt("duplicate or zero account id");
        if (!history.empty() && !has(a.flags, account_flags::history))
            return corrupt("balance history for an account without the history flag");
        const auto position = s.add_account(a);
        if (!history.empty())
            s.histories[s.details[position].history] = std::move(history);
    }
    const auto transfer_count = r.u64();
    if (transfer_count >= no_position)
        return corrupt("too many transfers");
    for (std::uint64_t i = 0; i < transfer_count && !r.failed(); ++i) {
        pending_state state{};
        const transfer t = read_transfer(r, state);
        const auto position = static_cast<std::uint32_t>(s.transfers.size());
        const auto dr = s.find_account(t.debit_account_id);
        const auto cr = s.find_account(t.credit_account_id);
        if (t.id.is_zero() || s.transfer_index.find(t.id) != no_position || dr == no_position || cr == no_position ||
            dr == cr)
            return corrupt("transfer with a duplicate id or an unknown account");
        s.transfers.append(t, t.amount, t.timestamp, s.account_lists.append(position, dr, cr, s.accounts), state, false);
        s.transfer_index.insert(t.id, position);
        if (state == pending_state::pending && t.timeout != 0)
            s.expiries.push({t.timestamp + t.timeout * ns_per_second, position});
    }
    s.account_lists.record_checkpoints();
    if (r.failed() || !r.at_end())
        return corrupt("malformed contents");
    return {};
}

} // namespace paaskit::ledger::detail
