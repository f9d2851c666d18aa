#pragma once
// Version 2 of the PostgreSQL engine's schema: a set-based path for batches of plain transfers.
//
// Most large batches are plain posted transfers that all succeed. For them the per-event rules of
// version 1 (one plpgsql iteration per event, ~20 us each) reduce to set-based checks: every field
// valid, both accounts found, open and on the event's ledger, no id stored or repeated, no balance
// overflowing, and each constrained account within its limit after every event, which a running
// sum per account in event order decides exactly. create_plain_transfers applies such a batch with
// one statement per table; when any check fails it changes nothing and returns NULL, and the batch
// runs through the per-event rules instead, so results are those of version 1 in every case.
//
// create_transfers keeps its signature (callers from C++, psql and pgbench are unchanged): the
// version 1 function becomes create_transfers_per_event and create_transfers chooses between the
// two, recording its choice in the session setting paaskit.ledger_transfers_path ('plain' or
// 'per-event'). A batch of one event takes the plain path with per-row statements instead
// (create_plain_transfer_alone).

#include <string_view>

namespace paaskit::ledger::detail {

inline constexpr std::string_view pg_schema_v2 = R"sql(
ALTER FUNCTION {schema}.create_transfers(uuid[], uuid[], uuid[], bigint[], uuid[], uuid[], bigint[], bigint[], bigint[],
                                         bigint[], integer[], integer[], bigint[], bigint)
    RENAME TO create_transfers_per_event;

-- The planner's guesses for joins over unnested arrays are far too high, which switched on JIT
-- compilation: ~0.7 s per batch of 8,190 spent compiling statements that run for milliseconds.
ALTER FUNCTION {schema}.create_transfers_per_event(uuid[], uuid[], uuid[], bigint[], uuid[], uuid[], bigint[], bigint[],
                                                   bigint[], bigint[], integer[], integer[], bigint[], bigint)
    SET jit = off;
ALTER FUNCTION {schema}.create_accounts(uuid[], uuid[], bigint[], bigint[], bigint[], integer[], integer[], bigint[],
                                        bigint[], bigint[], bigint[], bigint[], bigint)
    SET jit = off;
ALTER FUNCTION {schema}.expire_pending(bigint) SET jit = off;

-- Whether an event's fields make it a plain posted transfer with nothing invalid: flags none or
-- linked, no timestamp, ids and accounts valid and distinct, no pending id or timeout. LANGUAGE
-- sql and IMMUTABLE so that PostgreSQL inlines it into the statements and expressions using it.
CREATE FUNCTION {schema}.is_plain_transfer(id uuid, dr uuid, cr uuid, amount bigint, pending uuid, timeout bigint,
                                           ledger bigint, code integer, flags integer, ts bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT flags & ~1 = 0 AND ts = 0 AND id <> '00000000-0000-0000-0000-000000000000'
        AND id <> 'ffffffff-ffff-ffff-ffff-ffffffffffff' AND amount >= 0
        AND dr <> '00000000-0000-0000-0000-000000000000' AND dr <> 'ffffffff-ffff-ffff-ffff-ffffffffffff'
        AND cr <> '00000000-0000-0000-0000-000000000000' AND cr <> 'ffffffff-ffff-ffff-ffff-ffffffffffff'
        AND dr <> cr AND pending = '00000000-0000-0000-0000-000000000000' AND timeout = 0 AND ledger <> 0 AND code <> 0
$fn$;

-- Applies a batch in which every event is a plain posted transfer that succeeds; otherwise changes
-- nothing and returns NULL.
CREATE FUNCTION {schema}.create_plain_transfers(
    ids uuid[], debit_ids uuid[], credit_ids uuid[], amounts bigint[], pending_ids uuid[],
    user_data_128s uuid[], user_data_64s bigint[], user_data_32s bigint[], timeouts bigint[], ledgers bigint[],
    codes integer[], flagss integer[], timestamps bigint[], now_ns bigint) RETURNS smallint[]
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog SET jit = off AS $fn$
DECLARE
    n integer := coalesce(cardinality(ids), 0);
    zero uuid := '00000000-0000-0000-0000-000000000000';
    max_amount bigint := 9223372036854775807;
    applies boolean; exceeds boolean; overflows boolean; base bigint;
    -- accounts with limits or history (flags 2, 4, 8), as locked
    s_id uuid[]; s_flags integer[]; s_dp bigint[]; s_dpo bigint[]; s_cp bigint[]; s_cpo bigint[];
    -- balance history rows: account, event, debit side or not, balances after the event
    h_acc uuid[]; h_ev bigint[]; h_debit boolean[]; h_dp bigint[]; h_dpo bigint[]; h_cp bigint[]; h_cpo bigint[];
BEGIN
    IF n = 0 OR (flagss[n] & 1) <> 0 THEN RETURN NULL; END IF; -- an open chain fails its last event
    SELECT bool_and(is_plain_transfer(e.id, e.dr, e.cr, e.amount, e.pending, e.timeout, e.ledger, e.code, e.flags, e.ts))
    INTO applies
    FROM unnest(ids, debit_ids, credit_ids, amounts, pending_ids, timeouts, ledgers, codes, flagss, timestamps)
         e(id, dr, cr, amount, pending, timeout, ledger, code, flags, ts);
    IF applies IS NOT TRUE THEN RETURN NULL; END IF;
    -- Pending transfers due now are expired before a batch's events: the per-event rules do that.
    IF EXISTS (SELECT 1 FROM pending_transfers WHERE state = 1 AND expires_at <= now_ns) THEN RETURN NULL; END IF;

    -- A failure past this point (a stored or repeated id, an overflow: a bigint out of range, or
    -- the update's check of pending plus posted) rolls back what the block did.
    BEGIN
        -- Lock in id order, as the per-event rules do; check each event's accounts.
        WITH locked AS MATERIALIZED (
            SELECT id, ledger, flags, debits_pending, debits_posted, credits_pending, credits_posted FROM accounts
            WHERE id IN (SELECT unnest(debit_ids) UNION SELECT unnest(credit_ids))
            ORDER BY id FOR UPDATE
        )
        SELECT (SELECT bool_and(d.id IS NOT NULL AND c.id IS NOT NULL AND d.ledger = c.ledger AND e.ledger = d.ledger
                                AND d.flags & 16 = 0 AND c.flags & 16 = 0)
                FROM unnest(debit_ids, credit_ids, ledgers) e(dr, cr, ledger)
                LEFT JOIN locked d ON d.id = e.dr LEFT JOIN locked c ON c.id = e.cr),
               (SELECT array_agg(id) FROM locked WHERE flags & 14 <> 0),
               (SELECT array_agg(flags) FROM locked WHERE flags & 14 <> 0),
               (SELECT array_agg(debits_pending) FROM locked WHERE flags & 14 <> 0),
               (SELECT array_agg(debits_posted) FROM locked WHERE flags & 14 <> 0),
               (SELECT array_agg(credits_pending) FROM locked WHERE flags & 14 <> 0),
               (SELECT array_agg(credits_posted) FROM locked WHERE flags & 14 <> 0)
        INTO applies, s_id, s_flags, s_dp, s_dpo, s_cp, s_cpo;
        IF applies IS NOT TRUE THEN RETURN NULL; END IF;

        IF s_id IS NOT NULL THEN
            -- Each side on a limited or history account, with the account's totals up to and
            -- including the event: the per-event limit checks and history rows, in one pass.
            WITH s AS (
                SELECT * FROM unnest(s_id, s_flags, s_dp, s_dpo, s_cp, s_cpo) s(id, flags, dp, dpo, cp, cpo)
            ), sides AS (
                SELECT s.*, e.ord, true AS is_debit, e.amount AS debit, 0::bigint AS credit
                FROM unnest(debit_ids, amounts) WITH ORDINALITY e(acc, amount, ord) JOIN s ON s.id = e.acc
                UNION ALL
                SELECT s.*, e.ord, false, 0::bigint, e.amount
                FROM unnest(credit_ids, amounts) WITH ORDINALITY e(acc, amount, ord) JOIN s ON s.id = e.acc
            ), running AS (
                SELECT *, sum(debit) OVER w AS debits, sum(credit) OVER w AS credits
                FROM sides WINDOW w AS (PARTITION BY id ORDER BY ord)
            )
            SELECT bool_or(CASE WHEN is_debit THEN flags & 2 <> 0 AND dp::numeric + dpo + debits > cpo + credits
                                ELSE flags & 4 <> 0 AND cp::numeric + cpo + credits > dpo + debits END),
                   array_agg(id) FILTER (WHERE flags & 8 <> 0),
                   array_agg(ord) FILTER (WHERE flags & 8 <> 0),
                   array_agg(is_debit) FILTER (WHERE flags & 8 <> 0),
                   array_agg(dp) FILTER (WHERE flags & 8 <> 0),
                   array_agg((dpo + debits)::bigint) FILTER (WHERE flags & 8 <> 0),
                   array_agg(cp) FILTER (WHERE flags & 8 <> 0),
                   array_agg((cpo + credits)::bigint) FILTER (WHERE flags & 8 <> 0)
            INTO exceeds, h_acc, h_ev, h_debit, h_dp, h_dpo, h_cp, h_cpo
            FROM running;
            IF exceeds THEN RETURN NULL; END IF;
        END IF;

        base := allocate_timestamps(n, now_ns);
        INSERT INTO transfers
        SELECT e.id, e.dr, e.cr, e.amount, zero, e.ud128, e.ud64, e.ud32, 0, e.ledger, e.code, e.flags, base + e.ord - 1
        FROM unnest(ids, debit_ids, credit_ids, amounts, user_data_128s, user_data_64s, user_data_32s, ledgers, codes, flagss)
             WITH ORDINALITY e(id, dr, cr, amount, ud128, ud64, ud32, ledger, code, flags, ord);

        WITH per_account AS (
            SELECT id, sum(debit)::bigint AS debits, sum(credit)::bigint AS credits FROM (
                SELECT unnest(debit_ids) AS id, unnest(amounts) AS debit, 0::bigint AS credit
                UNION ALL
                SELECT unnest(credit_ids), 0::bigint, unnest(amounts)) sides
            GROUP BY id
        ), updated AS (
            UPDATE accounts x
            SET debits_posted = x.debits_posted + p.debits, credits_posted = x.credits_posted + p.credits
            FROM per_account p WHERE x.id = p.id
            RETURNING x.debits_pending::numeric + x.debits_posted > max_amount
                      OR x.credits_pending::numeric + x.credits_posted > max_amount AS overflows
        )
        SELECT bool_or(u.overflows) INTO overflows FROM updated u;
        IF overflows THEN
            RAISE EXCEPTION USING ERRCODE = 'numeric_value_out_of_range';
        END IF;

        IF h_acc IS NOT NULL THEN
            INSERT INTO account_balances
            SELECT h.acc, base + h.ev - 1, codes[h.ev], h.debit, h.dp, h.dpo, h.cp, h.cpo
            FROM unnest(h_acc, h_ev, h_debit, h_dp, h_dpo, h_cp, h_cpo) h(acc, ev, debit, dp, dpo, cp, cpo);
        END IF;
    EXCEPTION WHEN unique_violation OR numeric_value_out_of_range THEN
        RETURN NULL;
    END;
    RETURN array_fill(0::smallint, ARRAY[n]);
END
$fn$;

-- The same for a batch of one event, with plain statements whose plans PostgreSQL keeps (set-based
-- statements over arrays are planned again on every call, which is most of a single event's cost).
CREATE FUNCTION {schema}.create_plain_transfer_alone(
    ids uuid[], debit_ids uuid[], credit_ids uuid[], amounts bigint[], pending_ids uuid[],
    user_data_128s uuid[], user_data_64s bigint[], user_data_32s bigint[], timeouts bigint[], ledgers bigint[],
    codes integer[], flagss integer[], timestamps bigint[], now_ns bigint) RETURNS smallint[]
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog SET jit = off AS $fn$
DECLARE
    zero uuid := '00000000-0000-0000-0000-000000000000';
    max_amount numeric := 9223372036854775807;
    dr uuid := debit_ids[1]; cr uuid := credit_ids[1]; amt bigint := amounts[1]; ledger_id bigint := ledgers[1];
    d accounts%ROWTYPE; c accounts%ROWTYPE; ts bigint;
BEGIN
    -- flagss[1] = 0: a lone linked event leaves its chain open, which the per-event rules report.
    IF cardinality(ids) <> 1 OR flagss[1] <> 0 OR is_plain_transfer(ids[1], dr, cr, amt, pending_ids[1], timeouts[1],
                                                                  ledger_id, codes[1], flagss[1], timestamps[1]) IS NOT TRUE THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM pending_transfers WHERE state = 1 AND expires_at <= now_ns) THEN RETURN NULL; END IF;

    BEGIN
        PERFORM 1 FROM accounts WHERE id IN (dr, cr) ORDER BY id FOR UPDATE;
        SELECT * INTO d FROM accounts WHERE id = dr;
        IF NOT FOUND THEN RETURN NULL; END IF;
        SELECT * INTO c FROM accounts WHERE id = cr;
        IF NOT FOUND THEN RETURN NULL; END IF;
        IF d.ledger <> ledger_id OR c.ledger <> ledger_id OR d.flags & 16 <> 0 OR c.flags & 16 <> 0
           OR d.debits_posted::numeric + amt > max_amount OR c.credits_posted::numeric + amt > max_amount
           OR d.debits_pending::numeric + d.debits_posted + amt > max_amount
           OR c.credits_pending::numeric + c.credits_posted + amt > max_amount
           OR (d.flags & 2 <> 0 AND d.debits_pending::numeric + d.debits_posted + amt > d.credits_posted)
           OR (c.flags & 4 <> 0 AND c.credits_pending::numeric + c.credits_posted + amt > c.debits_posted) THEN
            RETURN NULL;
        END IF;

        ts := allocate_timestamps(1, now_ns);
        INSERT INTO transfers VALUES (ids[1], dr, cr, amt, zero, user_data_128s[1], user_data_64s[1], user_data_32s[1], 0,
                                      ledger_id, codes[1], 0, ts);
        UPDATE accounts SET debits_posted = debits_posted + amt WHERE id = dr;
        UPDATE accounts SET credits_posted = credits_posted + amt WHERE id = cr;
        IF d.flags & 8 <> 0 THEN
            INSERT INTO account_balances VALUES (dr, ts, codes[1], true, d.debits_pending, d.debits_posted + amt,
                                                 d.credits_pending, d.credits_posted);
        END IF;
        IF c.flags & 8 <> 0 THEN
            INSERT INTO account_balances VALUES (cr, ts, codes[1], false, c.debits_pending, c.debits_posted,
                                                 c.credits_pending, c.credits_posted + amt);
        END IF;
    EXCEPTION WHEN unique_violation THEN
        RETURN NULL;
    END;
    RETURN '{0}'::smallint[];
END
$fn$;

-- Batches of one event and of more than 8 try the plain path first (between the two, the
-- per-event rules' per-row statements are cheaper than planning set-based ones).
CREATE FUNCTION {schema}.create_transfers(
    ids uuid[], debit_ids uuid[], credit_ids uuid[], amounts bigint[], pending_ids uuid[],
    user_data_128s uuid[], user_data_64s bigint[], user_data_32s bigint[], timeouts bigint[], ledgers bigint[],
    codes integer[], flagss integer[], timestamps bigint[], now_ns bigint) RETURNS smallint[]
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog AS $fn$
DECLARE
    res smallint[];
BEGIN
    IF cardinality(ids) = 1 THEN
        res := create_plain_transfer_alone(ids, debit_ids, credit_ids, amounts, pending_ids, user_data_128s, user_data_64s,
                                           user_data_32s, timeouts, ledgers, codes, flagss, timestamps, now_ns);
    ELSIF coalesce(cardinality(ids), 0) > 8 THEN
        res := create_plain_transfers(ids, debit_ids, credit_ids, amounts, pending_ids, user_data_128s, user_data_64s,
                                      user_data_32s, timeouts, ledgers, codes, flagss, timestamps, now_ns);
    END IF;
    IF res IS NOT NULL THEN
        PERFORM set_config('paaskit.ledger_transfers_path', 'plain', false);
        RETURN res;
    END IF;
    PERFORM set_config('paaskit.ledger_transfers_path', 'per-event', false);
    RETURN create_transfers_per_event(ids, debit_ids, credit_ids, amounts, pending_ids, user_data_128s, user_data_64s,
                                      user_data_32s, timeouts, ledgers, codes, flagss, timestamps, now_ns);
END
$fn$;
)sql";

} // namespace paaskit::ledger::detail
