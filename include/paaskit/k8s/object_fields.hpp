#pragma once
/// \file
/// Small accessors for the fields of Kubernetes objects held as `boost::json` values: a member of
/// the asked type or nothing (never an exception), and the metadata every object carries. Shared by
/// the validator, the simulated cluster and the client.

#include <boost/json/object.hpp>

#include <cstdint>
#include <string_view>

namespace paaskit::k8s {

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

} // namespace paaskit::k8s
