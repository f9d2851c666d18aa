#pragma once
/// \file
/// The service catalog: the definition format, the built-in services (n8n, Ghost, WordPress) and
/// the rendering of a subscription into Kubernetes objects.

#include <paaskit/catalog/builtin.hpp>
#include <paaskit/catalog/definition.hpp>
#include <paaskit/catalog/error.hpp>
#include <paaskit/catalog/render.hpp>
