#include "subscriptions/service.hpp"

#include "accounts/service.hpp"
#include "billing/service.hpp"
#include "catalog/service.hpp"
#include "notifications/service.hpp"
#include "platform/cluster.hpp"

#include <paaskit/billing/error.hpp>
#include <paaskit/billing/invoice.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/core/timestamp.hpp>
#include <paaskit/core/utf8.hpp>
#include <paaskit/jobs/queue.hpp>
#include <paaskit/k8s/client/error.hpp>
#include <paaskit/k8s/scheduling.hpp>
#include <paaskit/scheduler/engine.hpp>
#include <paaskit/subscriptions/error.hpp>
#include <paaskit/subscriptions/lifecycle.hpp>

#include <boost/json/serialize.hpp>

#include <thread>

namespace paaskit::server {

namespace kc = k8s::client;
namespace subs = paaskit::subscriptions;
using subs::errc;

namespace {

const kc::resource* resource_for(std::string_view kind)
{
    static const std::pair<std::string_view, const kc::resource*> known[] = {
        {"Namespace", &kc::resources::namespaces},
        {"ResourceQuota", &kc::resources::resourcequotas},
        {"LimitRange", &kc::resources::limitranges},
        {"NetworkPolicy", &kc::resources::networkpolicies},
        {"Secret", &kc::resources::secrets},
        {"ConfigMap", &kc::resources::configmaps},
        {"PersistentVolumeClaim", &kc::resources::persistentvolumeclaims},
        {"Deployment", &kc::resources::deployments},
        {"Service", &kc::resources::services},
        {"Ingress", &kc::resources::ingresses},
        {"PodDisruptionBudget", &kc::resources::poddisruptionbudgets},
    };
    for (const auto& [name, r] : known)
        if (name == kind)
            return r;
    return nullptr;
}

/// Whether trying again may succeed: the cluster was unreachable, busy or failing, not refusing.
bool transient(const kc::failure& f)
{
    return f == kc::errc::transport || f == kc::errc::timeout || f == kc::errc::too_many_requests || f == kc::errc::internal_error ||
           f == kc::errc::service_unavailable || f == kc::errc::conflict;
}

/// The customer's plan as the workloads it runs: each Deployment's pod template.
std::vector<scheduler::workload> workloads_of(const boost::json::array& manifest, const std::string& tenant)
{
    std::vector<scheduler::workload> out;
    for (const auto& o : manifest) {
        const auto& object = o.as_object();
        if (k8s::member_string(object, "kind") != "Deployment")
            continue;
        const auto* spec = k8s::member_object(object, "spec");
        const auto* tmpl = spec ? k8s::member_object(*spec, "template") : nullptr;
        const auto* pod = tmpl ? k8s::member_object(*tmpl, "spec") : nullptr;
        if (pod != nullptr)
            out.push_back(k8s::workload_of_spec(*pod, tenant));
    }
    return out;
}

boost::json::object credentials_of(const boost::json::array& manifest)
{
    for (const auto& o : manifest) {
        const auto& object = o.as_object();
        if (k8s::member_string(object, "kind") == "Secret")
            if (const auto* values = k8s::member_object(object, "stringData"))
                return *values;
    }
    return {};
}

std::string hold_key(const subscription_store::subscription& s) { return "sub-" + s.id.to_string() + "-1"; }

} // namespace

subscription_service::subscription_service(subscription_settings settings, std::shared_ptr<pg::pool> pool, service_catalog& catalog,
                                           billing_service& billing, auth_service& accounts, cluster_connection& cluster,
                                           const core::clock& clock, core::logger log)
    : settings_(std::move(settings)), pool_(std::move(pool)), catalog_(catalog), billing_(billing), accounts_(accounts), cluster_(cluster),
      clock_(clock), log_(std::move(log)), ids_(clock)
{
}

asio::awaitable<core::result<subscription_service::subscribed>> subscription_service::subscribe(const store::user& customer,
                                                                                               subscribe_request request)
{
    if (request.service.empty() || request.plan.empty())
        co_return core::error(errc::invalid_request, "service and plan are required");
    if (request.name.size() > 100 || !core::is_valid_utf8(request.name))
        co_return core::error(errc::invalid_request, "name: at most 100 characters of UTF-8");
    if (request.idempotency_key.size() > 200)
        co_return core::error(errc::invalid_request, "Idempotency-Key: at most 200 characters");
    const std::string request_text = request.service + "\n" + request.plan + "\n" + request.name;
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    // A retried request answers what the first one made.
    const auto replay = [&]() -> asio::awaitable<core::result<std::optional<subscribed>>> {
        if (request.idempotency_key.empty())
            co_return std::optional<subscribed>{};
        auto earlier = co_await subscription_store::find_by_key(**conn, customer.id, request.idempotency_key);
        if (!earlier)
            co_return earlier.error();
        if (!*earlier)
            co_return std::optional<subscribed>{};
        if ((*earlier)->request_hash != request_text)
            co_return core::error(errc::idempotency_mismatch, "this Idempotency-Key was used for another subscription request");
        co_return std::optional<subscribed>{subscribed{subscription_store::to_json(**earlier), true}};
    };
    auto first = co_await replay();
    if (!first)
        co_return first.error();
    if (*first)
        co_return std::move(**first);

    const auto snapshot = catalog_.snapshot();
    const store::service_record* service = nullptr;
    for (const auto& entry : snapshot->active)
        if (entry.record->definition.slug == request.service)
            service = entry.record;
    if (service == nullptr)
        co_return core::error(errc::unknown_service, "no service \"" + request.service.substr(0, 64) + "\" is offered");
    const catalog::plan* plan = nullptr;
    for (const auto& p : service->definition.plans)
        if (p.id == request.plan)
            plan = &p;
    if (plan == nullptr)
        co_return core::error(errc::unknown_plan, service->definition.name + " has no plan \"" + request.plan.substr(0, 64) + "\"");

    subscription_store::subscription s;
    s.id = ids_.next();
    s.user_id = customer.id;
    s.name = request.name.empty() ? service->definition.name : request.name;
    s.service_slug = service->definition.slug;
    s.service_name = service->definition.name;
    s.plan_id = plan->id;
    s.plan_name = plan->name;
    s.price = plan->monthly_price;
    s.status = std::string(subs::to_string(subs::state::provisioning));
    if (!request.idempotency_key.empty()) {
        s.idempotency_key = request.idempotency_key;
        s.request_hash = request_text;
    }
    auto rendered = catalog::render_subscription(service->definition, {customer.id.to_string(), s.id.to_string(), plan->id}, settings_.render);
    if (!rendered)
        co_return rendered.error();
    s.namespace_name = rendered->namespace_name;
    s.host = rendered->host;
    s.url = rendered->url;
    for (auto& o : rendered->objects)
        s.manifest.push_back(std::move(o));

    // Room in the cluster now, for every workload of the plan at once.
    const auto workloads = workloads_of(s.manifest, s.namespace_name);
    // (A lambda named before co_await: GCC 12 mis-destroys one built inside the expression.)
    // From the informers' view of the cluster: no request to the cluster per subscription.
    auto fit = [&]() -> core::result<std::string> {
        const auto now = clock_.now();
        auto model = cluster_.scheduler_model(now);
        auto& engine = model->engine;
        auto placed = engine.place_batch(workloads, now);
        if (!placed)
            return placed.error();
        return *placed ? std::string() : placed->why.message();
    }();
    if (!fit)
        co_return fit.error();
    if (!fit->empty())
        co_return core::error(errc::no_capacity, "the cluster has no room for " + s.service_name + " " + s.plan_name + " now: " + *fit);

    const auto now = clock_.now();
    s.created_at = now;
    s.updated_at = now;
    bool raced = false;
    const auto create = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        if (s.idempotency_key) {
            // Two requests with one key at once: the second waits here, then finds the first's.
            auto locked = co_await c.query("SELECT pg_advisory_xact_lock(hashtextextended('paaskit.subscriptions:' || $1::text || ':' || $2, 0))",
                                           pg::params(customer.id, *s.idempotency_key));
            if (!locked)
                co_return locked.error();
            auto earlier = co_await subscription_store::find_by_key(c, customer.id, *s.idempotency_key);
            if (!earlier)
                co_return earlier.error();
            if (*earlier) {
                raced = true;
                co_return core::result<void>{};
            }
        }
        if (auto inserted = co_await subscription_store::insert(c, s); !inserted)
            co_return inserted.error();
        const billing_service::charge_details first_period{
            .customer = customer.id, .amount = s.price, .key = hold_key(s),
            .description = s.service_name + " " + s.plan_name + " (" + s.name + "), first month"};
        if (auto held = co_await billing_.hold_credit(c, first_period); !held)
            co_return held.error();
        const boost::json::object created_event{{"plan", s.plan_id}, {"price", s.price}, {"held", s.price}};
        if (auto logged = co_await event(c, s.id, "created", created_event); !logged)
            co_return logged.error();
        if (auto queued = co_await enqueue(c, provision_job, s.id, now, settings_.provision_timeout + std::chrono::seconds(120)); !queued)
            co_return queued.error();
        const boost::json::object created_mail{{"service", s.service_name}, {"plan", s.plan_name}, {"price", billing::format_idr(s.price)}, {"period", "month"}};
        co_return co_await mail(c, customer.id, "subscription_created",
                                created_mail);
    };
    if (auto created = co_await pg::transact(**conn, pg::isolation::read_committed, create); !created)
        co_return created.error();
    if (raced) {
        auto again = co_await replay();
        if (!again)
            co_return again.error();
        if (*again)
            co_return std::move(**again);
    }
    co_return subscribed{subscription_store::to_json(s), false};
}

asio::awaitable<core::result<void>> subscription_service::enqueue(pg::connection& c, std::string_view kind, core::uuid subscription,
                                                                  core::time_point at, std::chrono::milliseconds timeout, std::string_view occasion)
{
    jobs::job j;
    j.kind = std::string(kind);
    j.args = {{"subscription_id", subscription.to_string()}};
    j.run_at = at;
    j.max_attempts = 200;
    j.timeout = timeout;
    j.unique_key = std::string(kind) + ":" + subscription.to_string();
    if (!occasion.empty())
        j.unique_key += ":" + std::string(occasion);
    auto queued = co_await jobs::enqueue(c, j, clock_.now());
    if (!queued)
        co_return queued.error();
    if (!*queued) // one waits already: it runs by `at` too
        if (auto moved = co_await jobs::bring_forward(c, j.unique_key, at); !moved)
            co_return moved.error();
    co_return core::result<void>{};
}

asio::awaitable<core::result<void>> subscription_service::event(pg::connection& c, core::uuid subscription, std::string_view kind,
                                                                const boost::json::object& detail)
{
    co_return co_await subscription_store::add_event(c, ids_.next(), subscription, kind, detail, clock_.now());
}

asio::awaitable<core::result<void>> subscription_service::mail(pg::connection& c, core::uuid user, std::string_view kind,
                                                               const boost::json::object& details)
{
    if (mail_ == nullptr)
        co_return core::result<void>{};
    auto customer = co_await accounts_.find_user(c, user);
    if (!customer)
        co_return customer.error();
    if (!*customer)
        co_return core::result<void>{};
    auto values = details;
    values["name"] = (*customer)->name;
    mail_request m{.user_id = user, .to = {(*customer)->email, (*customer)->name}, .kind = std::string(kind), .values = std::move(values)};
    auto queued = co_await mail_->queue(c, m);
    if (!queued)
        co_return queued.error();
    co_return core::result<void>{};
}

namespace {

core::result<core::uuid> subscription_of(const jobs::leased_job& job)
{
    const auto* id = job.args.if_contains("subscription_id");
    if (id == nullptr || !id->is_string())
        return core::error(core::errc::invalid_argument, "the job has no subscription_id");
    return core::uuid::parse(id->as_string());
}

} // namespace

asio::awaitable<core::result<std::optional<subscription_store::subscription>>> subscription_service::subscription_for(const jobs::leased_job& job)
{
    const auto id = subscription_of(job);
    if (!id)
        co_return id.error();
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    co_return co_await subscription_store::find(**conn, *id, std::nullopt, false);
}

asio::awaitable<core::result<jobs::outcome>> subscription_service::provision(const jobs::leased_job& job)
{
    auto read = co_await subscription_for(job);
    if (!read)
        co_return read.error();
    auto found = std::move(*read);
    if (!found || found->status != subs::to_string(subs::state::provisioning))
        co_return jobs::outcome(jobs::completed{}); // done before (a repeated job), or ended
    const auto& s = *found;
    const auto deadline = s.created_at + settings_.provision_timeout;
    std::optional<std::string> failure = s.failure_reason;

    // Apply every object (server-side apply: a repeat changes nothing), then wait for the rollouts.
    if (!failure) {
        auto apply_and_watch = [this, &s, deadline]() -> core::result<std::optional<std::string>> {
            for (const auto& o : s.manifest) {
                const auto& object = o.as_object();
                const auto kind = k8s::member_string(object, "kind");
                const auto* r = resource_for(kind);
                if (r == nullptr)
                    return std::optional<std::string>("the service renders a " + std::string(kind) + ", which the platform does not apply");
                auto done = cluster_.api().apply(*r, k8s::namespace_of(object), object, settings_.field_manager, true);
                if (!done) {
                    if (transient(done.error()) && clock_.now() < deadline)
                        return core::error(errc::cluster_failure, "applying " + std::string(kind) + ": " + done.error().detail());
                    return std::optional<std::string>("the cluster refused the " + std::string(kind) + " " +
                                                      std::string(k8s::name_of(object)) + ": " + done.error().detail());
                }
            }
            for (const auto& o : s.manifest) {
                const auto& object = o.as_object();
                if (k8s::member_string(object, "kind") != "Deployment")
                    continue;
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.now());
                if (left <= std::chrono::milliseconds(0))
                    return std::optional<std::string>("the app was not running within " + std::to_string(settings_.provision_timeout.count()) + " s");
                const auto name = std::string(k8s::name_of(object));
                auto rolled = cluster_.k8s().deployments(s.namespace_name).wait_for_rollout(name, left);
                if (!rolled) {
                    if (rolled.error().code() == kc::errc::timeout)
                        return std::optional<std::string>("the app was not running within " + std::to_string(settings_.provision_timeout.count()) +
                                                          " s: " + rolled.error().detail());
                    if (transient(rolled.error()) && clock_.now() < deadline)
                        return core::error(errc::cluster_failure, "watching " + name + ": " + rolled.error().detail());
                    return std::optional<std::string>("deployment " + name + ": " + rolled.error().detail());
                }
            }
            return std::optional<std::string>();
        };
        auto applied = co_await cluster_.run(std::move(apply_and_watch));
        if (!applied) {
            log_.warn("provisioning will be retried", {{"subscription", s.id.to_string()}, {"error", applied.error().message()}});
            co_return applied.error(); // retried with backoff until the deadline
        }
        failure = *applied;
    }

    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    if (!failure) {
        const auto ready = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
            auto locked = co_await subscription_store::find(c, s.id, std::nullopt, true);
            if (!locked)
                co_return locked.error();
            if (!*locked || (*locked)->status != subs::to_string(subs::state::provisioning))
                co_return core::result<void>{};
            const auto now = clock_.now();
            const billing_service::charge_details first_period{
                .customer = s.user_id, .amount = s.price, .key = hold_key(s),
                .description = s.service_name + " " + s.plan_name + " (" + s.name + "), first month"};
            auto invoice = co_await billing_.capture_credit(c, first_period);
            if (!invoice)
                co_return invoice.error();
            const auto end = subs::add_months(now, 1);
            if (auto activated = co_await subscription_store::activate(c, s.id, now, end, now); !activated)
                co_return activated.error();
            const boost::json::object ready_event{{"charged", s.price}, {"invoice", invoice->number}};
            if (auto logged = co_await event(c, s.id, "ready", ready_event); !logged)
                co_return logged.error();
            if (auto queued = co_await enqueue(c, renew_job, s.id, end, std::chrono::seconds(120)); !queued)
                co_return queued.error();
            if (auto queued = co_await enqueue(c, remind_job, s.id, end - settings_.renewal_warning, std::chrono::seconds(60), "1"); !queued)
                co_return queued.error();
            const boost::json::object ready_mail{{"service", s.service_name}, {"url", s.url},
                                     {"sign_in", "Open the address to finish setting up " + s.service_name +
                                                     "; its generated passwords are on the subscription's page."}};
            co_return co_await mail(c, s.user_id, "service_ready",
                                    ready_mail);
        };
        if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, ready); !done)
            co_return done.error();
        log_.info("subscription ready", {{"subscription", s.id.to_string()}, {"namespace", s.namespace_name}});
        co_return jobs::outcome(jobs::completed{});
    }

    // Failed: say so first (a retry goes straight to the cleanup), remove what was applied, and
    // only then give the hold back and tell the customer.
    if (!s.failure_reason)
        if (auto decided = co_await subscription_store::decide_failure(**conn, s.id, *failure, clock_.now()); !decided)
            co_return decided.error();
    log_.warn("provisioning failed", {{"subscription", s.id.to_string()}, {"reason", *failure}});
    auto removed = co_await remove_namespace(s.namespace_name);
    if (!removed)
        co_return removed.error();
    if (!*removed)
        co_return jobs::outcome(jobs::snoozed{std::chrono::seconds(1)}); // still terminating
    const auto failed = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        auto locked = co_await subscription_store::find(c, s.id, std::nullopt, true);
        if (!locked)
            co_return locked.error();
        if (!*locked || (*locked)->status != subs::to_string(subs::state::provisioning))
            co_return core::result<void>{};
        const auto reason = (*locked)->failure_reason.value_or(*failure);
        if (auto released = co_await billing_.release_credit(c, hold_key(s)); !released)
            co_return released.error();
        if (auto ended = co_await subscription_store::end(c, s.id, subs::to_string(subs::state::failed), reason, clock_.now()); !ended)
            co_return ended.error();
        const boost::json::object failed_event{{"reason", reason}, {"released", s.price}};
        if (auto logged = co_await event(c, s.id, "failed", failed_event); !logged)
            co_return logged.error();
        const boost::json::object failed_mail{{"service", s.service_name}, {"plan", s.plan_name}, {"reason", reason}};
        co_return co_await mail(c, s.user_id, "subscription_failed", failed_mail);
    };
    if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, failed); !done)
        co_return done.error();
    co_return jobs::outcome(jobs::completed{});
}

asio::awaitable<core::result<bool>> subscription_service::remove_namespace(const std::string& namespace_name)
{
    auto remove = [this, namespace_name]() -> core::result<bool> {
        auto removed = cluster_.api().remove(kc::resources::namespaces, "", namespace_name, {.propagation = "Background"});
        if (!removed && removed.error().code() != kc::errc::not_found)
            return core::error(errc::cluster_failure, "deleting namespace " + namespace_name + ": " + removed.error().detail());
        // Gone once the cluster no longer has it (its objects are deleted first).
        for (int i = 0; i < 100; ++i) {
            auto still = cluster_.api().get(kc::resources::namespaces, "", namespace_name);
            if (!still && still.error().code() == kc::errc::not_found)
                return true;
            if (!still)
                return core::error(errc::cluster_failure, "reading namespace " + namespace_name + ": " + still.error().detail());
            std::this_thread::sleep_for(std::chrono::milliseconds(50)); // a cluster thread polls, never an event loop
        }
        return false;
    };
    auto gone = co_await cluster_.run(std::move(remove));
    co_return gone;
}

asio::awaitable<core::result<jobs::outcome>> subscription_service::teardown(const jobs::leased_job& job)
{
    auto read = co_await subscription_for(job);
    if (!read)
        co_return read.error();
    if (!*read)
        co_return jobs::outcome(jobs::completed{});
    const auto& s = **read;
    if (subs::keeps_objects(subs::parse_state(s.status).value_or(subs::state::failed)))
        co_return jobs::outcome(jobs::completed{}); // resumed meanwhile: nothing to remove
    // No database connection is held while the cluster removes the namespace.
    auto removed = co_await remove_namespace(s.namespace_name);
    if (!removed)
        co_return removed.error();
    if (!*removed)
        co_return jobs::outcome(jobs::snoozed{std::chrono::seconds(1)});
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const boost::json::object removed_event{{"namespace", s.namespace_name}};
    if (auto logged = co_await event(**conn, s.id, "removed", removed_event); !logged)
        co_return logged.error();
    co_return jobs::outcome(jobs::completed{});
}

namespace {

/// The subscription (`owner`: only that customer's), locked for the change that follows; `not_found` when there is none.
asio::awaitable<core::result<subscription_store::subscription>> locked_subscription(pg::connection& c, core::uuid id, std::optional<core::uuid> owner)
{
    auto found = co_await subscription_store::find(c, id, owner, true);
    if (!found)
        co_return found.error();
    if (!*found)
        co_return core::error(errc::not_found, "no such subscription");
    co_return std::move(**found);
}

std::string period_description(const subscription_store::subscription& s, std::int32_t period)
{
    return s.service_name + " " + s.plan_name + " (" + s.name + "), month " + std::to_string(period);
}

std::chrono::milliseconds until(core::time_point when, core::time_point now)
{
    return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(when - now));
}

} // namespace

asio::awaitable<core::result<void>> subscription_service::suspend(pg::connection& c, const subscription_store::subscription& s,
                                                                  std::string_view reason)
{
    const auto now = clock_.now();
    if (auto moved = co_await subscription_store::mark_suspended(c, s.id, reason, now); !moved)
        co_return moved.error();
    const boost::json::object suspended_event{{"reason", reason}};
    if (auto logged = co_await event(c, s.id, "suspended", suspended_event); !logged)
        co_return logged.error();
    if (auto queued = co_await enqueue(c, converge_job, s.id, now, std::chrono::seconds(120)); !queued)
        co_return queued.error();
    const boost::json::object suspended_mail{{"service", s.service_name}, {"reason", reason}, {"amount_due", billing::format_idr(s.price)}};
    co_return co_await mail(c, s.user_id, "suspended", suspended_mail);
}

asio::awaitable<core::result<void>> subscription_service::finish(pg::connection& c, const subscription_store::subscription& s, subs::state to,
                                                                 std::string_view reason)
{
    const auto now = clock_.now();
    if (auto ended = co_await subscription_store::end(c, s.id, subs::to_string(to), reason, now); !ended)
        co_return ended.error();
    const boost::json::object ended_event{{"reason", reason}};
    if (auto logged = co_await event(c, s.id, subs::to_string(to), ended_event); !logged)
        co_return logged.error();
    if (auto queued = co_await enqueue(c, teardown_job, s.id, now, std::chrono::seconds(120)); !queued)
        co_return queued.error();
    const boost::json::object ended_mail{{"service", s.service_name}, {"reason", reason}};
    co_return co_await mail(c, s.user_id, "terminated", ended_mail);
}

// One job per subscription walks it through time: at the period's end it renews (or cancels);
// with too little credit it waits out the grace period, then suspends; suspended past the
// retention, it terminates. Each run snoozes until the next moment that matters.
asio::awaitable<core::result<jobs::outcome>> subscription_service::renew(const jobs::leased_job& job)
{
    const auto id = subscription_of(job);
    if (!id)
        co_return id.error();
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    std::optional<std::chrono::milliseconds> wait;
    const auto step = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        auto locked = co_await subscription_store::find(c, *id, std::nullopt, true);
        if (!locked)
            co_return locked.error();
        if (!*locked)
            co_return core::result<void>{};
        const auto& s = **locked;
        const auto now = clock_.now();
        const auto state = subs::parse_state(s.status).value_or(subs::state::failed);
        if (state == subs::state::suspended) {
            const auto ends = s.suspended_at.value_or(now) + settings_.retention;
            if (now < ends) {
                wait = until(ends, now);
                co_return core::result<void>{};
            }
            co_return co_await finish(c, s, subs::state::terminated, "suspended for lack of credit for longer than the retention");
        }
        if ((state != subs::state::active && state != subs::state::past_due) || !s.period_end)
            co_return core::result<void>{}; // provisioning (its job starts this one) or ended
        if (state == subs::state::active && now < *s.period_end) {
            wait = until(*s.period_end, now);
            co_return core::result<void>{};
        }
        if (s.cancel_at_period_end)
            co_return co_await finish(c, s, subs::state::cancelled, "cancelled at the end of its period");
        // A downgrade takes effect with the new period.
        if (s.next_plan_id && state == subs::state::active) {
            auto switched = on_plan(s, *s.next_plan_id);
            if (!switched)
                co_return switched.error();
            if (auto changed = co_await subscription_store::change_plan(c, *switched, now); !changed)
                co_return changed.error();
            const boost::json::object downgraded_event{{"from", s.plan_id}, {"to", switched->plan_id}};
            if (auto logged = co_await event(c, s.id, "downgraded", downgraded_event); !logged)
                co_return logged.error();
            if (auto queued = co_await enqueue(c, converge_job, s.id, now, std::chrono::seconds(120)); !queued)
                co_return queued.error();
            wait = std::chrono::milliseconds(0); // renewed on the new plan at once
            co_return core::result<void>{};
        }
        // The next period, charged at once; it runs on from the end of the last one.
        const auto next = s.period + 1;
        const billing_service::charge_details charge{.customer = s.user_id, .amount = s.price,
                                                     .key = "sub-" + s.id.to_string() + "-" + std::to_string(next),
                                                     .description = period_description(s, next)};
        auto invoice = co_await billing_.charge_credit(c, charge);
        if (!invoice && invoice.error() == billing::errc::insufficient_credit) {
            if (state == subs::state::active) {
                if (auto moved = co_await subscription_store::mark_past_due(c, s.id, "the renewal found too little credit", now); !moved)
                    co_return moved.error();
                const boost::json::object past_due_event{{"amount_due", s.price}, {"grace_ends", core::time_to_json(now + settings_.grace)}};
                if (auto logged = co_await event(c, s.id, "past_due", past_due_event); !logged)
                    co_return logged.error();
                auto balance = co_await billing_.ledger().balance(c, s.user_id);
                if (!balance)
                    co_return balance.error();
                const boost::json::object past_due_mail{
                    {"service", s.service_name}, {"price", billing::format_idr(s.price)},
                    {"days", std::chrono::duration_cast<std::chrono::days>(settings_.grace).count()},
                    {"renews_at", core::format_rfc3339(now + settings_.grace)}, {"balance", billing::format_idr(balance->available)}};
                if (auto mailed = co_await mail(c, s.user_id, "renewal_reminder", past_due_mail); !mailed)
                    co_return mailed.error();
                wait = settings_.grace;
                co_return core::result<void>{};
            }
            const auto grace_ends = s.past_due_since.value_or(now) + settings_.grace;
            if (now < grace_ends) {
                wait = until(grace_ends, now);
                co_return core::result<void>{};
            }
            if (auto suspended = co_await suspend(c, s, "its renewal was not paid within the grace period"); !suspended)
                co_return suspended.error();
            wait = settings_.retention;
            co_return core::result<void>{};
        }
        if (!invoice)
            co_return invoice.error();
        const auto end = subs::add_months(*s.period_end, 1);
        if (auto moved = co_await subscription_store::start_period(c, s.id, next, *s.period_end, end, now); !moved)
            co_return moved.error();
        const boost::json::object renewed_event{{"period", next}, {"charged", s.price}, {"invoice", invoice->number}};
        if (auto logged = co_await event(c, s.id, "renewed", renewed_event); !logged)
            co_return logged.error();
        if (auto queued = co_await enqueue(c, remind_job, s.id, end - settings_.renewal_warning, std::chrono::seconds(60), std::to_string(next));
            !queued)
            co_return queued.error();
        wait = until(end, now);
        co_return core::result<void>{};
    };
    if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, step); !done)
        co_return done.error();
    if (wait)
        co_return jobs::outcome(jobs::snoozed{*wait});
    co_return jobs::outcome(jobs::completed{});
}

asio::awaitable<core::result<jobs::outcome>> subscription_service::remind(const jobs::leased_job& job)
{
    const auto id = subscription_of(job);
    if (!id)
        co_return id.error();
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const auto check = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        auto found = co_await subscription_store::find(c, *id, std::nullopt, false);
        if (!found)
            co_return found.error();
        if (!*found || (*found)->status != subs::to_string(subs::state::active) || (*found)->cancel_at_period_end || !(*found)->period_end)
            co_return core::result<void>{};
        const auto& s = **found;
        auto balance = co_await billing_.ledger().balance(c, s.user_id);
        if (!balance)
            co_return balance.error();
        if (balance->available >= s.price)
            co_return core::result<void>{};
        const auto left = std::chrono::duration_cast<std::chrono::days>(*s.period_end - clock_.now());
        const boost::json::object reminder{{"service", s.service_name}, {"price", billing::format_idr(s.price)}, {"days", std::max<std::int64_t>(0, left.count())},
                                           {"renews_at", core::format_rfc3339(*s.period_end)}, {"balance", billing::format_idr(balance->available)}};
        co_return co_await mail(c, s.user_id, "renewal_reminder", reminder);
    };
    if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, check); !done)
        co_return done.error();
    co_return jobs::outcome(jobs::completed{});
}

asio::awaitable<core::result<void>> subscription_service::credit_arrived(pg::connection& c, std::span<const core::uuid> customers)
{
    std::vector<jobs::job> settles;
    for (const auto& customer : customers) {
        jobs::job j;
        j.kind = std::string(settle_job);
        j.args = {{"user_id", customer.to_string()}};
        j.max_attempts = 50;
        j.unique_key = std::string(settle_job) + ":" + customer.to_string();
        // One job per customer (a batch may credit one several times).
        if (std::none_of(settles.begin(), settles.end(), [&](const jobs::job& s) { return s.unique_key == j.unique_key; }))
            settles.push_back(std::move(j));
    }
    auto queued = co_await jobs::enqueue_batch(c, settles, clock_.now());
    if (!queued)
        co_return queued.error();
    co_return core::result<void>{};
}

asio::awaitable<core::result<jobs::outcome>> subscription_service::settle(const jobs::leased_job& job)
{
    const auto* user_text = job.args.if_contains("user_id");
    const auto user = user_text && user_text->is_string() ? core::uuid::parse(user_text->as_string())
                                                          : core::result<core::uuid>(core::error(core::errc::invalid_uuid));
    if (!user)
        co_return core::error(core::errc::invalid_argument, "the job has no user_id");
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto waiting = co_await subscription_store::owed(**conn, *user);
    if (!waiting)
        co_return waiting.error();
    // Oldest first, each in a transaction of its own, until the credit runs out.
    for (const auto& id : *waiting) {
        bool short_of_credit = false;
        const auto pay = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
            auto locked = co_await subscription_store::find(c, id, std::nullopt, true);
            if (!locked)
                co_return locked.error();
            if (!*locked)
                co_return core::result<void>{};
            const auto& s = **locked;
            const auto state = subs::parse_state(s.status).value_or(subs::state::failed);
            if ((state != subs::state::past_due && state != subs::state::suspended) || !s.period_end)
                co_return core::result<void>{};
            const auto now = clock_.now();
            const auto next = s.period + 1;
            const billing_service::charge_details charge{.customer = s.user_id, .amount = s.price,
                                                         .key = "sub-" + s.id.to_string() + "-" + std::to_string(next),
                                                         .description = period_description(s, next)};
            auto invoice = co_await billing_.charge_credit(c, charge);
            if (!invoice && invoice.error() == billing::errc::insufficient_credit) {
                short_of_credit = true;
                co_return core::result<void>{};
            }
            if (!invoice)
                co_return invoice.error();
            // Past due: the period runs on from the last one's end. Suspended: from now (it did not run).
            const auto start = state == subs::state::suspended ? now : *s.period_end;
            const auto end = subs::add_months(start, 1);
            if (auto moved = co_await subscription_store::start_period(c, s.id, next, start, end, now); !moved)
                co_return moved.error();
            const boost::json::object resumed_event{{"period", next}, {"charged", s.price}, {"invoice", invoice->number}, {"was", s.status}};
            if (auto logged = co_await event(c, s.id, "resumed", resumed_event); !logged)
                co_return logged.error();
            if (auto queued = co_await enqueue(c, remind_job, s.id, end - settings_.renewal_warning, std::chrono::seconds(60), std::to_string(next)); !queued)
                co_return queued.error();
            if (auto queued = co_await enqueue(c, renew_job, s.id, end, std::chrono::seconds(120)); !queued)
                co_return queued.error();
            if (state != subs::state::suspended)
                co_return core::result<void>{};
            if (auto queued = co_await enqueue(c, converge_job, s.id, now, std::chrono::seconds(120)); !queued)
                co_return queued.error();
            const boost::json::object resumed_mail{{"service", s.service_name}, {"url", s.url}};
            co_return co_await mail(c, s.user_id, "resumed", resumed_mail);
        };
        if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, pay); !done)
            co_return done.error();
        if (short_of_credit)
            break;
    }
    co_return jobs::outcome(jobs::completed{});
}

// The app's objects as its state wants them: a suspended app's Deployments at zero replicas (its
// volumes, secrets and the rest kept), any other live app's as rendered.
asio::awaitable<core::result<jobs::outcome>> subscription_service::converge(const jobs::leased_job& job)
{
    auto read = co_await subscription_for(job);
    if (!read)
        co_return read.error();
    auto found = std::move(*read);
    if (!found)
        co_return jobs::outcome(jobs::completed{});
    const auto state = subs::parse_state(found->status).value_or(subs::state::failed);
    if (state == subs::state::provisioning || !subs::keeps_objects(state))
        co_return jobs::outcome(jobs::completed{}); // its own job, or the teardown's
    auto apply = [this, s = std::move(*found), state]() -> core::result<void> {
        for (const auto& o : s.manifest) {
            auto object = o.as_object();
            const auto kind = std::string(k8s::member_string(object, "kind"));
            const auto* r = resource_for(kind);
            if (r == nullptr)
                continue;
            if (kind == "Deployment" && state == subs::state::suspended)
                object["spec"].as_object()["replicas"] = 0;
            auto done = cluster_.api().apply(*r, k8s::namespace_of(object), object, settings_.field_manager, true);
            if (!done)
                return core::error(errc::cluster_failure, "applying " + kind + ": " + done.error().detail());
        }
        // Workloads a plan no longer has (a companion the downgrade drops) go; their volumes stay.
        for (const auto* r : {&kc::resources::deployments, &kc::resources::services}) {
            auto present = cluster_.api().list(*r, s.namespace_name, {.label_selector = "app.kubernetes.io/managed-by=paaskit"});
            if (!present)
                return core::error(errc::cluster_failure, "listing " + r->plural + ": " + present.error().detail());
            for (const auto& item : present->items) {
                const auto name = k8s::name_of(item.as_object());
                const bool wanted = std::any_of(s.manifest.begin(), s.manifest.end(), [&](const boost::json::value& o) {
                    return k8s::member_string(o.as_object(), "kind") == r->kind && k8s::name_of(o.as_object()) == name;
                });
                if (wanted)
                    continue;
                auto removed = cluster_.api().remove(*r, s.namespace_name, name);
                if (!removed && removed.error() != kc::errc::not_found)
                    return core::error(errc::cluster_failure, "removing " + std::string(name) + ": " + removed.error().detail());
            }
        }
        return {};
    };
    if (auto applied = co_await cluster_.run(std::move(apply)); !applied)
        co_return applied.error();
    co_return jobs::outcome(jobs::completed{});
}

core::result<subscription_store::subscription> subscription_service::on_plan(const subscription_store::subscription& s,
                                                                           const std::string& plan_id) const
{
    const auto snapshot = catalog_.snapshot();
    const store::service_record* service = nullptr;
    for (const auto& record : snapshot->services)
        if (record.definition.slug == s.service_slug)
            service = &record;
    if (service == nullptr)
        return core::error(errc::unknown_service, "the service \"" + s.service_slug + "\" is no longer offered");
    const catalog::plan* plan = nullptr;
    for (const auto& p : service->definition.plans)
        if (p.id == plan_id)
            plan = &p;
    if (plan == nullptr)
        return core::error(errc::unknown_plan, s.service_name + " has no plan \"" + plan_id.substr(0, 64) + "\"");
    auto rendered = catalog::render_subscription(service->definition, {s.user_id.to_string(), s.id.to_string(), plan->id}, settings_.render);
    if (!rendered)
        return rendered.error();
    // What must not change: the generated secrets (the app's data depends on them) and the volumes.
    const auto kept = [&](std::string_view kind, std::string_view name) -> const boost::json::value* {
        for (const auto& o : s.manifest)
            if (k8s::member_string(o.as_object(), "kind") == kind && k8s::name_of(o.as_object()) == name)
                return &o;
        return nullptr;
    };
    auto next = s;
    next.plan_id = plan->id;
    next.plan_name = plan->name;
    next.price = plan->monthly_price;
    next.manifest.clear();
    for (auto& o : rendered->objects) {
        const auto kind = k8s::member_string(o.as_object(), "kind");
        if (kind == "Secret" || kind == "PersistentVolumeClaim")
            if (const auto* old = kept(kind, k8s::name_of(o.as_object()))) {
                next.manifest.push_back(*old);
                continue;
            }
        next.manifest.push_back(std::move(o));
    }
    return next;
}

asio::awaitable<core::result<boost::json::object>> subscription_service::change_plan(core::uuid id, core::uuid owner, std::string plan)
{
    if (plan.empty())
        co_return core::error(errc::invalid_request, "plan is required");
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const auto apply = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        auto locked = co_await locked_subscription(c, id, owner);
        if (!locked)
            co_return locked.error();
        const auto& s = *locked;
        if (s.status != subs::to_string(subs::state::active) || !s.period_start || !s.period_end)
            co_return core::error(errc::wrong_state, "only an active subscription changes plan (it is " + s.status + ")");
        if (plan == s.plan_id) {
            // Back to the plan it has: a waiting downgrade is called off.
            if (auto cleared = co_await subscription_store::set_next_plan(c, id, std::nullopt, clock_.now()); !cleared)
                co_return cleared.error();
            co_return core::result<void>{};
        }
        auto next = on_plan(s, plan);
        if (!next)
            co_return next.error();
        const auto now = clock_.now();
        if (next->price <= s.price) {
            if (auto waiting = co_await subscription_store::set_next_plan(c, id, plan, now); !waiting)
                co_return waiting.error();
            const boost::json::object downgrade_event{{"from", s.plan_id}, {"to", plan}, {"from_period", s.period + 1}};
            co_return co_await event(c, id, "downgrade_scheduled", downgrade_event);
        }
        const auto amount = subs::upgrade_charge(s.price, next->price, *s.period_start, *s.period_end, now);
        if (amount > 0) {
            const billing_service::charge_details charge{
                .customer = s.user_id, .amount = amount,
                .key = "sub-" + s.id.to_string() + "-" + std::to_string(s.period) + "-upgrade-" + plan,
                .description = s.service_name + " " + s.plan_name + " to " + next->plan_name + " (" + s.name + "), rest of month " +
                               std::to_string(s.period)};
            auto invoice = co_await billing_.charge_credit(c, charge);
            if (!invoice)
                co_return invoice.error();
        }
        if (auto changed = co_await subscription_store::change_plan(c, *next, now); !changed)
            co_return changed.error();
        const boost::json::object upgrade_event{{"from", s.plan_id}, {"to", plan}, {"charged", amount}};
        if (auto logged = co_await event(c, id, "upgraded", upgrade_event); !logged)
            co_return logged.error();
        co_return co_await enqueue(c, converge_job, id, now, std::chrono::seconds(120));
    };
    if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, apply); !done)
        co_return done.error();
    conn->give_back(); // showing it takes a connection of its own
    co_return co_await show(id, owner, false);
}

asio::awaitable<core::result<void>> subscription_service::schedule_reconciliation()
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const std::chrono::milliseconds each_run = std::chrono::minutes(10);
    auto queued = co_await jobs::enqueue_singleton(**conn, reconcile_job, each_run, clock_.now());
    if (!queued)
        co_return queued.error();
    co_return core::result<void>{};
}

// What each live subscription wants against what the cluster has: a Deployment missing, or at the
// wrong scale for the state (a suspended app at zero), is put right by applying the app's objects
// again, and the repair is recorded as the subscription's event.
asio::awaitable<core::result<jobs::outcome>> subscription_service::reconcile(const jobs::leased_job&)
{
    std::vector<subscription_store::subscription> wanted;
    {
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        auto live = co_await subscription_store::live(**conn);
        if (!live)
            co_return live.error();
        wanted = std::move(*live);
    }
    struct drift {
        core::uuid id;
        boost::json::array found;
    };
    auto compare = [this, &wanted]() -> core::result<std::vector<drift>> {
        std::vector<drift> out;
        for (const auto& s : wanted) {
            const auto suspended = s.status == subs::to_string(subs::state::suspended);
            auto present = cluster_.api().list(kc::resources::deployments, s.namespace_name);
            if (!present)
                return core::error(errc::cluster_failure, "listing deployments in " + s.namespace_name + ": " + present.error().detail());
            drift d{s.id, {}};
            for (const auto& o : s.manifest) {
                const auto& object = o.as_object();
                if (k8s::member_string(object, "kind") != "Deployment")
                    continue;
                const auto name = k8s::name_of(object);
                const boost::json::object* seen = nullptr;
                for (const auto& item : present->items)
                    if (k8s::name_of(item.as_object()) == name)
                        seen = &item.as_object();
                if (seen == nullptr) {
                    d.found.push_back({{"deployment", name}, {"problem", "missing"}});
                    continue;
                }
                const auto* spec = k8s::member_object(*seen, "spec");
                const auto* replicas = spec ? spec->if_contains("replicas") : nullptr;
                const std::int64_t has = replicas && replicas->is_int64() ? replicas->as_int64() : 1;
                const std::int64_t wants = suspended ? 0 : 1;
                if (has != wants)
                    d.found.push_back({{"deployment", name}, {"problem", "replicas"}, {"has", has}, {"wants", wants}});
            }
            if (!d.found.empty())
                out.push_back(std::move(d));
        }
        return out;
    };
    auto drifted = co_await cluster_.run(std::move(compare));
    if (!drifted)
        co_return drifted.error();
    for (const auto& d : *drifted) {
        auto conn = co_await pool_->acquire();
        if (!conn)
            co_return conn.error();
        const auto record = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
            const boost::json::object repaired{{"found", d.found}};
            if (auto logged = co_await event(c, d.id, "drift_repaired", repaired); !logged)
                co_return logged.error();
            co_return co_await enqueue(c, converge_job, d.id, clock_.now(), std::chrono::seconds(120));
        };
        if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, record); !done)
            co_return done.error();
        log_.warn("drift repaired", {{"subscription", d.id.to_string()}, {"found", boost::json::serialize(d.found)}});
    }
    co_return jobs::outcome(jobs::snoozed{settings_.reconcile_every});
}

asio::awaitable<core::result<boost::json::object>> subscription_service::set_status(core::uuid id, std::string_view action, std::string reason,
                                                                                    audit::entry entry)
{
    if (action != "suspend" && action != "resume" && action != "terminate")
        co_return core::error(errc::invalid_request, "action: suspend, resume or terminate");
    if (reason.empty() || reason.size() > 500)
        co_return core::error(errc::invalid_request, "reason: 1 to 500 characters");
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const auto apply = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        auto locked = co_await locked_subscription(c, id, std::nullopt);
        if (!locked)
            co_return locked.error();
        const auto& s = *locked;
        const auto state = subs::parse_state(s.status).value_or(subs::state::failed);
        const auto now = clock_.now();
        if (action == "suspend") {
            if (state != subs::state::active && state != subs::state::past_due)
                co_return core::error(errc::wrong_state, "only an active or past-due subscription can be suspended (it is " + s.status + ")");
            if (auto suspended = co_await suspend(c, s, "suspended by an administrator: " + reason); !suspended)
                co_return suspended.error();
            // Its renewal job now counts the retention from here.
            if (auto queued = co_await enqueue(c, renew_job, s.id, now + settings_.retention, std::chrono::seconds(120)); !queued)
                co_return queued.error();
        } else if (action == "resume") {
            if (state != subs::state::suspended)
                co_return core::error(errc::wrong_state, "only a suspended subscription can be resumed (it is " + s.status + ")");
            if (auto moved = co_await subscription_store::mark_active(c, s.id, now); !moved)
                co_return moved.error();
            const boost::json::object resumed_event{{"by", "administrator"}, {"reason", reason}};
            if (auto logged = co_await event(c, s.id, "resumed", resumed_event); !logged)
                co_return logged.error();
            if (auto queued = co_await enqueue(c, converge_job, s.id, now, std::chrono::seconds(120)); !queued)
                co_return queued.error();
            if (auto queued = co_await enqueue(c, renew_job, s.id, now, std::chrono::seconds(120)); !queued)
                co_return queued.error();
            const boost::json::object resumed_mail{{"service", s.service_name}, {"url", s.url}};
            if (auto mailed = co_await mail(c, s.user_id, "resumed", resumed_mail); !mailed)
                co_return mailed.error();
        } else {
            if (!subs::keeps_objects(state) || state == subs::state::provisioning)
                co_return core::error(errc::wrong_state, "only a live subscription can be terminated (it is " + s.status + ")");
            if (auto ended = co_await finish(c, s, subs::state::terminated, "terminated by an administrator: " + reason); !ended)
                co_return ended.error();
        }
        entry.target_id = s.id.to_string();
        entry.before = {{"status", s.status}};
        entry.after = {{"action", action}, {"reason", reason}};
        co_return co_await audit::append(c, entry, ids_.next(), now);
    };
    if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, apply); !done)
        co_return done.error();
    conn->give_back(); // showing it takes a connection of its own
    co_return co_await show(id, std::nullopt, false);
}

asio::awaitable<core::result<boost::json::object>> subscription_service::show(core::uuid id, std::optional<core::uuid> owner, bool credentials)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto found = co_await subscription_store::find(**conn, id, owner, false);
    if (!found)
        co_return found.error();
    if (!*found)
        co_return core::error(errc::not_found, "no such subscription");
    auto body = subscription_store::to_json(**found);
    add_pods(body);
    auto events = co_await subscription_store::events(**conn, id);
    if (!events)
        co_return events.error();
    body["events"] = std::move(*events);
    if (credentials)
        body["credentials"] = credentials_of((*found)->manifest);
    co_return body;
}

void subscription_service::add_pods(boost::json::object& shown) const
{
    const auto* ns = shown.if_contains("namespace");
    const auto* status = shown.if_contains("status");
    const bool live = status && status->is_string() && subs::parse_state(status->as_string()) &&
                      subs::keeps_objects(*subs::parse_state(status->as_string()));
    const auto counted = live && ns && ns->is_string() ? cluster_.pods_in(std::string(ns->as_string())) : cluster_connection::pod_count{};
    shown["pods"] = {{"total", counted.pods}, {"ready", counted.ready}};
}

asio::awaitable<core::result<list_page>> subscription_service::list(const subscription_store::query& q)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto page = co_await subscription_store::list(**conn, q);
    if (!page)
        co_return page.error();
    for (auto& item : page->items)
        add_pods(item.as_object());
    co_return page;
}

core::result<std::vector<scheduler::workload>> subscription_service::plan_workloads(std::string_view service_slug, std::string_view plan_id) const
{
    const auto snapshot = catalog_.snapshot();
    for (const auto& entry : snapshot->active) {
        const auto& definition = entry.record->definition;
        if (definition.slug != service_slug)
            continue;
        for (const auto& p : definition.plans) {
            if (p.id != plan_id)
                continue;
            // Rendered for a made-up subscription: only the pods' resources and placement rules matter.
            const auto probe = core::uuid{};
            auto rendered = catalog::render_subscription(definition, {probe.to_string(), probe.to_string(), p.id}, settings_.render);
            if (!rendered)
                return rendered.error();
            boost::json::array manifest;
            for (auto& o : rendered->objects)
                manifest.push_back(std::move(o));
            return workloads_of(manifest, rendered->namespace_name);
        }
        return core::error(errc::unknown_plan, definition.name + " has no plan \"" + std::string(plan_id.substr(0, 64)) + "\"");
    }
    return core::error(errc::unknown_service, "no service \"" + std::string(service_slug.substr(0, 64)) + "\" is offered");
}

asio::awaitable<core::result<boost::json::array>> subscription_service::recent_drift(std::int64_t limit)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    co_return co_await subscription_store::recent_events(**conn, "drift_repaired", limit);
}

asio::awaitable<core::result<std::vector<subscription_store::tenant>>> subscription_service::tenants(std::optional<core::uuid> user)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    co_return co_await subscription_store::tenants(**conn, user);
}

asio::awaitable<core::result<boost::json::object>> subscription_service::stats()
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    co_return co_await subscription_store::stats(**conn);
}

asio::awaitable<core::result<boost::json::object>> subscription_service::cancel(core::uuid id, core::uuid owner, bool now)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const auto apply = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        auto locked = co_await locked_subscription(c, id, owner);
        if (!locked)
            co_return locked.error();
        const auto& s = *locked;
        const auto state = subs::parse_state(s.status).value_or(subs::state::failed);
        if (state == subs::state::provisioning)
            co_return core::error(errc::wrong_state, "the subscription is still being provisioned");
        if (subs::is_final(state))
            co_return core::error(errc::wrong_state, "the subscription has ended (" + s.status + ")");
        const auto at = clock_.now();
        if (!now) {
            if (auto marked = co_await subscription_store::set_cancel_at_period_end(c, id, true, at); !marked)
                co_return marked.error();
            const boost::json::object requested_event{{"at_period_end", true}};
            co_return co_await event(c, id, "cancel_requested", requested_event);
        }
        // Now: the unused part of a paid period back to credit, then the app goes.
        std::int64_t refund = 0;
        if (state == subs::state::active && s.period_start && s.period_end)
            refund = subs::unused_part(s.price, *s.period_start, *s.period_end, at);
        const billing_service::charge_details back{.customer = s.user_id, .amount = refund,
                                                   .key = "sub-" + s.id.to_string() + "-refund-" + std::to_string(s.period),
                                                   .description = s.service_name + " " + s.plan_name + " (" + s.name + "), unused part of month " +
                                                                  std::to_string(s.period)};
        if (auto refunded = co_await billing_.refund_credit(c, back); !refunded)
            co_return refunded.error();
        const boost::json::object refunded_event{{"refunded", refund}};
        if (auto logged = co_await event(c, id, "refunded", refunded_event); !logged)
            co_return logged.error();
        co_return co_await finish(c, s, subs::state::cancelled, "cancelled at your request");
    };
    if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, apply); !done)
        co_return done.error();
    conn->give_back(); // showing it takes a connection of its own
    co_return co_await show(id, owner, false);
}

void subscription_service::handle_jobs(jobs::worker& worker)
{
    const jobs::backoff_policy retry{.base = std::chrono::seconds(1), .factor = 2.0, .max = std::chrono::seconds(30)};
    worker.handle(std::string(provision_job), [this](const jobs::leased_job& job) { return provision(job); }, retry);
    worker.handle(std::string(teardown_job), [this](const jobs::leased_job& job) { return teardown(job); }, retry);
    worker.handle(std::string(renew_job), [this](const jobs::leased_job& job) { return renew(job); }, retry);
    worker.handle(std::string(remind_job), [this](const jobs::leased_job& job) { return remind(job); }, retry);
    worker.handle(std::string(converge_job), [this](const jobs::leased_job& job) { return converge(job); }, retry);
    worker.handle(std::string(settle_job), [this](const jobs::leased_job& job) { return settle(job); }, retry);
    worker.handle(std::string(reconcile_job), [this](const jobs::leased_job& job) { return reconcile(job); }, retry);
}

} // namespace paaskit::server
