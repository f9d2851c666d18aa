#pragma once
/// \file
/// The set of metric families a program exposes, and their Prometheus text exposition.

#include <paaskit/metrics/family.hpp>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace paaskit::metrics {

/// The `Content-Type` of `registry::expose()` output.
inline constexpr const char* exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Owns metric families. Registration validates names (Prometheus' rules: metric names
/// `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*` not starting with `__`; a
/// histogram may not have a label `le`) and refuses duplicates; a violation is a programmer error
/// and throws `std::invalid_argument`. References to families stay valid for the registry's life.
/// Thread-safety: all members are safe to call concurrently.
class registry {
public:
    family<counter>& counters(std::string name, std::string help, std::vector<std::string> label_names = {})
    {
        return add<counter>(std::move(name), std::move(help), std::move(label_names),
                            [] { return std::make_unique<counter>(); });
    }

    family<gauge>& gauges(std::string name, std::string help, std::vector<std::string> label_names = {})
    {
        return add<gauge>(std::move(name), std::move(help), std::move(label_names),
                          [] { return std::make_unique<gauge>(); });
    }

    family<histogram>& histograms(std::string name, std::string help, std::vector<std::string> label_names = {},
                                  std::vector<double> bounds = default_buckets())
    {
        for (const auto& label : label_names)
            if (label == "le")
                throw std::invalid_argument("histogram " + name + " may not have a label named le");
        histogram probe(bounds); // validates the bounds once, at registration
        return add<histogram>(std::move(name), std::move(help), std::move(label_names),
                              [bounds = std::move(bounds)] { return std::make_unique<histogram>(bounds); });
    }

    /// A single unlabelled counter (shorthand for `counters(...).with({})`).
    counter& add_counter(std::string name, std::string help) { return counters(std::move(name), std::move(help)).with({}); }
    gauge& add_gauge(std::string name, std::string help) { return gauges(std::move(name), std::move(help)).with({}); }

    /// Every family in registration order, children sorted by label values.
    void expose_to(std::string& out) const
    {
        std::lock_guard lock(mutex_);
        for (const auto& f : families_)
            f->expose_to(out);
    }

    std::string expose() const
    {
        std::string out;
        expose_to(out);
        return out;
    }

private:
    template <class Metric, class Make>
    family<Metric>& add(std::string name, std::string help, std::vector<std::string> label_names, Make make)
    {
        if (!detail::is_valid_metric_name(name))
            throw std::invalid_argument("invalid metric name \"" + name + "\"");
        for (const auto& label : label_names)
            if (!detail::is_valid_label_name(label))
                throw std::invalid_argument("invalid label name \"" + label + "\" on metric " + name);
        std::lock_guard lock(mutex_);
        for (const auto& f : families_)
            if (f->name() == name)
                throw std::invalid_argument("metric " + name + " is already registered");
        auto created = std::make_unique<family<Metric>>(std::move(name), std::move(help), std::move(label_names), std::move(make));
        auto& ref = *created;
        families_.push_back(std::move(created));
        return ref;
    }

    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<family_base>> families_;
};

} // namespace paaskit::metrics
