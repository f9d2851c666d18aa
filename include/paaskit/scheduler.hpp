#pragma once
/// \file
/// The scheduler component: which worker node each workload runs on. No I/O: the platform feeds
/// it node state and asks for placements, gangs and drain plans.

#include <paaskit/scheduler/engine.hpp>
#include <paaskit/scheduler/error.hpp>
#include <paaskit/scheduler/model.hpp>
#include <paaskit/scheduler/profile.hpp>
