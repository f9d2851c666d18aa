#pragma once
// The memory engine's stored transfers, in position order. Each row is the transfer with its
// pending state in 128 bytes, two whole cache lines, so that a large batch writes them with 16-byte
// non-temporal stores that fill whole lines at once: no line is read before being overwritten, none
// stays half-written in a write-combining buffer while the next transfer is checked, and the rows
// do not evict the account records from the caches. Storing a 120-byte transfer with 8-byte stores,
// its lines shared with the next row's, and the state in an array of its own (written through the
// cache, so read from memory first) made the engine a third slower in a kernel measuring only the
// stores.

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

class transfer_table {
public:
    std::size_t size() const noexcept { return rows_.size(); }

    const transfer& operator[](std::size_t position) const noexcept { return rows_[position].stored; }

    pending_state state(std::size_t position) const noexcept { return rows_[position].state; }
    void set_state(std::size_t position, pending_state state) noexcept { rows_[position].state = state; }

    /// The row's address, to prefetch.
    const void* address(std::size_t position) const noexcept { return &rows_[position]; }

    /// Stores `t` with the amount it moved, its timestamp and its state; `streaming`: with
    /// non-temporal stores, to be published with `publish_streamed()` before other threads read.
    void append(const transfer& t, std::int64_t amount, std::uint64_t timestamp, pending_state state, bool streaming)
    {
#if defined(__x86_64__)
        if (streaming) {
            stream(rows_.extend(), t, amount, timestamp, state);
            return;
        }
#endif
        row r;
        r.stored = t;
        r.stored.amount = amount;
        r.stored.timestamp = timestamp;
        r.state = state;
        rows_.push_back(r);
    }

    void pop_back() noexcept { rows_.pop_back(); }

    void reserve(std::size_t count, bool prefault) { rows_.reserve(count, prefault); }

    static void publish_streamed() noexcept { page_array<row>::publish_streamed(); }

private:
    struct alignas(64) row {
        transfer stored;
        pending_state state{};
    };
    static_assert(sizeof(row) == 128 && std::is_trivially_copyable_v<row>);
    static_assert(offsetof(transfer, amount) == 48 && offsetof(transfer, timestamp) == 112 && sizeof(transfer) == 120,
                  "stream() below writes the transfer's layout");

#if defined(__x86_64__)
    /// Writes the row in eight 16-byte chunks read straight from the event: the two chunks holding
    /// the amount and the timestamp are assembled in registers (a copy patched in memory and read
    /// back in 16-byte loads would stall on store forwarding).
    static void stream(row* to, const transfer& t, std::int64_t amount, std::uint64_t timestamp, pending_state state) noexcept
    {
        const char* from = reinterpret_cast<const char*>(&t);
        auto* out = reinterpret_cast<__m128i*>(static_cast<void*>(to));
        const auto chunk = [&](std::size_t offset) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + offset)); };
        const auto word = [&](std::size_t offset) {
            long long w;
            std::memcpy(&w, from + offset, sizeof w);
            return w;
        };
        _mm_stream_si128(out + 0, chunk(0));
        _mm_stream_si128(out + 1, chunk(16));
        _mm_stream_si128(out + 2, chunk(32));
        _mm_stream_si128(out + 3, _mm_set_epi64x(word(56), amount));
        _mm_stream_si128(out + 4, chunk(64));
        _mm_stream_si128(out + 5, chunk(80));
        _mm_stream_si128(out + 6, chunk(96));
        _mm_stream_si128(out + 7, _mm_set_epi64x(static_cast<long long>(state), static_cast<long long>(timestamp)));
        // The stores above are through __m128i; later reads of the row must not be moved before them.
        std::atomic_signal_fence(std::memory_order_seq_cst);
    }
#endif

    page_array<row> rows_;
};

} // namespace paaskit::ledger::detail
