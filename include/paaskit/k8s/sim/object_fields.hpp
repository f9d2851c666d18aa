#pragma once
/// \file
/// What the simulated cluster adds to `k8s/object_fields.hpp` (whose accessors it uses unqualified):
/// the API server's time format (RFC 3339, whole seconds), name alphabets, field paths.

#include <paaskit/core/clock.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/k8s/object_fields.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace paaskit::k8s::sim {

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
