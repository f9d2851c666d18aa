#pragma once
/// \file
/// The three patch formats of the Kubernetes API: JSON patch (RFC 6902), JSON merge patch
/// (RFC 7386) and strategic merge patch (lists merged by key, `$patch`, `$setElementOrder`,
/// `$deleteFromPrimitiveList`, `$retainKeys`). Each returns the patched document or a message
/// for a 422/400; the input is never half-patched (work happens on a copy).

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace paaskit::k8s::sim {

using patch_result = std::variant<boost::json::value, std::string>;

namespace detail {

/// RFC 6901: "/a/b~1c" -> {"a", "b/c"}.
inline std::optional<std::vector<std::string>> parse_pointer(std::string_view pointer)
{
    std::vector<std::string> tokens;
    if (pointer.empty())
        return tokens;
    if (pointer.front() != '/')
        return std::nullopt;
    pointer.remove_prefix(1);
    for (;;) {
        const auto slash = pointer.find('/');
        const std::string_view raw = pointer.substr(0, slash);
        std::string token;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '~') {
                if (i + 1 == raw.size() || (raw[i + 1] != '0' && raw[i + 1] != '1'))
                    return std::nullopt;
                token += raw[i + 1] == '0' ? '~' : '/';
                ++i;
            } else {
                token += raw[i];
            }
        }
        tokens.push_back(std::move(token));
        if (slash == std::string_view::npos)
            break;
        pointer.remove_prefix(slash + 1);
    }
    return tokens;
}

inline std::optional<std::size_t> array_index(const std::string& token, std::size_t size, bool allow_end)
{
    if (token == "-")
        return allow_end ? std::optional<std::size_t>(size) : std::nullopt;
    if (token.empty() || token.size() > 9 || !std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (token.size() > 1 && token[0] == '0'))
        return std::nullopt;
    const std::size_t index = std::stoul(token);
    if (index > size || (index == size && !allow_end))
        return std::nullopt;
    return index;
}

/// The value at a pointer, or null.
inline boost::json::value* resolve(boost::json::value& root, const std::vector<std::string>& tokens, std::size_t count)
{
    boost::json::value* current = &root;
    for (std::size_t i = 0; i < count; ++i) {
        if (auto* object = current->if_object()) {
            current = object->if_contains(tokens[i]);
        } else if (auto* array = current->if_array()) {
            const auto index = array_index(tokens[i], array->size(), false);
            current = index ? &(*array)[*index] : nullptr;
        } else {
            current = nullptr;
        }
        if (current == nullptr)
            return nullptr;
    }
    return current;
}

inline std::optional<std::string> pointer_add(boost::json::value& root, const std::vector<std::string>& path, boost::json::value value)
{
    if (path.empty()) {
        root = std::move(value);
        return std::nullopt;
    }
    boost::json::value* parent = resolve(root, path, path.size() - 1);
    if (parent == nullptr)
        return "doc is missing path";
    if (auto* object = parent->if_object()) {
        (*object)[path.back()] = std::move(value);
        return std::nullopt;
    }
    if (auto* array = parent->if_array()) {
        const auto index = array_index(path.back(), array->size(), true);
        if (!index)
            return "add operation does not apply: index out of bounds";
        array->insert(array->begin() + static_cast<std::ptrdiff_t>(*index), std::move(value));
        return std::nullopt;
    }
    return "doc is missing path";
}

inline std::optional<std::string> pointer_remove(boost::json::value& root, const std::vector<std::string>& path, boost::json::value* removed = nullptr)
{
    if (path.empty())
        return "cannot remove the whole document";
    boost::json::value* parent = resolve(root, path, path.size() - 1);
    if (auto* object = parent != nullptr ? parent->if_object() : nullptr) {
        const auto found = object->find(path.back());
        if (found == object->end())
            return "unable to remove nonexistent key: " + path.back() + ": missing value";
        if (removed != nullptr)
            *removed = std::move(found->value());
        object->erase(found);
        return std::nullopt;
    }
    if (auto* array = parent != nullptr ? parent->if_array() : nullptr) {
        const auto index = array_index(path.back(), array->size(), false);
        if (!index)
            return "remove operation does not apply: index out of bounds";
        if (removed != nullptr)
            *removed = std::move((*array)[*index]);
        array->erase(array->begin() + static_cast<std::ptrdiff_t>(*index));
        return std::nullopt;
    }
    return "doc is missing path";
}

inline bool is_directive(std::string_view key) { return !key.empty() && key.front() == '$'; }

/// How a strategic merge patch treats a list field, as the Go types' patchStrategy and
/// patchMergeKey tags say: merged by a key, merged as a set of primitives, or replaced.
struct list_strategy {
    enum class kind { replace, merge_by_key, merge_primitives };
    kind how = kind::replace;
    std::string_view key{};
};

inline list_strategy strategy_for(std::string_view field, std::string_view parent_field)
{
    using k = list_strategy::kind;
    if (field == "containers" || field == "initContainers" || field == "ephemeralContainers" || field == "env" ||
        field == "volumes" || field == "imagePullSecrets" || field == "resourceClaims" || field == "schedulingGates")
        return {k::merge_by_key, "name"};
    if (field == "volumeMounts")
        return {k::merge_by_key, "mountPath"};
    if (field == "volumeDevices")
        return {k::merge_by_key, "devicePath"};
    if (field == "ports")
        return {k::merge_by_key,
                parent_field == "containers" || parent_field == "initContainers" || parent_field == "ephemeralContainers" ? "containerPort" : "port"};
    if (field == "hostAliases")
        return {k::merge_by_key, "ip"};
    if (field == "conditions")
        return {k::merge_by_key, "type"};
    if (field == "ownerReferences")
        return {k::merge_by_key, "uid"};
    if (field == "topologySpreadConstraints")
        return {k::merge_by_key, "topologyKey"};
    if (field == "finalizers")
        return {k::merge_primitives};
    return {};
}

inline void strip_directives(boost::json::value& value)
{
    if (auto* object = value.if_object()) {
        for (auto it = object->begin(); it != object->end();) {
            if (is_directive(it->key())) {
                it = object->erase(it);
            } else {
                strip_directives(it->value());
                ++it;
            }
        }
    } else if (auto* array = value.if_array()) {
        for (auto& element : *array)
            strip_directives(element);
    }
}

inline std::string_view directive(const boost::json::object& object)
{
    const auto* value = object.if_contains("$patch");
    return value != nullptr && value->is_string() ? std::string_view(value->get_string()) : std::string_view();
}

inline std::optional<std::string> strategic_merge(boost::json::object& target, const boost::json::object& patch, std::string_view parent_field);

inline void order_by(boost::json::array& list, const boost::json::array& order, std::string_view key)
{
    const auto rank = [&](const boost::json::value& element) -> std::size_t {
        const boost::json::value* id = &element;
        if (!key.empty()) {
            const auto* object = element.if_object();
            id = object != nullptr ? object->if_contains(key) : nullptr;
        }
        if (id != nullptr)
            for (std::size_t i = 0; i < order.size(); ++i)
                if (order[i] == *id || (order[i].is_object() && !key.empty() && order[i].get_object().if_contains(key) != nullptr &&
                                         *order[i].get_object().if_contains(key) == *id))
                    return i;
        return order.size();
    };
    std::stable_sort(list.begin(), list.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
}

inline std::optional<std::string> merge_list(boost::json::array& target, const boost::json::array& patch, std::string_view field,
                                             list_strategy strategy)
{
    if (strategy.how == list_strategy::kind::merge_primitives) {
        for (const auto& element : patch)
            if (std::find(target.begin(), target.end(), element) == target.end())
                target.push_back(element);
        return std::nullopt;
    }
    // A {"$patch": "replace"} element replaces the list with the patch's other elements.
    for (const auto& element : patch)
        if (const auto* object = element.if_object(); object != nullptr && directive(*object) == "replace") {
            target.clear();
            for (const auto& other : patch)
                if (!(other.is_object() && directive(other.get_object()) == "replace")) {
                    boost::json::value copy = other;
                    strip_directives(copy);
                    target.push_back(std::move(copy));
                }
            return std::nullopt;
        }
    for (const auto& element : patch) {
        const auto* object = element.if_object();
        const auto* id = object != nullptr ? object->if_contains(strategy.key) : nullptr;
        if (id == nullptr)
            return "map: " + std::string(field) + " does not contain declared merge key: " + std::string(strategy.key);
        const auto existing = std::find_if(target.begin(), target.end(), [&](const boost::json::value& candidate) {
            const auto* c = candidate.if_object();
            const auto* cid = c != nullptr ? c->if_contains(strategy.key) : nullptr;
            return cid != nullptr && *cid == *id;
        });
        if (directive(*object) == "delete") {
            if (existing != target.end())
                target.erase(existing);
            continue;
        }
        if (existing != target.end() && existing->is_object()) {
            if (auto problem = strategic_merge(existing->get_object(), *object, field))
                return problem;
        } else {
            boost::json::value copy = element;
            strip_directives(copy);
            target.push_back(std::move(copy));
        }
    }
    return std::nullopt;
}

inline std::optional<std::string> strategic_merge(boost::json::object& target, const boost::json::object& patch, std::string_view parent_field)
{
    const std::string_view how = directive(patch);
    if (how == "replace") {
        boost::json::value copy = patch;
        strip_directives(copy);
        target = std::move(copy.get_object());
        return std::nullopt;
    }
    if (!how.empty() && how != "merge")
        return "unknown patch type: " + std::string(how);
    if (const auto* retain = patch.if_contains("$retainKeys"); retain != nullptr && retain->is_array())
        for (auto it = target.begin(); it != target.end();) {
            const bool kept = std::find(retain->get_array().begin(), retain->get_array().end(), boost::json::value(it->key())) !=
                              retain->get_array().end();
            it = kept ? std::next(it) : target.erase(it);
        }
    for (const auto& [key, value] : patch) {
        if (key.starts_with("$deleteFromPrimitiveList/")) {
            auto* list = target.if_contains(key.substr(25));
            if (list != nullptr && list->is_array() && value.is_array())
                for (const auto& gone : value.get_array())
                    list->get_array().erase(std::remove(list->get_array().begin(), list->get_array().end(), gone), list->get_array().end());
            continue;
        }
        if (is_directive(key))
            continue;
        if (value.is_null()) {
            target.erase(key);
            continue;
        }
        auto* current = target.if_contains(key);
        if (const auto* patch_object = value.if_object()) {
            if (directive(*patch_object) == "delete") {
                target.erase(key);
                continue;
            }
            if (current != nullptr && current->is_object()) {
                if (auto problem = strategic_merge(current->get_object(), *patch_object, key))
                    return problem;
                continue;
            }
            boost::json::object fresh;
            if (auto problem = strategic_merge(fresh, *patch_object, key))
                return problem;
            target[key] = std::move(fresh);
            continue;
        }
        const list_strategy strategy = strategy_for(key, parent_field);
        if (value.is_array() && strategy.how != list_strategy::kind::replace) {
            if (current == nullptr || !current->is_array())
                current = &(target[key] = boost::json::array());
            if (auto problem = merge_list(current->get_array(), value.get_array(), key, strategy))
                return problem;
        } else {
            boost::json::value copy = value;
            strip_directives(copy);
            target[key] = std::move(copy);
        }
    }
    // Element order that kubectl asks for, applied after the merge.
    for (const auto& [key, value] : patch)
        if (key.starts_with("$setElementOrder/") && value.is_array())
            if (auto* list = target.if_contains(key.substr(17)); list != nullptr && list->is_array())
                order_by(list->get_array(), value.get_array(), strategy_for(key.substr(17), parent_field).key);
    return std::nullopt;
}

} // namespace detail

/// RFC 6902 JSON patch: add, remove, replace, move, copy, test.
inline patch_result apply_json_patch(const boost::json::value& document, const boost::json::value& patch)
{
    const auto* operations = patch.if_array();
    if (operations == nullptr)
        return std::string("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    boost::json::value result = document;
    for (const auto& entry : *operations) {
        const auto* op = entry.if_object();
        const auto text = [&](const char* field) -> std::optional<std::string> {
            const auto* v = op != nullptr ? op->if_contains(field) : nullptr;
            if (v == nullptr || !v->is_string())
                return std::nullopt;
            return std::string(v->get_string());
        };
        const auto name = text("op");
        const auto path_text = text("path");
        if (!name || !path_text)
            return std::string("Unable to parse patch operation: missing op or path");
        const auto path = detail::parse_pointer(*path_text);
        if (!path)
            return "invalid JSON pointer: " + *path_text;
        const boost::json::value* value = op->if_contains("value");
        std::optional<std::string> problem;
        if (*name == "add" || *name == "replace") {
            if (value == nullptr)
                return "missing value for " + *name + " operation";
            if (*name == "replace") {
                boost::json::value* at = detail::resolve(result, *path, path->size());
                if (at == nullptr)
                    return "replace operation does not apply: doc is missing key: " + *path_text + ": missing value";
                *at = *value;
            } else {
                problem = detail::pointer_add(result, *path, *value);
            }
        } else if (*name == "remove") {
            problem = detail::pointer_remove(result, *path);
        } else if (*name == "move" || *name == "copy") {
            const auto from_text = text("from");
            const auto from = from_text ? detail::parse_pointer(*from_text) : std::nullopt;
            if (!from)
                return "missing or invalid from for " + *name + " operation";
            boost::json::value moved;
            if (*name == "move") {
                problem = detail::pointer_remove(result, *from, &moved);
            } else if (const auto* source = detail::resolve(result, *from, from->size())) {
                moved = *source;
            } else {
                problem = "copy operation does not apply: doc is missing from path: " + *from_text;
            }
            if (!problem)
                problem = detail::pointer_add(result, *path, std::move(moved));
        } else if (*name == "test") {
            const boost::json::value* at = detail::resolve(result, *path, path->size());
            if (value == nullptr || at == nullptr || *at != *value)
                return "testing value " + *path_text + " failed: test failed";
        } else {
            return "Unexpected kind: " + *name;
        }
        if (problem)
            return *name + " operation does not apply: " + *problem;
    }
    return result;
}

/// RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces.
inline boost::json::value apply_merge_patch(const boost::json::value& document, const boost::json::value& patch)
{
    if (!patch.is_object())
        return patch;
    boost::json::value result = document.is_object() ? document : boost::json::object();
    auto& target = result.get_object();
    for (const auto& [key, value] : patch.get_object()) {
        if (value.is_null()) {
            target.erase(key);
            continue;
        }
        const auto* current = target.if_contains(key);
        target[key] = apply_merge_patch(current != nullptr ? *current : boost::json::value(), value);
    }
    return result;
}

/// Strategic merge patch, with the list strategies of the built-in kinds' fields.
inline patch_result apply_strategic_merge_patch(const boost::json::value& document, const boost::json::value& patch)
{
    if (!patch.is_object() || !document.is_object())
        return std::string("strategic merge patch: the patch must be a JSON object");
    boost::json::value result = document;
    if (auto problem = detail::strategic_merge(result.get_object(), patch.get_object(), ""))
        return *problem;
    return result;
}

} // namespace paaskit::k8s::sim
