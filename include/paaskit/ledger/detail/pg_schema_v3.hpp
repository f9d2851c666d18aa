#pragma once
// Version 3 of the PostgreSQL engine's schema: the set-based plain path locks its accounts with the
// UPDATE that changes them.
//
// Version 2 locked the batch's accounts with SELECT ... FOR UPDATE, checked them, and updated them
// in a second statement: every account row was written twice (a lock, then a new version). Here
// the UPDATE itself takes the locks, in id order: its input is sorted by id, and the function's
// enable_* settings price every plan but a nested loop over the accounts' primary key out of the
// planner's choice (such a plan always exists, so it is the one chosen), so rows are locked in the
// order the per-event rules lock them and concurrent batches still never deadlock. The checks then run on the updated rows (their balances before the batch are the new
// ones less the batch's totals); when one fails, the block raises, which undoes the update and
// releases its locks, and the batch runs through the per-event rules as before. A deadlock, should
// a plan ever break the order, is caught the same way rather than failing the batch.
//
// Accounts are stored with fillfactor 80: a fifth of each page free lets an update put the row's
// new version on its own page (a HOT update: no new index entry), which a full page cannot. With
// fillfactor 100, a third of the benchmark's updates were not HOT and a batch of 8,190 took ~15%
// longer. It applies to pages written after this migration; `VACUUM FULL <schema>.accounts`
// repacks an existing table.
//
// Each account's events must all be on its ledger; checking that per account (the smallest and
// largest event ledger equal the account's) replaces version 2's join of every event to both of
// its accounts.

#include <string_view>

namespace paaskit::ledger::detail {

inline constexpr std::string_view pg_schema_v3 = R"sql(
ALTER TABLE {schema}.accounts SET (fillfactor = 80);

-- is_plain_transfer (version 2) for every event of a batch, as operators over the whole arrays
-- (a loop in C per array) instead of a row per event: 1.5 ms instead of 9.5 for 8,190 events.
-- The same conditions, in the same terms.
CREATE FUNCTION {schema}.is_plain_batch(ids uuid[], debit_ids uuid[], credit_ids uuid[], amounts bigint[],
                                        pending_ids uuid[], timeouts bigint[], ledgers bigint[], codes integer[],
                                        flagss integer[], timestamps bigint[]) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    zero uuid := '00000000-0000-0000-0000-000000000000';
    maxid uuid := 'ffffffff-ffff-ffff-ffff-ffffffffffff';
BEGIN
    RETURN flagss <@ ARRAY[0, 1] AND 0 = ALL(timestamps) AND zero <> ALL(ids) AND maxid <> ALL(ids) AND 0 <= ALL(amounts)
        AND zero <> ALL(debit_ids) AND maxid <> ALL(debit_ids) AND zero <> ALL(credit_ids) AND maxid <> ALL(credit_ids)
        AND zero = ALL(pending_ids) AND 0 = ALL(timeouts) AND 0 <> ALL(ledgers) AND 0 <> ALL(codes)
        AND NOT EXISTS (SELECT 1 FROM unnest(debit_ids, credit_ids) e(dr, cr) WHERE dr = cr)
        AND cardinality(debit_ids) = cardinality(ids) AND cardinality(credit_ids) = cardinality(ids)
        AND cardinality(amounts) = cardinality(ids) AND cardinality(pending_ids) = cardinality(ids)
        AND cardinality(timeouts) = cardinality(ids) AND cardinality(ledgers) = cardinality(ids)
        AND cardinality(codes) = cardinality(ids) AND cardinality(flagss) = cardinality(ids)
        AND cardinality(timestamps) = cardinality(ids);
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
    applies boolean; exceeds boolean; base bigint; wanted bigint; found_count bigint;
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

    -- Any failure past this point (a check, a stored or repeated id, a total out of bigint's range)
    -- undoes what the block did and releases its locks.
    BEGIN
        WITH per_account AS MATERIALIZED (
            SELECT id, sum(debit)::bigint AS debits, sum(credit)::bigint AS credits,
                   min(ledger) AS lowest_ledger, max(ledger) AS highest_ledger
            FROM (SELECT unnest(debit_ids) AS id, unnest(amounts) AS debit, 0::bigint AS credit, unnest(ledgers) AS ledger
                  UNION ALL
                  SELECT unnest(credit_ids), 0::bigint, unnest(amounts), unnest(ledgers)) sides
            GROUP BY id ORDER BY id
        ), updated AS (
            UPDATE accounts x
            SET debits_posted = x.debits_posted + p.debits, credits_posted = x.credits_posted + p.credits
            FROM per_account p WHERE x.id = p.id
            RETURNING x.id, x.flags, x.debits_pending AS dp, x.debits_posted - p.debits AS dpo,
                      x.credits_pending AS cp, x.credits_posted - p.credits AS cpo,
                      x.ledger = p.lowest_ledger AND x.ledger = p.highest_ledger AND x.flags & 16 = 0
                      -- pending + posted <= max, in bigint: both are >= 0 (the table's checks)
                      AND x.debits_pending <= max_amount - x.debits_posted
                      AND x.credits_pending <= max_amount - x.credits_posted AS acceptable
        )
        SELECT (SELECT count(*) FROM per_account), count(*), bool_and(acceptable),
               array_agg(id) FILTER (WHERE flags & 14 <> 0), array_agg(flags) FILTER (WHERE flags & 14 <> 0),
               array_agg(dp) FILTER (WHERE flags & 14 <> 0), array_agg(dpo) FILTER (WHERE flags & 14 <> 0),
               array_agg(cp) FILTER (WHERE flags & 14 <> 0), array_agg(cpo) FILTER (WHERE flags & 14 <> 0)
        INTO wanted, found_count, applies, s_id, s_flags, s_dp, s_dpo, s_cp, s_cpo
        FROM updated;
        -- An unknown account, a closed one, another ledger, an overflow.
        IF found_count <> wanted OR applies IS NOT TRUE THEN RAISE SQLSTATE 'PKNPL'; END IF;

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

        base := allocate_timestamps(n, now_ns);
        INSERT INTO transfers
        SELECT e.id, e.dr, e.cr, e.amount, zero, e.ud128, e.ud64, e.ud32, 0, e.ledger, e.code, e.flags, base + e.ord - 1
        FROM unnest(ids, debit_ids, credit_ids, amounts, user_data_128s, user_data_64s, user_data_32s, ledgers, codes, flagss)
             WITH ORDINALITY e(id, dr, cr, amount, ud128, ud64, ud32, ledger, code, flags, ord);

        IF h_acc IS NOT NULL THEN
            INSERT INTO account_balances
            SELECT h.acc, base + h.ev - 1, codes[h.ev], h.debit, h.dp, h.dpo, h.cp, h.cpo
            FROM unnest(h_acc, h_ev, h_debit, h_dp, h_dpo, h_cp, h_cpo) h(acc, ev, debit, dp, dpo, cp, cpo);
        END IF;
    EXCEPTION WHEN SQLSTATE 'PKNPL' OR unique_violation OR numeric_value_out_of_range OR deadlock_detected THEN
        RETURN NULL;
    END;
    RETURN array_fill(0::smallint, ARRAY[n]);
END
$fn$;
)sql";

} // namespace paaskit::ledger::detail
