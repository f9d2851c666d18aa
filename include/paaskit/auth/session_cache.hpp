#pragma once
/// \file
/// A short-lived cache of "this session of this user is still good", so that an authenticated
/// request need not read the database every time.
///
/// Staleness is bounded three ways:
/// - an entry lives at most `ttl`, counted from the moment its database read *began* (a read
///   that started before a revocation committed can never outlive it by more than `ttl`);
/// - `evict_subject` (called by whoever changes the user, and by a LISTEN/NOTIFY listener for
///   changes made elsewhere) drops a user's entries at once;
/// - a read that was in flight while anything was evicted is not stored (see `ticket`), so an
///   eviction cannot be undone by a slow read of the old state.
///
/// \code
/// paaskit::auth::session_cache<user> cache({.ttl = std::chrono::seconds(1)}, clock);
/// if (auto hit = cache.find(user_id, session_id))
///     return *hit;
/// const auto ticket = cache.begin_read();
/// auto row = read_from_database(user_id, session_id);
/// if (row)
///     cache.store(user_id, session_id, *row, ticket);
/// \endcode
///
/// Safe to use from any thread.

#include <paaskit/core/clock.hpp>
#include <paaskit/core/uuid.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace paaskit::auth {

struct session_cache_options {
    /// The longest an entry is trusted, from the start of the read that made it. Zero turns the
    /// cache off (every lookup misses, nothing is stored).
    std::chrono::milliseconds ttl{1000};
    /// Users held at once; when full, expired entries go first, then everything.
    std::size_t max_subjects = 100'000;
};

template <class Value>
class session_cache {
public:
    session_cache(session_cache_options options, const core::clock& clock) : options_(options), clock_(clock) {}

    session_cache(const session_cache&) = delete;
    session_cache& operator=(const session_cache&) = delete;

    /// Taken just before the database read whose result may be stored.
    struct ticket {
        std::uint64_t generation = 0;
        core::time_point started{};
    };

    bool enabled() const noexcept { return options_.ttl.count() > 0; }

    /// The cached value for this user's session, when one is fresh.
    std::optional<Value> find(const core::uuid& subject, const core::uuid& session) const
    {
        if (!enabled())
            return std::nullopt;
        const auto now = clock_.now();
        std::lock_guard lock(mutex_);
        const auto found = entries_.find(subject);
        if (found == entries_.end())
            return std::nullopt;
        for (const auto& e : found->second)
            if (e.session == session && fresh(e, now))
                return e.value;
        return std::nullopt;
    }

    ticket begin_read() const
    {
        std::lock_guard lock(mutex_);
        return {generation_, clock_.now()};
    }

    /// Keeps `value` unless something was evicted since `t` was taken (then the read may have
    /// seen what the eviction was about, and the next request reads again).
    void store(const core::uuid& subject, const core::uuid& session, Value value, const ticket& t)
    {
        if (!enabled())
            return;
        std::lock_guard lock(mutex_);
        if (t.generation != generation_)
            return;
        if (entries_.size() >= options_.max_subjects && !entries_.contains(subject))
            make_room(clock_.now());
        auto& sessions = entries_[subject];
        for (auto& e : sessions)
            if (e.session == session) {
                e = entry{session, std::move(value), t.started};
                return;
            }
        sessions.push_back(entry{session, std::move(value), t.started});
    }

    /// Forgets every session of this user (it changed, signed out, or was deactivated).
    void evict_subject(const core::uuid& subject)
    {
        std::lock_guard lock(mutex_);
        ++generation_;
        entries_.erase(subject);
    }

    /// Forgets everything (e.g. the change notifications were interrupted).
    void clear()
    {
        std::lock_guard lock(mutex_);
        ++generation_;
        entries_.clear();
    }

    std::size_t size() const
    {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }

private:
    struct entry {
        core::uuid session;
        Value value;
        core::time_point read_at; ///< when the read that produced it began
    };

    bool fresh(const entry& e, core::time_point now) const noexcept
    {
        // A clock that stepped back makes nothing fresher than it was.
        return now >= e.read_at && now - e.read_at < options_.ttl;
    }

    void make_room(core::time_point now)
    {
        for (auto it = entries_.begin(); it != entries_.end();) {
            std::erase_if(it->second, [&](const entry& e) { return !fresh(e, now); });
            it = it->second.empty() ? entries_.erase(it) : std::next(it);
        }
        if (entries_.size() >= options_.max_subjects)
            entries_.clear();
    }

    session_cache_options options_;
    const core::clock& clock_;
    mutable std::mutex mutex_;
    std::uint64_t generation_ = 0;
    std::unordered_map<core::uuid, std::vector<entry>> entries_;
};

} // namespace paaskit::auth
