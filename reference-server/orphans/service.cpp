#include "orphans/service.hpp"

#include "platform/cluster.hpp"
#include "subscriptions/service.hpp"

#include <paaskit/core/ascii.hpp>
#include <paaskit/core/json.hpp>
#include <paaskit/jobs/queue.hpp>
#include <paaskit/pg/transaction.hpp>
#include <paaskit/subscriptions/error.hpp>
#include <paaskit/subscriptions/orphans.hpp>

#include <boost/json/serialize.hpp>
#include <openssl/sha.h>

#include <array>

namespace paaskit::server {

namespace asio = boost::asio;
namespace json = boost::json;
namespace kc = k8s::client;
namespace subs = paaskit::subscriptions;
using subs::errc;

namespace {

/// What the platform applies into a subscription's namespace (the catalog renders these kinds).
const std::array<const kc::resource*, 10> namespaced_kinds{
    &kc::resources::deployments, &kc::resources::services,       &kc::resources::ingresses,     &kc::resources::secrets,
    &kc::resources::configmaps,  &kc::resources::persistentvolumeclaims, &kc::resources::poddisruptionbudgets,
    &kc::resources::networkpolicies, &kc::resources::resourcequotas, &kc::resources::limitranges};

const kc::resource* resource_of(std::string_view kind)
{
    if (kind == "Namespace")
        return &kc::resources::namespaces;
    for (const auto* r : namespaced_kinds)
        if (r->kind == kind)
            return r;
    return nullptr;
}

json::object to_json(const subs::managed_object& o)
{
    return {{"kind", o.kind}, {"namespace", o.namespace_name}, {"name", o.name}, {"uid", o.uid},
            {"subscription", o.subscription.empty() ? json::value(nullptr) : json::value(o.subscription)}};
}

subs::managed_object from_json(const json::object& o)
{
    return {std::string(o.at("kind").as_string()), std::string(o.at("namespace").as_string()), std::string(o.at("name").as_string()),
            std::string(o.at("uid").as_string()), o.at("subscription").is_string() ? std::string(o.at("subscription").as_string()) : ""};
}

std::string fingerprint_of(const subs::orphan_scan& scan)
{
    std::string text;
    for (const auto& o : scan.orphans)
        text.append(o.kind).append("\t").append(o.namespace_name).append("\t").append(o.name).append("\t").append(o.uid).append("\n");
    for (const auto& ns : scan.missing)
        text.append("missing\t").append(ns).append("\n");
    std::array<std::byte, SHA256_DIGEST_LENGTH> digest{};
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), reinterpret_cast<unsigned char*>(digest.data()));
    return core::to_hex(digest);
}

/// Every object with the managed-by label, except in namespaces being deleted already.
kc::result<std::vector<subs::managed_object>> managed_objects(kc::dynamic_client& api)
{
    std::vector<subs::managed_object> out;
    std::set<std::string, std::less<>> terminating;
    const auto add = [&](const kc::resource& r, const json::array& items) {
        for (const auto& item : items) {
            const auto& o = item.as_object();
            const auto& metadata = k8s::metadata_of(o);
            const auto* labels = k8s::member_object(metadata, "labels");
            const std::string name(k8s::name_of(o));
            const std::string ns = r.kind == "Namespace" ? name : std::string(k8s::namespace_of(o));
            if (r.kind == "Namespace") {
                const auto* status = k8s::member_object(o, "status");
                if (status != nullptr && k8s::member_string(*status, "phase") == "Terminating") {
                    terminating.insert(ns);
                    continue;
                }
            }
            out.push_back({std::string(r.kind), ns, name, std::string(k8s::uid_of(o)),
                           labels != nullptr ? std::string(k8s::member_string(*labels, "paaskit.io/subscription")) : std::string()});
        }
    };
    auto namespaces = api.list(kc::resources::namespaces, "", {.label_selector = subs::managed_by_selector});
    if (!namespaces)
        return namespaces.error();
    add(kc::resources::namespaces, namespaces->items);
    for (const auto* r : namespaced_kinds) {
        auto listed = api.list(*r, "", {.label_selector = subs::managed_by_selector});
        if (!listed)
            return listed.error();
        add(*r, listed->items);
    }
    std::erase_if(out, [&](const subs::managed_object& o) { return terminating.contains(o.namespace_name); });
    return out;
}

} // namespace

orphan_service::orphan_service(std::shared_ptr<pg::pool> pool, cluster_connection& cluster, subscription_service& subscriptions,
                               const core::clock& clock, core::logger log, std::chrono::seconds scan_every)
    : pool_(std::move(pool)), cluster_(cluster), subscriptions_(subscriptions), clock_(clock), log_(std::move(log)), scan_every_(scan_every),
      ids_(clock)
{
}

asio::awaitable<core::result<json::object>> orphan_service::scan(std::string_view source)
{
    auto owners = co_await subscriptions_.tenants(std::nullopt);
    if (!owners)
        co_return owners.error();
    std::set<std::string, std::less<>> live;       // objects here are owned
    std::set<std::string, std::less<>> must_exist; // and these must be in the cluster
    for (const auto& t : *owners) {
        live.insert(t.namespace_name);
        if (t.status != "provisioning")
            must_exist.insert(t.namespace_name);
    }
    auto list = [this]() { return managed_objects(cluster_.api()); };
    auto objects = co_await cluster_.run(std::move(list));
    if (!objects)
        co_return core::error(errc::cluster_failure, "listing the cluster's managed objects: " + objects.error().detail());
    auto found = subs::find_orphans(std::move(*objects), live);
    std::erase_if(found.missing, [&](const std::string& ns) { return !must_exist.contains(ns); });

    json::array orphans;
    for (const auto& o : found.orphans)
        orphans.push_back(to_json(o));
    json::array missing;
    for (const auto& t : *owners)
        if (std::find(found.missing.begin(), found.missing.end(), t.namespace_name) != found.missing.end())
            missing.push_back(json::object{{"subscription_id", t.subscription.to_string()}, {"namespace", t.namespace_name}, {"status", t.status}});
    const auto fingerprint = fingerprint_of(found);
    const auto now = clock_.now();
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    auto recorded = co_await (*conn)->query("INSERT INTO paaskit_orphan_scans (fingerprint, orphans, missing, source, found_at) "
                                            "VALUES ($1, $2::jsonb, $3::jsonb, $4, $5) ON CONFLICT (fingerprint) DO NOTHING",
                                            pg::params(fingerprint, json::serialize(orphans), json::serialize(missing), std::string(source), now));
    if (!recorded)
        co_return recorded.error();
    co_return json::object{{"fingerprint", fingerprint}, {"found_at", core::time_to_json(now)}, {"total", static_cast<std::int64_t>(orphans.size())},
                           {"orphans", std::move(orphans)}, {"missing", std::move(missing)}};
}

asio::awaitable<core::result<json::object>> orphan_service::cleanup(std::string_view fingerprint, audit::entry entry)
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    // Claimed first (cleaned_at set in its own transaction): one cleanup per list, across replicas.
    std::vector<subs::managed_object> listed;
    const auto claim = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        auto r = co_await c.query("SELECT orphans::text, cleaned_at IS NOT NULL FROM paaskit_orphan_scans WHERE fingerprint = $1 FOR UPDATE",
                                  pg::params(std::string(fingerprint)));
        if (!r)
            co_return r.error();
        if (r->rows() == 0)
            co_return core::error(errc::not_found, "no list of orphans has this fingerprint; list them again");
        if (r->get<bool>(0, 1).value())
            co_return core::error(errc::wrong_state, "this list has been cleaned up already; list the orphans again");
        auto parsed = core::parse_json(r->get<std::string>(0, 0).value());
        if (!parsed || !parsed->is_array())
            co_return core::error(core::errc::json_type_mismatch, "a recorded list of orphans cannot be read");
        for (const auto& o : parsed->as_array())
            listed.push_back(from_json(o.as_object()));
        if (auto marked = co_await c.query("UPDATE paaskit_orphan_scans SET cleaned_at = $2 WHERE fingerprint = $1",
                                           pg::params(std::string(fingerprint), clock_.now()));
            !marked)
            co_return marked.error();
        co_return core::result<void>{};
    };
    if (auto claimed = co_await pg::transact(**conn, pg::isolation::read_committed, claim); !claimed)
        co_return claimed.error();

    // Inside each namespace first, the namespace last (the list's order); each by its uid.
    auto remove = [this, listed]() {
        auto& api = cluster_.api();
        json::array results;
        std::set<std::string, std::less<>> listed_uids;
        for (const auto& o : listed)
            listed_uids.insert(o.uid);
        for (const auto& o : listed) {
            json::object result = to_json(o);
            const auto* r = resource_of(o.kind);
            if (r == nullptr) {
                result["result"] = "failed";
                result["detail"] = "the platform does not manage " + o.kind + " objects";
                results.push_back(std::move(result));
                continue;
            }
            if (o.kind == "Namespace") {
                // Deleting a namespace deletes what is in it: not when it holds anything the list did not show.
                std::string newer;
                for (const auto* inner : namespaced_kinds) {
                    auto now_there = api.list(*inner, o.name);
                    if (!now_there) {
                        newer = "cannot list its " + std::string(inner->plural) + ": " + now_there.error().detail();
                        break;
                    }
                    for (const auto& item : now_there->items) {
                        const auto& object = item.as_object();
                        if (inner->kind == "ConfigMap" && k8s::name_of(object) == "kube-root-ca.crt")
                            continue; // put in every namespace by the control plane
                        if (!listed_uids.contains(k8s::uid_of(object)))
                            newer = std::string(inner->kind) + " " + std::string(k8s::name_of(object));
                    }
                    if (!newer.empty())
                        break;
                }
                if (!newer.empty()) {
                    result["result"] = "kept";
                    result["detail"] = "it holds what the list did not show: " + newer;
                    results.push_back(std::move(result));
                    continue;
                }
            }
            auto removed = api.remove(*r, o.kind == "Namespace" ? "" : o.namespace_name, o.name,
                                      {.propagation = "Background", .precondition_uid = o.uid});
            if (removed)
                result["result"] = "deleted";
            else if (removed.error().code() == kc::errc::not_found)
                result["result"] = "gone";
            else if (removed.error().code() == kc::errc::conflict)
                result["result"] = "replaced"; // another object under that name now: not the one listed
            else {
                result["result"] = "failed";
                result["detail"] = removed.error().detail();
            }
            results.push_back(std::move(result));
        }
        return results;
    };
    auto results = co_await cluster_.run(std::move(remove));
    json::object counts;
    for (const auto& r : results) {
        auto& n = counts[r.at("result").as_string()];
        n = (n.is_int64() ? n.get_int64() : 0) + 1;
    }
    const auto now = clock_.now();
    entry.target_type = "orphans";
    entry.target_id = std::string(fingerprint);
    entry.after = json::object{{"results", counts}};
    const auto record = [&](pg::connection& c) -> asio::awaitable<core::result<void>> {
        if (auto r = co_await c.query("UPDATE paaskit_orphan_scans SET outcome = $2::jsonb WHERE fingerprint = $1",
                                      pg::params(std::string(fingerprint), json::serialize(results)));
            !r)
            co_return r.error();
        co_return co_await audit::append(c, entry, ids_.next(), now);
    };
    if (auto done = co_await pg::transact(**conn, pg::isolation::read_committed, record); !done)
        co_return done.error();
    log_.info("orphans cleaned up", {{"fingerprint", std::string(fingerprint)}, {"results", json::serialize(counts)}});
    co_return json::object{{"fingerprint", fingerprint}, {"cleaned_at", core::time_to_json(now)}, {"counts", std::move(counts)},
                           {"results", std::move(results)}};
}

asio::awaitable<core::result<void>> orphan_service::schedule_scans()
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    const std::chrono::milliseconds each_run = std::chrono::minutes(5);
    auto queued = co_await jobs::enqueue_singleton(**conn, scan_job, each_run, clock_.now());
    if (!queued)
        co_return queued.error();
    co_return core::result<void>{};
}

asio::awaitable<core::result<jobs::outcome>> orphan_service::periodic_scan(const jobs::leased_job&)
{
    auto found = co_await scan("job");
    if (!found)
        co_return found.error();
    const auto orphans = found->at("total").as_int64();
    const auto missing = found->at("missing").as_array().size();
    if (orphans > 0 || missing > 0)
        log_.warn("orphans found", {{"orphans", orphans}, {"missing", missing}, {"fingerprint", found->at("fingerprint").as_string()}});
    co_return jobs::outcome(jobs::snoozed{scan_every_}); // found, recorded, nothing deleted
}

void orphan_service::handle_jobs(jobs::worker& worker)
{
    worker.handle(std::string(scan_job), [this](const jobs::leased_job& job) { return periodic_scan(job); });
}

} // namespace paaskit::server
