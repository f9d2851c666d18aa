#pragma once
/// \file
/// A watch that never silently stops: it lists first (unless given a resourceVersion), asks for
/// bookmarks, resumes from the last resourceVersion it saw after any disconnect, relists when the
/// server says 410 Expired, backs off on repeated failures, and reports every change exactly once.
/// After a relist, what changed while it could not watch is reported as the difference between
/// what it had reported and what the list shows (ADDED, MODIFIED with the newest state, DELETED),
/// so no object is missed or reported twice. (Started from a resourceVersion of the caller's, the
/// server's event types are passed on until the first relist.)
///
/// ```cpp
/// using namespace paaskit::k8s::client;
/// std::atomic<bool> stop{false};
/// watcher pods(api, resources::pods, "shop", {.label_selector = "app=web"});
/// std::thread t([&] { (void)pods.run([](const watch_event& e) { /* ... */ }, stop); });
/// ...
/// stop = true; t.join();  // returns within about a second
/// ```

#include <paaskit/k8s/client/dynamic.hpp>

#include <boost/json/parse.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace paaskit::k8s::client {

struct watch_event {
    enum class kind { added, modified, deleted };
    kind type = kind::added;
    boost::json::object object;

    std::string_view type_name() const noexcept
    {
        return type == kind::added ? "ADDED" : type == kind::modified ? "MODIFIED" : "DELETED";
    }
};

struct watch_options {
    std::string label_selector{};
    std::string field_selector{};
    std::string resource_version{};                    ///< start here; empty: list first, then watch
    std::chrono::seconds server_timeout{300};          ///< each watch request ends after this; then it resumes
    std::chrono::milliseconds initial_backoff{100};
    std::chrono::milliseconds max_backoff{10'000};
    int max_consecutive_failures = 0;                  ///< 0: keep trying for ever
    std::size_t list_page_size = 500;
    /// Called before every reconnection (after the first stream): a hook for tests and metrics.
    std::function<void()> on_reconnect{};
    /// Called after each complete list has been reported (the first one: the caller is in sync).
    std::function<void()> on_listed{};
};

/// A deadline for `watcher::run` (or anything else that polls a stop flag): sets `stop` when
/// `timeout` passes, unless destroyed first.
class stop_after {
public:
    stop_after(std::atomic<bool>& stop, std::chrono::milliseconds timeout)
        : thread_([this, &stop, timeout] {
              std::unique_lock lock(mutex_);
              if (!finished_.wait_for(lock, timeout, [this] { return done_; }))
                  stop = true;
          })
    {
    }
    stop_after(const stop_after&) = delete;
    stop_after& operator=(const stop_after&) = delete;
    ~stop_after()
    {
        {
            const std::lock_guard lock(mutex_);
            done_ = true;
        }
        finished_.notify_all();
        thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable finished_;
    bool done_ = false;
    std::thread thread_; // last: starts once the members it uses exist
};

/// "namespace/name": how watchers and informers tell objects apart.
inline std::string object_key(const boost::json::object& object)
{
    return std::string(namespace_of(object)) + "/" + std::string(name_of(object));
}

/// What a run did, for metrics and tests.
struct watch_statistics {
    std::uint64_t events = 0;       ///< reported to the caller
    std::uint64_t streams = 0;      ///< watch requests made
    std::uint64_t relists = 0;      ///< lists after the first (410 Expired, or a watch refused)
    std::uint64_t bookmarks = 0;
    std::uint64_t failures = 0;     ///< streams that failed to start or broke
};

class watcher {
public:
    watcher(dynamic_client& api, resource what, std::string ns, watch_options options = {})
        : api_(api), what_(std::move(what)), namespace_(std::move(ns)), options_(std::move(options)), last_rv_(options_.resource_version)
    {
        std::random_device seed;
        random_.seed(seed());
    }

    /// Reports changes until `stop` is set (then returns success) or, with a limit on
    /// consecutive failures, until that many attempts in a row failed.
    result<void> run(const std::function<void(const watch_event&)>& on_event, const std::atomic<bool>& stop)
    {
        bool need_list = last_rv_.empty();
        int failures_in_row = 0;
        bool first_stream = true;
        while (!stop.load()) {
            if (need_list) {
                auto listed = relist(on_event);
                if (!listed) {
                    if (auto gave_up = failed(failures_in_row, listed.error(), stop))
                        return *gave_up;
                    continue;
                }
                need_list = false;
            }
            if (!first_stream && options_.on_reconnect)
                options_.on_reconnect();
            first_stream = false;
            auto outcome = stream_once(on_event, stop);
            if (outcome == stream_end::expired) {
                need_list = true;
                continue;
            }
            if (outcome == stream_end::failed) {
                if (auto gave_up = failed(failures_in_row, last_failure_, stop))
                    return *gave_up;
                continue;
            }
            failures_in_row = 0; // a clean end (timeout, or the server closing): resume at once
        }
        return {};
    }

    const watch_statistics& statistics() const noexcept { return stats_; }
    /// The resourceVersion the next watch would start from.
    const std::string& resource_version() const noexcept { return last_rv_; }

private:
    enum class stream_end { clean, expired, failed, stopped };

    static std::string resource_version_of(const boost::json::object& object)
    {
        return std::string(member_string(metadata_of(object), "resourceVersion"));
    }

    /// Backs off; the failure to return when the limit is reached.
    std::optional<failure> failed(int& failures_in_row, const failure& why, const std::atomic<bool>& stop)
    {
        ++stats_.failures;
        ++failures_in_row;
        if (options_.max_consecutive_failures > 0 && failures_in_row >= options_.max_consecutive_failures)
            return why;
        const auto cap = std::min<std::int64_t>(options_.max_backoff.count(),
                                                options_.initial_backoff.count() << std::min(failures_in_row - 1, 20));
        auto delay = std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(cap / 2, std::max<std::int64_t>(cap, 1))(random_));
        // Sleep in slices so a stop request is honoured quickly.
        while (delay.count() > 0 && !stop.load()) {
            const auto slice = std::min(delay, std::chrono::milliseconds(50));
            std::this_thread::sleep_for(slice);
            delay -= slice;
        }
        return std::nullopt;
    }

    /// Lists everything and reports the difference to what was reported before.
    result<void> relist(const std::function<void(const watch_event&)>& on_event)
    {
        if (stats_.streams > 0 || !known_.empty())
            ++stats_.relists;
        auto listed = api_.list(what_, namespace_, {.label_selector = options_.label_selector, .field_selector = options_.field_selector,
                                                    .limit = options_.list_page_size});
        if (!listed)
            return listed.error();
        std::map<std::string, std::string> seen;
        for (auto& item : listed->items) {
            if (!item.is_object())
                continue;
            auto& object = item.get_object();
            const std::string key = object_key(object);
            const std::string rv = resource_version_of(object);
            seen[key] = rv;
            const auto known = known_.find(key);
            if (known == known_.end())
                report(on_event, watch_event::kind::added, std::move(object));
            else if (known->second != rv)
                report(on_event, watch_event::kind::modified, std::move(object));
        }
        for (auto it = known_.begin(); it != known_.end();) {
            if (seen.count(it->first) == 0) {
                // Gone while we could not watch: its last state is not known, only its name.
                const auto slash = it->first.find('/');
                boost::json::object metadata{{"name", it->first.substr(slash + 1)}, {"resourceVersion", it->second}};
                if (slash > 0)
                    metadata["namespace"] = it->first.substr(0, slash);
                boost::json::object last{{"kind", what_.kind}, {"apiVersion", what_.api_version()}, {"metadata", std::move(metadata)}};
                ++stats_.events;
                on_event(watch_event{watch_event::kind::deleted, std::move(last)});
                it = known_.erase(it);
            } else {
                ++it;
            }
        }
        last_rv_ = listed->resource_version;
        complete_ = true;
        if (options_.on_listed)
            options_.on_listed();
        return {};
    }

    void report(const std::function<void(const watch_event&)>& on_event, watch_event::kind type, boost::json::object object)
    {
        const std::string key = object_key(object);
        if (type == watch_event::kind::deleted)
            known_.erase(key);
        else
            known_[key] = resource_version_of(object);
        ++stats_.events;
        on_event(watch_event{type, std::move(object)});
    }

    stream_end stream_once(const std::function<void(const watch_event&)>& on_event, const std::atomic<bool>& stop)
    {
        ++stats_.streams;
        std::string query = "?watch=true&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(options_.server_timeout.count()) +
                            "&resourceVersion=" + query_escape(last_rv_);
        if (!options_.label_selector.empty())
            query += "&labelSelector=" + query_escape(options_.label_selector);
        if (!options_.field_selector.empty())
            query += "&fieldSelector=" + query_escape(options_.field_selector);
        std::string pending;
        stream_end end = stream_end::clean;
        const auto on_data = [&](std::string_view data) {
            pending.append(data);
            std::size_t start = 0;
            for (std::size_t newline; (newline = pending.find('\n', start)) != std::string::npos; start = newline + 1) {
                const std::string_view line(pending.data() + start, newline - start);
                if (line.empty())
                    continue;
                if (!handle_line(line, on_event, end))
                    return false;
            }
            pending.erase(0, start);
            return !stop.load();
        };
        auto status = api_.http().stream({.method = "GET", .path = what_.path(namespace_) + query, .timeout = std::chrono::milliseconds(0)},
                                         on_data, &stop);
        if (stop.load())
            return stream_end::stopped;
        if (end != stream_end::clean)
            return end;
        if (!status) {
            if (status.error() == errc::expired || status.error() == errc::gone)
                return stream_end::expired;
            last_failure_ = status.error();
            return stream_end::failed;
        }
        return stream_end::clean;
    }

    /// One event line; false ends the stream (with `end` saying why).
    bool handle_line(std::string_view line, const std::function<void(const watch_event&)>& on_event, stream_end& end)
    {
        boost::system::error_code ec;
        auto parsed = boost::json::parse(line, ec);
        if (ec || !parsed.is_object()) {
            last_failure_ = failure(errc::bad_response, "a watch event that is not JSON");
            end = stream_end::failed;
            return false;
        }
        auto& event = parsed.get_object();
        const std::string type(member_string(event, "type"));
        auto* object = event.if_contains("object");
        if (object == nullptr || !object->is_object()) {
            last_failure_ = failure(errc::bad_response, "a watch event without an object");
            end = stream_end::failed;
            return false;
        }
        auto& body = object->get_object();
        if (type == "ERROR") {
            const auto status = api_status::from_response(static_cast<unsigned>(body.contains("code") && body.at("code").is_int64() ? body.at("code").get_int64() : 500),
                                                          boost::json::serialize(body));
            if (status.http_code == 410) {
                end = stream_end::expired;
            } else {
                last_failure_ = failure(status);
                end = stream_end::failed;
            }
            return false;
        }
        const std::string rv = resource_version_of(body);
        if (type == "BOOKMARK") {
            ++stats_.bookmarks;
            if (!rv.empty())
                last_rv_ = rv;
            return true;
        }
        const std::string key = object_key(body);
        const auto known = known_.find(key);
        watch_event::kind kind;
        if (!complete_) {
            // Started from the caller's resourceVersion: what was reported before is the
            // caller's, so the server's types stand.
            if (type != "ADDED" && type != "MODIFIED" && type != "DELETED") {
                last_failure_ = failure(errc::bad_response, "unknown watch event type \"" + type + "\"");
                end = stream_end::failed;
                return false;
            }
            kind = type == "ADDED" ? watch_event::kind::added : type == "MODIFIED" ? watch_event::kind::modified : watch_event::kind::deleted;
        } else if (type == "ADDED" || type == "MODIFIED") {
            if (known != known_.end() && known->second == rv) {
                last_rv_ = rv; // already reported (a replay): skip
                return true;
            }
            kind = known == known_.end() ? watch_event::kind::added : watch_event::kind::modified;
        } else if (type == "DELETED") {
            if (known == known_.end()) {
                last_rv_ = rv;
                return true; // never reported, so nothing to take back
            }
            kind = watch_event::kind::deleted;
        } else {
            last_failure_ = failure(errc::bad_response, "unknown watch event type \"" + type + "\"");
            end = stream_end::failed;
            return false;
        }
        if (!rv.empty())
            last_rv_ = rv;
        report(on_event, kind, std::move(body));
        return true;
    }

    dynamic_client& api_;
    resource what_;
    std::string namespace_;
    watch_options options_;
    std::string last_rv_;
    std::map<std::string, std::string> known_; ///< namespace/name -> resourceVersion last reported
    bool complete_ = false;                    ///< known_ holds everything (a list was made)
    watch_statistics stats_;
    failure last_failure_;
    std::mt19937_64 random_;
};

} // namespace paaskit::k8s::client
