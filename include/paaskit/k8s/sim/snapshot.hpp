#pragma once
/// \file
/// The simulated cluster's state in a file: every object and the revision counter, written
/// atomically (temporary file, then rename) and read back before the cluster starts.

#include <paaskit/core/error.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/k8s/error.hpp>
#include <paaskit/k8s/sim/store.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace paaskit::k8s::sim {

inline core::result<void> save_snapshot(const std::filesystem::path& file, const object_store& store)
{
    boost::json::array objects;
    for (resource_id type = 0; type < resource_types().size(); ++type)
        for (const auto& [key, object] : store.objects(type))
            objects.push_back(boost::json::object{{"resource", resource_types()[type].group_resource()}, {"object", object->object}});
    const boost::json::object snapshot{{"resourceVersion", store.resource_version()}, {"objects", std::move(objects)}};
    const auto temporary = std::filesystem::path(file).concat(".tmp");
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << boost::json::serialize(snapshot);
        out.flush();
        if (!out)
            return core::error(errc::snapshot_failed, "cannot write the snapshot " + temporary.string());
    }
    std::error_code ec;
    std::filesystem::rename(temporary, file, ec);
    if (ec)
        return core::error(errc::snapshot_failed, "cannot replace the snapshot " + file.string() + ": " + ec.message());
    return {};
}

inline core::result<void> load_snapshot(const std::filesystem::path& file, object_store& store)
{
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const auto fail = [&](const std::string& why) { return core::error(errc::snapshot_failed, "snapshot " + file.string() + ": " + why); };
    if (!in && !in.eof())
        return fail("cannot read");
    core::json_limits limits;
    limits.max_bytes = 1ULL << 30;
    auto parsed = core::parse_json(text.str(), limits);
    if (!parsed)
        return fail(parsed.error().detail());
    const auto* root = parsed->if_object();
    const auto* revision = root != nullptr ? root->if_contains("resourceVersion") : nullptr;
    const auto* objects = root != nullptr ? root->if_contains("objects") : nullptr;
    if (revision == nullptr || !revision->is_number() || objects == nullptr || !objects->is_array())
        return fail("not a snapshot (resourceVersion and objects expected)");
    std::vector<std::pair<resource_id, boost::json::object>> restored;
    for (const auto& entry : objects->get_array()) {
        const auto* e = entry.if_object();
        const auto* resource = e != nullptr ? e->if_contains("resource") : nullptr;
        const auto* object = e != nullptr ? e->if_contains("object") : nullptr;
        if (resource == nullptr || !resource->is_string() || object == nullptr || !object->is_object())
            return fail("an entry without resource and object");
        std::optional<resource_id> type;
        for (resource_id i = 0; i < resource_types().size(); ++i)
            if (resource_types()[i].group_resource() == resource->get_string())
                type = i;
        if (!type)
            return fail("unknown resource " + std::string(resource->get_string()));
        const auto* metadata = object->get_object().if_contains("metadata");
        const auto* rv = metadata != nullptr && metadata->is_object() ? metadata->get_object().if_contains("resourceVersion") : nullptr;
        const auto* name = metadata != nullptr && metadata->is_object() ? metadata->get_object().if_contains("name") : nullptr;
        if (rv == nullptr || !rv->is_string() || name == nullptr || !name->is_string())
            return fail("an object without metadata.name and metadata.resourceVersion");
        restored.emplace_back(*type, object->get_object());
    }
    store.restore(std::move(restored), revision->to_number<std::uint64_t>());
    return {};
}

} // namespace paaskit::k8s::sim
