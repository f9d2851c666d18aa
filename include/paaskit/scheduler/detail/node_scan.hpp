#pragma once
/// \file
/// The scheduler's hot loop: filter and score every node for a plain workload and find the best,
/// over the engine's struct-of-arrays columns. Two kernels compute bit-identical results: a
/// portable one the compiler vectorises with whatever the build targets, and (x86-64, GCC) an
/// AVX-512 one chosen at run time when the processor has it. (Clang builds use the portable kernel:
/// its lambdas do not take the enclosing function's target, which the AVX-512 code relies on.)
/// The kernels agree to the bit as long as the build does not let the compiler contract the
/// portable kernel's multiply-adds (the x86-64 baseline has no FMA).

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PAASKIT_SCHEDULER_AVX512 1
#include <immintrin.h>
#endif

namespace paaskit::scheduler::detail {

/// Least-allocated, most-allocated and balanced-allocation folded into one linear expression:
/// least * (100 - 50 * sum) + most * (50 * sum) + balanced * (100 - 50 * apart), where sum and
/// apart are the CPU and memory fractions' sum and distance, is
/// 100 * (least + balanced) - 50 * (least - most) * sum - 50 * balanced * apart.
struct base_weights {
    double constant = 0, sum_slope = 0, apart_slope = 0;

    static base_weights of(double least, double most, double balanced) noexcept
    {
        return {100.0 * (least + balanced), 50.0 * (least - most), 50.0 * balanced};
    }
};

/// The columns a scan reads (index i is the same node in each) and what the workload asks.
struct scan_input {
    std::size_t count = 0;
    /// Schedulable nodes' last heartbeats (null: none is stale, nothing to check).
    const std::int64_t* alive_ms = nullptr;
    /// Free CPU and memory as doubles (free_as_double): compared with the request and used for
    /// the fraction, one column each. Exact for requests up to 2^53 (the engine refuses more).
    const double* free_cpu = nullptr;
    const double* free_memory = nullptr;
    const std::int64_t* free_ephemeral = nullptr; ///< null: the workload asks none and no node is short of it
    /// Free pod slots in 32 bits (saturated_free), very negative for cordoned and not-ready nodes.
    const std::int32_t* free_pods = nullptr;
    const double* inv_cpu = nullptr;    ///< 1 / allocatable CPU (0 when there is none)
    const double* inv_memory = nullptr; ///< 1 / allocatable memory (0 when there is none)
    const std::uint32_t* rank = nullptr; ///< the seeded tie-break order
    /// Tenant spread, or all null: the tenant's workloads per node and per zone, each node's zone.
    const std::uint32_t* tenant_per_node = nullptr;
    const std::uint32_t* tenant_per_zone = nullptr;
    const std::uint32_t* zone = nullptr;
    std::size_t zone_count = 0; ///< entries of tenant_per_zone

    std::int64_t cutoff_ms = 0; ///< a heartbeat older than this is stale
    std::int64_t cpu = 0, memory = 0, ephemeral = 0, pods = 1;
    base_weights weights{};
    double spread_weight = 0; ///< tenant spread's plugin weight
    /// The highest spread count among feasible nodes at this tenant's previous scan (-1: none). It
    /// rarely changes between placements; when it is still right, the AVX-512 kernel adds the
    /// spread term in its first pass and skips the second.
    std::int32_t spread_highest_guess = -1;
};

/// The best node (highest score; equal scores: lowest rank, then lowest index) or none feasible.
struct scan_result {
    bool found = false;
    std::uint32_t node = 0;
    double score = 0;
    std::int32_t spread_highest = -1; ///< with tenant spread: the highest count among feasible nodes
};

/// Reused between scans so that a placement allocates nothing once warmed up.
struct scan_scratch {
    std::vector<double> scores;
    std::vector<std::int32_t> feasible;
    std::vector<std::int32_t> spread_counts;
};

/// The three plugins' weighted score for the fractions of CPU and memory requested once the
/// workload is placed: one expression, shared by every path so that they compute identical scores.
inline double base_score(const base_weights& w, double cpu_fraction, double memory_fraction) noexcept
{
    const double sum = cpu_fraction + memory_fraction;
    const double apart = std::fabs(cpu_fraction - memory_fraction);
    return (w.constant - w.sum_slope * sum) - w.apart_slope * apart;
}

/// A free amount for the 32-bit columns: clamped, which keeps "free >= request" exact for every
/// request from 0 to 2^31 - 1 (a larger free amount fits any of them; a smaller one, none).
inline std::int32_t saturated_free(std::int64_t free) noexcept
{
    return static_cast<std::int32_t>(std::clamp<std::int64_t>(free, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
}

/// Whether a request fits the 32-bit columns' comparisons.
inline bool fits_saturated(std::int64_t request) noexcept { return request >= 0 && request <= std::numeric_limits<std::int32_t>::max(); }

/// Integers up to this magnitude are exact as doubles; the engine refuses larger quantities.
inline constexpr std::int64_t exact_in_double = std::int64_t{1} << 53;

/// A free amount for the double columns, clamped to +-2^53: integers there are exact doubles, so
/// "free >= request" stays exact for requests from 0 to 2^53. (The engine refuses quantities above
/// 2^53, so only an overcommitted node's negative free amount is ever clamped.)
inline double free_as_double(std::int64_t free) noexcept { return static_cast<double>(std::clamp(free, -exact_in_double, exact_in_double)); }

/// The share of a resource in use once the workload is there: 1 - (free - request) / capacity,
/// from the free amount and 1 / capacity (0 when there is none, which counts the node as full).
inline double fraction_after(double free, double request, double inverse_capacity) noexcept { return 1.0 - (free - request) * inverse_capacity; }

/// Tenant spread's scale: 100 over the highest count among feasible nodes (0 when all are 0).
inline double spread_scale(std::int32_t highest) noexcept { return highest > 0 ? 100.0 / static_cast<double>(highest) : 0.0; }

/// The score with tenant spread's term, weight * (100 - count * scale), written as (score + weight
/// * 100) - count * (weight * scale) with both products computed once per scan: `full` is weight *
/// 100 and `step` weight * scale. Both kernels add the term this way, so they agree to the bit.
inline double with_spread(double score, std::int32_t count, double full, double step) noexcept
{
    return (score + full) - static_cast<double>(count) * step;
}

/// Filters and scores every node into `scores` (-infinity where infeasible) and `feasible` (all
/// ones where feasible). The columns that cannot reject anything are skipped at compile time.
template <bool CheckAlive, bool CheckEphemeral>
void filter_and_score_portable(const scan_input& in, double* __restrict scores, std::int32_t* __restrict feasible)
{
    // Locals and restrict-qualified pointers: nothing the loop writes can alias what it reads,
    // which is what lets the compiler vectorise it.
    const std::int64_t* __restrict const alive = in.alive_ms;
    const double* __restrict const free_cpu = in.free_cpu;
    const double* __restrict const free_memory = in.free_memory;
    const std::int64_t* __restrict const free_ephemeral = in.free_ephemeral;
    const std::int32_t* __restrict const free_pods = in.free_pods;
    const double* __restrict const inv_cpu = in.inv_cpu;
    const double* __restrict const inv_memory = in.inv_memory;
    const double cpu = static_cast<double>(in.cpu), memory = static_cast<double>(in.memory);
    const std::int64_t cutoff = in.cutoff_ms, ephemeral_i = in.ephemeral, pods_i = in.pods;
    const base_weights weights = in.weights;
    const auto infeasible_bits = std::bit_cast<std::uint64_t>(-std::numeric_limits<double>::infinity());
    const std::size_t n = in.count;
    for (std::size_t i = 0; i < n; ++i) {
        // Infeasible when any slack is negative: the OR of the slacks' sign bits, spread into a
        // mask. No branch, so the loop vectorises.
        std::int64_t slack = (free_pods[i] - pods_i) | -static_cast<std::int64_t>(!(free_cpu[i] >= cpu) | !(free_memory[i] >= memory));
        if constexpr (CheckAlive)
            slack |= alive[i] - cutoff;
        if constexpr (CheckEphemeral)
            slack |= free_ephemeral[i] - ephemeral_i;
        const std::uint64_t negative = static_cast<std::uint64_t>(slack) >> 63;
        const std::uint64_t mask = 0 - negative;
        const double s = base_score(weights, fraction_after(free_cpu[i], cpu, inv_cpu[i]), fraction_after(free_memory[i], memory, inv_memory[i]));
        scores[i] = std::bit_cast<double>((std::bit_cast<std::uint64_t>(s) & ~mask) | (infeasible_bits & mask));
        feasible[i] = static_cast<std::int32_t>(negative) - 1;
    }
}

/// Branch-free passes the compiler vectorises (SSE2 on the x86-64 baseline).
inline scan_result scan_portable(const scan_input& in, scan_scratch& scratch)
{
    const std::size_t n = in.count;
    scratch.scores.resize(n);
    scratch.feasible.resize(n);
    double* __restrict const scores = scratch.scores.data();
    std::int32_t* __restrict const feasible = scratch.feasible.data();
    const double infeasible = -std::numeric_limits<double>::infinity();
    if (in.alive_ms != nullptr)
        in.free_ephemeral != nullptr ? filter_and_score_portable<true, true>(in, scores, feasible) : filter_and_score_portable<true, false>(in, scores, feasible);
    else
        in.free_ephemeral != nullptr ? filter_and_score_portable<false, true>(in, scores, feasible) : filter_and_score_portable<false, false>(in, scores, feasible);
    std::int32_t spread_highest = -1;
    if (in.tenant_per_node != nullptr) { // tenant spread, normalised over the feasible nodes
        scratch.spread_counts.resize(n);
        std::int32_t* __restrict const raw = scratch.spread_counts.data();
        const std::uint32_t* __restrict const per_node = in.tenant_per_node;
        const std::uint32_t* __restrict const per_zone = in.tenant_per_zone;
        const std::uint32_t* __restrict const zone = in.zone;
        for (std::size_t i = 0; i < n; ++i) // a gather: scalar
            raw[i] = static_cast<std::int32_t>(per_node[i] + per_zone[zone[i]]);
        std::int32_t highest = 0; // integer, so it vectorises
        for (std::size_t i = 0; i < n; ++i) {
            const std::int32_t counted = raw[i] & feasible[i];
            highest = counted > highest ? counted : highest;
        }
        spread_highest = highest;
        const double full = in.spread_weight * 100.0, step = in.spread_weight * spread_scale(highest);
        for (std::size_t i = 0; i < n; ++i)
            scores[i] = with_spread(scores[i], raw[i], full, step);
    }
    // The best score (four independent maxima keep the loop from waiting on itself).
    double best[4] = {infeasible, infeasible, infeasible, infeasible};
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (std::size_t lane = 0; lane < 4; ++lane)
            best[lane] = scores[i + lane] > best[lane] ? scores[i + lane] : best[lane];
    for (; i < n; ++i)
        best[0] = scores[i] > best[0] ? scores[i] : best[0];
    const double top = std::max(std::max(best[0], best[1]), std::max(best[2], best[3]));
    if (top == infeasible)
        return {};
    std::uint32_t chosen = 0;
    std::uint32_t chosen_rank = std::numeric_limits<std::uint32_t>::max();
    for (std::uint32_t k = 0; k < n; ++k)
        if (scores[k] == top && (in.rank[k] < chosen_rank || (in.rank[k] == chosen_rank && k < chosen))) {
            chosen = k;
            chosen_rank = in.rank[k];
        }
    return {true, chosen, top, in.tenant_per_node != nullptr ? spread_highest : -1};
}

#ifdef PAASKIT_SCHEDULER_AVX512

/// Whether this processor runs scan_avx512.
inline bool avx512_available() noexcept
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
           && __builtin_cpu_supports("avx2");
}

// Eight nodes per step. Without the spread term one pass filters and scores; with it, a first
// pass stores the base scores and spread counts and finds the highest count among feasible nodes,
// and a second adds the term. The scoring pass keeps, per lane, the best score and its node's rank
// and index, without a branch (see keep_best), alternating between two sets of lanes so that the
// chain of comparisons from block to block is half as long. The main loops load whole blocks; only
// the last, partial block uses masked loads. No fused multiply-add: the scores must be the portable
// kernel's to the bit. The masked (maskz) forms of conversions and maxima are used because
// GCC 12's unmasked ones start from an undefined register, which -Wmaybe-uninitialized reports.
#define PAASKIT_SCHEDULER_AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx2"), optimize("fp-contract=off")))
#define PAASKIT_SCHEDULER_AVX512_INLINE PAASKIT_SCHEDULER_AVX512_TARGET __attribute__((always_inline))

/// One scan's columns and constants, held by value and passed by value to the passes: a local
/// copy that stores to the scratch columns cannot alias, so the compiler keeps it in registers.
struct avx512_scan {
    const std::int64_t *alive, *free_ephemeral;
    const std::int32_t* free_pods;
    const double *free_cpu, *free_memory, *inv_cpu, *inv_memory;
    const std::uint32_t *rank, *per_node, *zones, *per_zone;
    double* scores;
    std::int32_t* counts;
    __m512i cutoff, ephemeral_i;
    __m256i pods_i;
    __m256i steps; ///< 0..7, the lanes' offsets in a block
    __m512d cpu, memory, one, constant, sum_slope, apart_slope, infeasible;
    __m256i zone_table_low, zone_table_high; ///< the tenant's per-zone counts, for up to 16 zones
    bool guessing;                          ///< the spread term is added in the first pass, at
    __m512d guessed_full, guessed_step;     ///< the scale of the guessed highest count (with_spread)

    PAASKIT_SCHEDULER_AVX512_INLINE avx512_scan(const scan_input& in, scan_scratch& scratch)
        : alive(in.alive_ms), free_ephemeral(in.free_ephemeral), free_pods(in.free_pods), free_cpu(in.free_cpu), free_memory(in.free_memory),
          inv_cpu(in.inv_cpu), inv_memory(in.inv_memory), rank(in.rank), per_node(in.tenant_per_node), zones(in.zone),
          per_zone(in.tenant_per_zone), scores(scratch.scores.data()), counts(scratch.spread_counts.data()),
          cutoff(_mm512_set1_epi64(in.cutoff_ms)), ephemeral_i(_mm512_set1_epi64(in.ephemeral)), pods_i(_mm256_set1_epi32(static_cast<std::int32_t>(in.pods))), steps(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
          cpu(_mm512_set1_pd(static_cast<double>(in.cpu))), memory(_mm512_set1_pd(static_cast<double>(in.memory))), one(_mm512_set1_pd(1.0)),
          constant(_mm512_set1_pd(in.weights.constant)), sum_slope(_mm512_set1_pd(in.weights.sum_slope)),
          apart_slope(_mm512_set1_pd(in.weights.apart_slope)), infeasible(_mm512_set1_pd(-std::numeric_limits<double>::infinity())),
          zone_table_low(_mm256_setzero_si256()), zone_table_high(_mm256_setzero_si256()),
          guessing(in.tenant_per_node != nullptr && in.spread_highest_guess >= 0), guessed_full(_mm512_set1_pd(in.spread_weight * 100.0)),
          guessed_step(_mm512_set1_pd(in.spread_weight * spread_scale(in.spread_highest_guess)))
    {
        if (per_node != nullptr && in.zone_count <= 16) {
            alignas(32) std::uint32_t table[16] = {};
            std::copy(per_zone, per_zone + in.zone_count, table);
            zone_table_low = _mm256_load_si256(reinterpret_cast<const __m256i*>(table));
            zone_table_high = _mm256_load_si256(reinterpret_cast<const __m256i*>(table + 8));
        }
    }

    enum class zone_lookup { none, registers, gather };

    /// detail::with_spread, eight nodes at a time.
    PAASKIT_SCHEDULER_AVX512_INLINE static __m512d with_spread(__m512d score, __m512d count, __m512d full, __m512d step) noexcept
    {
        return _mm512_sub_pd(_mm512_add_pd(score, full), _mm512_mul_pd(count, step));
    }

    /// Each lane's best score so far, its node's rank and index. A lane only ever sees increasing
    /// indexes, so an equal score replaces its best only with a strictly lower rank.
    struct lane_best {
        __m512d score;
        __m256i rank, index;
    };

    PAASKIT_SCHEDULER_AVX512_INLINE lane_best no_best() const noexcept
    {
        return {infeasible, _mm256_set1_epi32(-1), _mm256_setzero_si256()};
    }

    PAASKIT_SCHEDULER_AVX512_INLINE static __mmask8 lanes(std::size_t i, std::size_t n) noexcept
    {
        return n - i >= 8 ? __mmask8(0xff) : static_cast<__mmask8>((1u << (n - i)) - 1);
    }

    /// Takes the block at i (its lanes `live`) into `best`: a higher score wins, an equal one with
    /// a lower rank. No branch, and nothing but the comparisons waits on `best`: a branch on
    /// "some lane reached its best" would depend on the whole score computation and mispredict,
    /// and a load masked by it would put a load's latency into the chain from block to block.
    PAASKIT_SCHEDULER_AVX512_INLINE void keep_best(std::size_t i, __mmask8 live, __m512d score, lane_best& best) const noexcept
    {
        const __m256i ranks = live == 0xff ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rank + i)) : _mm256_maskz_loadu_epi32(live, rank + i);
        const __mmask8 higher = _mm512_mask_cmp_pd_mask(live, score, best.score, _CMP_GT_OQ);
        const __mmask8 equal = _mm512_mask_cmp_pd_mask(live, score, best.score, _CMP_EQ_OQ);
        const __mmask8 better = static_cast<__mmask8>(higher | _mm256_mask_cmplt_epu32_mask(equal, ranks, best.rank));
        best.score = _mm512_mask_mov_pd(best.score, better, score);
        best.rank = _mm256_mask_mov_epi32(best.rank, better, ranks);
        best.index = _mm256_mask_mov_epi32(best.index, better, _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(i)), steps));
    }

    /// The best of the lanes of `all` (highest score, then lowest rank, then lowest index).
    PAASKIT_SCHEDULER_AVX512_INLINE static scan_result winner(std::initializer_list<lane_best> all) noexcept
    {
        scan_result result;
        std::uint32_t result_rank = 0;
        result.score = -std::numeric_limits<double>::infinity();
        for (const lane_best& best : all) {
            alignas(64) double scores[8];
            alignas(32) std::uint32_t ranks[8], indexes[8];
            _mm512_store_pd(scores, best.score);
            _mm256_store_si256(reinterpret_cast<__m256i*>(ranks), best.rank);
            _mm256_store_si256(reinterpret_cast<__m256i*>(indexes), best.index);
            for (std::size_t lane = 0; lane < 8; ++lane) {
                if (scores[lane] == -std::numeric_limits<double>::infinity())
                    continue;
                if (!result.found || scores[lane] > result.score
                    || (scores[lane] == result.score && (ranks[lane] < result_rank || (ranks[lane] == result_rank && indexes[lane] < result.node)))) {
                    result = {true, indexes[lane], scores[lane], -1};
                    result_rank = ranks[lane];
                }
            }
        }
        return result;
    }

    /// Filters and scores the block at i (its lanes `live`). With the spread term, stores the scores
    /// and the nodes' counts and raises `highest` to the feasible ones' counts.
    /// Over the feasible nodes: the highest and lowest spread counts.
    struct count_range {
        __m256i highest, lowest;
    };

    /// With the spread term and a guessed highest count, `total` is the score with the term added
    /// at the guessed scale (the same operations as the second pass, so the same bits).
    template <bool Partial, zone_lookup Zones, bool CheckAlive, bool CheckEphemeral>
    PAASKIT_SCHEDULER_AVX512_INLINE __m512d base_block(std::size_t i, __mmask8 live, count_range& range, __m512d& total) const noexcept
    {
        const auto load = [&](const std::int64_t* column) {
            return Partial ? _mm512_maskz_loadu_epi64(live, column + i) : _mm512_loadu_si512(column + i);
        };
        const auto load_pd = [&](const double* column) { return Partial ? _mm512_maskz_loadu_pd(live, column + i) : _mm512_loadu_pd(column + i); };
        const auto load_32 = [&](const auto* column) { // 32-bit, signed or not
            return Partial ? _mm256_maskz_loadu_epi32(live, column + i) : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(column + i));
        };
        const __m512d cpu_free = load_pd(free_cpu), memory_free = load_pd(free_memory);
        __mmask8 ok = _mm256_mask_cmpge_epi32_mask(live, load_32(free_pods), pods_i);
        ok = _mm512_mask_cmp_pd_mask(ok, cpu_free, cpu, _CMP_GE_OQ);
        ok = _mm512_mask_cmp_pd_mask(ok, memory_free, memory, _CMP_GE_OQ);
        if constexpr (CheckAlive)
            ok = _mm512_mask_cmpge_epi64_mask(ok, load(alive), cutoff);
        if constexpr (CheckEphemeral)
            ok = _mm512_mask_cmpge_epi64_mask(ok, load(free_ephemeral), ephemeral_i);
        // fraction_after: 1 - (free - request) / capacity
        const __m512d cpu_fraction = _mm512_sub_pd(one, _mm512_mul_pd(_mm512_sub_pd(cpu_free, cpu), load_pd(inv_cpu)));
        const __m512d memory_fraction = _mm512_sub_pd(one, _mm512_mul_pd(_mm512_sub_pd(memory_free, memory), load_pd(inv_memory)));
        const __m512d sum = _mm512_add_pd(cpu_fraction, memory_fraction);
        const __m512d apart = _mm512_abs_pd(_mm512_sub_pd(cpu_fraction, memory_fraction));
        const __m512d base = _mm512_sub_pd(_mm512_sub_pd(constant, _mm512_mul_pd(sum_slope, sum)), _mm512_mul_pd(apart_slope, apart));
        const __m512d score = _mm512_mask_mov_pd(infeasible, ok, base);
        if constexpr (Zones != zone_lookup::none) {
            const __m256i zone = load_32(zones);
            __m256i zone_count;
            if constexpr (Zones == zone_lookup::registers)
                zone_count = _mm256_permutex2var_epi32(zone_table_low, zone, zone_table_high);
            else
                zone_count = _mm256_i32gather_epi32(reinterpret_cast<const int*>(per_zone), zone, 4); // dead lanes read zone 0
            const __m256i raw = _mm256_add_epi32(load_32(per_node), zone_count);
            range.highest = _mm256_mask_max_epi32(range.highest, ok, range.highest, raw);
            range.lowest = _mm256_mask_min_epi32(range.lowest, ok, range.lowest, raw);
            _mm256_mask_storeu_epi32(counts + i, live, raw);
            _mm512_mask_storeu_pd(scores + i, live, score);
            if (guessing) {
                const __m512d raw_pd = _mm512_maskz_cvtepi32_pd(live, raw);
                total = with_spread(score, raw_pd, guessed_full, guessed_step);
            }
        }
        return score;
    }

    /// One block of the first pass: scores it and takes it into `best` (or, with the spread term,
    /// into the highest base scores and, guessing, `best`).
    template <bool Partial, zone_lookup Zones, bool CheckAlive, bool CheckEphemeral>
    PAASKIT_SCHEDULER_AVX512_INLINE void base_step(std::size_t i, __mmask8 live, count_range& range, __m512d& best_base, lane_best& best) const noexcept
    {
        __m512d total = infeasible;
        const __m512d score = base_block<Partial, Zones, CheckAlive, CheckEphemeral>(i, live, range, total);
        if constexpr (Zones == zone_lookup::none) {
            keep_best(i, live, score, best);
        } else {
            best_base = _mm512_mask_max_pd(best_base, live, best_base, score);
            if (guessing)
                keep_best(i, live, total, best);
        }
    }

    /// What the first pass learns with the spread term: each lane's highest base score, and the
    /// highest and lowest spread counts among feasible nodes.
    struct base_summary {
        __m512d best_base;
        std::int32_t highest = 0, lowest = 0;
    };

    /// The first pass. Without the spread term it also picks the best (into `result`); with it and a
    /// guessed highest count, it picks the best at the guessed scale (right if the guess was).
    /// Alternate blocks go to two sets of lanes, so that each block waits on the one before last.
    template <zone_lookup Zones, bool CheckAlive, bool CheckEphemeral>
    PAASKIT_SCHEDULER_AVX512_TARGET static base_summary base_pass(const avx512_scan scan, std::size_t n, scan_result& result) noexcept
    {
        count_range range{_mm256_setzero_si256(), _mm256_set1_epi32(std::numeric_limits<std::int32_t>::max())};
        lane_best even = scan.no_best(), odd = scan.no_best();
        __m512d best_base = scan.infeasible;
        const std::size_t whole = n & ~std::size_t{7};
        std::size_t i = 0;
        for (; i + 16 <= whole; i += 16) {
            scan.base_step<false, Zones, CheckAlive, CheckEphemeral>(i, 0xff, range, best_base, even);
            scan.base_step<false, Zones, CheckAlive, CheckEphemeral>(i + 8, 0xff, range, best_base, odd);
        }
        if (i < whole)
            scan.base_step<false, Zones, CheckAlive, CheckEphemeral>(i, 0xff, range, best_base, even);
        if (whole < n)
            scan.base_step<true, Zones, CheckAlive, CheckEphemeral>(whole, lanes(whole, n), range, best_base, odd);
        result = winner({even, odd});
        alignas(32) std::int32_t highest[8], lowest[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(highest), range.highest);
        _mm256_store_si256(reinterpret_cast<__m256i*>(lowest), range.lowest);
        return {best_base, *std::max_element(highest, highest + 8), *std::min_element(lowest, lowest + 8)};
    }

    /// The second pass, with the spread term: picks the best. The term is weight * (100 - count *
    /// scale), so the node with the highest base score B ends at least at B + weight * (100 -
    /// highest * scale), and a node whose base score is below B - weight * scale * (highest -
    /// lowest) cannot reach it: only the others get the term added and compared (a margin far above
    /// rounding keeps every possible winner in). The winner and its score are those of adding the
    /// term to every node.
    PAASKIT_SCHEDULER_AVX512_TARGET static lane_best spread_pass(const avx512_scan scan, std::size_t n, double weight_value, const base_summary& summary,
                                                                  double top_base) noexcept
    {
        const double step_value = weight_value * spread_scale(summary.highest);
        const double reach = step_value * static_cast<double>(summary.highest - summary.lowest);
        const __m512d threshold = _mm512_set1_pd(top_base - reach - 1e-9 * (std::fabs(top_base) + reach + 100.0 * weight_value + 1.0));
        const __m512d full = _mm512_set1_pd(weight_value * 100.0), step = _mm512_set1_pd(step_value);
        lane_best best = scan.no_best();
        for (std::size_t i = 0; i < n; i += 8) {
            const __mmask8 live = lanes(i, n);
            const __m512d base = _mm512_maskz_loadu_pd(live, scan.scores + i);
            const __mmask8 contenders = _mm512_mask_cmp_pd_mask(live, base, threshold, _CMP_GE_OQ);
            if (contenders == 0)
                continue;
            const __m512d raw = _mm512_maskz_cvtepi32_pd(contenders, _mm256_maskz_loadu_epi32(contenders, scan.counts + i));
            const __m512d score = with_spread(base, raw, full, step);
            scan.keep_best(i, contenders, score, best);
        }
        return best;
    }
};

PAASKIT_SCHEDULER_AVX512_TARGET inline scan_result scan_avx512(const scan_input& in, scan_scratch& scratch)
{
    const std::size_t n = in.count;
    if (in.tenant_per_node != nullptr) {
        scratch.scores.resize(n);
        scratch.spread_counts.resize(n);
    }
    const avx512_scan scan(in, scratch);
    using zones = avx512_scan::zone_lookup;
    scan_result best;
    const auto base_pass = [&]<zones Zones>() {
        if (in.alive_ms != nullptr)
            return in.free_ephemeral != nullptr ? avx512_scan::base_pass<Zones, true, true>(scan, n, best)
                                                : avx512_scan::base_pass<Zones, true, false>(scan, n, best);
        return in.free_ephemeral != nullptr ? avx512_scan::base_pass<Zones, false, true>(scan, n, best)
                                            : avx512_scan::base_pass<Zones, false, false>(scan, n, best);
    };
    if (in.tenant_per_node == nullptr) {
        base_pass.template operator()<zones::none>();
        return best;
    }
    const auto summary = in.zone_count <= 16 ? base_pass.template operator()<zones::registers>() : base_pass.template operator()<zones::gather>();
    alignas(64) double lane_bases[8];
    _mm512_store_pd(lane_bases, summary.best_base);
    const double top_base = *std::max_element(lane_bases, lane_bases + 8);
    if (top_base == -std::numeric_limits<double>::infinity())
        return {};
    if (!scan.guessing || summary.highest != in.spread_highest_guess)
        best = avx512_scan::winner({avx512_scan::spread_pass(scan, n, in.spread_weight, summary, top_base)});
    best.spread_highest = summary.highest;
    return best;
}

#undef PAASKIT_SCHEDULER_AVX512_INLINE
#undef PAASKIT_SCHEDULER_AVX512_TARGET

#else

inline bool avx512_available() noexcept { return false; }

inline scan_result scan_avx512(const scan_input& in, scan_scratch& scratch) { return scan_portable(in, scratch); }

#endif

} // namespace paaskit::scheduler::detail
