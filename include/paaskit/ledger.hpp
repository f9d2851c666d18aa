#pragma once
/// \file
/// The ledger component: double-entry accounts and transfers, and the memory engine. The
/// PostgreSQL engine is `<paaskit/ledger/pg_engine.hpp>` (target `paaskit::ledger_pg`).

#include <paaskit/ledger/account.hpp>
#include <paaskit/ledger/audit.hpp>
#include <paaskit/ledger/error.hpp>
#include <paaskit/ledger/flags.hpp>
#include <paaskit/ledger/memory_engine.hpp>
#include <paaskit/ledger/query.hpp>
#include <paaskit/ledger/results.hpp>
#include <paaskit/ledger/transfer.hpp>
#include <paaskit/ledger/uint128.hpp>
