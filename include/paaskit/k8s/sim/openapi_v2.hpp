#pragma once
/// \file
/// The `/openapi/v2` document a real API server serves, made from its OpenAPI v3 documents: the
/// Swagger 2.0 `definitions` (every component schema, `$ref`s pointing at `#/definitions/`, the
/// `x-kubernetes-*` extensions kept), as JSON or in the gnostic protobuf encoding
/// (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`) that kubectl asks for. kubectl
/// validates a `kind: List` file with it, since `List` is in no v3 document.
///
/// Only what clients read from the v2 document is carried: types, formats, properties, items,
/// additional properties, required fields and the vendor extensions (descriptions and paths are
/// left out; kubectl explains and patches with the v3 documents).

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::k8s::sim {

namespace detail::openapi_v2 {

/// A v3 schema as a Swagger 2.0 schema.
inline boost::json::object convert_schema(const boost::json::object& v3)
{
    constexpr std::string_view v3_prefix = "#/components/schemas/";
    const auto ref_of = [&](const boost::json::value& ref) -> std::string {
        const std::string_view text = ref.is_string() ? std::string_view(ref.get_string()) : std::string_view();
        return text.starts_with(v3_prefix) ? "#/definitions/" + std::string(text.substr(v3_prefix.size())) : std::string(text);
    };
    boost::json::object out;
    if (const auto* ref = v3.if_contains("$ref")) {
        out["$ref"] = ref_of(*ref);
        return out;
    }
    // The v3 documents wrap a reference that has a default or description in a one-element allOf.
    if (const auto* all_of = v3.if_contains("allOf"); all_of && all_of->is_array() && all_of->get_array().size() == 1 &&
                                                       all_of->get_array()[0].is_object() &&
                                                       all_of->get_array()[0].get_object().contains("$ref")) {
        out["$ref"] = ref_of(all_of->get_array()[0].get_object().at("$ref"));
        return out;
    }
    for (const auto& member : v3) {
        const std::string_view key = member.key();
        const auto& value = member.value();
        if (key == "type" || key == "format" || key == "required" || key.starts_with("x-kubernetes-")) {
            out[key] = value;
        } else if (key == "properties" && value.is_object()) {
            boost::json::object properties;
            for (const auto& property : value.get_object())
                if (property.value().is_object())
                    properties[property.key()] = convert_schema(property.value().get_object());
            out["properties"] = std::move(properties);
        } else if (key == "items" && value.is_object()) {
            out["items"] = convert_schema(value.get_object());
        } else if (key == "additionalProperties") {
            out["additionalProperties"] = value.is_object() ? boost::json::value(convert_schema(value.get_object())) : value;
        }
    }
    return out;
}

// --- The protobuf wire format, writing only.

inline void put_varint(std::string& out, std::uint64_t value)
{
    while (value >= 0x80) {
        out += static_cast<char>((value & 0x7F) | 0x80);
        value >>= 7;
    }
    out += static_cast<char>(value);
}

inline void put_bytes(std::string& out, std::uint32_t field, std::string_view bytes)
{
    put_varint(out, (std::uint64_t{field} << 3) | 2);
    put_varint(out, bytes.size());
    out.append(bytes);
}

inline void put_bool(std::string& out, std::uint32_t field, bool value)
{
    put_varint(out, std::uint64_t{field} << 3);
    put_varint(out, value ? 1 : 0);
}

// openapi.v2.Any {value = 1; yaml = 2}: kube-openapi reads vendor extensions from `yaml`, and
// JSON text is YAML.
inline std::string any_message(const boost::json::value& value)
{
    std::string out;
    put_bytes(out, 2, boost::json::serialize(value));
    return out;
}

/// openapi.v2.Schema, by the field numbers of gnostic's OpenAPIv2.proto.
inline std::string schema_message(const boost::json::object& schema)
{
    std::string out;
    if (const auto* ref = schema.if_contains("$ref"); ref && ref->is_string())
        put_bytes(out, 1, ref->get_string());
    if (const auto* format = schema.if_contains("format"); format && format->is_string())
        put_bytes(out, 2, format->get_string());
    if (const auto* required = schema.if_contains("required"); required && required->is_array())
        for (const auto& name : required->get_array())
            if (name.is_string())
                put_bytes(out, 19, name.get_string());
    if (const auto* additional = schema.if_contains("additionalProperties")) {
        std::string item; // AdditionalPropertiesItem {schema = 1 | boolean = 2}
        if (additional->is_object())
            put_bytes(item, 1, schema_message(additional->get_object()));
        else if (additional->is_bool())
            put_bool(item, 2, additional->get_bool());
        put_bytes(out, 21, item);
    }
    if (const auto* type = schema.if_contains("type"); type && type->is_string()) {
        std::string item; // TypeItem {repeated value = 1}
        put_bytes(item, 1, type->get_string());
        put_bytes(out, 22, item);
    }
    if (const auto* items = schema.if_contains("items"); items && items->is_object()) {
        std::string item; // ItemsItem {repeated schema = 1}
        put_bytes(item, 1, schema_message(items->get_object()));
        put_bytes(out, 23, item);
    }
    if (const auto* properties = schema.if_contains("properties"); properties && properties->is_object()) {
        std::string list; // Properties {repeated NamedSchema additional_properties = 1}
        for (const auto& property : properties->get_object()) {
            if (!property.value().is_object())
                continue;
            std::string named; // NamedSchema {name = 1; value = 2}
            put_bytes(named, 1, property.key());
            put_bytes(named, 2, schema_message(property.value().get_object()));
            put_bytes(list, 1, named);
        }
        put_bytes(out, 25, list);
    }
    for (const auto& member : schema) {
        if (!member.key().starts_with("x-"))
            continue;
        std::string named; // NamedAny {name = 1; value = 2}
        put_bytes(named, 1, member.key());
        put_bytes(named, 2, any_message(member.value()));
        put_bytes(out, 31, named);
    }
    return out;
}

} // namespace detail::openapi_v2

/// The Swagger 2.0 document for the given OpenAPI v3 documents' component schemas. A schema named
/// in several documents is taken from the first.
inline boost::json::object swagger_from_openapi_v3(const std::vector<std::string_view>& v3_documents)
{
    boost::json::object definitions;
    for (const auto text : v3_documents) {
        boost::system::error_code ec;
        const auto document = boost::json::parse(text, ec);
        if (ec || !document.is_object())
            continue;
        const auto* components = document.get_object().if_contains("components");
        const auto* schemas = components && components->is_object() ? components->get_object().if_contains("schemas") : nullptr;
        if (!schemas || !schemas->is_object())
            continue;
        for (const auto& schema : schemas->get_object())
            if (schema.value().is_object() && !definitions.contains(schema.key()))
                definitions[schema.key()] = detail::openapi_v2::convert_schema(schema.value().get_object());
    }
    return {{"swagger", "2.0"},
            {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
            {"paths", boost::json::object{}},
            {"definitions", std::move(definitions)}};
}

/// `swagger` (as made by `swagger_from_openapi_v3`) as an openapi.v2.Document in protobuf.
inline std::string openapi_v2_protobuf(const boost::json::object& swagger)
{
    using namespace detail::openapi_v2;
    std::string out;
    put_bytes(out, 1, "2.0");
    std::string info; // Info {title = 1; version = 2}
    put_bytes(info, 1, "Kubernetes");
    put_bytes(info, 2, "v1.32.0");
    put_bytes(out, 2, info);
    put_bytes(out, 8, std::string()); // Paths: none
    std::string definitions; // Definitions {repeated NamedSchema additional_properties = 1}
    if (const auto* all = swagger.if_contains("definitions"); all && all->is_object())
        for (const auto& definition : all->get_object()) {
            if (!definition.value().is_object())
                continue;
            std::string named;
            put_bytes(named, 1, definition.key());
            put_bytes(named, 2, schema_message(definition.value().get_object()));
            put_bytes(definitions, 1, named);
        }
    put_bytes(out, 9, definitions);
    return out;
}

} // namespace paaskit::k8s::sim
