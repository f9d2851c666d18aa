#pragma once
// The Kubernetes 1.32 OpenAPI documents shipped with paaskit (or PAASKIT_K8S_OPENAPI_DIR), loaded
// once per test program.

#include <paaskit/k8s/schema.hpp>


#include <stdexcept>

namespace paaskit::test {

inline const k8s::openapi_schemas& kubernetes_schemas()
{
    static const k8s::openapi_schemas schemas = [] {
        auto loaded = k8s::openapi_schemas::load_default();
        if (!loaded)
            throw std::runtime_error("cannot load the Kubernetes OpenAPI documents: " + loaded.error().message());
        return std::move(*loaded);
    }();
    return schemas;
}

} // namespace paaskit::test
