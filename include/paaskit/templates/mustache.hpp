#pragma once
/// \file
/// `mustache_template`: a Mustache template compiled once, rendered any number of times, from any
/// number of threads, against a `boost::json::value` context.
///
/// Implements the Mustache specification (interpolation, sections, inverted sections, comments,
/// partials, set delimiters, standalone lines, dotted names, implicit iterator) and its optional
/// inheritance (parents and blocks) and dynamic-names modules. Lambdas are not supported: contexts
/// are JSON.

#include <paaskit/core/result.hpp>
#include <paaskit/templates/detail/parser.hpp>
#include <paaskit/templates/detail/program.hpp>
#include <paaskit/templates/detail/renderer.hpp>
#include <paaskit/templates/error.hpp>
#include <paaskit/templates/options.hpp>

#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace paaskit::templates {

/// Partial templates by name, for `{{> name}}`, `{{< name}}` and dynamic names.
using partial_map = std::map<std::string, std::string, std::less<>>;

/// A compiled template and its partials.
///
/// A value type holding a shared pointer to immutable state: copies are cheap, and `render` may be
/// called concurrently from any number of threads.
///
/// Truthiness, as in the specification: `false`, `null` and an empty array are false; everything
/// else (including `0` and `""`) is true. A name that resolves to nothing renders nothing, and so
/// does a partial that does not exist. Numbers interpolate in their shortest round-trip decimal
/// form; objects and arrays interpolate as their JSON text.
class mustache_template {
public:
    /// Compiles `source` and every template in `partials`. Fails with the first syntax error, its
    /// detail naming the partial (if it is in one), the line and the column.
    static core::result<mustache_template> compile(std::string_view source, const partial_map& partials = {},
                                                   compile_options options = {})
    {
        auto set = std::make_shared<detail::compiled_set>();
        set->options = options;
        const auto add = [&](std::string name, std::string_view text) -> core::result<void> {
            auto& target = *set->programs.emplace_back(std::make_unique<detail::program>());
            target.name = std::move(name);
            target.source.assign(text.data(), text.size());
            if (auto parsed = detail::parser(target, options.limits).run(); !parsed) {
                if (target.name.empty())
                    return parsed.error();
                return core::error(parsed.error().code(), "partial \"" + target.name + "\": " + parsed.error().detail());
            }
            return {};
        };
        if (auto r = add({}, source); !r)
            return r.error();
        for (const auto& [name, text] : partials) {
            set->partial_index.emplace(name, static_cast<std::int32_t>(set->programs.size()));
            if (auto r = add(name, text); !r)
                return r.error();
        }
        for (auto& compiled : set->programs) {
            for (detail::node& n : compiled->nodes) {
                if ((n.kind == detail::node_kind::partial || n.kind == detail::node_kind::parent) && !n.dynamic) {
                    const auto found = set->partial_index.find(n.name);
                    n.target = found != set->partial_index.end() ? found->second : -1;
                }
            }
        }
        return mustache_template(std::move(set));
    }

    /// Appends the rendering to `out`. On failure (a render limit) `out` is left as it was.
    core::result<void> render(const boost::json::value& context, std::string& out) const
    {
        return detail::renderer(*set_, out).run(context);
    }

    /// The rendering as a new string.
    core::result<std::string> render(const boost::json::value& context) const
    {
        std::string out;
        if (auto r = render(context, out); !r)
            return r.error();
        return out;
    }

    escape_mode escape() const noexcept { return set_->options.escape; }

private:
    explicit mustache_template(std::shared_ptr<const detail::compiled_set> set) : set_(std::move(set)) {}

    std::shared_ptr<const detail::compiled_set> set_;
};

} // namespace paaskit::templates
