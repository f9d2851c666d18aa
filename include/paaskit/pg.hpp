#pragma once
/// \file
/// paaskit::pg — PostgreSQL through libpq's non-blocking API on Asio: connections, pipeline
/// mode, typed rows, SQLSTATE error codes, and a private local cluster for tests and the
/// reference server's embedded default.

#include <paaskit/pg/binary_array.hpp>
#include <paaskit/pg/connection.hpp>
#include <paaskit/pg/error.hpp>
#include <paaskit/pg/local_cluster.hpp>
#include <paaskit/pg/migrations.hpp>
#include <paaskit/pg/params.hpp>
#include <paaskit/pg/pool.hpp>
#include <paaskit/pg/query_result.hpp>
#include <paaskit/pg/transaction.hpp>
