#pragma once
/// \file
/// The simulated cluster's storage, in the role etcd plays for kube-apiserver: every object of
/// every resource, one cluster-wide revision counter (the resourceVersion), and a bounded history
/// of changes from which watches resume. Stored objects are immutable and shared, each with its
/// JSON text made once at write time, so reads and watch fan-out copy no JSON.
///
/// Thread-safety: none; the simulated cluster runs everything on one event loop.

#include <paaskit/k8s/sim/resources.hpp>

#include <boost/json.hpp>

#include <compare>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace paaskit::k8s::sim {

/// One stored version of an object, without `kind` and `apiVersion` (list items carry neither;
/// single-object answers get them prepended to `json`).
struct stored_object {
    boost::json::object object;
    std::string json;
    std::uint64_t resource_version = 0;

    const boost::json::object& metadata() const { return object.at("metadata").get_object(); }
    std::string_view name() const { return metadata().at("name").get_string(); }
    std::string_view namespace_name() const
    {
        const auto* ns = metadata().if_contains("namespace");
        return ns != nullptr && ns->is_string() ? std::string_view(ns->get_string()) : std::string_view();
    }
};
using object_ptr = std::shared_ptr<const stored_object>;

struct object_key {
    std::string namespace_name; ///< empty for cluster-scoped kinds
    std::string name;
    auto operator<=>(const object_key&) const = default;
};

enum class change_type { added, modified, deleted };

inline const char* watch_event_name(change_type type) noexcept
{
    switch (type) {
    case change_type::added: return "ADDED";
    case change_type::modified: return "MODIFIED";
    case change_type::deleted: return "DELETED";
    }
    return "ERROR";
}

/// One committed change; `previous` is null for additions.
struct change {
    resource_id type = 0;
    change_type what = change_type::added;
    object_ptr object;
    object_ptr previous;
};

/// One line of the store's change log: what changed at a revision, without the object.
struct change_record {
    std::uint64_t revision = 0;
    resource_id type = 0;
    change_type what = change_type::added;
    object_key key{};
};

class object_store {
public:
    using objects_map = std::map<object_key, object_ptr>;
    using listener = std::function<void(const change&)>;

    /// `history_capacity` changes (with their objects) are kept for watches to resume from;
    /// `log_capacity` records of every change are kept as the server's own account of what
    /// happened, which clients' watches can be checked against.
    explicit object_store(std::size_t history_capacity = 10'000, std::size_t log_capacity = 100'000)
        : history_capacity_(history_capacity), log_capacity_(log_capacity)
    {
    }

    object_store(const object_store&) = delete;
    object_store& operator=(const object_store&) = delete;

    /// The revision of the last committed change.
    std::uint64_t resource_version() const noexcept { return revision_; }

    object_ptr get(resource_id type, const object_key& key) const
    {
        const auto& objects = tables_[type];
        const auto found = objects.find(key);
        return found != objects.end() ? found->second : nullptr;
    }

    const objects_map& objects(resource_id type) const noexcept { return tables_[type]; }

    /// Stores `object` (its metadata.name and .namespace name it) as a new revision: sets
    /// metadata.resourceVersion, records the change, tells the listeners.
    object_ptr put(resource_id type, boost::json::object object)
    {
        const std::uint64_t revision = ++revision_;
        auto& metadata = object["metadata"].as_object();
        metadata["resourceVersion"] = std::to_string(revision);
        object_key key{string_of(metadata, "namespace"), string_of(metadata, "name")};
        auto stored = freeze(std::move(object), revision);
        auto& slot = tables_[type][std::move(key)];
        change c{type, slot ? change_type::modified : change_type::added, stored, slot};
        slot = stored;
        commit(std::move(c));
        return stored;
    }

    /// Removes an object; the DELETED change carries its last state at the deletion's revision.
    object_ptr erase(resource_id type, const object_key& key)
    {
        auto& objects = tables_[type];
        const auto found = objects.find(key);
        if (found == objects.end())
            return nullptr;
        const std::uint64_t revision = ++revision_;
        boost::json::object last = found->second->object;
        last["metadata"].as_object()["resourceVersion"] = std::to_string(revision);
        auto stored = freeze(std::move(last), revision);
        change c{type, change_type::deleted, stored, found->second};
        objects.erase(found);
        commit(std::move(c));
        return stored;
    }

    /// Calls `visit(change)` for every change after `revision` in order; false (and no call) when
    /// the history no longer reaches back that far (the watch must answer 410 Expired).
    template <typename Visit>
    bool replay_since(std::uint64_t revision, Visit&& visit) const
    {
        if (revision < compacted_)
            return false;
        auto it = std::lower_bound(history_.begin(), history_.end(), revision + 1,
                                   [](const change& c, std::uint64_t rv) { return c.object->resource_version < rv; });
        for (; it != history_.end(); ++it)
            visit(*it);
        return true;
    }

    /// The change log after `revision`, oldest first; false when the log no longer reaches back
    /// that far (older records were dropped).
    template <typename Visit>
    bool changes_since(std::uint64_t revision, Visit&& visit) const
    {
        if (revision < log_start_)
            return false;
        auto it = std::lower_bound(log_.begin(), log_.end(), revision + 1, [](const change_record& r, std::uint64_t rv) { return r.revision < rv; });
        for (; it != log_.end(); ++it)
            visit(*it);
        return true;
    }

    /// The oldest revision a watch or continue token may start from.
    std::uint64_t compacted_revision() const noexcept { return compacted_; }

    std::uint64_t subscribe(listener on_change)
    {
        const std::uint64_t id = ++next_listener_;
        listeners_.emplace(id, std::move(on_change));
        return id;
    }
    void unsubscribe(std::uint64_t id) { listeners_.erase(id); }
    std::size_t subscriber_count() const noexcept { return listeners_.size(); }

    /// Replaces everything with `objects` (a snapshot), keeping revisions; no listener is told.
    void restore(std::vector<std::pair<resource_id, boost::json::object>> objects, std::uint64_t revision)
    {
        for (auto& table : tables_)
            table.clear();
        history_.clear();
        for (auto& [type, object] : objects) {
            const auto& metadata = object.at("metadata").as_object();
            const std::uint64_t rv = std::stoull(string_of(metadata, "resourceVersion"));
            object_key key{string_of(metadata, "namespace"), string_of(metadata, "name")};
            tables_[type][std::move(key)] = freeze(std::move(object), rv);
        }
        revision_ = revision;
        compacted_ = revision;
        log_.clear();
        log_start_ = revision;
    }

private:
    static std::string string_of(const boost::json::object& metadata, const char* field)
    {
        const auto* v = metadata.if_contains(field);
        return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
    }

    static object_ptr freeze(boost::json::object object, std::uint64_t revision)
    {
        auto stored = std::make_shared<stored_object>();
        stored->json = boost::json::serialize(object);
        stored->object = std::move(object);
        stored->resource_version = revision;
        return stored;
    }

    void commit(change c)
    {
        log_.push_back({c.object->resource_version, c.type, c.what,
                        object_key{std::string(c.object->namespace_name()), std::string(c.object->name())}});
        if (log_.size() > log_capacity_) {
            log_start_ = log_.front().revision;
            log_.pop_front();
        }
        history_.push_back(c);
        if (history_.size() > history_capacity_) {
            compacted_ = history_.front().object->resource_version;
            history_.pop_front();
        }
        // A listener may unsubscribe itself (a watch closing), so walk a copy of the ids.
        std::vector<std::uint64_t> ids;
        ids.reserve(listeners_.size());
        for (const auto& entry : listeners_)
            ids.push_back(entry.first);
        for (const auto id : ids)
            if (const auto found = listeners_.find(id); found != listeners_.end())
                found->second(c);
    }

    std::array<objects_map, std::tuple_size_v<std::remove_cvref_t<decltype(resource_types())>>> tables_{};
    std::uint64_t revision_ = 0;
    std::uint64_t compacted_ = 0;
    std::size_t history_capacity_;
    std::deque<change> history_;
    std::size_t log_capacity_;
    std::deque<change_record> log_;
    std::uint64_t log_start_ = 0; ///< the log holds every change after this revision
    std::map<std::uint64_t, listener> listeners_;
    std::uint64_t next_listener_ = 0;
};

} // namespace paaskit::k8s::sim
