#pragma once
/// \file
/// Decoding of the Kubernetes protobuf wire format for the bodies that client-go's typed clients
/// send as `application/vnd.kubernetes.protobuf` (kubectl's `create namespace|secret|configmap`
/// and the evictions of `kubectl drain`): the `k8s\0` envelope (runtime.Unknown) and the messages
/// of those kinds, by their field numbers in k8s.io/api's generated.proto. Bodies of other kinds
/// get a clear 415 so that the client can send JSON.

#include <boost/json.hpp>

#include <paaskit/core/detail/base64.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace paaskit::k8s::sim {

namespace detail::pb {

enum class kind { string, bytes, int64, boolean, message, string_map, bytes_map, strings, messages };

struct message;

struct field {
    std::uint32_t number;
    const char* json;
    kind type;
    const message* nested = nullptr;
};

struct message {
    std::vector<field> fields;
};

inline const message& preconditions()
{
    static const message m{{{1, "uid", kind::string}, {2, "resourceVersion", kind::string}}};
    return m;
}
inline const message& delete_options()
{
    static const message m{{{1, "gracePeriodSeconds", kind::int64},
                            {2, "preconditions", kind::message, &preconditions()},
                            {3, "orphanDependents", kind::boolean},
                            {4, "propagationPolicy", kind::string},
                            {5, "dryRun", kind::strings}}};
    return m;
}
inline const message& owner_reference()
{
    static const message m{{{1, "kind", kind::string}, {3, "name", kind::string}, {4, "uid", kind::string},
                            {5, "apiVersion", kind::string}, {6, "controller", kind::boolean}, {7, "blockOwnerDeletion", kind::boolean}}};
    return m;
}
inline const message& object_meta()
{
    static const message m{{{1, "name", kind::string},
                            {2, "generateName", kind::string},
                            {3, "namespace", kind::string},
                            {5, "uid", kind::string},
                            {6, "resourceVersion", kind::string},
                            {7, "generation", kind::int64},
                            {11, "labels", kind::string_map},
                            {12, "annotations", kind::string_map},
                            {13, "ownerReferences", kind::messages, &owner_reference()},
                            {14, "finalizers", kind::strings}}};
    return m;
}
inline const message& namespace_spec()
{
    static const message m{{{1, "finalizers", kind::strings}}};
    return m;
}
inline const message& namespace_object()
{
    static const message m{{{1, "metadata", kind::message, &object_meta()}, {2, "spec", kind::message, &namespace_spec()}}};
    return m;
}
inline const message& secret()
{
    static const message m{{{1, "metadata", kind::message, &object_meta()}, {2, "data", kind::bytes_map}, {3, "type", kind::string},
                            {4, "stringData", kind::string_map}, {5, "immutable", kind::boolean}}};
    return m;
}
inline const message& config_map()
{
    static const message m{{{1, "metadata", kind::message, &object_meta()}, {2, "data", kind::string_map},
                            {3, "binaryData", kind::bytes_map}, {4, "immutable", kind::boolean}}};
    return m;
}
inline const message& eviction()
{
    static const message m{{{1, "metadata", kind::message, &object_meta()}, {2, "deleteOptions", kind::message, &delete_options()}}};
    return m;
}

class reader {
public:
    explicit reader(std::string_view data) : data_(data) {}
    bool done() const { return at_ >= data_.size(); }

    std::optional<std::uint64_t> varint()
    {
        std::uint64_t value = 0;
        for (int shift = 0; shift < 64 && at_ < data_.size(); shift += 7) {
            const auto byte = static_cast<unsigned char>(data_[at_++]);
            value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0)
                return value;
        }
        return std::nullopt;
    }

    std::optional<std::string_view> bytes()
    {
        const auto n = varint();
        if (!n || *n > data_.size() - at_)
            return std::nullopt;
        const auto out = data_.substr(at_, static_cast<std::size_t>(*n));
        at_ += static_cast<std::size_t>(*n);
        return out;
    }

    bool skip(std::uint32_t wire_type)
    {
        switch (wire_type) {
        case 0: return varint().has_value();
        case 1: return advance(8);
        case 2: return bytes().has_value();
        case 5: return advance(4);
        default: return false;
        }
    }

private:
    bool advance(std::size_t n)
    {
        if (n > data_.size() - at_)
            return false;
        at_ += n;
        return true;
    }

    std::string_view data_;
    std::size_t at_ = 0;
};

inline std::optional<std::pair<std::string, std::string>> map_entry(std::string_view data)
{
    reader r(data);
    std::pair<std::string, std::string> out;
    while (!r.done()) {
        const auto tag = r.varint();
        if (!tag || (*tag & 7) != 2)
            return std::nullopt;
        const auto value = r.bytes();
        if (!value)
            return std::nullopt;
        ((*tag >> 3) == 1 ? out.first : out.second) = std::string(*value);
    }
    return out;
}

inline std::optional<boost::json::object> decode(std::string_view data, const message& schema)
{
    boost::json::object out;
    reader r(data);
    while (!r.done()) {
        const auto tag = r.varint();
        if (!tag)
            return std::nullopt;
        const auto number = static_cast<std::uint32_t>(*tag >> 3);
        const auto wire_type = static_cast<std::uint32_t>(*tag & 7);
        const field* f = nullptr;
        for (const auto& candidate : schema.fields)
            if (candidate.number == number)
                f = &candidate;
        if (f == nullptr) {
            if (!r.skip(wire_type))
                return std::nullopt;
            continue;
        }
        if (f->type == kind::int64 || f->type == kind::boolean) {
            const auto v = wire_type == 0 ? r.varint() : std::nullopt;
            if (!v)
                return std::nullopt;
            // gogo-protobuf writes zero values of non-pointer fields; JSON omits them.
            if (*v == 0)
                continue;
            if (f->type == kind::boolean)
                out[f->json] = true;
            else
                out[f->json] = static_cast<std::int64_t>(*v);
            continue;
        }
        const auto payload = wire_type == 2 ? r.bytes() : std::nullopt;
        if (!payload)
            return std::nullopt;
        switch (f->type) {
        case kind::string:
            if (!payload->empty())
                out[f->json] = *payload;
            break;
        case kind::bytes: out[f->json] = core::detail::base64_encode_padded(*payload); break;
        case kind::strings: {
            auto& list = out[f->json];
            if (!list.is_array())
                list = boost::json::array();
            list.get_array().emplace_back(*payload);
            break;
        }
        case kind::message:
        case kind::messages: {
            auto nested = decode(*payload, *f->nested);
            if (!nested)
                return std::nullopt;
            if (f->type == kind::message) {
                out[f->json] = std::move(*nested);
            } else {
                auto& list = out[f->json];
                if (!list.is_array())
                    list = boost::json::array();
                list.get_array().push_back(std::move(*nested));
            }
            break;
        }
        case kind::string_map:
        case kind::bytes_map: {
            const auto entry = map_entry(*payload);
            if (!entry)
                return std::nullopt;
            auto& map = out[f->json];
            if (!map.is_object())
                map = boost::json::object();
            map.get_object()[entry->first] = f->type == kind::bytes_map ? core::detail::base64_encode_padded(entry->second) : entry->second;
            break;
        }
        default: return std::nullopt;
        }
    }
    return out;
}

} // namespace detail::pb

/// The JSON form of a protobuf-encoded body, or a message for a 415/400.
inline std::variant<boost::json::value, std::string> decode_protobuf_body(std::string_view body)
{
    using namespace detail::pb;
    if (!body.starts_with(std::string_view("k8s\0", 4)))
        return std::string("the protobuf body does not start with the k8s envelope");
    reader envelope(body.substr(4));
    std::string api_version, kind_name;
    std::string_view raw;
    while (!envelope.done()) {
        const auto tag = envelope.varint();
        if (!tag)
            return std::string("malformed protobuf envelope");
        const auto number = *tag >> 3;
        if ((*tag & 7) != 2) {
            if (!envelope.skip(static_cast<std::uint32_t>(*tag & 7)))
                return std::string("malformed protobuf envelope");
            continue;
        }
        const auto payload = envelope.bytes();
        if (!payload)
            return std::string("malformed protobuf envelope");
        if (number == 1) {
            reader type_meta(*payload);
            while (!type_meta.done()) {
                const auto t = type_meta.varint();
                const auto text = t && (*t & 7) == 2 ? type_meta.bytes() : std::nullopt;
                if (!text)
                    return std::string("malformed protobuf type meta");
                ((*t >> 3) == 1 ? api_version : kind_name) = std::string(*text);
            }
        } else if (number == 2) {
            raw = *payload;
        }
    }
    const message* schema = kind_name == "Namespace" ? &namespace_object()
                            : kind_name == "Secret"    ? &secret()
                            : kind_name == "ConfigMap" ? &config_map()
                            : kind_name == "Eviction"  ? &eviction()
                            : kind_name == "DeleteOptions" ? &detail::pb::delete_options()
                                                       : nullptr;
    if (schema == nullptr)
        return "protobuf bodies of kind " + kind_name + " are not supported by the simulator; send application/json";
    auto object = decode(raw, *schema);
    if (!object)
        return "malformed protobuf " + kind_name;
    (*object)["kind"] = kind_name;
    (*object)["apiVersion"] = api_version;
    return boost::json::value(std::move(*object));
}

} // namespace paaskit::k8s::sim
