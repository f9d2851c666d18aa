#pragma once
/// \file
/// A metric family: one name, one help text, and one child metric per combination of label values.

#include <paaskit/metrics/counter.hpp>
#include <paaskit/metrics/detail/text_format.hpp>
#include <paaskit/metrics/gauge.hpp>
#include <paaskit/metrics/histogram.hpp>

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace paaskit::metrics {

/// The part of a family the registry needs to expose it.
class family_base {
public:
    virtual ~family_base() = default;
    virtual const std::string& name() const noexcept = 0;
    /// Appends the family's HELP, TYPE and sample lines.
    virtual void expose_to(std::string& out) const = 0;
};

/// The children of one metric type under one name. `with` finds or creates the child for a set of
/// label values; the returned reference stays valid as long as the family (cache it on hot paths).
/// Thread-safety: all members are safe to call concurrently (a shared lock for lookups, an
/// exclusive one only when a new child is created).
template <class Metric>
class family final : public family_base {
public:
    family(std::string name, std::string help, std::vector<std::string> label_names,
           std::function<std::unique_ptr<Metric>()> make)
        : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), make_(std::move(make))
    {
    }

    const std::string& name() const noexcept override { return name_; }
    const std::vector<std::string>& label_names() const noexcept { return label_names_; }

    /// The child for these label values, in the order of `label_names()`. A count that differs
    /// from the label names is a programmer error: `std::invalid_argument`.
    Metric& with(std::span<const std::string_view> values)
    {
        if (values.size() != label_names_.size())
            throw std::invalid_argument("metric " + name_ + " takes " + std::to_string(label_names_.size()) +
                                        " label values, got " + std::to_string(values.size()));
        {
            std::shared_lock lock(mutex_);
            if (auto it = children_.find(values); it != children_.end())
                return *it->second;
        }
        std::unique_lock lock(mutex_);
        auto it = children_.find(values);
        if (it == children_.end())
            it = children_.emplace(std::vector<std::string>(values.begin(), values.end()), make_()).first;
        return *it->second;
    }

    Metric& with(std::initializer_list<std::string_view> values)
    {
        return with(std::span<const std::string_view>(values.begin(), values.size()));
    }

    void expose_to(std::string& out) const override
    {
        out += "# HELP ";
        out += name_;
        out += ' ';
        detail::append_escaped(out, help_, false);
        out += "\n# TYPE ";
        out += name_;
        out += ' ';
        out += type_name();
        out += '\n';
        std::shared_lock lock(mutex_);
        for (const auto& [values, metric] : children_)
            expose_child(out, values, *metric);
    }

private:
    // Orders label-value lists, comparing stored strings with looked-up string_views.
    struct values_less {
        using is_transparent = void;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const
        {
            return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                                [](std::string_view x, std::string_view y) { return x < y; });
        }
    };

    static constexpr const char* type_name() noexcept
    {
        if constexpr (std::is_same_v<Metric, counter>)
            return "counter";
        else if constexpr (std::is_same_v<Metric, gauge>)
            return "gauge";
        else
            return "histogram";
    }

    void append_labels(std::string& out, const std::vector<std::string>& values, std::string_view le = {}) const
    {
        if (values.empty() && le.empty())
            return;
        out += '{';
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i)
                out += ',';
            out += label_names_[i];
            out += "=\"";
            detail::append_escaped(out, values[i], true);
            out += '"';
        }
        if (!le.empty()) {
            if (!values.empty())
                out += ',';
            out += "le=\"";
            out += le;
            out += '"';
        }
        out += '}';
    }

    void expose_child(std::string& out, const std::vector<std::string>& values, const Metric& metric) const
    {
        if constexpr (std::is_same_v<Metric, histogram>) {
            const auto snap = metric.read();
            const auto& bounds = metric.bounds();
            for (std::size_t i = 0; i <= bounds.size(); ++i) {
                std::string le;
                if (i < bounds.size())
                    detail::append_number(le, bounds[i]);
                else
                    le = "+Inf";
                out += name_;
                out += "_bucket";
                append_labels(out, values, le);
                out += ' ';
                detail::append_number(out, snap.cumulative[i]);
                out += '\n';
            }
            out += name_;
            out += "_sum";
            append_labels(out, values);
            out += ' ';
            detail::append_number(out, snap.sum);
            out += '\n';
            out += name_;
            out += "_count";
            append_labels(out, values);
            out += ' ';
            detail::append_number(out, snap.count());
            out += '\n';
        } else {
            out += name_;
            append_labels(out, values);
            out += ' ';
            detail::append_number(out, metric.value());
            out += '\n';
        }
    }

    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    std::function<std::unique_ptr<Metric>()> make_;
    mutable std::shared_mutex mutex_;
    std::map<std::vector<std::string>, std::unique_ptr<Metric>, values_less> children_;
};

} // namespace paaskit::metrics
