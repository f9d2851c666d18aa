#pragma once
/// \file
/// paaskit::metrics — counters, gauges and histograms safe for concurrent use, exposed in the
/// Prometheus text format.

#include <paaskit/metrics/counter.hpp>
#include <paaskit/metrics/family.hpp>
#include <paaskit/metrics/gauge.hpp>
#include <paaskit/metrics/histogram.hpp>
#include <paaskit/metrics/registry.hpp>
