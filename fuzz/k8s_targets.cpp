// Fuzz targets for the Kubernetes parsers: quantities, object names, kubeconfig files and schema
// validation against the shipped Kubernetes 1.32 OpenAPI documents.

#include "harness.hpp"

#include <paaskit/core/json.hpp>
#include <paaskit/k8s/client/kubeconfig.hpp>
#include <paaskit/k8s/names.hpp>
#include <paaskit/k8s/object_rules.hpp>
#include <paaskit/k8s/quantity.hpp>
#include <paaskit/k8s/schema.hpp>

#include <string>

namespace paaskit::fuzz {

int quantity(const std::uint8_t* data, std::size_t size)
{
    auto parsed = k8s::quantity::parse(text_of(data, size));
    if (parsed) {
        // A parsed quantity written back in thousandths parses to itself.
        auto again = k8s::quantity::parse(std::to_string(parsed->milli()) + "m");
        PAASKIT_FUZZ_CHECK(again && *again == *parsed);
    }
    return 0;
}

int names(const std::uint8_t* data, std::size_t size)
{
    const auto text = text_of(data, size);
    for (auto check : {k8s::check_dns1123_label, k8s::check_dns1123_subdomain, k8s::check_dns1035_label, k8s::check_label_value,
                       k8s::check_qualified_name, k8s::check_port_name, k8s::check_env_var_name, k8s::check_config_key})
        (void)check(text);
    return 0;
}

int kubeconfig(const std::uint8_t* data, std::size_t size)
{
    auto config = k8s::client::kubeconfig::parse(std::string(text_of(data, size)));
    if (config) {
        (void)config->resolve();
        for (const auto& name : config->context_names())
            (void)config->resolve({.context = name});
    }
    return 0;
}

int schema(const std::uint8_t* data, std::size_t size)
{
    static const k8s::openapi_schemas schemas = [] {
        auto loaded = k8s::openapi_schemas::load_default();
        PAASKIT_FUZZ_CHECK(loaded);
        return std::move(*loaded);
    }();
    auto object = core::parse_json(text_of(data, size), {.max_bytes = 256 * 1024, .max_depth = 64});
    if (object)
        (void)k8s::validate_object(schemas, *object);
    return 0;
}

} // namespace paaskit::fuzz
