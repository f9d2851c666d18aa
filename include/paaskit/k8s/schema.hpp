#pragma once
/// \file
/// Validation of Kubernetes objects against the API server's own OpenAPI v3 documents
/// (`/openapi/v3/...`, as published in kubernetes/api/openapi-spec/v3), the way the API server
/// decodes with `fieldValidation=Strict`: unknown fields, wrong types, missing required fields,
/// malformed quantities, duplicate keys in list-maps and sets.

#include <paaskit/core/result.hpp>
#include <paaskit/core/string_hash.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/k8s/error.hpp>
#include <paaskit/k8s/quantity.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace paaskit::k8s {

/// What is wrong with one field; `reason` is the API server's cause type.
struct field_problem {
    enum class kind {
        unknown_field, ///< not in the schema: strict decoding refuses it (400 BadRequest)
        required,      ///< FieldValueRequired
        type_invalid,  ///< FieldValueTypeInvalid: a string where an integer belongs, ...
        invalid,       ///< FieldValueInvalid: a value of the right type breaking a rule
        duplicate,     ///< FieldValueDuplicate: a repeated key in a list-map or set
        forbidden,     ///< FieldValueForbidden: a change the object's state does not allow
    };

    kind what = kind::invalid;
    std::string field;   ///< JSON path as the API server writes it: spec.containers[0].image
    std::string message;

    /// The `reason` of a Status cause. Unknown fields are no cause in the API server (strict
    /// decoding answers 400 "strict decoding error: unknown field ..."); they map to
    /// FieldValueInvalid where a cause is needed anyway.
    const char* reason() const noexcept
    {
        switch (what) {
        case kind::unknown_field: return "FieldValueInvalid";
        case kind::required: return "FieldValueRequired";
        case kind::type_invalid: return "FieldValueTypeInvalid";
        case kind::invalid: return "FieldValueInvalid";
        case kind::duplicate: return "FieldValueDuplicate";
        case kind::forbidden: return "FieldValueForbidden";
        }
        return "FieldValueInvalid";
    }

    friend bool operator==(const field_problem&, const field_problem&) = default;
};

/// "field: message" lines, for error details and logs.
inline std::string describe(const std::vector<field_problem>& problems)
{
    std::string text;
    for (const field_problem& problem : problems) {
        if (!text.empty())
            text += "; ";
        text += problem.field + ": " + problem.message;
    }
    return text;
}

/// The component schemas of one or more OpenAPI v3 documents, indexed by group/version/kind.
///
/// Immutable after loading; validation from many threads at once is safe.
class openapi_schemas {
public:
    /// Where `load_default` reads: `$PAASKIT_K8S_OPENAPI_DIR` when set, else the Kubernetes 1.32
    /// documents shipped with paaskit (the source tree's `data/k8s-openapi` in a build tree,
    /// `<prefix>/share/paaskit/k8s-openapi` once installed).
    static std::filesystem::path default_directory()
    {
        if (const char* dir = std::getenv("PAASKIT_K8S_OPENAPI_DIR"); dir != nullptr && *dir != '\0')
            return dir;
#ifdef PAASKIT_K8S_OPENAPI_SHIPPED_DIR
        return PAASKIT_K8S_OPENAPI_SHIPPED_DIR;
#else
        return {};
#endif
    }

    /// The shipped Kubernetes 1.32 documents (see `default_directory`).
    static core::result<openapi_schemas> load_default()
    {
        const auto folder = default_directory();
        if (folder.empty())
            return core::error(errc::schema_unreadable, "no OpenAPI documents: set PAASKIT_K8S_OPENAPI_DIR or link paaskit::k8s_schema");
        return load_directory(folder);
    }

    /// Loads every `*.json` file of a folder (such as the API server's `/openapi/v3` documents).
    static core::result<openapi_schemas> load_directory(const std::filesystem::path& folder)
    {
        std::error_code ec;
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
            if (entry.path().extension() == ".json")
                files.push_back(entry.path());
        if (ec)
            return core::error(errc::schema_unreadable, folder.string() + ": " + ec.message());
        if (files.empty())
            return core::error(errc::schema_unreadable, folder.string() + ": no *.json OpenAPI documents");
        std::sort(files.begin(), files.end());
        openapi_schemas schemas;
        for (const auto& file : files) {
            std::ifstream in(file, std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            if (!in && !in.eof())
                return core::error(errc::schema_unreadable, file.string() + ": cannot read");
            if (auto added = schemas.add_document(text.str()); !added)
                return core::error(added.error().code(), file.string() + ": " + added.error().detail());
        }
        return schemas;
    }

    /// Adds the component schemas of one OpenAPI v3 document (JSON text).
    core::result<void> add_document(std::string_view text)
    {
        boost::system::error_code ec;
        boost::json::value document = boost::json::parse(text, ec);
        if (ec)
            return core::error(errc::schema_unreadable, "not JSON: " + ec.message());
        const auto* root = document.if_object();
        const auto* version = root != nullptr ? root->if_contains("openapi") : nullptr;
        const auto* components = root != nullptr ? root->if_contains("components") : nullptr;
        const auto* schemas = components != nullptr && components->is_object() ? components->get_object().if_contains("schemas") : nullptr;
        if (version == nullptr || !version->is_string() || !version->get_string().starts_with("3.") || schemas == nullptr
            || !schemas->is_object())
            return core::error(errc::schema_unreadable, "not an OpenAPI v3 document with components.schemas");
        for (auto& [name, schema] : schemas->get_object()) {
            if (!schema.is_object())
                continue;
            const std::string key(name);
            schemas_.insert_or_assign(key, &schema.get_object());
            if (const auto* kinds = schema.get_object().if_contains("x-kubernetes-group-version-kind"); kinds && kinds->is_array()) {
                for (const auto& gvk : kinds->get_array()) {
                    if (!gvk.is_object())
                        continue;
                    const auto text_of = [&](const char* field) {
                        const auto* v = gvk.get_object().if_contains(field);
                        return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
                    };
                    const std::string group = text_of("group");
                    const std::string api_version = group.empty() ? text_of("version") : group + "/" + text_of("version");
                    kinds_.insert_or_assign(api_version + " " + text_of("kind"), key);
                }
            }
        }
        documents_.push_back(std::make_shared<boost::json::value>(std::move(document)));
        return {};
    }

    /// The schema named `name` (such as io.k8s.api.core.v1.Pod), or null.
    const boost::json::object* find(std::string_view name) const
    {
        const auto found = schemas_.find(name);
        return found != schemas_.end() ? found->second : nullptr;
    }

    /// The schema name for an apiVersion ("v1", "apps/v1") and kind, or empty.
    std::string schema_for(std::string_view api_version, std::string_view kind) const
    {
        const auto found = kinds_.find(std::string(api_version) + " " + std::string(kind));
        return found != kinds_.end() ? found->second : std::string();
    }

    std::size_t size() const noexcept { return schemas_.size(); }

    /// Problems of `object` (which names its `apiVersion` and `kind`) against its schema; empty
    /// when it is valid. Fails only when the kind has no schema.
    core::result<std::vector<field_problem>> validate(const boost::json::value& object) const
    {
        const auto* fields = object.if_object();
        const auto text_of = [&](const char* field) {
            const auto* v = fields != nullptr ? fields->if_contains(field) : nullptr;
            return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        const std::string api_version = text_of("apiVersion"), kind = text_of("kind");
        if (fields == nullptr || api_version.empty() || kind.empty())
            return core::error(errc::unknown_kind, "the object must be a JSON object with apiVersion and kind");
        const std::string name = schema_for(api_version, kind);
        if (name.empty())
            return core::error(errc::unknown_kind, "no schema for " + api_version + " " + kind);
        std::vector<field_problem> problems;
        walker(*this, problems).check(*find(name), object, 0);
        return problems;
    }

private:
    static constexpr std::string_view ref_prefix = "#/components/schemas/";
    static constexpr std::string_view quantity_schema = "io.k8s.apimachinery.pkg.api.resource.Quantity";

    class walker {
    public:
        walker(const openapi_schemas& schemas, std::vector<field_problem>& problems) : schemas_(schemas), problems_(problems) {}

        void check(const boost::json::object& schema, const boost::json::value& value, unsigned depth)
        {
            if (depth > 100) {
                report(field_problem::kind::invalid, "nested too deeply");
                return;
            }
            if (const auto* ref = schema.if_contains("$ref"); ref != nullptr && ref->is_string()) {
                const std::string_view target(ref->get_string());
                const std::string_view name = target.starts_with(ref_prefix) ? target.substr(ref_prefix.size()) : target;
                if (name == quantity_schema) {
                    check_quantity(value);
                    return;
                }
                if (const auto* resolved = schemas_.find(name))
                    check(*resolved, value, depth + 1);
                return;
            }
            if (const auto* all = schema.if_contains("allOf"); all != nullptr && all->is_array())
                for (const auto& part : all->get_array())
                    if (part.is_object())
                        check(part.get_object(), value, depth + 1);
            if (value.is_null())
                return; // an explicit null is an absent optional field
            if (const auto* one = schema.if_contains("oneOf"); one != nullptr && one->is_array()) {
                std::string names;
                for (const auto& option : one->get_array()) {
                    const auto* type = option.is_object() ? option.get_object().if_contains("type") : nullptr;
                    if (type != nullptr && type->is_string()) {
                        if (has_type(value, type->get_string()))
                            return;
                        names += names.empty() ? "" : " or ";
                        names += std::string(type->get_string());
                    }
                }
                if (!names.empty())
                    report(field_problem::kind::type_invalid, "must be of type " + names + ", got " + type_name(value));
                return;
            }
            const auto* type = schema.if_contains("type");
            if (type == nullptr || !type->is_string())
                return;
            const std::string_view expected(type->get_string());
            if (!has_type(value, expected)) {
                report(field_problem::kind::type_invalid, "must be of type " + std::string(expected) + ", got " + type_name(value));
                return;
            }
            if (expected == "object")
                check_object(schema, value.get_object(), depth);
            else if (expected == "array")
                check_array(schema, value.get_array(), depth);
            else if (expected == "integer")
                check_integer(schema, value);
            else if (expected == "string")
                check_string(schema, value.get_string());
        }

    private:
        /// A double that is a whole number within int64's range. The range is checked before any
        /// conversion: casting 1e19 to int64 is undefined behaviour (found by fuzzing).
        static bool is_integral_int64(double d) noexcept
        {
            return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && std::trunc(d) == d;
        }

        static bool has_type(const boost::json::value& value, std::string_view type)
        {
            if (type == "string")
                return value.is_string();
            if (type == "integer")
                return value.is_int64() || value.is_uint64() || (value.is_double() && is_integral_int64(value.get_double()));
            if (type == "number")
                return value.is_number();
            if (type == "boolean")
                return value.is_bool();
            if (type == "object")
                return value.is_object();
            if (type == "array")
                return value.is_array();
            return true;
        }

        static std::string type_name(const boost::json::value& value)
        {
            switch (value.kind()) {
            case boost::json::kind::string: return "string";
            case boost::json::kind::int64:
            case boost::json::kind::uint64: return "integer";
            case boost::json::kind::double_: return "number";
            case boost::json::kind::bool_: return "boolean";
            case boost::json::kind::object: return "object";
            case boost::json::kind::array: return "array";
            case boost::json::kind::null: return "null";
            }
            return "unknown";
        }

        void check_object(const boost::json::object& schema, const boost::json::object& value, unsigned depth)
        {
            const auto* properties_value = schema.if_contains("properties");
            const auto* properties = properties_value != nullptr ? properties_value->if_object() : nullptr;
            const auto* additional = schema.if_contains("additionalProperties");
            for (const auto& [key, member] : value) {
                const std::size_t mark = path_.size();
                if (const auto* property = properties != nullptr ? properties->if_contains(key) : nullptr) {
                    append_field(key);
                    if (property->is_object())
                        check(property->get_object(), member, depth + 1);
                } else if (additional != nullptr && additional->is_object()) {
                    path_ += "[" + std::string(key) + "]";
                    check(additional->get_object(), member, depth + 1);
                } else if (properties != nullptr && (additional == nullptr || (additional->is_bool() && !additional->get_bool()))) {
                    append_field(key);
                    report(field_problem::kind::unknown_field, "field not declared in schema");
                }
                path_.resize(mark);
            }
            if (const auto* required = schema.if_contains("required"); required != nullptr && required->is_array()) {
                for (const auto& name : required->get_array()) {
                    if (!name.is_string())
                        continue;
                    const auto* present = value.if_contains(name.get_string());
                    if (present == nullptr || present->is_null()) {
                        const std::size_t mark = path_.size();
                        append_field(name.get_string());
                        report(field_problem::kind::required, "Required value");
                        path_.resize(mark);
                    }
                }
            }
        }

        void check_array(const boost::json::object& schema, const boost::json::array& value, unsigned depth)
        {
            const auto* items = schema.if_contains("items");
            for (std::size_t i = 0; i < value.size(); ++i) {
                const std::size_t mark = path_.size();
                path_ += "[" + std::to_string(i) + "]";
                if (items != nullptr && items->is_object())
                    check(items->get_object(), value[i], depth + 1);
                path_.resize(mark);
            }
            const auto* list_type = schema.if_contains("x-kubernetes-list-type");
            if (list_type == nullptr || !list_type->is_string())
                return;
            if (list_type->get_string() == "set") {
                std::set<std::string> seen;
                for (std::size_t i = 0; i < value.size(); ++i)
                    if (!seen.insert(boost::json::serialize(value[i])).second)
                        report_at(i, "", field_problem::kind::duplicate, "Duplicate value: " + boost::json::serialize(value[i]));
            } else if (list_type->get_string() == "map") {
                const auto* keys = schema.if_contains("x-kubernetes-list-map-keys");
                if (keys == nullptr || !keys->is_array())
                    return;
                std::set<std::string> seen;
                for (std::size_t i = 0; i < value.size(); ++i) {
                    const auto* item = value[i].if_object();
                    if (item == nullptr)
                        continue;
                    std::string identity;
                    for (const auto& key : keys->get_array()) {
                        if (!key.is_string())
                            continue;
                        const auto* part = item->if_contains(key.get_string());
                        identity += (part != nullptr ? boost::json::serialize(*part) : "null") + ",";
                    }
                    if (!seen.insert(identity).second) {
                        const auto& first_key = keys->get_array().front();
                        report_at(i, first_key.is_string() ? std::string(first_key.get_string()) : "", field_problem::kind::duplicate,
                                  "Duplicate value: " + identity.substr(0, identity.size() - 1));
                    }
                }
            }
        }

        void check_integer(const boost::json::object& schema, const boost::json::value& value)
        {
            const auto* format = schema.if_contains("format");
            if (format == nullptr || !format->is_string())
                return;
            const bool in_int64 = !value.is_uint64() || value.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX);
            if (format->get_string() == "int32") {
                const bool in_int32 = value.is_int64() ? value.get_int64() >= INT32_MIN && value.get_int64() <= INT32_MAX
                                    : value.is_uint64() ? value.get_uint64() <= static_cast<std::uint64_t>(INT32_MAX)
                                                        : value.get_double() >= INT32_MIN && value.get_double() <= INT32_MAX;
                if (!in_int32)
                    report(field_problem::kind::invalid, "must fit in a 32-bit signed integer");
            } else if (format->get_string() == "int64" && !in_int64) {
                report(field_problem::kind::invalid, "must fit in a 64-bit signed integer");
            }
        }

        void check_string(const boost::json::object& schema, const boost::json::string& value)
        {
            const auto* format = schema.if_contains("format");
            if (format == nullptr || !format->is_string())
                return;
            const std::string_view text(value);
            if (format->get_string() == "byte" && !is_base64(text))
                report(field_problem::kind::invalid, "must be base64-encoded");
            else if (format->get_string() == "date-time" && !core::parse_rfc3339(text))
                report(field_problem::kind::invalid, "must be an RFC 3339 date-time");
        }

        void check_quantity(const boost::json::value& value)
        {
            if (value.is_null() || value.is_number())
                return;
            if (!value.is_string()) {
                report(field_problem::kind::type_invalid, "must be a quantity (string or number), got " + type_name(value));
                return;
            }
            if (auto parsed = quantity::parse(value.get_string()); !parsed)
                report(field_problem::kind::invalid, "quantities must match the regular expression "
                                                     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (" + parsed.error().detail() + ")");
        }

        static bool is_base64(std::string_view text)
        {
            if (text.size() % 4 != 0)
                return false;
            std::size_t padding = 0;
            for (std::size_t i = 0; i < text.size(); ++i) {
                const char c = text[i];
                if (c == '=') {
                    if (i + 2 < text.size())
                        return false;
                    ++padding;
                } else if (padding != 0 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/')) {
                    return false;
                }
            }
            return true;
        }

        void append_field(std::string_view key)
        {
            if (!path_.empty())
                path_ += '.';
            path_ += key;
        }

        void report(field_problem::kind what, std::string message)
        {
            problems_.push_back({what, path_, std::move(message)});
        }

        void report_at(std::size_t index, const std::string& key, field_problem::kind what, std::string message)
        {
            std::string field = path_ + "[" + std::to_string(index) + "]";
            if (!key.empty())
                field += "." + key;
            problems_.push_back({what, std::move(field), std::move(message)});
        }

        const openapi_schemas& schemas_;
        std::vector<field_problem>& problems_;
        std::string path_;
    };

    std::vector<std::shared_ptr<boost::json::value>> documents_;
    std::unordered_map<std::string, const boost::json::object*, core::string_hash, std::equal_to<>> schemas_;
    std::map<std::string, std::string> kinds_;
};

} // namespace paaskit::k8s
