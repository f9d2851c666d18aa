#pragma once
/// \file
/// Label selectors (the `labelSelector` query syntax and the `LabelSelector` object of
/// Deployments and PodDisruptionBudgets) and field selectors, parsed once and matched against
/// stored objects.

#include <paaskit/k8s/names.hpp>
#include <paaskit/k8s/sim/resources.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace paaskit::k8s::sim {

/// A requirement on one label.
struct label_requirement {
    enum class op { equals, not_equals, in, not_in, exists, does_not_exist };
    std::string key;
    op match = op::equals;
    std::vector<std::string> values{};

    bool matches(const boost::json::object* labels) const
    {
        const boost::json::value* found = labels != nullptr ? labels->if_contains(key) : nullptr;
        const std::string_view value = found != nullptr && found->is_string() ? std::string_view(found->get_string()) : std::string_view();
        const auto listed = [&] { return std::find(values.begin(), values.end(), value) != values.end(); };
        switch (match) {
        case op::equals:
        case op::in: return found != nullptr && listed();
        case op::not_equals:
        case op::not_in: return found == nullptr || !listed();
        case op::exists: return found != nullptr;
        case op::does_not_exist: return found == nullptr;
        }
        return false;
    }
};

/// Requirements that must all hold; empty matches everything.
class label_selector {
public:
    label_selector() = default;

    /// The query syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by commas.
    /// The error is the API server's message for a 400.
    static std::variant<label_selector, std::string> parse(std::string_view text)
    {
        label_selector selector;
        std::size_t i = 0;
        const auto skip_spaces = [&] {
            while (i < text.size() && text[i] == ' ')
                ++i;
        };
        const auto is_key_char = [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '/';
        };
        const auto read_word = [&] {
            skip_spaces();
            const std::size_t start = i;
            while (i < text.size() && is_key_char(text[i]))
                ++i;
            return std::string(text.substr(start, i - start));
        };
        const auto fail = [&](std::string why) -> std::variant<label_selector, std::string> {
            return "unable to parse requirement: " + why;
        };
        skip_spaces();
        if (i == text.size())
            return selector;
        for (;;) {
            label_requirement req;
            skip_spaces();
            bool negated = false;
            if (i < text.size() && text[i] == '!') {
                negated = true;
                ++i;
            }
            req.key = read_word();
            if (req.key.empty())
                return fail("found '" + std::string(text.substr(i, 1)) + "', expected: identifier");
            if (std::string problem = check_qualified_name(req.key); !problem.empty())
                return fail("invalid label key \"" + req.key + "\": " + problem);
            skip_spaces();
            if (negated) {
                req.match = label_requirement::op::does_not_exist;
            } else if (i == text.size() || text[i] == ',') {
                req.match = label_requirement::op::exists;
            } else if (text.compare(i, 2, "==") == 0 || text.compare(i, 2, "!=") == 0 || text[i] == '=') {
                req.match = text[i] == '!' ? label_requirement::op::not_equals : label_requirement::op::equals;
                i += text[i] == '=' && (i + 1 >= text.size() || text[i + 1] != '=') ? 1U : 2U;
                std::string value = read_word();
                if (std::string problem = check_label_value(value); !problem.empty())
                    return fail("invalid label value: \"" + value + "\": " + problem);
                req.values.push_back(std::move(value));
            } else {
                const std::string word = read_word();
                if (word != "in" && word != "notin")
                    return fail("found '" + word + "', expected: in, notin, =, ==, !=, gt, lt");
                req.match = word == "in" ? label_requirement::op::in : label_requirement::op::not_in;
                skip_spaces();
                if (i == text.size() || text[i] != '(')
                    return fail("found '" + std::string(text.substr(i, 1)) + "', expected: '('");
                ++i;
                for (;;) {
                    std::string value = read_word();
                    if (std::string problem = check_label_value(value); !problem.empty())
                        return fail("invalid label value: \"" + value + "\": " + problem);
                    req.values.push_back(std::move(value));
                    skip_spaces();
                    if (i < text.size() && text[i] == ',') {
                        ++i;
                        continue;
                    }
                    if (i < text.size() && text[i] == ')') {
                        ++i;
                        break;
                    }
                    return fail("found '" + std::string(text.substr(i, 1)) + "', expected: ',', ')'");
                }
            }
            selector.requirements_.push_back(std::move(req));
            skip_spaces();
            if (i == text.size())
                break;
            if (text[i] != ',')
                return fail("found '" + std::string(text.substr(i, 1)) + "', expected: ','");
            ++i;
        }
        return selector;
    }

    /// A `LabelSelector` object (matchLabels, matchExpressions). Null: matches nothing, as for a
    /// PodDisruptionBudget without a selector. An empty object matches everything.
    static std::optional<label_selector> from_object(const boost::json::value* value)
    {
        if (value == nullptr || !value->is_object())
            return std::nullopt;
        label_selector selector;
        const auto& object = value->get_object();
        if (const auto* labels = object.if_contains("matchLabels"); labels != nullptr && labels->is_object())
            for (const auto& [key, v] : labels->get_object())
                if (v.is_string())
                    selector.requirements_.push_back({std::string(key), label_requirement::op::equals, {std::string(v.get_string())}});
        if (const auto* expressions = object.if_contains("matchExpressions"); expressions != nullptr && expressions->is_array())
            for (const auto& e : expressions->get_array()) {
                if (!e.is_object())
                    continue;
                const auto& expression = e.get_object();
                const auto text = [&](const char* field) {
                    const auto* v = expression.if_contains(field);
                    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
                };
                label_requirement req{text("key")};
                const std::string op = text("operator");
                req.match = op == "In"       ? label_requirement::op::in
                            : op == "NotIn"  ? label_requirement::op::not_in
                            : op == "Exists" ? label_requirement::op::exists
                                             : label_requirement::op::does_not_exist;
                if (const auto* values = expression.if_contains("values"); values != nullptr && values->is_array())
                    for (const auto& v : values->get_array())
                        if (v.is_string())
                            req.values.emplace_back(v.get_string());
                selector.requirements_.push_back(std::move(req));
            }
        return selector;
    }

    bool empty() const noexcept { return requirements_.empty(); }

    bool matches(const boost::json::object* labels) const
    {
        return std::all_of(requirements_.begin(), requirements_.end(), [&](const auto& r) { return r.matches(labels); });
    }

    /// Matches the labels in `object.metadata.labels`.
    bool matches_object(const boost::json::object& object) const
    {
        if (requirements_.empty())
            return true;
        const auto* metadata = object.if_contains("metadata");
        const auto* labels = metadata != nullptr && metadata->is_object() ? metadata->get_object().if_contains("labels") : nullptr;
        return matches(labels != nullptr ? labels->if_object() : nullptr);
    }

private:
    std::vector<label_requirement> requirements_;
};

/// The value of a dotted field path in an object as the field selector compares it ("" when absent;
/// booleans as "true"/"false").
inline std::string field_value(const boost::json::object& object, std::string_view path)
{
    const boost::json::object* current = &object;
    for (;;) {
        const auto dot = path.find('.');
        const auto* value = current->if_contains(path.substr(0, dot));
        if (value == nullptr)
            return {};
        if (dot == std::string_view::npos) {
            if (value->is_string())
                return std::string(value->get_string());
            if (value->is_bool())
                return value->get_bool() ? "true" : "false";
            if (value->is_int64())
                return std::to_string(value->get_int64());
            return {};
        }
        if (!value->is_object())
            return {};
        current = &value->get_object();
        path.remove_prefix(dot + 1);
    }
}

/// `field=value`, `field==value`, `field!=value`, joined by commas, on the fields a kind supports.
class field_selector {
public:
    struct term {
        std::string field;
        std::string value;
        bool negated = false;
    };

    static std::variant<field_selector, std::string> parse(std::string_view text, const resource_type& type)
    {
        field_selector selector;
        while (!text.empty()) {
            const auto comma = text.find(',');
            std::string_view part = text.substr(0, comma);
            text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
            if (part.empty())
                continue;
            term t;
            std::size_t op = part.find("!=");
            std::size_t value_at = 0;
            if (op != std::string_view::npos) {
                t.negated = true;
                value_at = op + 2;
            } else if ((op = part.find("==")) != std::string_view::npos) {
                value_at = op + 2;
            } else if ((op = part.find('=')) != std::string_view::npos) {
                value_at = op + 1;
            } else {
                return "invalid selector: '" + std::string(part) + "'; can't understand '" + std::string(part) + "'";
            }
            t.field = std::string(part.substr(0, op));
            t.value = std::string(part.substr(value_at));
            if (!type.has_field_label(t.field))
                return "field label not supported: " + t.field;
            selector.terms_.push_back(std::move(t));
        }
        return selector;
    }

    bool empty() const noexcept { return terms_.empty(); }
    const std::vector<term>& terms() const noexcept { return terms_; }

    bool matches(const boost::json::object& object) const
    {
        return std::all_of(terms_.begin(), terms_.end(), [&](const term& t) { return (field_value(object, t.field) == t.value) != t.negated; });
    }

    /// The name an `metadata.name=` term pins, if any (lets a get-like watch skip other objects).
    std::optional<std::string> pinned_name() const
    {
        for (const auto& t : terms_)
            if (t.field == "metadata.name" && !t.negated)
                return t.value;
        return std::nullopt;
    }

private:
    std::vector<term> terms_;
};

} // namespace paaskit::k8s::sim
