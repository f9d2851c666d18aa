#pragma once
/// \file
/// The scheduler's hot loop: filter and score every node for a plain workload and find the best,
/// over the engine's struct-of-arrays columns. Two kernels compute bit-identical results: a
/// portable one the compiler vectorises with whatever the build targets, and (x86-64 with GCC or
/// Clang) an AVX-512 one chosen at run time when the processor has it.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
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
    const std::int64_t* alive_ms = nullptr; ///< last heartbeat, or far in the past when cordoned / not ready
    const std::int64_t* free_cpu = nullptr;
    const std::int64_t* free_memory = nullptr;
    const std::int64_t* free_ephemeral = nullptr;
    const std::int64_t* free_pods = nullptr;
    const double* used_cpu = nullptr;
    const double* used_memory = nullptr;
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
};

/// The best node (highest score; equal scores: lowest rank, then lowest index) or none feasible.
struct scan_result {
    bool found = false;
    std::uint32_t node = 0;
    double score = 0;
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

/// Tenant spread's scale: 100 over the highest count among feasible nodes (0 when all are 0).
inline double spread_scale(std::int32_t highest) noexcept { return highest > 0 ? 100.0 / static_cast<double>(highest) : 0.0; }

/// Branch-free passes the compiler vectorises (SSE2 on the x86-64 baseline).
inline scan_result scan_portable(const scan_input& in, scan_scratch& scratch)
{
    const std::size_t n = in.count;
    scratch.scores.resize(n);
    scratch.feasible.resize(n);
    // Locals and restrict-qualified pointers: nothing the loops write can alias what they read,
    // which is what lets the compiler vectorise them.
    double* __restrict const scores = scratch.scores.data();
    std::int32_t* __restrict const feasible = scratch.feasible.data();
    const std::int64_t* __restrict const alive = in.alive_ms;
    const std::int64_t* __restrict const free_cpu = in.free_cpu;
    const std::int64_t* __restrict const free_memory = in.free_memory;
    const std::int64_t* __restrict const free_ephemeral = in.free_ephemeral;
    const std::int64_t* __restrict const free_pods = in.free_pods;
    const double* __restrict const used_cpu = in.used_cpu;
    const double* __restrict const used_memory = in.used_memory;
    const double* __restrict const inv_cpu = in.inv_cpu;
    const double* __restrict const inv_memory = in.inv_memory;
    const double cpu = static_cast<double>(in.cpu), memory = static_cast<double>(in.memory);
    const std::int64_t cutoff = in.cutoff_ms, cpu_i = in.cpu, memory_i = in.memory, ephemeral_i = in.ephemeral, pods_i = in.pods;
    const base_weights weights = in.weights;
    const double infeasible = -std::numeric_limits<double>::infinity();
    const auto infeasible_bits = std::bit_cast<std::uint64_t>(infeasible);
    for (std::size_t i = 0; i < n; ++i) {
        // Infeasible when any slack is negative: the OR of the slacks' sign bits, spread into a
        // mask. Integer operations only, so the loop has no branch and vectorises.
        const std::uint64_t negative = static_cast<std::uint64_t>((alive[i] - cutoff) | (free_cpu[i] - cpu_i) | (free_memory[i] - memory_i)
                                                                  | (free_ephemeral[i] - ephemeral_i) | (free_pods[i] - pods_i))
                                       >> 63;
        const std::uint64_t mask = 0 - negative;
        const double s = base_score(weights, (used_cpu[i] + cpu) * inv_cpu[i], (used_memory[i] + memory) * inv_memory[i]);
        scores[i] = std::bit_cast<double>((std::bit_cast<std::uint64_t>(s) & ~mask) | (infeasible_bits & mask));
        feasible[i] = static_cast<std::int32_t>(negative) - 1; // all ones when feasible
    }
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
        const double weight = in.spread_weight;
        const double scale = spread_scale(highest);
        for (std::size_t i = 0; i < n; ++i)
            scores[i] += weight * (100.0 - static_cast<double>(raw[i]) * scale);
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
    return {true, chosen, top};
}

#ifdef PAASKIT_SCHEDULER_AVX512

/// Whether this processor runs scan_avx512.
inline bool avx512_available() noexcept
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
           && __builtin_cpu_supports("avx2");
}

// Eight nodes per step. A pass filters and scores (the base score, then the spread term once the
// highest spread count is known) keeping each lane's highest score; a last pass looks for the top
// score again and breaks ties by rank and index among the nodes that have it. The main loops load
// whole blocks; only the last, partial block uses masked loads. No fused multiply-add: the scores
// must be the portable kernel's to the bit. The masked (maskz) forms of conversions and shifts are
// used because GCC 12's unmasked ones start from an undefined register, which
// -Wmaybe-uninitialized reports.
#define PAASKIT_SCHEDULER_AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx2"), optimize("fp-contract=off")))

#define PAASKIT_SCHEDULER_AVX512_INLINE PAASKIT_SCHEDULER_AVX512_TARGET __attribute__((always_inline))

/// One scan's columns and constants, held by value: made and used inside scan_avx512 only, so that
/// the compiler keeps them in registers (stores to the scratch columns cannot alias a local).
struct avx512_scan {
    const std::int64_t *alive, *free_cpu, *free_memory, *free_ephemeral, *free_pods;
    const double *used_cpu, *used_memory, *inv_cpu, *inv_memory;
    const std::uint32_t *rank, *per_node, *zones, *per_zone;
    double* scores;
    std::int32_t* counts;
    __m512i cutoff, cpu_i, memory_i, ephemeral_i, pods_i;
    __m512d cpu, memory, constant, sum_slope, apart_slope, infeasible;
    __m256i zone_table_low, zone_table_high; ///< the tenant's per-zone counts, for up to 16 zones

    PAASKIT_SCHEDULER_AVX512_INLINE avx512_scan(const scan_input& in, scan_scratch& scratch)
        : alive(in.alive_ms), free_cpu(in.free_cpu), free_memory(in.free_memory), free_ephemeral(in.free_ephemeral), free_pods(in.free_pods),
          used_cpu(in.used_cpu), used_memory(in.used_memory), inv_cpu(in.inv_cpu), inv_memory(in.inv_memory), rank(in.rank),
          per_node(in.tenant_per_node), zones(in.zone), per_zone(in.tenant_per_zone), scores(scratch.scores.data()),
          counts(scratch.spread_counts.data()), cutoff(_mm512_set1_epi64(in.cutoff_ms)), cpu_i(_mm512_set1_epi64(in.cpu)),
          memory_i(_mm512_set1_epi64(in.memory)), ephemeral_i(_mm512_set1_epi64(in.ephemeral)), pods_i(_mm512_set1_epi64(in.pods)),
          cpu(_mm512_set1_pd(static_cast<double>(in.cpu))), memory(_mm512_set1_pd(static_cast<double>(in.memory))),
          constant(_mm512_set1_pd(in.weights.constant)), sum_slope(_mm512_set1_pd(in.weights.sum_slope)),
          apart_slope(_mm512_set1_pd(in.weights.apart_slope)), infeasible(_mm512_set1_pd(-std::numeric_limits<double>::infinity())),
          zone_table_low(_mm256_setzero_si256()), zone_table_high(_mm256_setzero_si256())
    {
        if (per_node != nullptr && in.zone_count <= 16) {
            alignas(32) std::uint32_t table[16] = {};
            std::copy(per_zone, per_zone + in.zone_count, table);
            zone_table_low = _mm256_load_si256(reinterpret_cast<const __m256i*>(table));
            zone_table_high = _mm256_load_si256(reinterpret_cast<const __m256i*>(table + 8));
        }
    }

    enum class zone_lookup { none, registers, gather };

    /// Filters and scores the block at i (its lanes `live`), stores its scores and returns them;
    /// with the spread term, stores the nodes' counts too and raises `highest` to the feasible ones'.
    template <bool Partial, zone_lookup Zones>
    PAASKIT_SCHEDULER_AVX512_INLINE __m512d base_block(std::size_t i, __mmask8 live, __m256i& highest) const noexcept
    {
        const auto load = [&](const std::int64_t* column) {
            return Partial ? _mm512_maskz_loadu_epi64(live, column + i) : _mm512_loadu_si512(column + i);
        };
        const auto load_pd = [&](const double* column) { return Partial ? _mm512_maskz_loadu_pd(live, column + i) : _mm512_loadu_pd(column + i); };
        const auto load_32 = [&](const std::uint32_t* column) {
            return Partial ? _mm256_maskz_loadu_epi32(live, column + i) : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(column + i));
        };
        __mmask8 ok = _mm512_mask_cmpge_epi64_mask(live, load(alive), cutoff);
        ok = _mm512_mask_cmpge_epi64_mask(ok, load(free_cpu), cpu_i);
        ok = _mm512_mask_cmpge_epi64_mask(ok, load(free_memory), memory_i);
        ok = _mm512_mask_cmpge_epi64_mask(ok, load(free_ephemeral), ephemeral_i);
        ok = _mm512_mask_cmpge_epi64_mask(ok, load(free_pods), pods_i);
        const __m512d cpu_fraction = _mm512_mul_pd(_mm512_add_pd(load_pd(used_cpu), cpu), load_pd(inv_cpu));
        const __m512d memory_fraction = _mm512_mul_pd(_mm512_add_pd(load_pd(used_memory), memory), load_pd(inv_memory));
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
            highest = _mm256_mask_max_epi32(highest, ok, highest, raw);
            _mm256_mask_storeu_epi32(counts + i, live, raw);
        }
        _mm512_mask_storeu_pd(scores + i, live, score);
        return score;
    }

    /// Adds the spread term to the stored scores of the block at i and returns them.
    template <bool Partial>
    PAASKIT_SCHEDULER_AVX512_INLINE __m512d spread_block(std::size_t i, __mmask8 live, __m512d weight, __m512d scale) const noexcept
    {
        const __m256i raw_counts = Partial ? _mm256_maskz_loadu_epi32(live, counts + i) : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(counts + i));
        const __m512d raw = _mm512_maskz_cvtepi32_pd(live, raw_counts);
        const __m512d base = Partial ? _mm512_mask_loadu_pd(infeasible, live, scores + i) : _mm512_loadu_pd(scores + i);
        const __m512d score = _mm512_add_pd(base, _mm512_mul_pd(weight, _mm512_sub_pd(_mm512_set1_pd(100.0), _mm512_mul_pd(raw, scale))));
        _mm512_mask_storeu_pd(scores + i, live, score);
        return score;
    }

    PAASKIT_SCHEDULER_AVX512_INLINE static __mmask8 lanes(std::size_t i, std::size_t n) noexcept
    {
        return n - i >= 8 ? __mmask8(0xff) : static_cast<__mmask8>((1u << (n - i)) - 1);
    }

    /// Base scores of every node, each lane's highest in `best`; the highest spread count.
    template <zone_lookup Zones>
    PAASKIT_SCHEDULER_AVX512_INLINE std::int32_t base_pass(std::size_t n, __m512d& best) const noexcept
    {
        const std::size_t whole = n & ~std::size_t{7};
        __m256i highest = _mm256_setzero_si256();
        for (std::size_t i = 0; i < whole; i += 8)
            best = _mm512_mask_max_pd(best, 0xff, best, base_block<false, Zones>(i, 0xff, highest));
        if (whole < n)
            best = _mm512_mask_max_pd(best, lanes(whole, n), best, base_block<true, Zones>(whole, lanes(whole, n), highest));
        alignas(32) std::int32_t lane_counts[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(lane_counts), highest);
        return *std::max_element(lane_counts, lane_counts + 8);
    }

    /// The spread term added to every stored score; returns each lane's highest.
    PAASKIT_SCHEDULER_AVX512_INLINE __m512d spread_pass(std::size_t n, double weight_value, std::int32_t highest_count) const noexcept
    {
        const std::size_t whole = n & ~std::size_t{7};
        const __m512d weight = _mm512_set1_pd(weight_value), scale = _mm512_set1_pd(spread_scale(highest_count));
        __m512d best = infeasible;
        for (std::size_t i = 0; i < whole; i += 8)
            best = _mm512_mask_max_pd(best, 0xff, best, spread_block<false>(i, 0xff, weight, scale));
        if (whole < n)
            best = _mm512_mask_max_pd(best, lanes(whole, n), best, spread_block<true>(whole, lanes(whole, n), weight, scale));
        return best;
    }

    /// Among the nodes whose stored score is `top`: the lowest rank, then the lowest index.
    PAASKIT_SCHEDULER_AVX512_INLINE std::uint32_t first_with(std::size_t n, double top) const noexcept
    {
        const __m512d wanted = _mm512_set1_pd(top);
        const __m512i steps = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
        __m512i best_key = _mm512_set1_epi64(-1);
        for (std::size_t i = 0; i < n; i += 8) {
            const __mmask8 live = lanes(i, n);
            const __mmask8 tied = _mm512_mask_cmp_pd_mask(live, _mm512_maskz_loadu_pd(live, scores + i), wanted, _CMP_EQ_OQ);
            if (tied == 0)
                continue;
            const __m512i ranks = _mm512_maskz_cvtepu32_epi64(tied, _mm256_maskz_loadu_epi32(tied, rank + i));
            const __m512i key
                = _mm512_or_si512(_mm512_maskz_slli_epi64(tied, ranks, 32), _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(i)), steps));
            best_key = _mm512_mask_min_epu64(best_key, tied, best_key, key);
        }
        alignas(64) std::uint64_t keys[8];
        _mm512_store_si512(keys, best_key);
        return static_cast<std::uint32_t>(*std::min_element(keys, keys + 8));
    }
};

PAASKIT_SCHEDULER_AVX512_TARGET inline scan_result scan_avx512(const scan_input& in, scan_scratch& scratch)
{
    const std::size_t n = in.count;
    scratch.scores.resize(n);
    if (in.tenant_per_node != nullptr)
        scratch.spread_counts.resize(n);
    const avx512_scan scan(in, scratch);
    __m512d best = scan.infeasible;
    if (in.tenant_per_node == nullptr) {
        scan.base_pass<avx512_scan::zone_lookup::none>(n, best);
    } else {
        const std::int32_t highest = in.zone_count <= 16 ? scan.base_pass<avx512_scan::zone_lookup::registers>(n, best)
                                                         : scan.base_pass<avx512_scan::zone_lookup::gather>(n, best);
        best = scan.spread_pass(n, in.spread_weight, highest);
    }
    alignas(64) double lane_best[8];
    _mm512_store_pd(lane_best, best);
    const double top = *std::max_element(lane_best, lane_best + 8);
    if (top == -std::numeric_limits<double>::infinity())
        return {};
    return {true, scan.first_with(n, top), top};
}

#undef PAASKIT_SCHEDULER_AVX512_INLINE
#undef PAASKIT_SCHEDULER_AVX512_TARGET

#else

inline bool avx512_available() noexcept { return false; }

inline scan_result scan_avx512(const scan_input& in, scan_scratch& scratch) { return scan_portable(in, scratch); }

#endif

} // namespace paaskit::scheduler::detail
