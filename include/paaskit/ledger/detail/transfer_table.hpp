#pragma once
// The memory engine's stored transfers, in position order, one 112-byte row each: the transfer's
// fields but its two account ids, which are the accounts' positions instead (`links`, with the
// previous transfer of each account, for the accounts' transfer lists), and its pending state.
// Batches write the rows with 16-byte non-temporal stores built from the event in registers: no
// line is read before being overwritten, and the rows do not evict the account records from the
// caches. Bytes written per transfer are what limits this engine (see docs/performance.md): the
// transfer with its ids in 128 bytes and the list links in 16 more cost 144 bytes; this is 112.

#include <paaskit/ledger/detail/account_record.hpp>
#include <paaskit/ledger/detail/page_array.hpp>
#include <paaskit/ledger/transfer.hpp>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace paaskit::ledger::detail {

/// Per transfer: its accounts' positions and the previous transfer of each (no_position if none).
struct transfer_links {
    std::uint32_t debit_at;
    std::uint32_t credit_at;
    std::uint32_t debit_previous;
    std::uint32_t credit_previous;
};

class transfer_table {
public:
    std::size_t size() const noexcept { return rows_.size(); }

    /// The stored transfer at `position`, its account ids read from `accounts`.
    transfer get(std::size_t position, const page_array<account_record>& accounts) const noexcept
    {
        const row& r = rows_[position];
        transfer t;
        t.id = r.id;
        t.debit_account_id = accounts[r.links.debit_at].id;
        t.credit_account_id = accounts[r.links.credit_at].id;
        t.amount = r.amount;
        t.pending_id = r.pending_id;
        t.user_data_128 = r.user_data_128;
        t.user_data_64 = r.user_data_64;
        t.user_data_32 = r.user_data_32;
        t.timeout = r.timeout;
        t.ledger = r.ledger;
        t.code = r.code;
        t.flags = r.flags;
        t.timestamp = r.timestamp;
        return t;
    }

    const uint128& id(std::size_t position) const noexcept { return rows_[position].id; }
    std::uint64_t timestamp(std::size_t position) const noexcept { return rows_[position].timestamp; }
    transfer_flags flags(std::size_t position) const noexcept { return rows_[position].flags; }
    const transfer_links& links(std::size_t position) const noexcept { return rows_[position].links; }

    pending_state state(std::size_t position) const noexcept { return rows_[position].state; }
    void set_state(std::size_t position, pending_state state) noexcept { rows_[position].state = state; }

    /// Prefetches the row (its state for writing).
    void prefetch(std::size_t position) const noexcept
    {
        const char* first = reinterpret_cast<const char*>(&rows_[position]);
        __builtin_prefetch(first);
        __builtin_prefetch(first + sizeof(row) - 1, 1);
    }

    /// Stores `t` with the amount it moved, its timestamp, its accounts' links and its state;
    /// `streaming`: with non-temporal stores, to be published with `publish_streamed()` before
    /// other threads read.
    void append(const transfer& t, std::int64_t amount, std::uint64_t timestamp, const transfer_links& links,
                pending_state state, bool streaming)
    {
#if defined(__x86_64__)
        if (streaming) {
            stream(rows_.extend(), t, amount, timestamp, links, state);
            return;
        }
#endif
        row r{};
        r.id = t.id;
        r.amount = amount;
        r.pending_id = t.pending_id;
        r.user_data_128 = t.user_data_128;
        r.user_data_64 = t.user_data_64;
        r.user_data_32 = t.user_data_32;
        r.timeout = t.timeout;
        r.ledger = t.ledger;
        r.code = t.code;
        r.flags = t.flags;
        r.timestamp = timestamp;
        r.links = links;
        r.state = state;
        rows_.push_back(r);
    }

    void pop_back() noexcept { rows_.pop_back(); }

    void reserve(std::size_t count, bool prefault) { rows_.reserve(count, prefault); }

    /// Orders the non-temporal stores of streamed appends before the stores that follow (the
    /// release of the lock readers wait on).
    static void publish_streamed() noexcept
    {
#if defined(__x86_64__)
        _mm_sfence();
#endif
    }

private:
    struct alignas(16) row {
        uint128 id;
        std::int64_t amount;
        uint128 pending_id;
        uint128 user_data_128;
        std::uint64_t user_data_64;
        std::uint32_t user_data_32;
        std::uint32_t timeout;
        std::uint32_t ledger;
        std::uint16_t code;
        transfer_flags flags;
        std::uint64_t timestamp;
        transfer_links links;
        pending_state state;
    };
    static_assert(sizeof(row) == 112 && std::is_trivially_copyable_v<row>);

#if defined(__x86_64__)
    // stream() copies the event's bytes 56-111 as they lie: the same fields, in the same order.
    static_assert(offsetof(transfer, pending_id) == 56 && offsetof(transfer, user_data_32) == 96 &&
                  offsetof(transfer, flags) == 110 && offsetof(row, pending_id) == 24 &&
                  offsetof(row, user_data_32) == 64 && offsetof(row, flags) == 78 && offsetof(row, timestamp) == 80 &&
                  offsetof(row, links) == 88 && offsetof(row, state) == 104);

    /// Writes the row in seven 16-byte chunks: five read straight from the event (the id, then
    /// from the pending id's second half to the flags), two assembled in registers (a copy patched
    /// in memory and read back in 16-byte loads would stall on store forwarding).
    static void stream(row* to, const transfer& t, std::int64_t amount, std::uint64_t timestamp, const transfer_links& l,
                       pending_state state) noexcept
    {
        const char* from = reinterpret_cast<const char*>(&t);
        auto* out = reinterpret_cast<__m128i*>(static_cast<void*>(to));
        const auto chunk = [&](std::size_t offset) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + offset)); };
        const auto pair = [](std::uint32_t low, std::uint32_t high) {
            return static_cast<long long>(std::uint64_t{high} << 32 | low);
        };
        long long pending_high;
        std::memcpy(&pending_high, from + offsetof(transfer, pending_id), sizeof pending_high);
        _mm_stream_si128(out + 0, chunk(offsetof(transfer, id)));
        _mm_stream_si128(out + 1, _mm_set_epi64x(pending_high, amount));
        _mm_stream_si128(out + 2, chunk(64));
        _mm_stream_si128(out + 3, chunk(80));
        _mm_stream_si128(out + 4, chunk(96));
        _mm_stream_si128(out + 5, _mm_set_epi64x(pair(l.debit_at, l.credit_at), static_cast<long long>(timestamp)));
        _mm_stream_si128(out + 6, _mm_set_epi64x(static_cast<long long>(state), pair(l.debit_previous, l.credit_previous)));
        // The stores above are through __m128i; later reads of the row must not be moved before them.
        std::atomic_signal_fence(std::memory_order_seq_cst);
    }
#endif

    page_array<row> rows_;
};

} // namespace paaskit::ledger::detail
