#pragma once
/// \file
/// Field ownership (`metadata.managedFields`, FieldsV1) and server-side apply: which manager set
/// which field, conflicts when an apply changes a field another manager owns, and removal of the
/// fields an applier stopped applying. Field sets are FieldsV1 trees: `f:<field>`, `k:{<merge key>}`
/// for elements of keyed lists, `v:<value>` for sets of primitives, `.` for an element itself.

#include <paaskit/k8s/sim/object_fields.hpp>
#include <paaskit/k8s/sim/patch.hpp>

#include <boost/json.hpp>

#include <string>
#include <variant>
#include <vector>

namespace paaskit::k8s::sim {

struct apply_conflict {
    std::string manager;
    std::string operation;
    std::string api_version;
    std::string field; ///< ".spec.replicas", ".spec.template.spec.containers[name=\"app\"].image"
};

namespace detail {

/// Top-level fields that ownership tracks (the rest of metadata is the server's).
inline bool tracked(std::string_view parent, std::string_view key)
{
    if (parent == "metadata")
        return key == "labels" || key == "annotations" || key == "finalizers" || key == "ownerReferences";
    if (parent.empty())
        return key != "kind" && key != "apiVersion";
    return true;
}

inline std::string element_key(const boost::json::object& element, std::string_view merge_key)
{
    const auto* id = element.if_contains(merge_key);
    return "k:{\"" + std::string(merge_key) + "\":" + (id != nullptr ? boost::json::serialize(*id) : "null") + "}";
}

/// The FieldsV1 set of every leaf in `value`.
inline boost::json::object fields_of(const boost::json::object& value, std::string_view parent)
{
    boost::json::object set;
    for (const auto& [key, member] : value) {
        if (!tracked(parent, key) || is_directive(key))
            continue;
        const std::string f = "f:" + std::string(key);
        if (const auto* object = member.if_object()) {
            // An object holding only untracked fields (metadata with just a name) is not owned.
            if (auto inner = fields_of(*object, key); !inner.empty() || object->empty())
                set[f] = std::move(inner);
            continue;
        }
        const list_strategy strategy = strategy_for(key, parent);
        if (const auto* list = member.if_array(); list != nullptr && strategy.how != list_strategy::kind::replace) {
            boost::json::object elements;
            for (const auto& element : *list) {
                if (strategy.how == list_strategy::kind::merge_primitives) {
                    elements["v:" + boost::json::serialize(element)] = boost::json::object();
                } else if (const auto* e = element.if_object()) {
                    boost::json::object inner = fields_of(*e, key);
                    inner["."] = boost::json::object();
                    elements[element_key(*e, strategy.key)] = std::move(inner);
                }
            }
            set[f] = std::move(elements);
            continue;
        }
        set[f] = boost::json::object();
    }
    return set;
}

/// The fields whose values differ between `before` and `after` (added or changed in `after`).
inline boost::json::object changed_fields(const boost::json::object* before, const boost::json::object& after, std::string_view parent)
{
    boost::json::object set;
    for (const auto& [key, member] : after) {
        if (!tracked(parent, key))
            continue;
        const auto* old = before != nullptr ? before->if_contains(key) : nullptr;
        if (old != nullptr && *old == member)
            continue;
        const std::string f = "f:" + std::string(key);
        if (const auto* object = member.if_object()) {
            auto inner = changed_fields(old != nullptr ? old->if_object() : nullptr, *object, key);
            if (!inner.empty() || (old == nullptr && object->empty()))
                set[f] = std::move(inner);
            continue;
        }
        const list_strategy strategy = strategy_for(key, parent);
        if (const auto* list = member.if_array(); list != nullptr && strategy.how == list_strategy::kind::merge_by_key) {
            boost::json::object elements;
            const auto* old_list = old != nullptr ? old->if_array() : nullptr;
            for (const auto& element : *list) {
                const auto* e = element.if_object();
                if (e == nullptr)
                    continue;
                const std::string k = element_key(*e, strategy.key);
                const boost::json::object* previous = nullptr;
                if (old_list != nullptr)
                    for (const auto& candidate : *old_list)
                        if (candidate.is_object() && element_key(candidate.get_object(), strategy.key) == k)
                            previous = &candidate.get_object();
                if (previous != nullptr && *previous == *e)
                    continue;
                auto inner = changed_fields(previous, *e, key);
                if (previous == nullptr)
                    inner["."] = boost::json::object();
                elements[k] = std::move(inner);
            }
            set[f] = std::move(elements);
            continue;
        }
        set[f] = boost::json::object();
    }
    return set;
}

inline bool is_leaf(const boost::json::object& set)
{
    for (const auto& entry : set)
        if (entry.key() != ".")
            return false;
    return true;
}

/// `from` minus every field in `gone` (a field leaves with everything below it).
inline void subtract(boost::json::object& from, const boost::json::object& gone)
{
    for (const auto& [key, sub] : gone) {
        auto* mine = from.if_contains(key);
        if (mine == nullptr)
            continue;
        const auto* sub_set = sub.if_object();
        if (sub_set == nullptr || is_leaf(*sub_set) || !mine->is_object() || is_leaf(mine->get_object())) {
            from.erase(key); // a field given up as a whole takes what lies below it
            continue;
        }
        subtract(mine->get_object(), *sub_set);
        if (mine->get_object().empty())
            from.erase(key);
    }
}

inline void unite(boost::json::object& into, const boost::json::object& more)
{
    for (const auto& [key, sub] : more) {
        auto& mine = into[key];
        if (!mine.is_object())
            mine = boost::json::object();
        if (const auto* s = sub.if_object())
            unite(mine.get_object(), *s);
    }
}

/// Conflicts: leaves of the applied `config` owned in `other` whose value in `live` differs.
inline void find_conflicts(const boost::json::object& config, const boost::json::object* live, const boost::json::object& other,
                           std::string_view parent, const std::string& path, std::vector<std::string>& out)
{
    for (const auto& [key, member] : config) {
        if (!tracked(parent, key) || is_directive(key))
            continue;
        const auto* owned = other.if_contains("f:" + std::string(key));
        if (owned == nullptr || !owned->is_object())
            continue;
        const auto* live_member = live != nullptr ? live->if_contains(key) : nullptr;
        const std::string here = path + "." + std::string(key);
        if (const auto* object = member.if_object(); object != nullptr && !is_leaf(owned->get_object())) {
            find_conflicts(*object, live_member != nullptr ? live_member->if_object() : nullptr, owned->get_object(), key, here, out);
            continue;
        }
        const list_strategy strategy = strategy_for(key, parent);
        if (const auto* list = member.if_array(); list != nullptr && strategy.how == list_strategy::kind::merge_by_key) {
            const auto* live_list = live_member != nullptr ? live_member->if_array() : nullptr;
            for (const auto& element : *list) {
                const auto* e = element.if_object();
                if (e == nullptr)
                    continue;
                const std::string k = element_key(*e, strategy.key);
                const auto* owned_element = owned->get_object().if_contains(k);
                if (owned_element == nullptr || !owned_element->is_object())
                    continue;
                const boost::json::object* live_element = nullptr;
                if (live_list != nullptr)
                    for (const auto& candidate : *live_list)
                        if (candidate.is_object() && element_key(candidate.get_object(), strategy.key) == k)
                            live_element = &candidate.get_object();
                const auto* id = e->if_contains(strategy.key);
                find_conflicts(*e, live_element, owned_element->get_object(), key,
                               here + "[" + std::string(strategy.key) + "=" + (id != nullptr ? boost::json::serialize(*id) : "") + "]", out);
            }
            continue;
        }
        if (live_member == nullptr || *live_member != member)
            out.push_back(here);
    }
}

/// Removes from `live` the fields in `gone`.
inline void remove_fields(boost::json::object& live, const boost::json::object& gone, std::string_view parent)
{
    for (const auto& [key, sub] : gone) {
        if (!key.starts_with("f:"))
            continue;
        const std::string_view field = key.substr(2);
        auto* member = live.if_contains(field);
        if (member == nullptr)
            continue;
        const auto& sub_set = sub.get_object();
        if (sub_set.empty()) {
            live.erase(field);
            continue;
        }
        if (auto* object = member->if_object()) {
            remove_fields(*object, sub_set, field);
        } else if (auto* list = member->if_array()) {
            const list_strategy strategy = strategy_for(field, parent);
            for (const auto& [element_id, element_set] : sub_set) {
                for (auto it = list->begin(); it != list->end(); ++it) {
                    const bool match = strategy.how == list_strategy::kind::merge_primitives
                                           ? element_id == "v:" + boost::json::serialize(*it)
                                           : it->is_object() && element_key(it->get_object(), strategy.key) == element_id;
                    if (!match)
                        continue;
                    if (element_set.is_object() && element_set.get_object().if_contains(".") != nullptr)
                        list->erase(it);
                    else if (it->is_object() && element_set.is_object())
                        remove_fields(it->get_object(), element_set.get_object(), field);
                    break;
                }
            }
        }
    }
}

/// Merges an applied configuration into `live`: maps and keyed lists merge, the rest replaces.
inline void merge_config(boost::json::object& live, const boost::json::object& config, std::string_view parent)
{
    for (const auto& [key, member] : config) {
        if (is_directive(key))
            continue;
        auto* current = live.if_contains(key);
        if (const auto* object = member.if_object(); object != nullptr && current != nullptr && current->is_object()) {
            merge_config(current->get_object(), *object, key);
            continue;
        }
        const list_strategy strategy = strategy_for(key, parent);
        if (const auto* list = member.if_array(); list != nullptr && current != nullptr && current->is_array() &&
                                                    strategy.how != list_strategy::kind::replace) {
            auto& target = current->get_array();
            for (const auto& element : *list) {
                if (strategy.how == list_strategy::kind::merge_primitives) {
                    if (std::find(target.begin(), target.end(), element) == target.end())
                        target.push_back(element);
                    continue;
                }
                const auto* e = element.if_object();
                if (e == nullptr)
                    continue;
                const std::string k = element_key(*e, strategy.key);
                auto found = std::find_if(target.begin(), target.end(), [&](const boost::json::value& candidate) {
                    return candidate.is_object() && element_key(candidate.get_object(), strategy.key) == k;
                });
                if (found != target.end())
                    merge_config(found->get_object(), *e, key);
                else
                    target.push_back(element);
            }
            continue;
        }
        live[key] = member;
    }
}

inline boost::json::array* managed_entries(boost::json::object& object)
{
    auto& metadata = ensure_object(object, "metadata");
    auto& entries = metadata["managedFields"];
    if (!entries.is_array())
        entries = boost::json::array();
    return &entries.get_array();
}

inline bool same_entry(const boost::json::object& entry, std::string_view manager, std::string_view operation, std::string_view subresource)
{
    return member_string(entry, "manager") == manager && member_string(entry, "operation") == operation &&
           member_string(entry, "subresource") == subresource;
}

/// Gives `owned` to (manager, operation, subresource): removes it from every other entry, drops
/// entries left empty.
inline void assign_fields(boost::json::object& object, const boost::json::object& owned, std::string_view manager, std::string_view operation,
                          std::string_view subresource, std::string_view api_version, const std::string& time, bool replace_own)
{
    auto& entries = *managed_entries(object);
    bool found = false;
    for (auto& e : entries) {
        auto& entry = e.as_object();
        auto& fields = ensure_object(entry, "fieldsV1");
        if (same_entry(entry, manager, operation, subresource)) {
            found = true;
            if (replace_own)
                fields = owned;
            else
                unite(fields, owned);
            entry["time"] = time;
        } else {
            subtract(fields, owned);
        }
    }
    if (!found && !owned.empty()) {
        boost::json::object entry{{"manager", manager}, {"operation", operation}, {"apiVersion", api_version}, {"time", time},
                                  {"fieldsType", "FieldsV1"}, {"fieldsV1", owned}};
        if (!subresource.empty())
            entry["subresource"] = subresource;
        entries.push_back(std::move(entry));
    }
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [](const boost::json::value& e) {
                                     const auto* fields = member_object(e.get_object(), "fieldsV1");
                                     return fields == nullptr || fields->empty();
                                 }),
                  entries.end());
    if (entries.empty())
        object["metadata"].as_object().erase("managedFields");
}

} // namespace detail

/// Records an Update (PUT, PATCH, a controller's write): the fields it changed belong to `manager`.
/// `object` is the new state; `previous` the stored one (null on create).
inline void update_managed_fields(boost::json::object& object, const boost::json::object* previous, std::string_view manager,
                                  std::string_view operation, std::string_view subresource, const std::string& time,
                                  std::string_view api_version = {})
{
    if (operation != "Update")
        return; // applies record their own sets (set_apply_ownership)
    // Ownership carries over from the stored object; what a client sends in managedFields is ignored.
    auto& metadata = ensure_object(object, "metadata");
    if (previous != nullptr) {
        if (const auto* kept = metadata_of(*previous).if_contains("managedFields"))
            metadata["managedFields"] = *kept;
        else
            metadata.erase("managedFields");
    } else {
        metadata.erase("managedFields");
    }
    boost::json::object changed = detail::changed_fields(previous, object, "");
    if (auto* m = changed.if_contains("f:metadata"); m != nullptr && m->is_object() && m->get_object().empty())
        changed.erase("f:metadata");
    if (changed.empty())
        return;
    detail::assign_fields(object, changed, manager, operation, subresource, api_version, time, false);
}

/// After an apply created or changed `object`: the manager's Apply entry is exactly `config`'s fields.
inline void set_apply_ownership(boost::json::object& object, const boost::json::object& config, std::string_view manager,
                                std::string_view subresource, const std::string& time, std::string_view api_version = {})
{
    auto& metadata = ensure_object(object, "metadata");
    if (auto* entries = metadata.if_contains("managedFields"); entries != nullptr && entries->is_array()) {
        // A create through apply records no Update entry for the applier.
        auto& list = entries->get_array();
        list.erase(std::remove_if(list.begin(), list.end(),
                                  [&](const boost::json::value& e) { return detail::same_entry(e.get_object(), manager, "Update", subresource); }),
                   list.end());
    }
    detail::assign_fields(object, detail::fields_of(config, ""), manager, "Apply", subresource, api_version, time, true);
}

/// Server-side apply of `config` by `manager` onto `live`: the conflicts, or the merged object with
/// ownership updated (fields the manager applied before and no longer applies are removed unless
/// another manager owns them).
inline std::variant<boost::json::object, std::vector<apply_conflict>> merge_applied(const boost::json::object& live,
                                                                                    const boost::json::object& config,
                                                                                    std::string_view manager, bool force,
                                                                                    const std::string& time, std::string_view api_version = {})
{
    std::vector<apply_conflict> conflicts;
    boost::json::object previous_apply;
    boost::json::object others;
    if (const auto* entries = member_array(metadata_of(live), "managedFields"))
        for (const auto& e : *entries) {
            const auto& entry = e.get_object();
            const auto* fields = member_object(entry, "fieldsV1");
            if (fields == nullptr)
                continue;
            if (member_string(entry, "manager") == manager) {
                if (member_string(entry, "operation") == "Apply")
                    previous_apply = *fields;
                continue;
            }
            detail::unite(others, *fields);
            if (force)
                continue;
            std::vector<std::string> paths;
            detail::find_conflicts(config, &live, *fields, "", "", paths);
            for (auto& path : paths)
                conflicts.push_back({std::string(member_string(entry, "manager")), std::string(member_string(entry, "operation")),
                                     std::string(member_string(entry, "apiVersion")), std::move(path)});
        }
    if (!conflicts.empty())
        return conflicts;
    boost::json::object next = live;
    boost::json::object dropped = previous_apply;
    detail::subtract(dropped, detail::fields_of(config, ""));
    detail::subtract(dropped, others);
    detail::remove_fields(next, dropped, "");
    detail::merge_config(next, config, "");
    set_apply_ownership(next, config, manager, "", time, api_version);
    return next;
}

} // namespace paaskit::k8s::sim
