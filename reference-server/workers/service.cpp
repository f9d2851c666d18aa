#include "workers/service.hpp"

#include "platform/cluster.hpp"
#include "subscriptions/service.hpp"

#include <paaskit/core/json.hpp>
#include <paaskit/k8s/client/operations.hpp>
#include <paaskit/pg/transaction.hpp>
#include <paaskit/subscriptions/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace paaskit::server {

namespace asio = boost::asio;
namespace json = boost::json;
namespace kc = k8s::client;
using subscriptions::errc;

namespace {

/// Kubernetes' own label namespaces: set by the kubelet and the control plane, not by hand.
bool reserved_label(std::string_view key)
{
    const auto slash = key.find('/');
    if (slash == std::string_view::npos)
        return false;
    const auto prefix = key.substr(0, slash);
    return prefix == "kubernetes.io" || prefix.ends_with(".kubernetes.io") || prefix == "k8s.io" || prefix.ends_with(".k8s.io");
}

} // namespace

worker_service::worker_service(std::shared_ptr<pg::pool> pool, cluster_connection& cluster, subscription_service& subscriptions,
                               const core::clock& clock, core::logger log, metrics::registry& registry)
    : pool_(std::move(pool)), cluster_(cluster), subscriptions_(subscriptions), clock_(clock), log_(std::move(log)), ids_(clock),
      nodes_by_status_(registry.gauges("paaskit_cluster_nodes", "The cluster's nodes by worker status.", {"status"})),
      not_ready_transitions_(registry.counters("paaskit_cluster_node_not_ready_total", "Times a node was seen turning NOT_READY.").with({}))
{
}

asio::awaitable<core::result<void>> worker_service::sync()
{
    const auto now = clock_.now();
    std::vector<k8s::worker> seen;
    for (const auto& node : cluster_.nodes()) {
        const auto lease = cluster_.lease_of(k8s::name_of(*node));
        seen.push_back(k8s::worker_of(*node, lease.get(), now));
    }
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    std::vector<std::string> present;
    std::vector<std::string> registered;
    std::vector<std::string> removed;
    const auto write = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        registered.clear();
        for (const auto& w : seen) {
            present.push_back(w.name);
            auto is_new = co_await worker_store::upsert(c, w, ids_.next(), now);
            if (!is_new)
                co_return is_new.error();
            if (*is_new)
                registered.push_back(w.name);
        }
        auto gone = co_await worker_store::mark_removed(c, present, now);
        if (!gone)
            co_return gone.error();
        removed = std::move(*gone);
        co_return core::result<void>{};
    };
    if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, write); !done)
        co_return done.error();
    for (const auto& name : registered)
        log_.info("worker registered", {{"node", name}});
    for (const auto& name : removed)
        log_.warn("worker removed from the cluster", {{"node", name}});

    std::map<std::string, std::int64_t> counts;
    for (auto s : {k8s::worker_state::active, k8s::worker_state::maintenance, k8s::worker_state::pending, k8s::worker_state::not_ready})
        counts[k8s::to_string(s)] = 0;
    for (const auto& w : seen) {
        ++counts[k8s::to_string(w.state)];
        const auto before = last_states_.find(w.name);
        const bool was_not_ready = before != last_states_.end() && before->second == k8s::worker_state::not_ready;
        if (w.state == k8s::worker_state::not_ready && !was_not_ready) {
            not_ready_transitions_.inc();
            log_.warn("worker not ready", {{"node", w.name}, {"online", w.online}});
        }
        last_states_[w.name] = w.state;
    }
    for (const auto& name : removed)
        last_states_.erase(name);
    for (const auto& [status, n] : counts)
        nodes_by_status_.with({status}).set(static_cast<double>(n));
    co_return core::result<void>{};
}

asio::awaitable<void> worker_service::keep_in_sync(std::chrono::milliseconds tick, std::chrono::milliseconds refresh)
{
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto last = std::chrono::steady_clock::now() - refresh;
    for (;;) {
        const auto changes = cluster_.node_changes();
        const auto now = std::chrono::steady_clock::now();
        if (changes != synced_changes_ || now - last >= refresh) {
            if (auto synced = co_await sync(); !synced)
                log_.warn("cannot record the cluster's nodes", {{"error", synced.error().message()}});
            else {
                synced_changes_ = changes;
                last = now;
            }
        }
        timer.expires_after(tick);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return;
    }
}

asio::awaitable<core::result<list_page>> worker_service::list(const worker_store::query& q)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    co_return co_await worker_store::list(**conn, q);
}

asio::awaitable<core::result<json::object>> worker_service::record_of(std::string_view id_or_name)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto found = co_await worker_store::find(**conn, id_or_name);
    if (!found)
        co_return found.error();
    if (!*found)
        co_return core::error(errc::not_found, "no such worker");
    co_return std::move(**found);
}

asio::awaitable<core::result<std::string>> worker_service::name_of(std::string_view id_or_name)
{
    auto found = co_await record_of(id_or_name);
    if (!found)
        co_return found.error();
    co_return std::string(found->at("name").as_string());
}

json::object worker_service::room_of(std::string_view node) const
{
    std::int64_t pods = 0;
    std::int64_t ready = 0;
    for (const auto& p : cluster_.pods()) {
        const auto* spec = k8s::member_object(*p, "spec");
        if (spec == nullptr || k8s::member_string(*spec, "nodeName") != node)
            continue;
        const auto* status = k8s::member_object(*p, "status");
        const auto phase = status != nullptr ? k8s::member_string(*status, "phase") : std::string_view();
        if (phase == "Succeeded" || phase == "Failed")
            continue;
        ++pods;
        ready += kc::pod_ready(*p) ? 1 : 0;
    }
    return {{"pods", pods}, {"ready_pods", ready}};
}

asio::awaitable<core::result<json::object>> worker_service::show(std::string_view id_or_name)
{
    auto found = co_await record_of(id_or_name);
    if (!found)
        co_return found.error();
    auto shown = std::move(*found);
    const std::string name(shown.at("name").as_string());
    auto model = cluster_.scheduler_model(clock_.now());
    if (auto requested = model->engine.requested(name))
        shown["requested"] = worker_store::resources_json(requested->cpu_millis, requested->memory_bytes, requested->pods);
    shown["running"] = room_of(name);
    co_return shown;
}

asio::awaitable<core::result<json::object>> worker_service::stats()
{
    const auto now = clock_.now();
    auto model = cluster_.scheduler_model(now);
    json::array nodes;
    std::int64_t cpu = 0, memory = 0, pod_room = 0, cpu_used = 0, memory_used = 0, pods_used = 0;
    for (const auto& node : cluster_.nodes()) {
        const auto w = k8s::worker_of(*node, cluster_.lease_of(k8s::name_of(*node)).get(), now);
        const auto requested = model->engine.requested(w.name);
        const auto used = requested ? *requested : scheduler::resources{};
        cpu += w.allocatable.cpu_milli;
        memory += w.allocatable.memory_bytes;
        pod_room += w.allocatable.pods;
        cpu_used += used.cpu_millis;
        memory_used += used.memory_bytes;
        pods_used += used.pods;
        nodes.push_back(json::object{
            {"name", w.name},
            {"status", k8s::to_string(w.state)},
            {"online", w.online},
            {"capacity", worker_store::resources_json(w.capacity.cpu_milli, w.capacity.memory_bytes, w.capacity.pods)},
            {"allocatable", worker_store::resources_json(w.allocatable.cpu_milli, w.allocatable.memory_bytes, w.allocatable.pods)},
            {"requested", worker_store::resources_json(used.cpu_millis, used.memory_bytes, used.pods)},
            {"free", worker_store::resources_json(w.allocatable.cpu_milli - used.cpu_millis, w.allocatable.memory_bytes - used.memory_bytes,
                                    w.allocatable.pods - used.pods)}});
    }
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto counted = co_await worker_store::counts(**conn);
    if (!counted)
        co_return counted.error();
    json::object out = std::move(*counted);
    out["nodes"] = std::move(nodes);
    out["cluster"] = json::object{{"allocatable", worker_store::resources_json(cpu, memory, pod_room)},
                                  {"requested", worker_store::resources_json(cpu_used, memory_used, pods_used)},
                                  {"free", worker_store::resources_json(cpu - cpu_used, memory - memory_used, pod_room - pods_used)}};
    co_return out;
}

/// A merge patch of the node with `body`, made on a cluster thread.
worker_service::node_patch worker_service::merge_patch(json::object body)
{
    return [this, body = std::move(body)](const std::string& node) {
        return cluster_.api().patch(kc::resources::nodes, "", node, kc::patch_type::merge, body);
    };
}

asio::awaitable<core::result<json::object>> worker_service::change_node(std::string_view id_or_name, node_patch patch, boost::json::value change,
                                                                        audit::entry entry)
{
    auto name = co_await name_of(id_or_name);
    if (!name)
        co_return name.error();
    auto call = [patch = std::move(patch), node = *name]() { return patch(node); };
    auto patched = co_await cluster_.run(std::move(call));
    if (!patched) {
        const auto code = patched.error().code();
        co_return core::error(code == kc::errc::not_found ? errc::not_found : code == kc::errc::invalid ? errc::invalid_request : errc::cluster_failure,
                              "node " + *name + ": " + patched.error().detail());
    }
    // Recorded now (the sync would catch up within a second) with the audit entry.
    const auto w = k8s::worker_of(*patched, cluster_.lease_of(*name).get(), clock_.now());
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    entry.target_type = "worker";
    entry.target_id = *name;
    entry.after = std::move(change);
    const auto record = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        if (auto written = co_await worker_store::upsert(c, w, ids_.next(), clock_.now()); !written)
            co_return written.error();
        co_return co_await audit::append(c, entry, ids_.next(), clock_.now());
    };
    if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, record); !done)
        co_return done.error();
    log_.info("worker changed", {{"node", *name}, {"action", entry.action}});
    auto shown = co_await worker_store::find(**conn, *name);
    if (!shown)
        co_return shown.error();
    co_return std::move(**shown);
}

asio::awaitable<core::result<json::object>> worker_service::cordon(std::string_view id_or_name, bool on, audit::entry entry)
{
    node_patch patch = [this, on](const std::string& node) { return kc::cordon(cluster_.api(), node, on); };
    json::value change = json::object{{"unschedulable", on}};
    co_return co_await change_node(id_or_name, std::move(patch), std::move(change), std::move(entry));
}

asio::awaitable<core::result<json::object>> worker_service::set_labels(std::string_view id_or_name, json::object changes, audit::entry entry)
{
    for (const auto& [key, value] : changes) {
        if (reserved_label(key))
            co_return core::error(errc::invalid_request, "label " + std::string(key) + ": Kubernetes' own labels are not set by hand");
        if (!value.is_string() && !value.is_null())
            co_return core::error(errc::invalid_request, "label " + std::string(key) + ": a string, or null to remove it");
    }
    node_patch patch = merge_patch(json::object{{"metadata", json::object{{"labels", changes}}}});
    json::value change = json::object{{"labels", std::move(changes)}};
    co_return co_await change_node(id_or_name, std::move(patch), std::move(change), std::move(entry));
}

asio::awaitable<core::result<json::object>> worker_service::set_taints(std::string_view id_or_name, json::array taints, audit::entry entry)
{
    for (const auto& t : taints) {
        if (!t.is_object())
            co_return core::error(errc::invalid_request, "taints: objects with key, value and effect");
        const auto& o = t.get_object();
        for (const auto& [k, v] : o)
            if ((k != "key" && k != "value" && k != "effect") || !v.is_string())
                co_return core::error(errc::invalid_request, "taints: only the strings key, value and effect");
        const auto effect = k8s::member_string(o, "effect");
        if (k8s::member_string(o, "key").empty() || (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute"))
            co_return core::error(errc::invalid_request, "taints: a key, and an effect of NoSchedule, PreferNoSchedule or NoExecute");
    }
    node_patch patch = merge_patch(json::object{{"spec", json::object{{"taints", taints.empty() ? json::value(nullptr) : json::value(taints)}}}});
    json::value change = json::object{{"taints", std::move(taints)}};
    co_return co_await change_node(id_or_name, std::move(patch), std::move(change), std::move(entry));
}

asio::awaitable<core::result<json::object>> worker_service::drain(std::string_view id_or_name, bool force, audit::entry entry)
{
    auto name = co_await name_of(id_or_name);
    if (!name)
        co_return name.error();
    const auto now = clock_.now();
    {
        const std::lock_guard lock(drains_->mutex);
        if (auto running = drains_->by_node.find(*name); running != drains_->by_node.end() && running->second.state == "running")
            co_return core::error(errc::wrong_state, "node " + *name + " is being drained");
    }
    auto model = cluster_.scheduler_model(now, true);
    auto moves = model->engine.plan_drain(*name, now);
    if (!moves)
        co_return core::error(errc::not_found, "node " + *name + " is not in the cluster now: " + moves.error().message());
    json::array plan;
    std::vector<std::string> stuck;
    for (const auto& m : *moves) {
        const auto pod = model->pods.count(m.placement) ? model->pods.at(m.placement) : std::string("?");
        json::object step{{"pod", pod}};
        if (m.destination)
            step["to"] = std::string(*m.destination);
        else {
            step["to"] = nullptr;
            step["why"] = m.why.message();
            stuck.push_back(pod + ": " + m.why.message());
        }
        plan.push_back(std::move(step));
    }
    if (!stuck.empty() && !force) {
        std::string why = "these pods fit on no other node";
        for (const auto& s : stuck)
            why += "; " + s;
        co_return core::error(errc::no_capacity, why + " (force to drain anyway)");
    }
    entry.target_type = "worker";
    entry.target_id = *name;
    entry.after = json::object{{"drain", plan}, {"force", force}};
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const auto record = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        co_return co_await audit::append(c, entry, ids_.next(), now);
    };
    if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, record); !done)
        co_return done.error();
    {
        const std::lock_guard lock(drains_->mutex);
        drains_->by_node[*name] = drain_record{.state = "running", .started_at = now, .finished_at = std::nullopt, .plan = plan, .report = {}, .error = {}};
    }
    log_.info("draining worker", {{"node", *name}, {"pods", plan.size()}, {"force", force}});
    cluster_.start([drains = drains_, &cluster = cluster_, &clock = clock_, log = log_, node = *name] {
        auto drained = kc::drain(cluster.api(), node);
        const std::lock_guard lock(drains->mutex);
        auto& d = drains->by_node[node];
        d.finished_at = clock.now();
        if (!drained) {
            d.state = "failed";
            d.error = drained.error().detail();
            log.warn("drain failed", {{"node", node}, {"error", d.error}});
            return;
        }
        d.state = drained->complete() ? "done" : "incomplete";
        d.report = {{"evicted", json::value_from(drained->evicted)}, {"skipped", json::value_from(drained->skipped)},
                    {"remaining", json::value_from(drained->remaining)}};
        log.info("drain finished", {{"node", node}, {"state", d.state}, {"evicted", drained->evicted.size()}});
    });
    co_return json::object{{"node", *name}, {"state", "running"}, {"started_at", core::time_to_json(now)}, {"plan", std::move(plan)}};
}

asio::awaitable<core::result<json::object>> worker_service::drain_progress(std::string_view id_or_name)
{
    auto name = co_await name_of(id_or_name);
    if (!name)
        co_return name.error();
    json::object out{{"node", *name}};
    {
        const std::lock_guard lock(drains_->mutex);
        const auto found = drains_->by_node.find(*name);
        if (found == drains_->by_node.end())
            co_return core::error(errc::not_found, "node " + *name + " has not been drained by this server");
        const auto& d = found->second;
        out["state"] = d.state;
        out["started_at"] = core::time_to_json(d.started_at);
        out["finished_at"] = d.finished_at ? core::time_to_json(*d.finished_at) : json::value(nullptr);
        out["plan"] = d.plan;
        out["report"] = d.report;
        if (!d.error.empty())
            out["error"] = d.error;
    }
    out["running"] = room_of(*name);
    co_return out;
}

core::result<json::object> worker_service::capacity(std::string_view service, std::string_view plan, std::int64_t count) const
{
    auto workloads = subscriptions_.plan_workloads(service, plan);
    if (!workloads)
        return workloads.error();
    auto model = cluster_.scheduler_model(clock_.now());
    json::array placements;
    std::string why;
    std::int64_t fit = 0;
    for (; fit < count; ++fit) {
        auto placed = model->engine.place_batch(*workloads, clock_.now());
        if (!placed)
            return placed.error();
        if (!*placed) {
            why = placed->why.message();
            break;
        }
        json::array nodes;
        for (const auto& p : placed->placements)
            nodes.push_back(json::string(p.node));
        placements.push_back(std::move(nodes));
    }
    json::object out{{"service", service}, {"plan", plan}, {"asked", count}, {"fit", fit}, {"placements", std::move(placements)}};
    out["limited_by"] = why.empty() ? json::value(nullptr) : json::value(why);
    return out;
}

} // namespace paaskit::server
