// The libFuzzer entry point for one target, chosen at compile time by PAASKIT_FUZZ_TARGET
// (scripts/fuzz builds one program per target with clang and -fsanitize=fuzzer).

#include "harness.hpp"

#ifndef PAASKIT_FUZZ_TARGET
#error "define PAASKIT_FUZZ_TARGET to the target's function name, e.g. quantity"
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    return paaskit::fuzz::PAASKIT_FUZZ_TARGET(data, size);
}
