#pragma once
// The reference server's own tables. Append new migrations; never edit an applied one (the
// checksum check refuses to start against a database where an applied migration changed).

#include <paaskit/pg/migrations.hpp>

#include <vector>

namespace paaskit::server::store {

inline std::vector<pg::migration> server_migrations()
{
    return {
        {1, "server_instances",
         R"sql(
CREATE TABLE paaskit_server_instances (
    id         uuid        PRIMARY KEY,
    hostname   text        NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);
)sql"},
        {2, "users",
         R"sql(
CREATE TABLE paaskit_users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role          text        NOT NULL CHECK (role IN ('USER', 'ADMINISTRATOR')),
    status        text        NOT NULL CHECK (status IN ('ACTIVE', 'DEACTIVATED')),
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    last_login_at timestamptz,
    deleted_at    timestamptz -- soft delete: ledger accounts and invoices keep referring to the user
);
-- E-mail addresses are unique ignoring case among users that are not deleted.
CREATE UNIQUE INDEX paaskit_users_email ON paaskit_users (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX paaskit_users_created ON paaskit_users (created_at) WHERE deleted_at IS NULL;
)sql"},
        {3, "services",
         R"sql(
-- Every write takes the next revision, so a reader can tell which of two catalog snapshots is newer.
CREATE SEQUENCE paaskit_services_revision;
CREATE TABLE paaskit_services (
    id         uuid        PRIMARY KEY,
    slug       text        NOT NULL,
    name       text        NOT NULL,
    category   text        NOT NULL,
    status     text        NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
    builtin    boolean     NOT NULL,
    definition jsonb       NOT NULL,
    revision   bigint      NOT NULL DEFAULT nextval('paaskit_services_revision'),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz -- soft delete: subscriptions keep referring to the service
);
CREATE UNIQUE INDEX paaskit_services_slug ON paaskit_services (slug) WHERE deleted_at IS NULL;
-- One-time data steps (such as seeding the built-in services on first start), by name.
CREATE TABLE paaskit_seeds (
    name       text        PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
)sql"},
        {4, "users_identity_and_last_administrator",
         R"sql(
-- E-mail identity: the NFKC case-folded address is what is unique and what sign-in compares; the
-- UTS #39 skeleton finds look-alike addresses. Both are computed by the server (ICU) and filled
-- for existing rows at start-up, before it serves.
ALTER TABLE paaskit_users ADD COLUMN email_canonical text, ADD COLUMN email_skeleton text;
DROP INDEX paaskit_users_email;
CREATE UNIQUE INDEX paaskit_users_email_canonical ON paaskit_users (email_canonical) WHERE deleted_at IS NULL;
CREATE INDEX paaskit_users_email_skeleton ON paaskit_users (email_skeleton) WHERE deleted_at IS NULL;

-- At least one active administrator, whatever changes roles, status or deletes, and however many
-- transactions do so at once: checked at commit, under a lock that orders those commits, so the
-- second of two administrators demoting each other sees the first's change and is refused.
CREATE FUNCTION paaskit_keep_an_administrator() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('paaskit_users_administrators'));
    IF NOT EXISTS (SELECT 1 FROM paaskit_users
                   WHERE role = 'ADMINISTRATOR' AND status = 'ACTIVE' AND deleted_at IS NULL) THEN
        RAISE EXCEPTION 'at least one active administrator must remain'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'paaskit_users_keep_an_administrator';
    END IF;
    RETURN NULL;
END $$;
-- Only changes that take an active administrator away fire it (not sign-ins or renames).
CREATE CONSTRAINT TRIGGER paaskit_users_keep_an_administrator
    AFTER UPDATE OF role, status, deleted_at ON paaskit_users DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.role = 'ADMINISTRATOR' AND OLD.status = 'ACTIVE' AND OLD.deleted_at IS NULL
                       AND (NEW.role <> 'ADMINISTRATOR' OR NEW.status <> 'ACTIVE' OR NEW.deleted_at IS NOT NULL))
    EXECUTE FUNCTION paaskit_keep_an_administrator();
CREATE CONSTRAINT TRIGGER paaskit_users_keep_an_administrator_on_delete
    AFTER DELETE ON paaskit_users DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.role = 'ADMINISTRATOR' AND OLD.status = 'ACTIVE' AND OLD.deleted_at IS NULL)
    EXECUTE FUNCTION paaskit_keep_an_administrator();
)sql"},
        {5, "notifications",
         R"sql(
-- The mail outbox: each message as rendered, written in the transaction of the event that causes
-- it; a job delivers it (status queued), or it is kept for administrators when no mail server is
-- configured (held).
CREATE TABLE paaskit_notifications (
    id          uuid        PRIMARY KEY,
    user_id     uuid        REFERENCES paaskit_users (id),
    kind        text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    to_address  text        NOT NULL,
    to_name     text        NOT NULL DEFAULT '',
    subject     text        NOT NULL,
    body_text   text        NOT NULL,
    body_html   text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('queued', 'held', 'sent', 'failed')),
    created_at  timestamptz NOT NULL,
    finished_at timestamptz,
    reply       text,                       -- the mail server's final reply (sent) or refusal (failed)
    attempts    jsonb       NOT NULL DEFAULT '[]' -- [{"at", "outcome": sent|temporary|permanent|gave_up, "reply"}]
);
CREATE INDEX paaskit_notifications_recent ON paaskit_notifications (created_at DESC, id DESC);
CREATE INDEX paaskit_notifications_user ON paaskit_notifications (user_id, created_at DESC);
CREATE TABLE paaskit_notification_attachments (
    notification_id uuid    NOT NULL REFERENCES paaskit_notifications (id) ON DELETE CASCADE,
    position        integer NOT NULL,
    filename        text    NOT NULL,
    content_type    text    NOT NULL,
    content         bytea   NOT NULL,
    PRIMARY KEY (notification_id, position)
);
-- The kinds a customer turned off (only kinds that are not essential).
CREATE TABLE paaskit_notification_preferences (
    user_id    uuid        PRIMARY KEY REFERENCES paaskit_users (id),
    disabled   text[]      NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL
);
)sql"},
        {6, "account_tokens",
         R"sql(
-- When the account's current address was last shown to be the owner's (NULL: not yet).
ALTER TABLE paaskit_users ADD COLUMN email_verified_at timestamptz;
-- Single-use secrets sent by mail: password resets and address verifications. Only their SHA-256
-- is kept; a token is for the address it was sent to.
CREATE TABLE paaskit_account_tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES paaskit_users (id),
    purpose    text        NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
    email      text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX paaskit_account_tokens_user ON paaskit_account_tokens (user_id, purpose) WHERE used_at IS NULL;
)sql"},
        {7, "audit_log",
         R"sql(
-- The audit log: append-only, each entry's hash = SHA-256(previous hash || body), body being the
-- entry's JSON text as hashed. The other columns index the body for filters.
CREATE TABLE paaskit_audit_log (
    seq           bigint      PRIMARY KEY CHECK (seq > 0),
    id            uuid        NOT NULL UNIQUE,
    at            timestamptz NOT NULL,
    actor_user_id uuid,
    action        text        NOT NULL,
    target_type   text        NOT NULL,
    target_id     text        NOT NULL,
    body          text        NOT NULL,
    prev_hash     bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash          bytea       NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX paaskit_audit_log_action ON paaskit_audit_log (action, seq DESC);
CREATE INDEX paaskit_audit_log_actor ON paaskit_audit_log (actor_user_id, seq DESC);
CREATE INDEX paaskit_audit_log_target ON paaskit_audit_log (target_type, target_id, seq DESC);
CREATE FUNCTION paaskit_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER paaskit_audit_log_no_change BEFORE UPDATE OR DELETE ON paaskit_audit_log
    FOR EACH ROW EXECUTE FUNCTION paaskit_audit_log_append_only();
CREATE TRIGGER paaskit_audit_log_no_truncate BEFORE TRUNCATE ON paaskit_audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION paaskit_audit_log_append_only();
)sql"},
        {8, "api_tokens",
         R"sql(
-- Scoped API tokens for automation: only the SHA-256 of the token is kept.
CREATE TABLE paaskit_api_tokens (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES paaskit_users (id),
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    scopes       smallint    NOT NULL CHECK (scopes BETWEEN 1 AND 15), -- bits: read 1, subscriptions 2, billing 4, admin:* 8
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX paaskit_api_tokens_user ON paaskit_api_tokens (user_id, created_at DESC);
)sql"},
        {9, "account_change_notifications",
         R"sql(
-- Replicas cache "this session is good" for up to a second; a NOTIFY on paaskit_accounts (the
-- user's id) tells every replica to forget that user at once when the account or one of its
-- sessions changes.
CREATE FUNCTION paaskit_notify_account_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'paaskit_users' THEN
        PERFORM pg_notify('paaskit_accounts', NEW.id::text);
    ELSE
        PERFORM pg_notify('paaskit_accounts', NEW.user_id::text);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER paaskit_users_changed AFTER UPDATE ON paaskit_users
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION paaskit_notify_account_change();
CREATE TRIGGER paaskit_sessions_revoked AFTER UPDATE OF revoked_at ON paaskit_auth_refresh_families
    FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at) EXECUTE FUNCTION paaskit_notify_account_change();
)sql"},
        {10, "billing",
         R"sql(
-- Each customer's credit history, one row per movement (or attempted movement: a top-up that
-- failed). The money itself is in the ledger (schema paaskit_ledger); a row names its transfer.
CREATE TABLE paaskit_billing_transactions (
    id                 uuid        PRIMARY KEY,
    user_id            uuid        NOT NULL REFERENCES paaskit_users (id),
    kind               text        NOT NULL CHECK (kind IN ('topup', 'topup_reversal', 'charge', 'hold', 'refund', 'adjustment')),
    status             text        NOT NULL,
    amount             bigint      NOT NULL CHECK (amount >= 0),
    direction          smallint    NOT NULL CHECK (direction IN (-1, 1)), -- 1: credit to the customer
    description        text        NOT NULL DEFAULT '',
    idempotency_key    text        NOT NULL,
    ledger_transfer_id uuid,
    actor_id           uuid,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    UNIQUE (kind, idempotency_key)
);
CREATE INDEX paaskit_billing_transactions_user ON paaskit_billing_transactions (user_id, created_at DESC);
CREATE INDEX paaskit_billing_transactions_created ON paaskit_billing_transactions (created_at DESC);
-- A top-up's Midtrans side.
CREATE TABLE paaskit_billing_topups (
    transaction_id          uuid        PRIMARY KEY REFERENCES paaskit_billing_transactions (id),
    order_id                text        NOT NULL UNIQUE CHECK (length(order_id) BETWEEN 1 AND 50),
    snap_token              text,
    redirect_url            text,
    midtrans_status         text,
    fraud_status            text,
    payment_type            text,
    midtrans_transaction_id text,
    credited_amount         bigint      NOT NULL DEFAULT 0,
    reversed_amount         bigint      NOT NULL DEFAULT 0,
    review_reason           text,
    expires_at              timestamptz NOT NULL,
    paid_at                 timestamptz
);
CREATE INDEX paaskit_billing_topups_open ON paaskit_billing_topups (expires_at) WHERE paid_at IS NULL;
)sql"},
        {11, "invoices",
         R"sql(
-- Invoice numbers run without gaps per year: the counter row is updated in the transaction that
-- finalises the invoice (and the money it describes), so a rollback gives the number back and
-- concurrent finalisations take turns on the row.
CREATE TABLE paaskit_billing_invoice_counters (
    year        integer PRIMARY KEY,
    last_number bigint  NOT NULL
);
CREATE TABLE paaskit_billing_invoices (
    id             uuid        PRIMARY KEY,
    number         text        NOT NULL UNIQUE,
    year           integer     NOT NULL,
    sequence       bigint      NOT NULL,
    user_id        uuid        NOT NULL REFERENCES paaskit_users (id),
    transaction_id uuid        UNIQUE REFERENCES paaskit_billing_transactions (id),
    document       jsonb       NOT NULL, -- seller, buyer, lines, tax rate, reference: what the PDF shows
    subtotal       bigint      NOT NULL,
    tax            bigint      NOT NULL,
    total          bigint      NOT NULL,
    issued_at      timestamptz NOT NULL,
    UNIQUE (year, sequence)
);
CREATE INDEX paaskit_billing_invoices_user ON paaskit_billing_invoices (user_id, issued_at DESC);
)sql"},
        {12, "subscriptions",
         R"sql(
-- A customer's app: what was asked for, the objects rendered for it once (the generated secrets
-- with them, so a retried or resumed provisioning applies the same ones), and where it stands.
CREATE TABLE paaskit_subscriptions (
    id                   uuid        PRIMARY KEY,
    user_id              uuid        NOT NULL REFERENCES paaskit_users (id),
    name                 text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    service_slug         text        NOT NULL,
    service_name         text        NOT NULL,
    plan_id              text        NOT NULL,
    plan_name            text        NOT NULL,
    price                bigint      NOT NULL CHECK (price > 0), -- sen per period (a calendar month)
    status               text        NOT NULL CHECK (status IN ('provisioning', 'active', 'past_due', 'suspended',
                                                                'cancelled', 'terminated', 'failed')),
    status_reason        text,
    namespace            text        NOT NULL UNIQUE,
    host                 text        NOT NULL,
    url                  text        NOT NULL,
    manifest             jsonb       NOT NULL,
    period               integer     NOT NULL DEFAULT 0, -- the current period's number (1: the first)
    period_start         timestamptz,
    period_end           timestamptz,
    cancel_at_period_end boolean     NOT NULL DEFAULT false,
    failure_reason       text,
    idempotency_key      text,
    request_hash         text,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    ready_at             timestamptz,
    ended_at             timestamptz,
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX paaskit_subscriptions_user ON paaskit_subscriptions (user_id, created_at DESC);
CREATE INDEX paaskit_subscriptions_status ON paaskit_subscriptions (status, created_at DESC);
-- What happened to each: state changes, charges, repairs (newest last).
CREATE TABLE paaskit_subscription_events (
    id              uuid        PRIMARY KEY,
    subscription_id uuid        NOT NULL REFERENCES paaskit_subscriptions (id),
    kind            text        NOT NULL,
    detail          jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL
);
CREATE INDEX paaskit_subscription_events_of ON paaskit_subscription_events (subscription_id, created_at);
)sql"},
        {13, "subscription_lapses",
         R"sql(
-- Since when a renewal found too little credit (past_due), and since when the app is scaled to
-- zero for it (suspended): the grace period and the retention count from these.
ALTER TABLE paaskit_subscriptions ADD COLUMN past_due_since timestamptz, ADD COLUMN suspended_at timestamptz;
)sql"},
        {14, "subscription_plan_changes",
         R"sql(
-- A downgrade waits for the end of the period: the plan the next period renews on.
ALTER TABLE paaskit_subscriptions ADD COLUMN next_plan_id text;
)sql"},
        {15, "workers",
         R"sql(
-- The cluster's nodes as the platform last saw them; a node gone from the cluster stays, marked
-- INACTIVE with removed_at, until it comes back under the same name.
CREATE TABLE paaskit_workers (
    id                uuid        PRIMARY KEY,
    name              text        NOT NULL UNIQUE,
    status            text        NOT NULL,
    online            boolean     NOT NULL,
    last_heartbeat    timestamptz,
    unschedulable     boolean     NOT NULL,
    capacity          jsonb       NOT NULL,
    allocatable       jsonb       NOT NULL,
    labels            jsonb       NOT NULL,
    taints            jsonb       NOT NULL,
    architecture      text        NOT NULL,
    os                text        NOT NULL,
    kubelet_version   text        NOT NULL,
    container_runtime text        NOT NULL,
    registered_at     timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    removed_at        timestamptz
);
CREATE INDEX paaskit_workers_status ON paaskit_workers (status, name);
)sql"},
        {16, "orphan_scans",
         R"sql(
-- Each list of orphans shown (or found by the periodic scan), under its fingerprint: a cleanup
-- names the fingerprint and deletes exactly what that list held.
CREATE TABLE paaskit_orphan_scans (
    fingerprint text        PRIMARY KEY,
    orphans     jsonb       NOT NULL,
    missing     jsonb       NOT NULL,
    source      text        NOT NULL,
    found_at    timestamptz NOT NULL,
    cleaned_at  timestamptz,
    outcome     jsonb
);
CREATE INDEX paaskit_orphan_scans_found ON paaskit_orphan_scans (found_at DESC);
)sql"},
        {17, "pod_incidents",
         R"sql(
-- An app's workload crash-looping or failed, from when the health check saw it until it saw it
-- healthy again: its owner is mailed once per incident.
CREATE TABLE paaskit_pod_incidents (
    id              uuid        PRIMARY KEY,
    incident_key    text        NOT NULL,  -- namespace/workload
    kind            text        NOT NULL,  -- crash_loop, failed
    subscription_id uuid        NOT NULL,
    user_id         uuid        NOT NULL,
    pod             text        NOT NULL,
    detail          text        NOT NULL,
    started_at      timestamptz NOT NULL,
    resolved_at     timestamptz
);
CREATE UNIQUE INDEX paaskit_pod_incidents_open ON paaskit_pod_incidents (incident_key, kind) WHERE resolved_at IS NULL;
)sql"},
        {18, "subscription_change_notifications",
         R"sql(
-- Replicas keep who owns each namespace in memory for the pods views; a NOTIFY on
-- paaskit_subscriptions after a statement that adds, removes, renames or moves a subscription
-- between states tells every replica to read it again.
CREATE FUNCTION paaskit_notify_subscription_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('paaskit_subscriptions', '');
    RETURN NULL;
END $$;
CREATE TRIGGER paaskit_subscriptions_changed
    AFTER INSERT OR DELETE OR UPDATE OF status, name, namespace, user_id, service_slug ON paaskit_subscriptions
    FOR EACH STATEMENT EXECUTE FUNCTION paaskit_notify_subscription_change();
)sql"},
    };
}

} // namespace paaskit::server::store
