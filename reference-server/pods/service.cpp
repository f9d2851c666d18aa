#include "pods/service.hpp"

#include "http/response_stream.hpp"
#include "platform/cluster.hpp"
#include "subscriptions/service.hpp"

#include <paaskit/core/json.hpp>
#include <paaskit/k8s/pod_status.hpp>
#include <paaskit/jobs/queue.hpp>
#include <paaskit/pg/transaction.hpp>
#include <paaskit/subscriptions/error.hpp>

#include <boost/json/serialize.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>

namespace paaskit::server {

namespace asio = boost::asio;
namespace json = boost::json;
namespace kc = k8s::client;
using subscriptions::errc;

namespace {

using tenant = subscription_store::tenant;
using indexed_pod = cluster_connection::indexed_pod;

struct row {
    const indexed_pod* pod;
    const tenant* owner;
};

json::value time_or_null(const std::optional<core::time_point>& t) { return t ? core::time_to_json(*t) : json::value(nullptr); }

json::object pod_json(const row& r, core::time_point now, bool with_owner)
{
    const auto& s = r.pod->status;
    json::object o{{"id", r.pod->uid},
                   {"name", r.pod->name},
                   {"namespace", r.pod->namespace_name},
                   {"subscription_id", r.owner->subscription.to_string()},
                   {"subscription_name", r.owner->name},
                   {"service", r.owner->service},
                   {"phase", s.phase},
                   {"status", s.status},
                   {"ready", s.ready},
                   {"containers", json::object{{"ready", s.ready_containers}, {"total", s.containers}}},
                   {"restarts", s.restarts},
                   {"node", s.node.empty() ? json::value(nullptr) : json::value(s.node)},
                   {"created_at", time_or_null(s.created)},
                   {"age_seconds", s.created ? std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(now - *s.created).count())
                                             : json::value(nullptr)}};
    if (with_owner)
        o["user_id"] = r.owner->user_id.to_string();
    return o;
}

/// The pod's Deployment: its ReplicaSet's name without the pod template's hash.
std::string deployment_of(const json::object& pod)
{
    const auto& metadata = k8s::metadata_of(pod);
    const auto* labels = k8s::member_object(metadata, "labels");
    const auto hash = labels != nullptr ? k8s::member_string(*labels, "pod-template-hash") : std::string_view();
    if (const auto* owners = k8s::member_array(metadata, "ownerReferences"))
        for (const auto& o : *owners) {
            if (!o.is_object() || k8s::member_string(o.get_object(), "kind") != "ReplicaSet")
                continue;
            const auto rs = k8s::member_string(o.get_object(), "name");
            if (!hash.empty() && rs.size() > hash.size() + 1 && rs.ends_with(hash) && rs[rs.size() - hash.size() - 1] == '-')
                return std::string(rs.substr(0, rs.size() - hash.size() - 1));
        }
    return {};
}

bool sorted_before(const row& a, const row& b, std::string_view key)
{
    const auto& as = a.pod->status;
    const auto& bs = b.pod->status;
    if (key == "age") { // youngest first
        const auto at = as.created.value_or(core::time_point{});
        const auto bt = bs.created.value_or(core::time_point{});
        if (at != bt)
            return at > bt;
    } else if (key == "restarts") {
        if (as.restarts != bs.restarts)
            return as.restarts < bs.restarts;
    } else if (key == "node") {
        if (as.node != bs.node)
            return as.node < bs.node;
    }
    const auto& an = a.pod->namespace_name;
    const auto& bn = b.pod->namespace_name;
    return an != bn ? an < bn : a.pod->name < b.pod->name;
}

} // namespace

struct pod_service::found_pod {
    cluster_connection::pod_ptr pod;
    tenant owner;
};

/// The managed pods (those in a live subscription's namespace) with their owners, by namespace
/// then name: built once per pod table and directory, shared by the requests in between.
struct pod_service::managed_pods {
    std::shared_ptr<const cluster_connection::pod_table> table;
    tenant_directory::snapshot_ptr owners;
    std::vector<row> rows;
};

bool pod_service::known_sort(std::string_view sort) noexcept
{
    if (sort.starts_with('-'))
        sort.remove_prefix(1);
    return sort == "name" || sort == "age" || sort == "restarts" || sort == "node";
}

asio::awaitable<core::result<std::shared_ptr<const pod_service::managed_pods>>> pod_service::managed()
{
    auto owners = co_await subscriptions_.tenant_snapshot();
    if (!owners)
        co_return owners.error();
    auto table = cluster_.pods_table();
    {
        const std::lock_guard lock(managed_mutex_);
        if (managed_ && managed_->table == table && managed_->owners == *owners)
            co_return managed_;
    }
    auto view = std::make_shared<managed_pods>();
    view->table = std::move(table);
    view->owners = std::move(*owners);
    const tenant* owner = nullptr;
    const std::string* looked_up = nullptr;
    for (const auto& pod : view->table->pods) {
        if (looked_up == nullptr || pod->namespace_name != *looked_up) { // pods come namespace by namespace
            looked_up = &pod->namespace_name;
            owner = view->owners->owner_of(*looked_up);
        }
        if (owner != nullptr)
            view->rows.push_back({pod.get(), owner});
    }
    const std::lock_guard lock(managed_mutex_);
    managed_ = view; // the newest wins: both were built from what was current when asked
    co_return view;
}

asio::awaitable<core::result<list_page>> pod_service::list(const pod_query& q)
{
    auto view = co_await managed();
    if (!view)
        co_return view.error();
    const auto& all = (*view)->rows;
    const auto matches = [&](const row& r) {
        return (q.service.empty() || r.owner->service == q.service) && (q.phase.empty() || r.pod->status.phase == q.phase) &&
               (q.node.empty() || r.pod->status.node == q.node);
    };
    const auto who = q.owner ? q.owner : q.customer;
    const bool filtered = who || !q.service.empty() || !q.phase.empty() || !q.node.empty();
    std::vector<row> selected;
    if (who) { // a customer's few namespaces, each a contiguous run of the rows
        for (const auto* t : (*view)->owners->of(*who)) {
            const auto first = std::lower_bound(all.begin(), all.end(), t->namespace_name,
                                                [](const row& r, const std::string& ns) { return r.pod->namespace_name < ns; });
            for (auto i = first; i != all.end() && i->owner == t; ++i)
                if (matches(*i))
                    selected.push_back(*i);
        }
    } else if (filtered) {
        std::copy_if(all.begin(), all.end(), std::back_inserter(selected), matches);
    }
    const auto& rows = filtered ? selected : all;

    list_page page;
    page.total = static_cast<std::int64_t>(rows.size());
    const auto first = std::min<std::size_t>(rows.size(), static_cast<std::size_t>(q.offset));
    const auto last = std::min<std::size_t>(rows.size(), first + static_cast<std::size_t>(q.limit));
    const auto now = clock_.now();
    const bool reverse = q.sort.starts_with('-');
    const std::string_view key = reverse ? std::string_view(q.sort).substr(1) : std::string_view(q.sort);
    if (key == "name" && !reverse) { // the rows' own order
        for (auto i = first; i < last; ++i)
            page.items.push_back(pod_json(rows[i], now, !q.owner));
        co_return page;
    }
    // Only the requested page needs its place found: the rows before it are ordered just enough.
    std::vector<row> ordered(rows.begin(), rows.end());
    const auto before = [&](const row& a, const row& b) { return reverse ? sorted_before(b, a, key) : sorted_before(a, b, key); };
    std::nth_element(ordered.begin(), ordered.begin() + static_cast<std::ptrdiff_t>(first), ordered.end(), before);
    std::partial_sort(ordered.begin() + static_cast<std::ptrdiff_t>(first), ordered.begin() + static_cast<std::ptrdiff_t>(last), ordered.end(),
                      before);
    for (auto i = first; i < last; ++i)
        page.items.push_back(pod_json(ordered[i], now, !q.owner));
    co_return page;
}

asio::awaitable<core::result<json::object>> pod_service::stats()
{
    auto view = co_await managed();
    if (!view)
        co_return view.error();
    json::object by_phase;
    json::object by_status;
    json::object by_service;
    json::object by_node;
    std::int64_t total = 0;
    std::int64_t not_ready = 0;
    std::int64_t restarts = 0;
    const auto bump = [](json::object& counts, std::string_view key) {
        auto& slot = counts[key.empty() ? std::string_view("(none)") : key];
        slot = (slot.is_int64() ? slot.get_int64() : 0) + 1;
    };
    for (const auto& r : (*view)->rows) {
        const auto& s = r.pod->status;
        ++total;
        if (!s.ready)
            ++not_ready;
        restarts += s.restarts;
        bump(by_phase, s.phase);
        bump(by_status, s.status);
        bump(by_service, r.owner->service);
        bump(by_node, s.node);
    }
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto open = co_await (*conn)->query("SELECT kind, count(*) FROM paaskit_pod_incidents WHERE resolved_at IS NULL GROUP BY kind ORDER BY kind");
    if (!open)
        co_return open.error();
    json::object incidents{{"crash_loop", 0}, {"failed", 0}};
    for (int i = 0; i < open->rows(); ++i)
        incidents[open->get<std::string>(i, 0).value()] = open->get<std::int64_t>(i, 1).value();
    co_return json::object{{"total", total},     {"not_ready", not_ready},   {"restarts", restarts},       {"by_phase", std::move(by_phase)},
                           {"by_status", std::move(by_status)}, {"by_service", std::move(by_service)}, {"by_node", std::move(by_node)},
                           {"open_incidents", std::move(incidents)}};
}

asio::awaitable<core::result<pod_service::found_pod>> pod_service::find(std::string_view id, std::optional<core::uuid> owner, bool fresh)
{
    auto pod = cluster_.pod_by_uid(id);
    if (!pod)
        co_return core::error(errc::not_found, "no such pod");
    const auto mine = [&](const tenant& t) { return t.namespace_name == pod->namespace_name && (!owner || t.user_id == *owner); };
    if (fresh) { // the owner's state as committed now
        auto owners = co_await subscriptions_.tenants(owner);
        if (!owners)
            co_return owners.error();
        for (auto& t : *owners)
            if (mine(t))
                co_return found_pod{std::move(pod), std::move(t)};
    } else {
        auto owners = co_await subscriptions_.tenant_snapshot();
        if (!owners)
            co_return owners.error();
        if (const auto* t = (*owners)->owner_of(pod->namespace_name); t != nullptr && mine(*t))
            co_return found_pod{std::move(pod), *t};
    }
    co_return core::error(errc::not_found, "no such pod"); // another customer's, or nobody's
}

asio::awaitable<core::result<json::object>> pod_service::show(std::string_view id, std::optional<core::uuid> owner)
{
    auto found = co_await find(id, owner);
    if (!found)
        co_return found.error();
    const auto& object = *found->pod->object;
    auto shown = pod_json(row{found->pod.get(), &found->owner}, clock_.now(), !owner);
    const auto* status = k8s::member_object(object, "status");
    json::array containers;
    if (const auto* statuses = status != nullptr ? k8s::member_array(*status, "containerStatuses") : nullptr)
        for (const auto& c : *statuses) {
            if (!c.is_object())
                continue;
            const auto& o = c.get_object();
            const auto* state = k8s::member_object(o, "state");
            std::string_view now_state = "unknown";
            if (state != nullptr && !state->empty())
                now_state = state->begin()->key();
            containers.push_back(json::object{{"name", k8s::member_string(o, "name")}, {"image", k8s::member_string(o, "image")},
                                              {"ready", k8s::member_bool(o, "ready")}, {"restarts", k8s::member_int(o, "restartCount")},
                                              {"state", now_state}});
        }
    shown["containers_detail"] = std::move(containers);
    shown["deployment"] = deployment_of(object);

    const std::string ns(found->pod->namespace_name);
    const std::string selector = "involvedObject.uid=" + std::string(id);
    auto read_events = [this, ns, selector]() { return cluster_.api().list(kc::resources::events, ns, {.field_selector = selector}); };
    auto events = co_await cluster_.run(std::move(read_events));
    if (!events)
        co_return core::error(errc::cluster_failure, "reading the pod's events: " + events.error().detail());
    std::vector<const json::object*> listed;
    for (const auto& e : events->items)
        if (e.is_object())
            listed.push_back(&e.get_object());
    const auto last_seen = [](const json::object& e) {
        auto t = k8s::member_string(e, "lastTimestamp");
        return t.empty() ? k8s::member_string(e, "eventTime") : t;
    };
    std::stable_sort(listed.begin(), listed.end(), [&](const auto* a, const auto* b) { return last_seen(*a) > last_seen(*b); });
    constexpr std::size_t recent = 20;
    json::array shown_events;
    for (std::size_t i = 0; i < listed.size() && i < recent; ++i) {
        const auto& e = *listed[i];
        shown_events.push_back(json::object{{"type", k8s::member_string(e, "type")}, {"reason", k8s::member_string(e, "reason")},
                                            {"message", k8s::member_string(e, "message")}, {"count", k8s::member_int(e, "count", 1)},
                                            {"last_seen", last_seen(e)}});
    }
    shown["events"] = std::move(shown_events);
    co_return shown;
}

asio::awaitable<core::result<std::pair<std::string, std::string>>> pod_service::log_target(std::string_view id, std::optional<core::uuid> owner,
                                                                                           const kc::log_options& options)
{
    auto found = co_await find(id, owner);
    if (!found)
        co_return found.error();
    if (!options.container.empty()) {
        bool known = false;
        if (const auto* spec = k8s::member_object(*found->pod->object, "spec"))
            if (const auto* containers = k8s::member_array(*spec, "containers"))
                for (const auto& c : *containers)
                    known = known || (c.is_object() && k8s::member_string(c.get_object(), "name") == options.container);
        if (!known)
            co_return core::error(errc::invalid_request, "container: the pod has no container \"" + options.container + "\"");
    }
    co_return std::pair<std::string, std::string>(found->pod->namespace_name, found->pod->name);
}

asio::awaitable<core::result<std::string>> pod_service::logs(std::string_view id, std::optional<core::uuid> owner, kc::log_options options)
{
    auto target = co_await log_target(id, owner, options);
    if (!target)
        co_return target.error();
    auto read = [this, ns = target->first, name = target->second, options]() { return cluster_.k8s().pods(ns).logs(name, options); };
    auto text = co_await cluster_.run(std::move(read));
    if (!text)
        co_return core::error(text.error().code() == kc::errc::not_found ? errc::not_found : errc::cluster_failure,
                              "reading the log: " + text.error().detail());
    co_return std::move(*text);
}

namespace {

/// Log text from the cluster thread that follows the log to the loop that writes it; a send
/// blocks that thread while the client is slow (at most `capacity` pieces wait).
struct log_follower {
    static constexpr std::size_t capacity = 64;
    explicit log_follower(const asio::any_io_executor& loop) : pieces(loop, capacity) {}
    asio::experimental::concurrent_channel<void(boost::system::error_code, std::string)> pieces;
    std::atomic<bool> stop{false};
};

} // namespace

asio::awaitable<void> pod_service::follow(std::string ns, std::string name, kc::log_options options, response_stream& out)
{
    auto follower = std::make_shared<log_follower>(out.executor());
    out.on_client_gone([follower] {
        follower->stop = true;
        follower->pieces.close(); // a send the cluster thread is blocked in returns
    });
    cluster_.start([&cluster = cluster_, follower, ns, name, options, log = log_] {
        const auto send = [&](boost::system::error_code ec, std::string text) {
            try {
                follower->pieces.async_send(ec, std::move(text), asio::use_future).get();
                return true;
            } catch (const boost::system::system_error&) {
                return false; // closed: the client went away
            }
        };
        auto followed = cluster.k8s().pods(ns).follow_logs(
            name, options, [&](std::string_view text) { return !follower->stop && send({}, std::string(text)) && !follower->stop; },
            &follower->stop);
        if (!followed && !follower->stop)
            log.warn("following a log ended", {{"namespace", ns}, {"pod", name}, {"error", followed.error().detail()}});
        send(asio::error::eof, {}); // the end, after everything sent before it
    });
    for (;;) {
        auto [ec, text] = co_await follower->pieces.async_receive(asio::as_tuple(asio::use_awaitable));
        if (ec || !co_await out.write(text))
            break;
    }
    follower->stop = true;
    follower->pieces.close();
}

asio::awaitable<core::result<json::object>> pod_service::restart(std::string_view id, std::optional<core::uuid> owner, std::chrono::seconds timeout)
{
    auto found = co_await find(id, owner, true);
    if (!found)
        co_return found.error();
    if (found->owner.status != "active" && found->owner.status != "past_due")
        co_return core::error(errc::wrong_state, "the app is " + found->owner.status + ": only a running app restarts");
    const auto deployment = deployment_of(*found->pod->object);
    if (deployment.empty())
        co_return core::error(errc::wrong_state, "the pod belongs to no Deployment");
    const std::string ns(found->pod->namespace_name);
    const auto started = clock_.now();
    auto roll = [this, ns, deployment, timeout]() -> kc::result<kc::rollout_status> {
        auto deployments = cluster_.k8s().deployments(ns);
        if (auto restarted = deployments.rollout_restart(deployment); !restarted)
            return restarted.error();
        return deployments.wait_for_rollout(deployment, timeout);
    };
    auto rolled = co_await cluster_.run(std::move(roll));
    json::object out{{"deployment", deployment}, {"namespace", ns}, {"restarted_at", core::time_to_json(started)}};
    if (!rolled) {
        if (rolled.error().code() != kc::errc::timeout)
            co_return core::error(errc::cluster_failure, "restarting " + deployment + ": " + rolled.error().detail());
        out["ready"] = false;
        out["detail"] = "the new pods were not ready within " + std::to_string(timeout.count()) + " s; the rollout goes on";
        co_return out;
    }
    log_.info("app restarted", {{"namespace", ns}, {"deployment", deployment}});
    out["ready"] = true;
    out["ready_at"] = core::time_to_json(clock_.now());
    co_return out;
}

asio::awaitable<core::result<void>> pod_service::schedule_health_checks()
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const std::chrono::milliseconds each_run = std::chrono::minutes(5);
    auto queued = co_await jobs::enqueue_singleton(**conn, health_job, each_run, clock_.now());
    if (!queued)
        co_return queued.error();
    co_return core::result<void>{};
}

void pod_service::handle_jobs(jobs::worker& worker)
{
    worker.handle(std::string(health_job), [this](const jobs::leased_job& job) { return check_health(job); });
}

asio::awaitable<core::result<jobs::outcome>> pod_service::check_health(const jobs::leased_job&)
{
    auto owners = co_await subscriptions_.tenants(std::nullopt);
    if (!owners)
        co_return owners.error();
    struct incident {
        std::string key; ///< namespace/workload
        std::string kind;
        const tenant* owner;
        std::string pod;
        std::int64_t restarts;
        std::string reason;
    };
    std::vector<incident> now_unhealthy;
    for (const auto& t : *owners) {
        if (t.status != "active" && t.status != "past_due")
            continue; // provisioning has its own deadline; suspended apps run nothing
        for (const auto& pod : cluster_.pods_of(t.namespace_name)) {
            const auto& s = pod->status;
            const bool looping = s.status == "CrashLoopBackOff";
            if (!looping && s.phase != "Failed")
                continue;
            const auto workload = deployment_of(*pod->object);
            now_unhealthy.push_back({t.namespace_name + "/" + (workload.empty() ? pod->name : workload), looping ? "crash_loop" : "failed", &t,
                                     pod->name, s.restarts, s.status});
        }
    }
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const auto now = clock_.now();
    std::size_t opened = 0;
    const auto record = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        opened = 0;
        json::array open_keys;
        for (const auto& i : now_unhealthy) {
            open_keys.push_back(json::string(i.key + "|" + i.kind));
            auto inserted = co_await c.query(
                "INSERT INTO paaskit_pod_incidents (id, incident_key, kind, subscription_id, user_id, pod, detail, started_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (incident_key, kind) WHERE resolved_at IS NULL DO NOTHING",
                pg::params(ids_.next(), i.key, i.kind, i.owner->subscription, i.owner->user_id, i.pod, i.reason, now));
            if (!inserted)
                co_return inserted.error();
            if (inserted->affected_rows() == 0)
                continue; // the same incident, already mailed
            ++opened;
            const json::object details{{"service", i.owner->name}, {"pod", i.pod}, {"restarts", i.restarts}, {"reason", i.reason},
                                       {"since", core::format_rfc3339(now, core::fraction_digits::seconds)}};
            const std::string_view mail_kind = i.kind == "crash_loop" ? "crash_loop" : "pod_failed";
            if (auto mailed = co_await subscriptions_.mail(c, i.owner->user_id, mail_kind, details); !mailed)
                co_return mailed.error();
        }
        auto resolved = co_await c.query("UPDATE paaskit_pod_incidents SET resolved_at = $1 WHERE resolved_at IS NULL AND "
                                         "NOT ((incident_key || '|' || kind) = ANY (SELECT jsonb_array_elements_text($2::jsonb)))",
                                         pg::params(now, json::serialize(open_keys)));
        if (!resolved)
            co_return resolved.error();
        co_return core::result<void>{};
    };
    if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, record); !done)
        co_return done.error();
    if (opened > 0)
        log_.warn("app incidents opened", {{"incidents", opened}});
    co_return jobs::outcome(jobs::snoozed{health_every_});
}

} // namespace paaskit::server
