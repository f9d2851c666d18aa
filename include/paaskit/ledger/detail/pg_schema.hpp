#pragma once
// The PostgreSQL engine's schema and functions, as migrations with `{schema}` standing for the
// schema name. The functions implement the rules of memory_state.hpp in the same order and return
// the same result numbers (results.hpp); the conformance and differential tests hold them equal.
//
// How a batch runs (create_transfers): read the stored pending transfers the batch names (rows of
// `transfers` never change, so no lock is needed), lock every account involved in id order (so
// concurrent batches never deadlock, and batches on disjoint accounts never wait for each other),
// read pending states and existing ids, take a block of timestamps, apply the events to arrays in
// plpgsql (linked chains undo through a log), then write accounts, transfers, pending states and
// balance history with one set-based statement each. Version 2 (pg_schema_v2.hpp) renames this
// create_transfers to create_transfers_per_event and puts a set-based path for batches of plain
// transfers in front of it; version 3 (pg_schema_v3.hpp) lets that path's UPDATE take the locks.

#include <string>
#include <string_view>

namespace paaskit::ledger::detail {

inline constexpr std::string_view pg_schema_v1 = R"sql(
CREATE SCHEMA IF NOT EXISTS {schema};

CREATE TABLE {schema}.accounts (
    id              uuid     PRIMARY KEY,
    debits_pending  bigint   NOT NULL CHECK (debits_pending >= 0),
    debits_posted   bigint   NOT NULL CHECK (debits_posted >= 0),
    credits_pending bigint   NOT NULL CHECK (credits_pending >= 0),
    credits_posted  bigint   NOT NULL CHECK (credits_posted >= 0),
    user_data_128   uuid     NOT NULL,
    user_data_64    bigint   NOT NULL, -- the unsigned value's bits
    user_data_32    bigint   NOT NULL,
    ledger          bigint   NOT NULL,
    code            integer  NOT NULL,
    flags           integer  NOT NULL,
    timestamp       bigint   NOT NULL
);

-- Rows are never updated: where a pending transfer stands is in pending_transfers.
CREATE TABLE {schema}.transfers (
    id                uuid     PRIMARY KEY,
    debit_account_id  uuid     NOT NULL,
    credit_account_id uuid     NOT NULL,
    amount            bigint   NOT NULL,
    pending_id        uuid     NOT NULL,
    user_data_128     uuid     NOT NULL,
    user_data_64      bigint   NOT NULL,
    user_data_32      bigint   NOT NULL,
    timeout           bigint   NOT NULL,
    ledger            bigint   NOT NULL,
    code              integer  NOT NULL,
    flags             integer  NOT NULL,
    timestamp         bigint   NOT NULL
);
CREATE INDEX transfers_by_debit_account ON {schema}.transfers (debit_account_id, timestamp);
CREATE INDEX transfers_by_credit_account ON {schema}.transfers (credit_account_id, timestamp);

-- state: 1 pending, 2 posted, 3 voided, 4 expired. expires_at: NULL for no timeout.
CREATE TABLE {schema}.pending_transfers (
    id         uuid     PRIMARY KEY,
    state      smallint NOT NULL,
    expires_at bigint
);
CREATE INDEX pending_transfers_due ON {schema}.pending_transfers (expires_at) WHERE state = 1 AND expires_at IS NOT NULL;

-- Balances after each transfer, for accounts with the history flag (8).
CREATE TABLE {schema}.account_balances (
    account_id      uuid     NOT NULL,
    timestamp       bigint   NOT NULL,
    code            integer  NOT NULL, -- the transfer's code, for filtering
    is_debit        boolean  NOT NULL, -- whether the account was the transfer's debit side
    debits_pending  bigint   NOT NULL,
    debits_posted   bigint   NOT NULL,
    credits_pending bigint   NOT NULL,
    credits_posted  bigint   NOT NULL,
    PRIMARY KEY (account_id, timestamp)
);

-- The last timestamp handed out.
CREATE SEQUENCE {schema}.last_timestamp MINVALUE 0 START 0;

-- A block of `count` timestamps, the first at or after now_ns, all after every earlier block. A
-- session-level advisory lock (released at once, not held to commit) makes read-and-advance atomic.
CREATE FUNCTION {schema}.allocate_timestamps(count integer, now_ns bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog AS $fn$
DECLARE
    base bigint;
BEGIN
    PERFORM pg_advisory_lock(hashtext('paaskit.ledger:{schema}'));
    SELECT greatest(now_ns, last_value + 1) INTO base FROM last_timestamp;
    PERFORM setval('{schema}.last_timestamp', base + count - 1);
    PERFORM pg_advisory_unlock(hashtext('paaskit.ledger:{schema}'));
    RETURN base;
END
$fn$;

-- Expires the pending transfers due at now_ns, releasing their amounts (and reopening accounts
-- their closing flags closed). Locks the accounts involved in id order first.
CREATE FUNCTION {schema}.expire_pending(now_ns bigint) RETURNS integer
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog AS $fn$
DECLARE
    expired integer;
BEGIN
    PERFORM 1 FROM accounts WHERE id IN (
        SELECT unnest(ARRAY[t.debit_account_id, t.credit_account_id])
        FROM pending_transfers p JOIN transfers t USING (id)
        WHERE p.state = 1 AND p.expires_at <= now_ns)
    ORDER BY id FOR UPDATE;
    WITH due AS (
        UPDATE pending_transfers p SET state = 4
        FROM transfers t
        WHERE t.id = p.id AND p.state = 1 AND p.expires_at <= now_ns
        RETURNING t.debit_account_id, t.credit_account_id, t.amount, t.flags
    ), sides AS (
        SELECT debit_account_id AS id, amount AS debits, 0::bigint AS credits, (flags & 64) <> 0 AS reopen FROM due
        UNION ALL
        SELECT credit_account_id, 0, amount, (flags & 128) <> 0 FROM due
    ), per_account AS (
        SELECT id, sum(debits)::bigint AS debits, sum(credits)::bigint AS credits, bool_or(reopen) AS reopen
        FROM sides GROUP BY id
    ), released AS (
        UPDATE accounts a
        SET debits_pending = a.debits_pending - r.debits,
            credits_pending = a.credits_pending - r.credits,
            flags = CASE WHEN r.reopen THEN a.flags & ~16 ELSE a.flags END
        FROM per_account r WHERE a.id = r.id
        RETURNING 1
    )
    SELECT count(*) INTO expired FROM due;
    RETURN expired;
END
$fn$;

-- The result of replaying transfer t over the stored transfer e (`exists` or which field differs).
-- Helpers are plpgsql, not sql: PostgreSQL re-parses a non-inlined sql function on every call,
-- while plpgsql keeps its plans for the session.
CREATE FUNCTION {schema}.compare_transfer(
    t_flags integer, t_debit uuid, t_credit uuid, t_amount bigint, t_pending uuid, t_ud128 uuid, t_ud64 bigint,
    t_ud32 bigint, t_timeout bigint, t_code integer, t_ledger bigint,
    e_flags integer, e_debit uuid, e_credit uuid, e_amount bigint, e_pending uuid, e_ud128 uuid, e_ud64 bigint,
    e_ud32 bigint, e_timeout bigint, e_code integer, e_ledger bigint) RETURNS smallint
LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
    RETURN (CASE
        WHEN (t_flags & ~1) <> (e_flags & ~1) THEN 37
        WHEN t_debit <> e_debit THEN 38
        WHEN t_credit <> e_credit THEN 39
        WHEN CASE WHEN t_flags & 48 <> 0 THEN t_amount < e_amount ELSE t_amount <> e_amount END THEN 40
        WHEN t_pending <> e_pending THEN 41
        WHEN t_ud128 <> e_ud128 THEN 42
        WHEN t_ud64 <> e_ud64 THEN 43
        WHEN t_ud32 <> e_ud32 THEN 44
        WHEN t_timeout <> e_timeout THEN 45
        WHEN t_code <> e_code THEN 46
        WHEN t_ledger <> e_ledger THEN 47
        ELSE 48 END)::smallint;
END
$fn$;

CREATE FUNCTION {schema}.create_accounts(
    ids uuid[], user_data_128s uuid[], user_data_64s bigint[], user_data_32s bigint[], ledgers bigint[],
    codes integer[], flagss integer[], timestamps bigint[], debits_pendings bigint[], debits_posteds bigint[],
    credits_pendings bigint[], credits_posteds bigint[], now_ns bigint) RETURNS smallint[]
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog AS $fn$
DECLARE
    n integer := coalesce(cardinality(ids), 0);
    zero uuid := '00000000-0000-0000-0000-000000000000';
    maxid uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
    res smallint[] := array_fill(0::smallint, ARRAY[n]);
    x_found boolean[]; x_ud128 uuid[]; x_ud64 bigint[]; x_ud32 bigint[]; x_ledger bigint[]; x_code integer[]; x_flags integer[];
    e_prev integer[];
    base bigint;
    f integer; r smallint; k integer;
    linked boolean; chain_start integer; chain_broken boolean := false;
    e_flags integer; e_ud128 uuid; e_ud64 bigint; e_ud32 bigint; e_ledger bigint; e_code integer;
BEGIN
    IF n = 0 THEN RETURN res; END IF;
    SELECT array_agg(x.id IS NOT NULL ORDER BY e.ord), array_agg(coalesce(x.user_data_128, zero) ORDER BY e.ord),
           array_agg(coalesce(x.user_data_64, 0) ORDER BY e.ord), array_agg(coalesce(x.user_data_32, 0) ORDER BY e.ord),
           array_agg(coalesce(x.ledger, 0) ORDER BY e.ord), array_agg(coalesce(x.code, 0) ORDER BY e.ord),
           array_agg(coalesce(x.flags, 0) ORDER BY e.ord)
    INTO x_found, x_ud128, x_ud64, x_ud32, x_ledger, x_code, x_flags
    FROM unnest(ids) WITH ORDINALITY e(id, ord) LEFT JOIN accounts x ON x.id = e.id;
    SELECT array_agg(coalesce(p, 0) ORDER BY ord) INTO e_prev FROM (
        SELECT ord, lag(ord::integer) OVER (PARTITION BY id ORDER BY ord) AS p FROM unnest(ids) WITH ORDINALITY e(id, ord)) s;
    base := allocate_timestamps(n, now_ns);

    FOR i IN 1..n LOOP
        f := flagss[i];
        linked := (f & 1) <> 0;
        IF linked AND chain_start IS NULL THEN chain_start := i; chain_broken := false; END IF;
        IF linked AND i = n THEN r := 2;
        ELSIF chain_broken THEN r := 1;
        ELSE
            <<ev>> BEGIN
                IF timestamps[i] <> 0 THEN r := 3; EXIT ev; END IF;
                IF f & ~31 <> 0 THEN r := 4; EXIT ev; END IF;
                IF ids[i] = zero THEN r := 5; EXIT ev; END IF;
                IF ids[i] = maxid THEN r := 6; EXIT ev; END IF;
                IF f & 6 = 6 THEN r := 7; EXIT ev; END IF;
                IF debits_pendings[i] <> 0 THEN r := 8; EXIT ev; END IF;
                IF debits_posteds[i] <> 0 THEN r := 9; EXIT ev; END IF;
                IF credits_pendings[i] <> 0 THEN r := 10; EXIT ev; END IF;
                IF credits_posteds[i] <> 0 THEN r := 11; EXIT ev; END IF;
                IF ledgers[i] = 0 THEN r := 12; EXIT ev; END IF;
                IF codes[i] = 0 THEN r := 13; EXIT ev; END IF;
                IF x_found[i] THEN
                    e_flags := x_flags[i]; e_ud128 := x_ud128[i]; e_ud64 := x_ud64[i]; e_ud32 := x_ud32[i];
                    e_ledger := x_ledger[i]; e_code := x_code[i];
                ELSE
                    k := e_prev[i];
                    WHILE k > 0 AND res[k] <> 0 LOOP k := e_prev[k]; END LOOP;
                    IF k = 0 THEN r := 0; EXIT ev; END IF;
                    e_flags := flagss[k]; e_ud128 := user_data_128s[k]; e_ud64 := user_data_64s[k];
                    e_ud32 := user_data_32s[k]; e_ledger := ledgers[k]; e_code := codes[k];
                END IF;
                r := CASE
                    WHEN (f & ~17) <> (e_flags & ~17) THEN 14
                    WHEN user_data_128s[i] <> e_ud128 THEN 15
                    WHEN user_data_64s[i] <> e_ud64 THEN 16
                    WHEN user_data_32s[i] <> e_ud32 THEN 17
                    WHEN ledgers[i] <> e_ledger THEN 18
                    WHEN codes[i] <> e_code THEN 19
                    ELSE 20 END;
            END ev;
        END IF;
        res[i] := r;
        IF chain_start IS NOT NULL AND r <> 0 AND NOT chain_broken THEN
            chain_broken := true;
            FOR j IN chain_start..i - 1 LOOP res[j] := 1; END LOOP;
        END IF;
        IF chain_start IS NOT NULL AND (NOT linked OR i = n) THEN chain_start := NULL; chain_broken := false; END IF;
    END LOOP;

    INSERT INTO accounts
    SELECT e.id, 0, 0, 0, 0, e.ud128, e.ud64, e.ud32, e.ledger, e.code, e.flags, base + e.ord - 1
    FROM unnest(ids, user_data_128s, user_data_64s, user_data_32s, ledgers, codes, flagss)
         WITH ORDINALITY e(id, ud128, ud64, ud32, ledger, code, flags, ord)
    WHERE res[e.ord] = 0;
    RETURN res;
END
$fn$;
)sql";

/// The second part of version 1: create_transfers and the single-transfer entry point.
inline constexpr std::string_view pg_schema_v1_transfers = R"sql(
CREATE FUNCTION {schema}.create_transfers(
    ids uuid[], debit_ids uuid[], credit_ids uuid[], amounts bigint[], pending_ids uuid[],
    user_data_128s uuid[], user_data_64s bigint[], user_data_32s bigint[], timeouts bigint[], ledgers bigint[],
    codes integer[], flagss integer[], timestamps bigint[], now_ns bigint) RETURNS smallint[]
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog AS $fn$
DECLARE
    n integer := coalesce(cardinality(ids), 0);
    zero uuid := '00000000-0000-0000-0000-000000000000';
    maxid uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
    max_amount bigint := 9223372036854775807;
    res smallint[] := array_fill(0::smallint, ARRAY[n]);
    -- stored transfers named by pending_id, sorted by id
    sp_id uuid[]; sp_debit uuid[]; sp_credit uuid[]; sp_amount bigint[]; sp_ledger bigint[]; sp_code integer[];
    sp_flags integer[]; sp_state smallint[]; sp_state0 smallint[]; sp_expires bigint[]; sp_dr integer[]; sp_cr integer[];
    -- pending transfers due at now_ns, expired before the events run (as the memory engine does)
    d_id uuid[]; d_debit uuid[]; d_credit uuid[]; d_amount bigint[]; d_flags integer[];
    -- locked accounts, sorted by id, and their balances before the batch
    a_id uuid[]; a_dp bigint[]; a_dpo bigint[]; a_cp bigint[]; a_cpo bigint[]; a_ledger bigint[]; a_flags integer[];
    a_dp0 bigint[]; a_dpo0 bigint[]; a_cp0 bigint[]; a_cpo0 bigint[]; a_flags0 integer[];
    -- per event: account positions, stored pending position, previous event with the same id, latest
    -- earlier event whose id is this event's pending_id, and a stored transfer with this id
    e_dr integer[]; e_cr integer[]; e_sp integer[]; e_prev integer[]; e_pend integer[];
    x_found boolean[]; x_debit uuid[]; x_credit uuid[]; x_amount bigint[]; x_pending uuid[]; x_ud128 uuid[];
    x_ud64 bigint[]; x_ud32 bigint[]; x_timeout bigint[]; x_ledger bigint[]; x_code integer[]; x_flags integer[];
    -- per event: what was stored for it, and the state of a pending transfer it created
    o_amount bigint[]; o_debit uuid[]; o_credit uuid[]; o_ledger bigint[]; o_code integer[]; o_state smallint[];
    -- balance history rows: account position, event, balances
    h_acc integer[] := '{}'; h_ev integer[] := '{}'; h_dp bigint[] := '{}'; h_dpo bigint[] := '{}';
    h_cp bigint[] := '{}'; h_cpo bigint[] := '{}'; h_len integer := 0;
    -- undo log of the open linked chain: kind 1 account, 2 stored pending state, 3 batch pending state
    u_kind smallint[] := '{}'; u_at integer[] := '{}'; u_dp bigint[] := '{}'; u_dpo bigint[] := '{}';
    u_cp bigint[] := '{}'; u_cpo bigint[] := '{}'; u_flags integer[] := '{}'; u_len integer := 0;
    base bigint; ts bigint; due record; existing transfers%ROWTYPE;
    -- Statements only some batches need are skipped otherwise: for small batches, planning them is
    -- most of the cost.
    finishes boolean; created_pending boolean := false;
    f integer; r smallint; k integer; pk integer; sp integer; d integer; c integer; amt bigint;
    is_pending boolean; is_post boolean; is_void boolean; linked boolean; in_chain boolean;
    chain_start integer; chain_broken boolean := false;
    t_id uuid; t_dr uuid; t_cr uuid; t_ledger bigint; t_code integer; pid uuid; new_state smallint;
    p_flags integer; p_dr uuid; p_cr uuid; p_amt bigint; p_ledger bigint; p_code integer; p_state smallint; p_expires bigint;
BEGIN
    IF n = 0 THEN RETURN res; END IF;
    finishes := NOT (zero = ALL(pending_ids)); -- some event names a pending transfer

    IF finishes THEN
    SELECT array_agg(t.id ORDER BY t.id), array_agg(t.debit_account_id ORDER BY t.id),
           array_agg(t.credit_account_id ORDER BY t.id), array_agg(t.amount ORDER BY t.id),
           array_agg(t.ledger ORDER BY t.id), array_agg(t.code ORDER BY t.id), array_agg(t.flags ORDER BY t.id),
           array_agg(CASE WHEN t.timeout = 0 THEN 0 ELSE t.timestamp + t.timeout * 1000000000 END ORDER BY t.id)
    INTO sp_id, sp_debit, sp_credit, sp_amount, sp_ledger, sp_code, sp_flags, sp_expires
    FROM transfers t WHERE t.id IN (SELECT DISTINCT p FROM unnest(pending_ids) p WHERE p <> zero);
    END IF;

    SELECT array_agg(t.id), array_agg(t.debit_account_id), array_agg(t.credit_account_id), array_agg(t.amount),
           array_agg(t.flags)
    INTO d_id, d_debit, d_credit, d_amount, d_flags
    FROM pending_transfers p JOIN transfers t USING (id) WHERE p.state = 1 AND p.expires_at <= now_ns;

    -- Every account the batch may touch, locked in id order, in one statement: concurrent batches
    -- never deadlock, and batches on disjoint accounts never wait for each other.
    IF n <= 8 THEN
        -- A few events: a plain index lookup, whose plan PostgreSQL keeps instead of re-planning.
        SELECT array_agg(a.id), array_agg(a.debits_pending), array_agg(a.debits_posted), array_agg(a.credits_pending),
               array_agg(a.credits_posted), array_agg(a.ledger), array_agg(a.flags)
        INTO a_id, a_dp, a_dpo, a_cp, a_cpo, a_ledger, a_flags
        FROM (SELECT * FROM accounts
              WHERE id = ANY(debit_ids || credit_ids || coalesce(sp_debit, '{}') || coalesce(sp_credit, '{}')
                             || coalesce(d_debit, '{}') || coalesce(d_credit, '{}'))
              ORDER BY id FOR UPDATE) a;
    ELSE
        -- The same statement numbers the locked accounts and maps every event to its accounts
        -- (joining against a plpgsql array in a later statement was several times slower).
        WITH locked AS MATERIALIZED (
            SELECT * FROM accounts WHERE id IN (
                SELECT unnest(debit_ids) UNION SELECT unnest(credit_ids)
                UNION SELECT unnest(sp_debit) UNION SELECT unnest(sp_credit)
                UNION SELECT unnest(d_debit) UNION SELECT unnest(d_credit))
            ORDER BY id FOR UPDATE
        ), numbered AS MATERIALIZED (
            SELECT (row_number() OVER (ORDER BY id))::integer AS pos, * FROM locked
        )
        SELECT (SELECT array_agg(a.id ORDER BY a.pos) FROM numbered a),
               (SELECT array_agg(a.debits_pending ORDER BY a.pos) FROM numbered a),
               (SELECT array_agg(a.debits_posted ORDER BY a.pos) FROM numbered a),
               (SELECT array_agg(a.credits_pending ORDER BY a.pos) FROM numbered a),
               (SELECT array_agg(a.credits_posted ORDER BY a.pos) FROM numbered a),
               (SELECT array_agg(a.ledger ORDER BY a.pos) FROM numbered a),
               (SELECT array_agg(a.flags ORDER BY a.pos) FROM numbered a),
               (SELECT array_agg(coalesce(a.pos, 0) ORDER BY e.ord)
                FROM unnest(debit_ids) WITH ORDINALITY e(id, ord) LEFT JOIN numbered a ON a.id = e.id),
               (SELECT array_agg(coalesce(a.pos, 0) ORDER BY e.ord)
                FROM unnest(credit_ids) WITH ORDINALITY e(id, ord) LEFT JOIN numbered a ON a.id = e.id)
        INTO a_id, a_dp, a_dpo, a_cp, a_cpo, a_ledger, a_flags, e_dr, e_cr;
    END IF;
    a_dp0 := a_dp; a_dpo0 := a_dpo; a_cp0 := a_cp; a_cpo0 := a_cpo; a_flags0 := a_flags;

    -- Expire what is due and still pending (a concurrent batch may have expired some meanwhile).
    IF d_id IS NOT NULL THEN
        FOR due IN
            WITH expired AS (
                UPDATE pending_transfers p SET state = 4
                FROM unnest(d_id) s(id) WHERE p.id = s.id AND p.state = 1
                RETURNING p.id)
            SELECT ad.ord::integer AS dr, ac.ord::integer AS cr, s.amount, s.flags
            FROM unnest(d_id, d_debit, d_credit, d_amount, d_flags) s(id, debit, credit, amount, flags)
            JOIN expired USING (id)
            JOIN unnest(a_id) WITH ORDINALITY ad(id, ord) ON ad.id = s.debit
            JOIN unnest(a_id) WITH ORDINALITY ac(id, ord) ON ac.id = s.credit
        LOOP
            a_dp[due.dr] := a_dp[due.dr] - due.amount;
            a_cp[due.cr] := a_cp[due.cr] - due.amount;
            IF (due.flags & 64) <> 0 THEN a_flags[due.dr] := a_flags[due.dr] & ~16; END IF;
            IF (due.flags & 128) <> 0 THEN a_flags[due.cr] := a_flags[due.cr] & ~16; END IF;
        END LOOP;
    END IF;

    -- Read after the locks: the states of pending transfers on locked accounts cannot change now.
    IF sp_id IS NOT NULL THEN
    SELECT array_agg(coalesce(p.state, 0) ORDER BY s.ord), array_agg(ad.ord::integer ORDER BY s.ord), array_agg(ac.ord::integer ORDER BY s.ord)
    INTO sp_state, sp_dr, sp_cr
    FROM unnest(sp_id, sp_debit, sp_credit) WITH ORDINALITY s(id, debit, credit, ord)
    LEFT JOIN pending_transfers p ON p.id = s.id
    LEFT JOIN unnest(a_id) WITH ORDINALITY ad(id, ord) ON ad.id = s.debit
    LEFT JOIN unnest(a_id) WITH ORDINALITY ac(id, ord) ON ac.id = s.credit;
    sp_state0 := sp_state;
    END IF;

    IF n <= 8 THEN
        -- A few events: linear searches in plpgsql beat planning a join.
        e_dr := array_fill(0, ARRAY[n]); e_cr := e_dr; e_sp := e_dr;
        FOR i IN 1..n LOOP
            e_dr[i] := coalesce(array_position(a_id, debit_ids[i]), 0);
            e_cr[i] := coalesce(array_position(a_id, credit_ids[i]), 0);
            IF sp_id IS NOT NULL THEN e_sp[i] := coalesce(array_position(sp_id, pending_ids[i]), 0); END IF;
        END LOOP;
    ELSIF sp_id IS NOT NULL THEN
        -- (e_dr and e_cr came with the locks.)
        SELECT array_agg(coalesce(s.ord::integer, 0) ORDER BY e.ord) INTO e_sp
        FROM unnest(pending_ids) WITH ORDINALITY e(pending, ord)
        LEFT JOIN unnest(sp_id) WITH ORDINALITY s(id, ord) ON s.id = e.pending;
    ELSE
        e_sp := array_fill(0, ARRAY[n]);
    END IF;

    IF n <= 8 THEN
        x_found := array_fill(false, ARRAY[n]); x_debit := array_fill(zero, ARRAY[n]); x_credit := x_debit;
        x_pending := x_debit; x_ud128 := x_debit; x_amount := array_fill(0::bigint, ARRAY[n]); x_ud64 := x_amount;
        x_ud32 := x_amount; x_timeout := x_amount; x_ledger := x_amount; x_code := array_fill(0, ARRAY[n]);
        x_flags := x_code;
        FOR i IN 1..n LOOP
            SELECT * INTO existing FROM transfers WHERE id = ids[i];
            IF FOUND THEN
                x_found[i] := true; x_debit[i] := existing.debit_account_id; x_credit[i] := existing.credit_account_id;
                x_amount[i] := existing.amount; x_pending[i] := existing.pending_id; x_ud128[i] := existing.user_data_128;
                x_ud64[i] := existing.user_data_64; x_ud32[i] := existing.user_data_32; x_timeout[i] := existing.timeout;
                x_ledger[i] := existing.ledger; x_code[i] := existing.code; x_flags[i] := existing.flags;
            END IF;
        END LOOP;
    ELSE
        SELECT array_agg(x.id IS NOT NULL ORDER BY e.ord), array_agg(coalesce(x.debit_account_id, zero) ORDER BY e.ord),
               array_agg(coalesce(x.credit_account_id, zero) ORDER BY e.ord), array_agg(coalesce(x.amount, 0) ORDER BY e.ord),
               array_agg(coalesce(x.pending_id, zero) ORDER BY e.ord), array_agg(coalesce(x.user_data_128, zero) ORDER BY e.ord),
               array_agg(coalesce(x.user_data_64, 0) ORDER BY e.ord), array_agg(coalesce(x.user_data_32, 0) ORDER BY e.ord),
               array_agg(coalesce(x.timeout, 0) ORDER BY e.ord), array_agg(coalesce(x.ledger, 0) ORDER BY e.ord),
               array_agg(coalesce(x.code, 0) ORDER BY e.ord), array_agg(coalesce(x.flags, 0) ORDER BY e.ord)
        INTO x_found, x_debit, x_credit, x_amount, x_pending, x_ud128, x_ud64, x_ud32, x_timeout, x_ledger, x_code, x_flags
        FROM unnest(ids) WITH ORDINALITY e(id, ord) LEFT JOIN transfers x ON x.id = e.id;
    END IF;

    IF n = 1 THEN
        e_prev := '{0}';
    ELSE
        SELECT array_agg(coalesce(s.prev, 0) ORDER BY s.ord) INTO e_prev
        FROM (SELECT e.ord, lag(e.ord::integer) OVER (PARTITION BY e.id ORDER BY e.ord) AS prev
              FROM unnest(ids) WITH ORDINALITY e(id, ord)) s;
    END IF;
    IF finishes AND n > 1 THEN
        SELECT array_agg(coalesce(pe.pend, 0) ORDER BY e.ord) INTO e_pend
        FROM generate_series(1, n) e(ord)
        LEFT JOIN (SELECT e.ord, max(o.ord)::integer AS pend
                   FROM unnest(pending_ids) WITH ORDINALITY e(pending, ord)
                   JOIN unnest(ids) WITH ORDINALITY o(id, ord) ON o.id = e.pending AND o.ord < e.ord
                   WHERE e.pending <> zero GROUP BY e.ord) pe ON pe.ord = e.ord;
    ELSE
        e_pend := array_fill(0, ARRAY[n]);
    END IF;

    -- No NULLs in arrays read per event: an array with NULLs costs O(n) per subscript.
    o_amount := array_fill(0::bigint, ARRAY[n]); o_debit := array_fill(zero, ARRAY[n]);
    o_credit := o_debit; o_ledger := o_amount; o_code := array_fill(0, ARRAY[n]);
    o_state := array_fill(0::smallint, ARRAY[n]);

    base := allocate_timestamps(n, now_ns);

    FOR i IN 1..n LOOP
        f := flagss[i];
        linked := (f & 1) <> 0;
        IF linked AND chain_start IS NULL THEN chain_start := i; chain_broken := false; u_len := 0; END IF;
        in_chain := chain_start IS NOT NULL;
        IF linked AND i = n THEN r := 2;
        ELSIF chain_broken THEN r := 1;
        ELSE
            <<ev>> BEGIN
                IF timestamps[i] <> 0 THEN r := 3; EXIT ev; END IF;
                IF f & ~255 <> 0 THEN r := 4; EXIT ev; END IF;
                t_id := ids[i];
                IF t_id = zero THEN r := 5; EXIT ev; END IF;
                IF t_id = maxid THEN r := 6; EXIT ev; END IF;
                is_pending := (f & 2) <> 0; is_post := (f & 4) <> 0; is_void := (f & 8) <> 0;
                IF is_pending::integer + is_post::integer + is_void::integer > 1
                   OR ((is_post OR is_void) AND (f & 48) <> 0) THEN r := 7; EXIT ev; END IF;
                IF (f & 192) <> 0 AND NOT is_pending THEN r := 18; EXIT ev; END IF;
                amt := amounts[i];
                IF amt < 0 THEN r := 19; EXIT ev; END IF;
                ts := base + i - 1;

                -- What the event names, by kind; t_* become the values stored for it.
                IF is_post OR is_void THEN
                    pid := pending_ids[i];
                    IF pid = zero THEN r := 14; EXIT ev; END IF;
                    IF pid = maxid THEN r := 15; EXIT ev; END IF;
                    IF pid = t_id THEN r := 16; EXIT ev; END IF;
                    IF timeouts[i] <> 0 THEN r := 17; EXIT ev; END IF;
                    pk := e_pend[i];
                    WHILE pk > 0 AND res[pk] <> 0 LOOP pk := e_prev[pk]; END LOOP;
                    IF pk > 0 THEN
                        sp := 0;
                        p_flags := flagss[pk]; p_dr := o_debit[pk]; p_cr := o_credit[pk]; p_amt := o_amount[pk];
                        p_ledger := o_ledger[pk]; p_code := o_code[pk]; p_state := o_state[pk];
                        p_expires := CASE WHEN timeouts[pk] = 0 THEN 0 ELSE base + pk - 1 + timeouts[pk] * 1000000000 END;
                        d := e_dr[pk]; c := e_cr[pk];
                    ELSE
                        sp := e_sp[i];
                        IF sp = 0 THEN r := 26; EXIT ev; END IF;
                        p_flags := sp_flags[sp]; p_dr := sp_debit[sp]; p_cr := sp_credit[sp]; p_amt := sp_amount[sp];
                        p_ledger := sp_ledger[sp]; p_code := sp_code[sp]; p_state := sp_state[sp];
                        p_expires := sp_expires[sp]; d := sp_dr[sp]; c := sp_cr[sp];
                    END IF;
                    IF (p_flags & 2) = 0 THEN r := 27; EXIT ev; END IF;
                    IF debit_ids[i] <> zero AND debit_ids[i] <> p_dr THEN r := 28; EXIT ev; END IF;
                    IF credit_ids[i] <> zero AND credit_ids[i] <> p_cr THEN r := 29; EXIT ev; END IF;
                    IF ledgers[i] <> 0 AND ledgers[i] <> p_ledger THEN r := 30; EXIT ev; END IF;
                    IF codes[i] <> 0 AND codes[i] <> p_code THEN r := 31; EXIT ev; END IF;
                    IF is_post THEN
                        amt := CASE WHEN amounts[i] = max_amount THEN p_amt ELSE amounts[i] END;
                        IF amt > p_amt THEN r := 32; EXIT ev; END IF;
                    ELSE
                        IF amounts[i] <> 0 AND amounts[i] <> p_amt THEN r := 33; EXIT ev; END IF;
                        amt := p_amt;
                    END IF;
                    t_dr := p_dr; t_cr := p_cr; t_ledger := p_ledger; t_code := p_code;
                ELSE
                    t_dr := debit_ids[i]; t_cr := credit_ids[i]; pid := zero;
                    IF t_dr = zero THEN r := 8; EXIT ev; END IF;
                    IF t_dr = maxid THEN r := 9; EXIT ev; END IF;
                    IF t_cr = zero THEN r := 10; EXIT ev; END IF;
                    IF t_cr = maxid THEN r := 11; EXIT ev; END IF;
                    IF t_dr = t_cr THEN r := 12; EXIT ev; END IF;
                    IF pending_ids[i] <> zero THEN r := 13; EXIT ev; END IF;
                    IF NOT is_pending AND timeouts[i] <> 0 THEN r := 17; EXIT ev; END IF;
                    IF ledgers[i] = 0 THEN r := 20; EXIT ev; END IF;
                    IF codes[i] = 0 THEN r := 21; EXIT ev; END IF;
                    d := e_dr[i];
                    IF d = 0 THEN r := 22; EXIT ev; END IF;
                    c := e_cr[i];
                    IF c = 0 THEN r := 23; EXIT ev; END IF;
                    IF a_ledger[d] <> a_ledger[c] THEN r := 24; EXIT ev; END IF;
                    IF ledgers[i] <> a_ledger[d] THEN r := 25; EXIT ev; END IF;
                    t_ledger := ledgers[i]; t_code := codes[i];
                END IF;

                -- Idempotency: a stored transfer with this id, or an earlier one of this batch.
                IF x_found[i] THEN
                    r := compare_transfer(f, t_dr, t_cr, amt, pid, user_data_128s[i], user_data_64s[i], user_data_32s[i],
                                          timeouts[i], t_code, t_ledger, x_flags[i], x_debit[i], x_credit[i], x_amount[i],
                                          x_pending[i], x_ud128[i], x_ud64[i], x_ud32[i], x_timeout[i], x_code[i], x_ledger[i]);
                    EXIT ev;
                END IF;
                k := e_prev[i];
                WHILE k > 0 AND res[k] <> 0 LOOP k := e_prev[k]; END LOOP;
                IF k > 0 THEN
                    r := compare_transfer(f, t_dr, t_cr, amt, pid, user_data_128s[i], user_data_64s[i], user_data_32s[i],
                                          timeouts[i], t_code, t_ledger, flagss[k], o_debit[k], o_credit[k], o_amount[k],
                                          pending_ids[k], user_data_128s[k], user_data_64s[k], user_data_32s[k], timeouts[k],
                                          o_code[k], o_ledger[k]);
                    EXIT ev;
                END IF;

                -- What the accounts and the pending transfer allow, by kind.
                IF is_post OR is_void THEN
                    IF p_state = 2 THEN r := 34; EXIT ev; END IF;
                    IF p_state = 3 THEN r := 35; EXIT ev; END IF;
                    IF p_state = 4 OR (p_expires > 0 AND p_expires <= now_ns) THEN r := 36; EXIT ev; END IF;
                    IF is_post THEN
                        IF (a_flags[d] & 16) <> 0 THEN r := 49; EXIT ev; END IF;
                        IF (a_flags[c] & 16) <> 0 THEN r := 50; EXIT ev; END IF;
                        IF a_dpo[d] > max_amount - amt THEN r := 53; EXIT ev; END IF;
                        IF a_cpo[c] > max_amount - amt THEN r := 54; EXIT ev; END IF;
                    END IF;
                ELSE
                    IF (a_flags[d] & 16) <> 0 THEN r := 49; EXIT ev; END IF;
                    IF (a_flags[c] & 16) <> 0 THEN r := 50; EXIT ev; END IF;
                    IF (f & 16) <> 0 THEN amt := least(amt, greatest(0, a_cpo[d] - (a_dpo[d] + a_dp[d]))); END IF;
                    IF (f & 32) <> 0 THEN amt := least(amt, greatest(0, a_dpo[c] - (a_cpo[c] + a_cp[c]))); END IF;
                    IF is_pending THEN
                        IF a_dp[d] > max_amount - amt THEN r := 51; EXIT ev; END IF;
                        IF a_cp[c] > max_amount - amt THEN r := 52; EXIT ev; END IF;
                    ELSE
                        IF a_dpo[d] > max_amount - amt THEN r := 53; EXIT ev; END IF;
                        IF a_cpo[c] > max_amount - amt THEN r := 54; EXIT ev; END IF;
                    END IF;
                    IF a_dp[d] + a_dpo[d] > max_amount - amt THEN r := 55; EXIT ev; END IF;
                    IF a_cp[c] + a_cpo[c] > max_amount - amt THEN r := 56; EXIT ev; END IF;
                    IF is_pending AND timeouts[i] <> 0 AND timeouts[i] * 1000000000 > max_amount - ts THEN r := 57; EXIT ev; END IF;
                    IF (a_flags[d] & 2) <> 0 AND a_dp[d] + a_dpo[d] + amt > a_cpo[d] THEN r := 58; EXIT ev; END IF;
                    IF (a_flags[c] & 4) <> 0 AND a_cp[c] + a_cpo[c] + amt > a_dpo[c] THEN r := 59; EXIT ev; END IF;
                END IF;

                -- Apply. Inside a linked chain, log what is about to change so a failure can undo it.
                IF in_chain THEN
                    u_len := u_len + 1; u_kind[u_len] := 1; u_at[u_len] := d; u_dp[u_len] := a_dp[d];
                    u_dpo[u_len] := a_dpo[d]; u_cp[u_len] := a_cp[d]; u_cpo[u_len] := a_cpo[d]; u_flags[u_len] := a_flags[d];
                    u_len := u_len + 1; u_kind[u_len] := 1; u_at[u_len] := c; u_dp[u_len] := a_dp[c];
                    u_dpo[u_len] := a_dpo[c]; u_cp[u_len] := a_cp[c]; u_cpo[u_len] := a_cpo[c]; u_flags[u_len] := a_flags[c];
                    IF is_post OR is_void THEN
                        u_len := u_len + 1; u_kind[u_len] := CASE WHEN sp = 0 THEN 3 ELSE 2 END;
                        u_at[u_len] := CASE WHEN sp = 0 THEN pk ELSE sp END; u_flags[u_len] := p_state;
                    END IF;
                END IF;
                IF is_post OR is_void THEN
                    a_dp[d] := a_dp[d] - p_amt;
                    a_cp[c] := a_cp[c] - p_amt;
                    IF is_post THEN
                        a_dpo[d] := a_dpo[d] + amt;
                        a_cpo[c] := a_cpo[c] + amt;
                        new_state := 2;
                    ELSE
                        IF (p_flags & 64) <> 0 THEN a_flags[d] := a_flags[d] & ~16; END IF;
                        IF (p_flags & 128) <> 0 THEN a_flags[c] := a_flags[c] & ~16; END IF;
                        new_state := 3;
                    END IF;
                    IF sp = 0 THEN
                        o_state[pk] := new_state;
                    ELSE
                        sp_state[sp] := new_state;
                    END IF;
                ELSE
                    IF is_pending THEN
                        a_dp[d] := a_dp[d] + amt;
                        a_cp[c] := a_cp[c] + amt;
                        o_state[i] := 1;
                        created_pending := true;
                    ELSE
                        a_dpo[d] := a_dpo[d] + amt;
                        a_cpo[c] := a_cpo[c] + amt;
                    END IF;
                    IF (f & 64) <> 0 THEN a_flags[d] := a_flags[d] | 16; END IF;
                    IF (f & 128) <> 0 THEN a_flags[c] := a_flags[c] | 16; END IF;
                END IF;

                o_ledger[i] := t_ledger; o_code[i] := t_code;
                o_amount[i] := amt; o_debit[i] := t_dr; o_credit[i] := t_cr;
                IF (a_flags[d] & 8) <> 0 THEN
                    h_len := h_len + 1; h_acc[h_len] := d; h_ev[h_len] := i;
                    h_dp[h_len] := a_dp[d]; h_dpo[h_len] := a_dpo[d]; h_cp[h_len] := a_cp[d]; h_cpo[h_len] := a_cpo[d];
                END IF;
                IF (a_flags[c] & 8) <> 0 THEN
                    h_len := h_len + 1; h_acc[h_len] := c; h_ev[h_len] := i;
                    h_dp[h_len] := a_dp[c]; h_dpo[h_len] := a_dpo[c]; h_cp[h_len] := a_cp[c]; h_cpo[h_len] := a_cpo[c];
                END IF;
                r := 0;
            END ev;
        END IF;
        res[i] := r;

        IF chain_start IS NOT NULL AND r <> 0 AND NOT chain_broken THEN
            chain_broken := true;
            FOR u IN REVERSE u_len..1 LOOP
                IF u_kind[u] = 1 THEN
                    a_dp[u_at[u]] := u_dp[u]; a_dpo[u_at[u]] := u_dpo[u]; a_cp[u_at[u]] := u_cp[u];
                    a_cpo[u_at[u]] := u_cpo[u]; a_flags[u_at[u]] := u_flags[u];
                ELSIF u_kind[u] = 2 THEN
                    sp_state[u_at[u]] := u_flags[u];
                ELSE
                    o_state[u_at[u]] := u_flags[u];
                END IF;
            END LOOP;
            u_len := 0;
            FOR j IN chain_start..i - 1 LOOP res[j] := 1; END LOOP;
        END IF;
        IF chain_start IS NOT NULL AND (NOT linked OR i = n) THEN chain_start := NULL; chain_broken := false; u_len := 0; END IF;
    END LOOP;

    IF n <= 8 THEN
        -- A few events: one plain statement per row, whose plans PostgreSQL keeps.
        FOR j IN 1..coalesce(cardinality(a_id), 0) LOOP
            IF (a_dp[j], a_dpo[j], a_cp[j], a_cpo[j], a_flags[j]) IS DISTINCT FROM (a_dp0[j], a_dpo0[j], a_cp0[j], a_cpo0[j], a_flags0[j]) THEN
                UPDATE accounts SET debits_pending = a_dp[j], debits_posted = a_dpo[j], credits_pending = a_cp[j],
                                    credits_posted = a_cpo[j], flags = a_flags[j]
                WHERE id = a_id[j];
            END IF;
        END LOOP;
        FOR i IN 1..n LOOP
            IF res[i] = 0 THEN
                INSERT INTO transfers VALUES (ids[i], o_debit[i], o_credit[i], o_amount[i], pending_ids[i], user_data_128s[i],
                    user_data_64s[i], user_data_32s[i], timeouts[i], o_ledger[i], o_code[i], flagss[i], base + i - 1);
            END IF;
        END LOOP;
    ELSE
        UPDATE accounts x
        SET debits_pending = a.dp, debits_posted = a.dpo, credits_pending = a.cp, credits_posted = a.cpo, flags = a.flags
        FROM unnest(a_id, a_dp, a_dpo, a_cp, a_cpo, a_flags, a_dp0, a_dpo0, a_cp0, a_cpo0, a_flags0)
             a(id, dp, dpo, cp, cpo, flags, dp0, dpo0, cp0, cpo0, flags0)
        WHERE x.id = a.id AND (a.dp, a.dpo, a.cp, a.cpo, a.flags) IS DISTINCT FROM (a.dp0, a.dpo0, a.cp0, a.cpo0, a.flags0);

        INSERT INTO transfers
        SELECT e.id, o.debit, o.credit, o.amount, e.pending, e.ud128, e.ud64, e.ud32, e.timeout, o.ledger, o.code, e.flags,
               base + e.ord - 1
        FROM unnest(ids, pending_ids, user_data_128s, user_data_64s, user_data_32s, timeouts, flagss)
             WITH ORDINALITY e(id, pending, ud128, ud64, ud32, timeout, flags, ord)
        JOIN unnest(o_debit, o_credit, o_amount, o_ledger, o_code) WITH ORDINALITY o(debit, credit, amount, ledger, code, ord)
             USING (ord)
        WHERE res[e.ord] = 0;
    END IF;

    IF created_pending THEN
    INSERT INTO pending_transfers
    SELECT e.id, o_state[e.ord], CASE WHEN e.timeout = 0 THEN NULL ELSE base + e.ord - 1 + e.timeout * 1000000000 END
    FROM unnest(ids, timeouts) WITH ORDINALITY e(id, timeout, ord)
    WHERE res[e.ord] = 0 AND o_state[e.ord] <> 0;
    END IF;

    IF sp_id IS NOT NULL THEN
    UPDATE pending_transfers p SET state = s.state
    FROM unnest(sp_id, sp_state, sp_state0) s(id, state, state0)
    WHERE p.id = s.id AND s.state IS DISTINCT FROM s.state0;
    END IF;

    IF h_len > 0 THEN
        INSERT INTO account_balances
        SELECT a_id[h.acc], base + h.ev - 1, o_code[h.ev], a_id[h.acc] = o_debit[h.ev], h.dp, h.dpo, h.cp, h.cpo
        FROM unnest(h_acc, h_ev, h_dp, h_dpo, h_cp, h_cpo) h(acc, ev, dp, dpo, cp, cpo)
        WHERE res[h.ev] = 0;
    END IF;
    RETURN res;
END
$fn$;

-- One transfer, for psql, pgbench and other tools: returns the result's name ('ok', 'exists', ...).
-- Pending transfers past their timeout are released by expire_pending(now), which the C++ engine
-- runs before every batch; tools that use pending transfers with timeouts should call it too.
CREATE FUNCTION {schema}.create_transfer(
    id uuid, debit_account_id uuid, credit_account_id uuid, amount bigint, ledger bigint, code integer,
    flags integer DEFAULT 0, pending_id uuid DEFAULT '00000000-0000-0000-0000-000000000000',
    timeout bigint DEFAULT 0, user_data_128 uuid DEFAULT '00000000-0000-0000-0000-000000000000',
    user_data_64 bigint DEFAULT 0, user_data_32 bigint DEFAULT 0) RETURNS text
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog AS $fn$
BEGIN
    RETURN result_name((create_transfers(ARRAY[id], ARRAY[debit_account_id], ARRAY[credit_account_id], ARRAY[amount],
        ARRAY[pending_id], ARRAY[user_data_128], ARRAY[user_data_64], ARRAY[user_data_32], ARRAY[timeout],
        ARRAY[ledger], ARRAY[code], ARRAY[flags], ARRAY[0::bigint],
        (extract(epoch FROM clock_timestamp()) * 1000000000)::bigint))[1]);
END
$fn$;

-- One account, for psql and scripts: returns the result's name.
CREATE FUNCTION {schema}.create_account(
    id uuid, ledger bigint, code integer, flags integer DEFAULT 0,
    user_data_128 uuid DEFAULT '00000000-0000-0000-0000-000000000000', user_data_64 bigint DEFAULT 0,
    user_data_32 bigint DEFAULT 0) RETURNS text
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog AS $fn$
BEGIN
    RETURN account_result_name((create_accounts(ARRAY[id], ARRAY[user_data_128], ARRAY[user_data_64],
        ARRAY[user_data_32], ARRAY[ledger], ARRAY[code], ARRAY[flags], ARRAY[0::bigint], ARRAY[0::bigint],
        ARRAY[0::bigint], ARRAY[0::bigint], ARRAY[0::bigint],
        (extract(epoch FROM clock_timestamp()) * 1000000000)::bigint))[1]);
END
$fn$;

-- A uuid for a small integer, so scripts can name accounts 1..N: 00000000-0000-0000-0000-00000000002a.
CREATE FUNCTION {schema}.id_of(value bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $fn$ SELECT lpad(to_hex(value), 32, '0')::uuid $fn$;
)sql";

} // namespace paaskit::ledger::detail
