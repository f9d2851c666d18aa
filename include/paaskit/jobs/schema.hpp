#pragma once
/// \file
/// The jobs table, as migrations of component `jobs` (`install` applies them).

#include <paaskit/pg/migrations.hpp>

#include <vector>

namespace paaskit::jobs {

inline std::vector<pg::migration> migrations()
{
    return {{1, "jobs", R"sql(
CREATE TABLE paaskit_jobs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    queue         text        NOT NULL CHECK (length(queue) BETWEEN 1 AND 100),
    args          jsonb       NOT NULL DEFAULT '{}',
    state         text        NOT NULL CHECK (state IN ('available', 'running', 'retryable', 'completed', 'cancelled', 'discarded')),
    priority      smallint    NOT NULL DEFAULT 0 CHECK (priority BETWEEN -100 AND 100),
    attempt       integer     NOT NULL DEFAULT 0,
    max_attempts  integer     NOT NULL CHECK (max_attempts BETWEEN 1 AND 1000),
    timeout_ms    integer     NOT NULL CHECK (timeout_ms > 0),
    run_at        timestamptz NOT NULL,
    unique_key    text,
    unique_until  timestamptz,
    tags          text[]      NOT NULL DEFAULT '{}',
    errors        jsonb       NOT NULL DEFAULT '[]', -- [{"attempt", "at", "error"}], one per failed attempt
    leased_by     text,
    lease_until   timestamptz,
    created_at    timestamptz NOT NULL,
    attempted_at  timestamptz,
    finalized_at  timestamptz
);
-- What workers fetch: the next available jobs of a queue, by priority then time.
CREATE INDEX paaskit_jobs_fetch ON paaskit_jobs (queue, priority, run_at, id) WHERE state IN ('available', 'retryable');
-- Leases that ran out (their worker died) are taken again.
CREATE INDEX paaskit_jobs_leases ON paaskit_jobs (lease_until) WHERE state = 'running';
-- One waiting or running job per unique key, however many enqueue it at once.
CREATE UNIQUE INDEX paaskit_jobs_unique ON paaskit_jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('available', 'running', 'retryable');
CREATE INDEX paaskit_jobs_unique_period ON paaskit_jobs (unique_key, unique_until) WHERE unique_key IS NOT NULL;
CREATE INDEX paaskit_jobs_finalized ON paaskit_jobs (finalized_at) WHERE finalized_at IS NOT NULL;

-- Workers are woken by NOTIFY when jobs become available, once per queue and transaction
-- (delivered at commit, so a worker never wakes for a job it cannot see yet).
CREATE FUNCTION paaskit_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('paaskit_jobs', q.queue) FROM (SELECT DISTINCT queue FROM inserted WHERE state = 'available') q;
    RETURN NULL;
END $$;
CREATE TRIGGER paaskit_jobs_notify AFTER INSERT ON paaskit_jobs
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION paaskit_jobs_notify();
)sql"},
            {2, "periodic_and_leaders", R"sql(
-- The last tick each periodic job was enqueued for (rows locked while the leader enqueues).
CREATE TABLE paaskit_jobs_periodic (
    name       text        PRIMARY KEY,
    last_tick  timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- Who leads each singleton duty, and the epoch that grows at every change of leader.
CREATE TABLE paaskit_jobs_leaders (
    name   text        PRIMARY KEY,
    epoch  bigint      NOT NULL,
    leader text        NOT NULL,
    since  timestamptz NOT NULL
);
)sql"}};
}

} // namespace paaskit::jobs
