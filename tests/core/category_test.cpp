// Every component's error category has an id of its own. Boost.System takes two categories with
// the same id for one, so codes of two components would compare equal (the k8s client and the
// scheduler once shared one).

#include <paaskit/auth/error.hpp>
#include <paaskit/catalog/error.hpp>
#include <paaskit/core/error.hpp>
#include <paaskit/jobs/error.hpp>
#include <paaskit/k8s/client/error.hpp>
#include <paaskit/k8s/error.hpp>
#include <paaskit/ledger/error.hpp>
#include <paaskit/notify/error.hpp>
#include <paaskit/billing/error.hpp>
#include <paaskit/pg/error.hpp>
#include <paaskit/scheduler/error.hpp>
#include <paaskit/subscriptions/error.hpp>
#include <paaskit/templates/error.hpp>

#include <catch2/catch.hpp>

#include <set>

namespace {

template <class Enum>
boost::system::error_code first_code()
{
    return make_error_code(static_cast<Enum>(1));
}

} // namespace

TEST_CASE("every component's error category is distinct")
{
    namespace p = paaskit;
    const std::vector<boost::system::error_code> firsts{
        first_code<p::core::errc>(),        first_code<p::pg::errc>(),     first_code<p::ledger::errc>(),
        first_code<p::auth::errc>(),        first_code<p::templates::errc>(), first_code<p::k8s::errc>(),
        first_code<p::catalog::errc>(),     first_code<p::scheduler::errc>(), first_code<p::k8s::client::errc>(),
        first_code<p::jobs::errc>(),        first_code<p::notify::errc>(), first_code<p::billing::errc>(),
        first_code<p::subscriptions::errc>(),
    };
    std::set<std::string> names;
    for (std::size_t i = 0; i < firsts.size(); ++i) {
        names.insert(firsts[i].category().name());
        for (std::size_t j = i + 1; j < firsts.size(); ++j) {
            INFO(firsts[i].category().name() << " and " << firsts[j].category().name());
            CHECK(firsts[i].category() != firsts[j].category());
            CHECK(firsts[i] != firsts[j]); // value 1 of each: equal only if the categories were one
        }
    }
    CHECK(names.size() == firsts.size());
}
