// JWT sign and verify per second (HS256, EdDSA) for a typical access token, and the time one
// password hash takes at the default scrypt parameters. One thread: figures are per core.
//
//   build/bench/bench/paaskit_auth_bench

#include <paaskit/auth/jwt.hpp>
#include <paaskit/auth/password.hpp>

#include <benchmark/benchmark.h>

using namespace paaskit;

namespace {

// What the reference server puts in an access token.
boost::json::object access_claims()
{
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return {{"iss", "paaskit"},
            {"aud", "paaskit-api"},
            {"sub", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},
            {"sid", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"},
            {"role", "USER"},
            {"iat", now},
            {"nbf", now},
            {"exp", now + 900},
            {"jti", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d"}};
}

auth::jwt_key_set key_set(auth::jwt_algorithm algorithm)
{
    auth::jwt_key_set keys;
    auto key = algorithm == auth::jwt_algorithm::hs256 ? auth::jwt_key::hs256("k1", std::string(32, 's'))
                                                        : auth::jwt_key::generate_ed25519("k1");
    (void)keys.add(std::move(key).value());
    return keys;
}

void bm_jwt_sign(benchmark::State& state)
{
    const auto keys = key_set(static_cast<auth::jwt_algorithm>(state.range(0)));
    const auto claims = access_claims();
    for (auto _ : state)
        benchmark::DoNotOptimize(auth::sign_jwt(keys, claims).value());
    state.SetItemsProcessed(state.iterations());
}

void bm_jwt_verify(benchmark::State& state)
{
    const auto keys = key_set(static_cast<auth::jwt_algorithm>(state.range(0)));
    const auto token = auth::sign_jwt(keys, access_claims()).value();
    const auth::jwt_validation rules{.issuer = "paaskit", .audience = "paaskit-api"};
    const auto now = core::system_clock{}.now();
    state.counters["token_bytes"] = static_cast<double>(token.size());
    for (auto _ : state) {
        auto verified = auth::verify_jwt(keys, token, rules, now);
        if (!verified)
            state.SkipWithError(verified.error().message().c_str());
        benchmark::DoNotOptimize(verified);
    }
    state.SetItemsProcessed(state.iterations());
}

void bm_password_hash(benchmark::State& state)
{
    const auth::password_hasher hasher; // the defaults: N=2^15, r=8, p=3
    for (auto _ : state)
        benchmark::DoNotOptimize(hasher.hash("correct horse battery staple").value());
    state.SetItemsProcessed(state.iterations());
}

void bm_password_verify(benchmark::State& state)
{
    const auth::password_hasher hasher;
    const auto phc = hasher.hash("correct horse battery staple").value();
    for (auto _ : state)
        benchmark::DoNotOptimize(hasher.verify("correct horse battery staple", phc).value());
    state.SetItemsProcessed(state.iterations());
}

} // namespace

BENCHMARK(bm_jwt_sign)->ArgName("eddsa")->Arg(0)->Arg(1);
BENCHMARK(bm_jwt_verify)->ArgName("eddsa")->Arg(0)->Arg(1);

// The server's path: the claims read without building a JSON tree.
void bm_jwt_verify_claims(benchmark::State& state)
{
    const auto keys = key_set(auth::jwt_algorithm::hs256);
    const auto token = auth::sign_jwt(keys, access_claims()).value();
    const auth::jwt_validation rules{.issuer = "paaskit", .audience = "paaskit-api"};
    const auto now = core::system_clock{}.now();
    for (auto _ : state) {
        auto verified = auth::verify_jwt_claims(keys, token, rules, now);
        if (!verified)
            state.SkipWithError(verified.error().message().c_str());
        benchmark::DoNotOptimize(verified);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_jwt_verify_claims);
BENCHMARK(bm_password_hash)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(bm_password_verify)->Unit(benchmark::kMillisecond)->MinTime(2.0);

BENCHMARK_MAIN();
