#pragma once
/// \file
/// Small accessors for the fields of Kubernetes objects held as `boost::json` values, and the
/// API server's time format (RFC 3339, whole seconds).

#include <paaskit/core/clock.hpp>
#include <paaskit/core/timestamp.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace paaskit::k8s::sim {

inline const boost::json::object* member_object(const boost::json::object& object, std::string_view key)
{
    const auto* v = object.if_contains(key);
    return v != nullptr ? v->if_object() : nullptr;
}

inline boost::json::object* member_object(boost::json::object& object, std::string_view key)
{
    auto* v = object.if_contains(key);
    return v != nullptr ? v->if_object() : nullptr;
}

inline const boost::json::array* member_array(const boost::json::object& object, std::string_view key)
{
    const auto* v = object.if_contains(key);
    return v != nullptr ? v->if_array() : nullptr;
}

inline std::string_view member_string(const boost::json::object& object, std::string_view key)
{
    const auto* v = object.if_contains(key);
    return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

inline std::int64_t member_int(const boost::json::object& object, std::string_view key, std::int64_t fallback = 0)
{
    const auto* v = object.if_contains(key);
    if (v != nullptr && v->is_int64())
        return v->get_int64();
    if (v != nullptr && v->is_uint64())
        return static_cast<std::int64_t>(v->get_uint64());
    return fallback;
}

inline bool member_bool(const boost::json::object& object, std::string_view key)
{
    const auto* v = object.if_contains(key);
    return v != nullptr && v->is_bool() && v->get_bool();
}

/// `object[key]` as an object, created (or replaced, if it held something else) when needed.
inline boost::json::object& ensure_object(boost::json::object& object, std::string_view key)
{
    auto& v = object[key];
    if (!v.is_object())
        v = boost::json::object();
    return v.get_object();
}

inline const boost::json::object& metadata_of(const boost::json::object& object)
{
    static const boost::json::object empty;
    const auto* m = member_object(object, "metadata");
    return m != nullptr ? *m : empty;
}

inline std::string_view name_of(const boost::json::object& object) { return member_string(metadata_of(object), "name"); }
inline std::string_view namespace_of(const boost::json::object& object) { return member_string(metadata_of(object), "namespace"); }
inline std::string_view uid_of(const boost::json::object& object) { return member_string(metadata_of(object), "uid"); }

/// The alphabet of generated name suffixes and pod-template hashes (no vowels, no confusable digits).
inline constexpr std::string_view kube_name_alphabet = "bcdfghjklmnpqrstvwxz2456789";

/// Whole-second RFC 3339 ("2026-11-24T10:00:00Z"), as metadata timestamps are written.
inline std::string format_time(core::time_point t) { return core::format_rfc3339(t, core::fraction_digits::seconds); }

/// The uid of the controller in `metadata.ownerReferences`, or empty.
inline std::string_view controller_uid(const boost::json::object& object)
{
    if (const auto* owners = member_array(metadata_of(object), "ownerReferences"))
        for (const auto& owner : *owners)
            if (const auto* o = owner.if_object(); o != nullptr && member_bool(*o, "controller"))
                return member_string(*o, "uid");
    return {};
}

/// Removes the field at an API field path ("spec.template.spec.containers[0].foo", map keys in
/// brackets); false when the path does not lead anywhere.
inline bool erase_field_path(boost::json::value& root, std::string_view path)
{
    boost::json::value* current = &root;
    std::string last;
    boost::json::value* parent = nullptr;
    while (!path.empty()) {
        std::string segment;
        if (path.front() == '[') {
            const auto close = path.find(']');
            if (close == std::string_view::npos)
                return false;
            segment = std::string(path.substr(1, close - 1));
            path.remove_prefix(close + 1);
        } else {
            const auto end = path.find_first_of(".[");
            segment = std::string(path.substr(0, end));
            path.remove_prefix(end == std::string_view::npos ? path.size() : end);
        }
        if (!path.empty() && path.front() == '.')
            path.remove_prefix(1);
        parent = current;
        last = segment;
        if (auto* object = current->if_object()) {
            current = object->if_contains(segment);
        } else if (auto* array = current->if_array()) {
            std::size_t index = 0;
            try {
                index = std::stoul(segment);
            } catch (...) {
                return false;
            }
            current = index < array->size() ? &(*array)[index] : nullptr;
        } else {
            current = nullptr;
        }
        if (current == nullptr)
            return false;
    }
    if (parent == nullptr || !parent->is_object())
        return false;
    return parent->get_object().erase(last) > 0;
}

} // namespace paaskit::k8s::sim
