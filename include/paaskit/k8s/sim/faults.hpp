#pragma once
/// \file
/// Fault injection for tests of clients: added latency, 429 with Retry-After, 500s and dropped
/// watch streams, each at a rate or on the next N requests (counts win over rates).

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::k8s::sim {

struct fault_settings {
    std::chrono::milliseconds latency{0};
    double throttle_rate = 0;          ///< share of requests answered 429
    unsigned retry_after_seconds = 1;
    double error_rate = 0;             ///< share of requests answered 500
    double watch_drop_rate = 0;        ///< share of watch events after which the stream is cut
    std::uint64_t throttle_next = 0;   ///< the next N requests get 429
    std::uint64_t error_next = 0;      ///< the next N requests get 500
    std::uint64_t drop_watches_next = 0; ///< the next N watch streams are cut after their first event
    /// Pods with a container whose image contains one of these never become ready (they run, and
    /// their readiness probe keeps failing): a rollout that never completes.
    std::vector<std::string> never_ready_images{};
    /// Pods with a container whose image contains one of these crash after they start, again and
    /// again: restartCount grows, the container waits in CrashLoopBackOff, the pod is never ready.
    std::vector<std::string> crash_loop_images{};
    /// Server-side applies of these kinds ("Deployment") are denied, as a validating admission
    /// webhook denies them: 403 Forbidden, nothing stored.
    std::vector<std::string> refuse_apply_kinds{};

    bool never_ready(std::string_view image) const { return matches(never_ready_images, image); }
    bool crash_loops(std::string_view image) const { return matches(crash_loop_images, image); }

    static bool matches(const std::vector<std::string>& parts, std::string_view image)
    {
        for (const auto& part : parts)
            if (!part.empty() && image.find(part) != std::string_view::npos)
                return true;
        return false;
    }

    bool refuses_apply_of(std::string_view kind) const
    {
        for (const auto& k : refuse_apply_kinds)
            if (k == kind)
                return true;
        return false;
    }

    boost::json::object to_json() const
    {
        return {{"latencyMilliseconds", latency.count()}, {"throttleRate", throttle_rate}, {"retryAfterSeconds", retry_after_seconds},
                {"errorRate", error_rate}, {"watchDropRate", watch_drop_rate}, {"throttleNext", throttle_next},
                {"errorNext", error_next}, {"dropWatchesNext", drop_watches_next},
                {"neverReadyImages", boost::json::value_from(never_ready_images)},
                {"crashLoopImages", boost::json::value_from(crash_loop_images)},
                {"refuseApplyKinds", boost::json::value_from(refuse_apply_kinds)}};
    }

    /// Reads the fields present in `json` (the same names as `to_json`); an error message or empty.
    std::string update_from(const boost::json::object& json)
    {
        fault_settings next = *this;
        for (const auto& [key, value] : json) {
            if (key == "neverReadyImages" || key == "crashLoopImages" || key == "refuseApplyKinds") {
                auto& strings = key == "neverReadyImages" ? next.never_ready_images
                                : key == "crashLoopImages" ? next.crash_loop_images
                                                           : next.refuse_apply_kinds;
                const std::string wrong = "field " + std::string(key) + ": must be an array of strings";
                if (!value.is_array())
                    return wrong;
                strings.clear();
                for (const auto& item : value.get_array()) {
                    if (!item.is_string())
                        return wrong;
                    strings.emplace_back(item.get_string());
                }
                continue;
            }
            const bool number = value.is_number();
            if (!number)
                return "field " + std::string(key) + ": must be a number";
            const double v = value.to_number<double>();
            if (v < 0)
                return "field " + std::string(key) + ": must not be negative";
            if (key == "latencyMilliseconds")
                next.latency = std::chrono::milliseconds(static_cast<std::int64_t>(v));
            else if (key == "throttleRate" || key == "errorRate" || key == "watchDropRate") {
                if (v > 1)
                    return "field " + std::string(key) + ": a rate is between 0 and 1";
                (key == "throttleRate" ? next.throttle_rate : key == "errorRate" ? next.error_rate : next.watch_drop_rate) = v;
            } else if (key == "retryAfterSeconds")
                next.retry_after_seconds = static_cast<unsigned>(v);
            else if (key == "throttleNext")
                next.throttle_next = static_cast<std::uint64_t>(v);
            else if (key == "errorNext")
                next.error_next = static_cast<std::uint64_t>(v);
            else if (key == "dropWatchesNext")
                next.drop_watches_next = static_cast<std::uint64_t>(v);
            else
                return "unknown field " + std::string(key);
        }
        *this = next;
        return {};
    }
};

/// Decides, request by request, which fault (if any) to inject.
class fault_injector {
public:
    enum class verdict { none, throttle, fail };

    explicit fault_injector(std::uint64_t seed = 0x5eed) : random_(seed) {}

    fault_settings& settings() noexcept { return settings_; }

    verdict next_request()
    {
        if (settings_.throttle_next > 0) {
            --settings_.throttle_next;
            return verdict::throttle;
        }
        if (settings_.error_next > 0) {
            --settings_.error_next;
            return verdict::fail;
        }
        if (settings_.throttle_rate > 0 && chance() < settings_.throttle_rate)
            return verdict::throttle;
        if (settings_.error_rate > 0 && chance() < settings_.error_rate)
            return verdict::fail;
        return verdict::none;
    }

    /// Whether a new watch stream is one to cut after its first event.
    bool cut_new_watch()
    {
        if (settings_.drop_watches_next == 0)
            return false;
        --settings_.drop_watches_next;
        return true;
    }

    bool drop_after_event() { return settings_.watch_drop_rate > 0 && chance() < settings_.watch_drop_rate; }

private:
    double chance() { return std::uniform_real_distribution<double>(0, 1)(random_); }

    fault_settings settings_;
    std::mt19937_64 random_;
};

} // namespace paaskit::k8s::sim
