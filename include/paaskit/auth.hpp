#pragma once
/// \file
/// The auth component: passwords, JWTs, refresh tokens, roles and rate limits.
/// (The PostgreSQL refresh-token store is in <paaskit/auth/pg_refresh_token_store.hpp>, target
/// `paaskit::auth_pg`.)

#include <paaskit/auth/error.hpp>
#include <paaskit/auth/jwt.hpp>
#include <paaskit/auth/password.hpp>
#include <paaskit/auth/rate_limit.hpp>
#include <paaskit/auth/refresh_tokens.hpp>
#include <paaskit/auth/roles.hpp>
