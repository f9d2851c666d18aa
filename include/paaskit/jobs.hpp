#pragma once
/// \file
/// paaskit::jobs: background jobs in PostgreSQL (see docs/jobs.md).

#include <paaskit/jobs/cron.hpp>
#include <paaskit/jobs/error.hpp>
#include <paaskit/jobs/job.hpp>
#include <paaskit/jobs/leader.hpp>
#include <paaskit/jobs/periodic.hpp>
#include <paaskit/jobs/queue.hpp>
#include <paaskit/jobs/schema.hpp>
#include <paaskit/jobs/worker.hpp>
