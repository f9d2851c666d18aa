#pragma once
/// \file
/// `result<T>`: the return type of every fallible paaskit call.

#include <paaskit/core/error.hpp>

#include <boost/system/result.hpp>

namespace paaskit::core {

/// Either a `T` or a `core::error`. `value()` throws `boost::system::system_error` on an error;
/// test `has_value()` (or `if (r)`) first where failure is expected.
template <class T = void>
using result = boost::system::result<T, error>;

} // namespace paaskit::core
