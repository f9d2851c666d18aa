#pragma once
// Version 4 of the PostgreSQL engine's schema: the plain path inserts a batch's transfers before it
// locks their accounts, so that concurrent batches overlap their inserts.
//
// Version 3 took the accounts' row locks first and then inserted the transfers: a batch of 8,190
// held its locks through the insert (heap and three B-trees, nearly half of the batch's time), and
// batches that share an account (uniform batches over 100,000 accounts always do) ran one after the
// other, so four connections were no faster than one. Here a batch allocates its timestamps,
// inserts its transfers, and only then updates (and so locks) its accounts, in id order as before.
//
// Timestamps allocated before the locks could let a later-stamped batch apply to a shared account
// first, which would break the rule that each account's transfers apply in timestamp order (and
// with it balance histories, limits and balancing amounts read in that order). Two things keep it:
// - Each account records the latest timestamp applied to it (`last_applied`). The plain path's
//   UPDATE sets it to the batch's last timestamp and marks any account already at or past the
//   batch's first one (or created after it); such a batch undoes its insert and update, releasing
//   its locks, and tries again with new timestamps (three times; then the per-event rules, which
//   lock before allocating, decide it). The other updates of an account (per-event rules, the
//   single-event path, expiry) set it through a trigger to the latest timestamp handed out, at
//   least that of anything they applied: an overestimate can only cause a needless retry.
// - So that retries stay rare, plain batches lock in the order of their timestamps: each holds a
//   ticket (a session advisory lock) from its allocation until its UPDATE has locked its accounts,
//   and waits for the previous ticket before its own UPDATE. The wait is at most a second: a batch
//   stuck behind a long transaction on a hot account must not hold up unrelated batches; one that
//   goes ahead and overtakes is caught by `last_applied`.

#include <string_view>

namespace paaskit::ledger::detail {

inline constexpr std::string_view pg_schema_v4 = R"sql(
-- The latest timestamp applied to the account (see the note above); 0 before any.
ALTER TABLE {schema}.accounts ADD COLUMN last_applied bigint NOT NULL DEFAULT 0;

-- Every update of an account that does not set last_applied (all but the plain path's) sets it
-- afterwards to the latest timestamp handed out, at least that of any transfer it applied. An
-- AFTER trigger: a BEFORE one would lock each row it is checked on, the plain path's too.
CREATE FUNCTION {schema}.note_applied() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    latest bigint := (SELECT last_value FROM {schema}.last_timestamp);
BEGIN
    UPDATE {schema}.accounts SET last_applied = latest WHERE id = NEW.id AND last_applied < latest;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER accounts_note_applied AFTER UPDATE ON {schema}.accounts FOR EACH ROW
    WHEN (NEW.last_applied = OLD.last_applied) EXECUTE FUNCTION {schema}.note_applied();

-- Version 2's path for a batch of one event, which now records the timestamp it applies on both
-- accounts itself (the trigger's extra update of each row cost single transfers about a tenth).
CREATE OR REPLACE FUNCTION {schema}.create_plain_transfer_alone(
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
        UPDATE accounts SET debits_posted = debits_posted + amt, last_applied = ts WHERE id = dr;
        UPDATE accounts SET credits_posted = credits_posted + amt, last_applied = ts WHERE id = cr;
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

-- Tickets, taken with the timestamps (see the note above).
CREATE SEQUENCE {schema}.plain_tickets;

CREATE FUNCTION {schema}.release_ticket(ticket bigint) RETURNS void
LANGUAGE sql AS $fn$
    SELECT pg_advisory_unlock(hashtext('paaskit.ledger.ticket:{schema}'), (ticket % 2147483647)::integer)
$fn$;

-- Session advisory locks outlive a failed call: one left held by a canceled allocation would stop
-- every later one until its session ended (for a pooled connection, indefinitely). So both
-- allocations release what they took on every way out, cancellation included.
CREATE OR REPLACE FUNCTION {schema}.allocate_timestamps(count integer, now_ns bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog AS $fn$
DECLARE
    base bigint;
    locked boolean := false;
BEGIN
    PERFORM pg_advisory_lock(hashtext('paaskit.ledger:{schema}'));
    locked := true;
    SELECT greatest(now_ns, last_value + 1) INTO base FROM last_timestamp;
    PERFORM setval('{schema}.last_timestamp', base + count - 1);
    PERFORM pg_advisory_unlock(hashtext('paaskit.ledger:{schema}'));
    RETURN base;
EXCEPTION WHEN query_canceled OR OTHERS THEN
    IF locked THEN PERFORM pg_advisory_unlock(hashtext('paaskit.ledger:{schema}')); END IF;
    RAISE;
END
$fn$;

-- allocate_timestamps, and the batch's ticket, taken under the same lock: tickets follow
-- timestamps.
CREATE FUNCTION {schema}.allocate_plain(count integer, now_ns bigint, OUT base bigint, OUT ticket bigint)
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog AS $fn$
DECLARE
    locked boolean := false;
    ticket_taken boolean := false;
BEGIN
    PERFORM pg_advisory_lock(hashtext('paaskit.ledger:{schema}'));
    locked := true;
    SELECT greatest(now_ns, last_value + 1) INTO base FROM last_timestamp;
    PERFORM setval('{schema}.last_timestamp', base + count - 1);
    ticket := nextval('{schema}.plain_tickets');
    PERFORM pg_advisory_lock(hashtext('paaskit.ledger.ticket:{schema}'), (ticket % 2147483647)::integer);
    ticket_taken := true;
    PERFORM pg_advisory_unlock(hashtext('paaskit.ledger:{schema}'));
EXCEPTION WHEN query_canceled OR OTHERS THEN
    IF ticket_taken THEN PERFORM release_ticket(ticket); END IF;
    IF locked THEN PERFORM pg_advisory_unlock(hashtext('paaskit.ledger:{schema}')); END IF;
    RAISE;
END
$fn$;

-- Waits until the batch with the previous ticket has locked its accounts, or for a second at most:
-- a batch whose update waits on a long transaction must not hold up unrelated ones behind it.
CREATE FUNCTION {schema}.await_ticket(ticket bigint) RETURNS void
LANGUAGE plpgsql SET lock_timeout = '1s' AS $fn$
BEGIN
    PERFORM pg_advisory_lock_shared(hashtext('paaskit.ledger.ticket:{schema}'), ((ticket - 1) % 2147483647)::integer);
    PERFORM pg_advisory_unlock_shared(hashtext('paaskit.ledger.ticket:{schema}'), ((ticket - 1) % 2147483647)::integer);
EXCEPTION WHEN lock_not_available THEN
    NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION {schema}.create_plain_transfers(
    ids uuid[], debit_ids uuid[], credit_ids uuid[], amounts bigint[], pending_ids uuid[],
    user_data_128s uuid[], user_data_64s bigint[], user_data_32s bigint[], timeouts bigint[], ledgers bigint[],
    codes integer[], flagss integer[], timestamps bigint[], now_ns bigint) RETURNS smallint[]
LANGUAGE plpgsql SET search_path = {schema}, pg_catalog SET jit = off
    -- Only a nested loop over the primary key, in the sorted input's order, is left affordable.
    SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off SET enable_bitmapscan = off
AS $fn$
DECLARE
    n integer := coalesce(cardinality(ids), 0);
    zero uuid := '00000000-0000-0000-0000-000000000000';
    max_amount bigint := 9223372036854775807;
    ticket bigint; p_id uuid[]; p_debits bigint[]; p_credits bigint[]; p_low bigint[]; p_high bigint[];
    applies boolean; all_in_order boolean; exceeds boolean; base bigint; found_count bigint;
    -- accounts with limits or history (flags 2, 4, 8), with their balances before the batch
    s_id uuid[]; s_flags integer[]; s_dp bigint[]; s_dpo bigint[]; s_cp bigint[]; s_cpo bigint[];
    -- balance history rows: account, event, debit side or not, balances after the event
    h_acc uuid[]; h_ev bigint[]; h_debit boolean[]; h_dp bigint[]; h_dpo bigint[]; h_cp bigint[]; h_cpo bigint[];
BEGIN
    IF n = 0 OR (flagss[n] & 1) <> 0 THEN RETURN NULL; END IF; -- an open chain fails its last event
    -- NULL (an array with a NULL element) counts as no.
    IF is_plain_batch(ids, debit_ids, credit_ids, amounts, pending_ids, timeouts, ledgers, codes, flagss, timestamps)
       IS NOT TRUE THEN
        RETURN NULL;
    END IF;
    -- Pending transfers due now are expired before a batch's events: the per-event rules do that.
    IF EXISTS (SELECT 1 FROM pending_transfers WHERE state = 1 AND expires_at <= now_ns) THEN RETURN NULL; END IF;

    -- Each account's totals, sorted by id, once for every attempt below: before any lock is
    -- taken. (One sort: the aggregates read the sorted subquery's rows in order, there being no
    -- join or grouping above it.) A total past bigint's range leaves the batch to the rules.
    BEGIN
        SELECT array_agg(id), array_agg(debits), array_agg(credits), array_agg(lowest_ledger), array_agg(highest_ledger)
        INTO p_id, p_debits, p_credits, p_low, p_high
        FROM (SELECT id, sum(debit)::bigint AS debits, sum(credit)::bigint AS credits,
                     min(ledger) AS lowest_ledger, max(ledger) AS highest_ledger
              FROM (SELECT unnest(debit_ids) AS id, unnest(amounts) AS debit, 0::bigint AS credit, unnest(ledgers) AS ledger
                    UNION ALL
                    SELECT unnest(credit_ids), 0::bigint, unnest(amounts), unnest(ledgers)) sides
              GROUP BY id ORDER BY id) per_account;
    EXCEPTION WHEN numeric_value_out_of_range THEN
        RETURN NULL;
    END;

    FOR attempt IN 1..3 LOOP
        -- Any failure past this point (a check, a stored or repeated id, a total out of bigint's
        -- range, an account applied out of order) undoes what the block did and releases its locks.
        BEGIN
            SELECT a.base, a.ticket INTO base, ticket FROM allocate_plain(n, now_ns) a;
            INSERT INTO transfers
            SELECT e.id, e.dr, e.cr, e.amount, zero, e.ud128, e.ud64, e.ud32, 0, e.ledger, e.code, e.flags, base + e.ord - 1
            FROM unnest(ids, debit_ids, credit_ids, amounts, user_data_128s, user_data_64s, user_data_32s, ledgers, codes,
                        flagss) WITH ORDINALITY e(id, dr, cr, amount, ud128, ud64, ud32, ledger, code, flags, ord);
            PERFORM await_ticket(ticket);
            WITH updated AS (
                UPDATE accounts x
                SET debits_posted = x.debits_posted + p.debits, credits_posted = x.credits_posted + p.credits,
                    -- -1 marks an account that was applied to, or created, at or after this batch's
                    -- first timestamp (the batch is then refused)
                    last_applied = CASE WHEN x.last_applied < base AND x.timestamp < base THEN base + n - 1 ELSE -1 END
                FROM unnest(p_id, p_debits, p_credits, p_low, p_high) p(id, debits, credits, lowest_ledger, highest_ledger)
                WHERE x.id = p.id
                RETURNING x.id, x.flags, x.debits_pending AS dp, x.debits_posted - p.debits AS dpo,
                          x.credits_pending AS cp, x.credits_posted - p.credits AS cpo, x.last_applied >= 0 AS in_order,
                          x.ledger = p.lowest_ledger AND x.ledger = p.highest_ledger AND x.flags & 16 = 0
                          -- pending + posted <= max, in bigint: both are >= 0 (the table's checks)
                          AND x.debits_pending <= max_amount - x.debits_posted
                          AND x.credits_pending <= max_amount - x.credits_posted AS acceptable
            )
            SELECT count(*), bool_and(acceptable), bool_and(in_order),
                   array_agg(id) FILTER (WHERE flags & 14 <> 0), array_agg(flags) FILTER (WHERE flags & 14 <> 0),
                   array_agg(dp) FILTER (WHERE flags & 14 <> 0), array_agg(dpo) FILTER (WHERE flags & 14 <> 0),
                   array_agg(cp) FILTER (WHERE flags & 14 <> 0), array_agg(cpo) FILTER (WHERE flags & 14 <> 0)
            INTO found_count, applies, all_in_order, s_id, s_flags, s_dp, s_dpo, s_cp, s_cpo
            FROM updated;
            PERFORM release_ticket(ticket);
            ticket := NULL;
            IF all_in_order IS FALSE THEN RAISE SQLSTATE 'PKNPO'; END IF;
            -- An unknown account, a closed one, another ledger, an overflow.
            IF found_count <> cardinality(p_id) OR applies IS NOT TRUE THEN RAISE SQLSTATE 'PKNPL'; END IF;

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
                IF exceeds THEN RAISE SQLSTATE 'PKNPL'; END IF;
            END IF;

            IF h_acc IS NOT NULL THEN
                INSERT INTO account_balances
                SELECT h.acc, base + h.ev - 1, codes[h.ev], h.debit, h.dp, h.dpo, h.cp, h.cpo
                FROM unnest(h_acc, h_ev, h_debit, h_dp, h_dpo, h_cp, h_cpo) h(acc, ev, debit, dp, dpo, cp, cpo);
            END IF;
            RETURN array_fill(0::smallint, ARRAY[n]);
        EXCEPTION
            WHEN SQLSTATE 'PKNPO' THEN
                NULL; -- overtaken on an account by a later-stamped batch: again, with new timestamps
            WHEN SQLSTATE 'PKNPL' OR unique_violation OR numeric_value_out_of_range OR deadlock_detected THEN
                IF ticket IS NOT NULL THEN PERFORM release_ticket(ticket); END IF;
                RETURN NULL;
            WHEN query_canceled OR OTHERS THEN
                IF ticket IS NOT NULL THEN PERFORM release_ticket(ticket); END IF;
                RAISE;
        END;
    END LOOP;
    RETURN NULL;
END
$fn$;
)sql";

} // namespace paaskit::ledger::detail
