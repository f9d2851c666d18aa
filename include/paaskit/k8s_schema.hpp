#pragma once
/// \file
/// Kubernetes object validation without a cluster: the API server's OpenAPI v3 schemas (strict,
/// as `fieldValidation=Strict`), its naming and cross-field rules, and resource quantities.
/// Target `paaskit::k8s_schema` (core only); the simulated cluster and the catalog build on it.

#include <paaskit/k8s/error.hpp>
#include <paaskit/k8s/names.hpp>
#include <paaskit/k8s/object_rules.hpp>
#include <paaskit/k8s/quantity.hpp>
#include <paaskit/k8s/schema.hpp>
