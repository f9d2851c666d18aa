#pragma once
// auth's Base64 is core's (core/detail/base64.hpp), shared with the simulated cluster.

#include <paaskit/core/detail/base64.hpp>

namespace paaskit::auth::detail {
using core::detail::base64_alphabet;
using core::detail::base64_decode;
using core::detail::base64_decode_into;
using core::detail::base64_encode;
using core::detail::base64_encode_to;
} // namespace paaskit::auth::detail
