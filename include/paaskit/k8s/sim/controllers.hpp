#pragma once
/// \file
/// The simulated control plane and nodes: a deployment controller (ReplicaSets per pod template,
/// status for `kubectl rollout status`), a ReplicaSet controller, a scheduler (the
/// `paaskit::scheduler` engine, FailedScheduling events for pods that fit nowhere), simulated
/// kubelets (Pending -> Running -> Ready after configurable delays, synthetic logs, graceful
/// termination, heartbeats and node leases), the namespace controller (Terminating, content removed,
/// then gone) and the garbage collector (ownerReferences with Background, Foreground and Orphan).
///
/// Controllers react to the store's changes on the cluster's event loop; each change only marks
/// work, which runs in a posted pass, so a controller's own writes never re-enter it.

#include <paaskit/core/detail/fnv1a.hpp>
#include <paaskit/k8s/quantity.hpp>
#include <paaskit/k8s/scheduling.hpp>
#include <paaskit/k8s/sim/api.hpp>
#include <paaskit/k8s/sim/faults.hpp>
#include <paaskit/k8s/sim/object_fields.hpp>
#include <paaskit/k8s/sim/selectors.hpp>
#include <paaskit/scheduler/engine.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace paaskit::k8s::sim {

struct node_settings {
    std::string cpu = "4";
    std::string memory = "8Gi";
    std::int64_t pods = 110;
    std::map<std::string, std::string> labels{};
    /// Taints as "key=value:Effect" or "key:Effect".
    std::vector<std::string> taints{};
    std::size_t zones = 1; ///< nodes are dealt to zones "zone-a", "zone-b", ... in turn
};

struct controller_settings {
    std::size_t nodes = 3;
    node_settings node{};
    std::chrono::milliseconds pod_start_delay{200};   ///< scheduled -> Running
    std::chrono::milliseconds pod_ready_delay{200};   ///< Running -> Ready
    std::chrono::milliseconds termination_delay{100}; ///< graceful deletion -> gone
    std::chrono::milliseconds heartbeat_interval{10'000};
    std::chrono::milliseconds log_interval{1'000};    ///< one synthetic log line per container per interval
};

/// The synthetic log of one container: a start line, then a line per interval since it started.
struct log_request {
    std::string container;
    std::optional<std::int64_t> tail_lines;
    std::optional<core::time_point> since;
    bool timestamps = false;
};

class controllers {
public:
    controllers(boost::asio::io_context& io, cluster_api& api, controller_settings settings)
        : io_(io), api_(api), settings_(std::move(settings)), heartbeat_(io), engine_(scheduler::default_profile())
    {
    }

    controllers(const controllers&) = delete;
    controllers& operator=(const controllers&) = delete;
    ~controllers() { stop(); }

    /// Faults the kubelets honour (`never_ready_images`); set on the loop before `start`.
    void use_faults(const fault_settings& faults) noexcept { faults_ = &faults; }

    /// Creates the system namespaces and the nodes (when not restored from a snapshot) and starts
    /// reacting to changes. On the event loop.
    void start()
    {
        listener_ = api_.store().subscribe([this](const change& c) { on_change(c); });
        for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"})
            if (!api_.store().get(resources::namespaces, {{}, ns}))
                api_.create(resources::namespaces, "", boost::json::object{{"metadata", boost::json::object{{"name", ns}}}}, system_write());
        if (api_.store().objects(resources::nodes).empty())
            for (std::size_t i = 0; i < settings_.nodes; ++i)
                add_node("node-" + std::to_string(i + 1), i);
        for (const auto& [key, node] : api_.store().objects(resources::nodes))
            sync_node(*node);
        // Pods restored from a snapshot: bound ones count on their nodes, the rest wait.
        for (const auto& [key, pod] : api_.store().objects(resources::pods))
            dirty_.insert({resources::pods, key});
        for (const auto& [key, d] : api_.store().objects(resources::deployments))
            dirty_.insert({resources::deployments, key});
        schedule_pass();
        schedule_heartbeat();
    }

    void stop()
    {
        if (listener_ != 0) {
            api_.store().unsubscribe(listener_);
            listener_ = 0;
        }
        stopped_ = true;
        heartbeat_.cancel();
        for (auto& [_, timer] : timers_)
            timer->cancel();
        timers_.clear();
    }

    /// Adds a simulated node (also used for `--nodes`).
    void add_node(const std::string& name, std::size_t index)
    {
        boost::json::object labels{{"kubernetes.io/hostname", name}, {"kubernetes.io/os", "linux"}, {"kubernetes.io/arch", "amd64"},
                                   {"topology.kubernetes.io/zone", zone_name(index % std::max<std::size_t>(settings_.node.zones, 1))}};
        for (const auto& [k, v] : settings_.node.labels)
            labels[k] = v;
        boost::json::array taints;
        for (const auto& text : settings_.node.taints) {
            const auto colon = text.rfind(':');
            const std::string key_value = text.substr(0, colon);
            const auto eq = key_value.find('=');
            boost::json::object taint{{"key", key_value.substr(0, eq)}, {"effect", colon == std::string::npos ? "NoSchedule" : text.substr(colon + 1)}};
            if (eq != std::string::npos)
                taint["value"] = key_value.substr(eq + 1);
            taints.push_back(std::move(taint));
        }
        const boost::json::object capacity{{"cpu", settings_.node.cpu}, {"memory", settings_.node.memory},
                                           {"pods", std::to_string(settings_.node.pods)}, {"ephemeral-storage", "100Gi"}};
        boost::json::object spec;
        if (!taints.empty())
            spec["taints"] = std::move(taints);
        boost::json::object node{{"metadata", boost::json::object{{"name", name}, {"labels", std::move(labels)}}}, {"spec", std::move(spec)}};
        auto created = api_.create(resources::nodes, "", std::move(node), system_write());
        if (!created)
            return;
        const std::string now = format_time(api_.clock().now());
        boost::json::object next = created->object->object;
        next["status"] = boost::json::object{
            {"capacity", capacity},
            {"allocatable", capacity},
            {"conditions", node_conditions(now)},
            {"addresses", boost::json::array{boost::json::object{{"type", "InternalIP"}, {"address", "172.18.0." + std::to_string(index + 2)}},
                                             boost::json::object{{"type", "Hostname"}, {"address", name}}}},
            {"nodeInfo", boost::json::object{{"kubeletVersion", "v1.32.0-paaskit-sim"}, {"containerRuntimeVersion", "sim://1.0"},
                                             {"operatingSystem", "linux"}, {"architecture", "amd64"}, {"kernelVersion", "6.1.0"},
                                             {"osImage", "paaskit simulated node"}, {"machineID", ""}, {"systemUUID", ""}, {"bootID", ""},
                                             {"kubeProxyVersion", ""}}}};
        api_.controller_write(resources::nodes, *created->object, std::move(next), "kubelet", "status");
        renew_lease(name);
    }

    /// The synthetic log of a container up to now; empty optional when the container is unknown.
    std::optional<std::string> logs(const stored_object& pod, const log_request& request, core::time_point now) const
    {
        const auto* status = member_object(pod.object, "status");
        const auto started = status != nullptr ? core::parse_rfc3339(member_string(*status, "startTime")) : core::result<core::time_point>(core::error(core::errc::invalid_argument));
        std::string out;
        if (!started)
            return out; // not running yet: no output
        const auto interval = std::max(settings_.log_interval, std::chrono::milliseconds(1));
        const auto count = static_cast<std::int64_t>((now - *started) / interval) + 1;
        std::int64_t first = 0;
        if (request.since && *request.since > *started)
            first = static_cast<std::int64_t>((*request.since - *started + interval - std::chrono::nanoseconds(1)) / interval);
        if (request.tail_lines)
            first = std::max(first, count - *request.tail_lines);
        for (std::int64_t i = std::max<std::int64_t>(first, 0); i < count; ++i)
            out += log_line(pod, request, *started, i);
        return out;
    }

    /// Line `i` of a container's log (with the RFC 3339 nano timestamp prefix when asked).
    std::string log_line(const stored_object& pod, const log_request& request, core::time_point started, std::int64_t i) const
    {
        const auto at = started + i * std::chrono::duration_cast<core::time_point::duration>(settings_.log_interval);
        std::string line;
        if (request.timestamps)
            line = core::format_rfc3339(at, core::fraction_digits::nanos) + " ";
        if (i == 0)
            line += "starting " + request.container + " in pod " + std::string(pod.name()) + "\n";
        else
            line += request.container + ": simulated work, tick " + std::to_string(i) + "\n";
        return line;
    }

    core::time_point::duration log_interval() const { return settings_.log_interval; }

    /// Checks an eviction against the PodDisruptionBudgets covering the pod; nullopt: allowed.
    std::optional<api_error> check_eviction(const stored_object& pod) const
    {
        std::vector<object_ptr> budgets;
        for (auto it = api_.store().objects(resources::poddisruptionbudgets).lower_bound({std::string(pod.namespace_name()), {}});
             it != api_.store().objects(resources::poddisruptionbudgets).end() && it->first.namespace_name == pod.namespace_name(); ++it) {
            const auto* spec = member_object(it->second->object, "spec");
            const auto selector = spec != nullptr ? label_selector::from_object(spec->if_contains("selector")) : std::nullopt;
            if (selector && !selector->empty() && selector->matches_object(pod.object))
                budgets.push_back(it->second);
        }
        if (budgets.empty() || !pod_ready(pod.object))
            return std::nullopt; // an unready pod may always go
        if (budgets.size() > 1)
            return errors::internal("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
        const auto budget = budget_health(*budgets.front());
        if (budget.allowed > 0)
            return std::nullopt;
        api_error error = errors::too_many_requests("Cannot evict pod as it would violate the pod's disruption budget.", 0);
        error.causes.push_back({"DisruptionBudget", "The disruption budget " + std::string(budgets.front()->name()) + " needs " +
                                                        std::to_string(budget.desired) + " healthy pods and has " +
                                                        std::to_string(budget.current) + " currently"});
        return error;
    }

private:
    using work_key = std::pair<resource_id, object_key>;

    static write_options system_write()
    {
        write_options options;
        options.field_manager = "kube-controller-manager";
        options.validation = field_validation::ignore;
        return options;
    }

    static std::string zone_name(std::size_t i) { return std::string("zone-") + static_cast<char>('a' + static_cast<char>(i % 26)); }

    static boost::json::array node_conditions(const std::string& now)
    {
        boost::json::array conditions;
        for (const char* type : {"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"}) {
            const bool ready = std::string_view(type) == "Ready";
            conditions.push_back(boost::json::object{{"type", type}, {"status", ready ? "True" : "False"},
                                                     {"lastHeartbeatTime", now}, {"lastTransitionTime", now},
                                                     {"reason", ready ? "KubeletReady" : "KubeletHasSufficient"},
                                                     {"message", ready ? "kubelet is posting ready status" : "kubelet has sufficient resources"}});
        }
        return conditions;
    }

    void on_change(const change& c)
    {
        if (stopped_)
            return;
        const auto& object = c.object->object;
        const object_key key{std::string(namespace_of(object)), std::string(name_of(object))};
        dirty_.insert({c.type, key});
        if (c.type == resources::pods || c.type == resources::replicasets) {
            if (const auto owner = owner_of(object, c.type == resources::pods ? "ReplicaSet" : "Deployment"); !owner.empty())
                dirty_.insert({c.type == resources::pods ? resources::replicasets : resources::deployments, {key.namespace_name, owner}});
            if (c.previous)
                if (const auto owner = owner_of(c.previous->object, c.type == resources::pods ? "ReplicaSet" : "Deployment"); !owner.empty())
                    dirty_.insert({c.type == resources::pods ? resources::replicasets : resources::deployments, {key.namespace_name, owner}});
        }
        if (c.what == change_type::deleted) {
            deleted_uids_.emplace_back(uid_of(object));
            if (c.type == resources::pods)
                release_pod(object);
        }
        if (c.type == resources::pods && c.what == change_type::deleted)
            retry_pending_ = true; // room freed
        if (c.type == resources::nodes) {
            if (c.what == change_type::deleted)
                (void)engine_.remove_node(std::string(name_of(object)));
            else
                sync_node(*c.object);
            retry_pending_ = true;
        }
        if (rt_namespaced(c.type) && !key.namespace_name.empty())
            if (terminating_.count(key.namespace_name) != 0)
                dirty_.insert({resources::namespaces, {{}, key.namespace_name}});
        schedule_pass();
    }

    static bool rt_namespaced(resource_id type) { return resource_types()[type].namespaced; }

    static std::string owner_of(const boost::json::object& object, std::string_view kind)
    {
        if (const auto* owners = member_array(metadata_of(object), "ownerReferences"))
            for (const auto& owner : *owners)
                if (const auto* o = owner.if_object(); o != nullptr && member_bool(*o, "controller") && member_string(*o, "kind") == kind)
                    return std::string(member_string(*o, "name"));
        return {};
    }

    void schedule_pass()
    {
        if (pass_posted_ || stopped_)
            return;
        pass_posted_ = true;
        boost::asio::post(io_, [this] {
            pass_posted_ = false;
            if (!stopped_)
                run_pass();
        });
    }

    void run_pass()
    {
        // Bounded: controllers writing causes more changes, handled in the next pass.
        auto work = std::move(dirty_);
        dirty_.clear();
        auto uids = std::move(deleted_uids_);
        deleted_uids_.clear();
        for (const auto& uid : uids)
            collect_dependents(uid);
        for (const auto& [type, key] : work) {
            switch (type) {
            case resources::deployments: reconcile_deployment(key); break;
            case resources::replicasets: reconcile_replicaset(key); break;
            case resources::pods: reconcile_pod(key); break;
            case resources::namespaces: reconcile_namespace(key); break;
            case resources::poddisruptionbudgets: break;
            default: break;
            }
            reconcile_finalizers(type, key);
        }
        if (retry_pending_) {
            retry_pending_ = false;
            for (const auto& key : std::vector<object_key>(pending_.begin(), pending_.end()))
                reconcile_pod(key);
        }
        refresh_budgets();
    }

    // --- garbage collection -------------------------------------------------------------------

    /// Dependents of a deleted owner are deleted (background propagation).
    void collect_dependents(const std::string& owner_uid)
    {
        if (owner_uid.empty())
            return;
        for (const resource_id type : {resources::replicasets, resources::pods}) {
            std::vector<object_key> victims;
            for (const auto& [key, object] : api_.store().objects(type))
                if (controller_uid(object->object) == owner_uid)
                    victims.push_back(key);
            for (const auto& key : victims)
                (void)api_.remove(type, key.namespace_name, key.name, {});
        }
    }

    /// foregroundDeletion and orphan finalizers on an object being deleted.
    void reconcile_finalizers(resource_id type, const object_key& key)
    {
        const auto current = api_.store().get(type, key);
        if (!current || current->metadata().if_contains("deletionTimestamp") == nullptr)
            return;
        const auto* finalizers = member_array(current->metadata(), "finalizers");
        if (finalizers == nullptr)
            return;
        const std::string uid(uid_of(current->object));
        const auto has = [&](std::string_view f) { return std::find(finalizers->begin(), finalizers->end(), boost::json::value(f)) != finalizers->end(); };
        if (has("orphan")) {
            for (const resource_id dependent : {resources::replicasets, resources::pods})
                for (const auto& [k, object] : std::map(api_.store().objects(dependent)))
                    if (controller_uid(object->object) == uid) {
                        boost::json::object next = object->object;
                        next["metadata"].as_object().erase("ownerReferences");
                        api_.controller_write(dependent, *object, std::move(next), "garbage-collector");
                    }
            api_.remove_finalizer(type, *current, "orphan");
        } else if (has("foregroundDeletion")) {
            bool remaining = false;
            for (const resource_id dependent : {resources::replicasets, resources::pods})
                for (const auto& [k, object] : std::map(api_.store().objects(dependent)))
                    if (controller_uid(object->object) == uid) {
                        remaining = true;
                        if (object->metadata().if_contains("deletionTimestamp") == nullptr) {
                            delete_options foreground;
                            foreground.propagation = "Foreground";
                            (void)api_.remove(dependent, k.namespace_name, k.name, foreground);
                        }
                    }
            if (!remaining)
                api_.remove_finalizer(type, *current, "foregroundDeletion");
        }
    }

    // --- deployments and replica sets ---------------------------------------------------------

    static std::string template_hash(const boost::json::value& pod_template)
    {
        // A hash of the template in kube's name alphabet, like pod-template-hash.
        std::uint64_t h = core::detail::fnv1a(boost::json::serialize(pod_template));
        std::string out;
        for (int i = 0; i < 10; ++i) {
            out += kube_name_alphabet[h % kube_name_alphabet.size()];
            h /= kube_name_alphabet.size();
        }
        return out;
    }

    static boost::json::object owner_reference(resource_id type, const stored_object& owner)
    {
        const resource_type& rt = resource_types()[type];
        return {{"apiVersion", rt.api_version()}, {"kind", rt.kind}, {"name", owner.name()}, {"uid", uid_of(owner.object)},
                {"controller", true}, {"blockOwnerDeletion", true}};
    }

    std::vector<object_ptr> owned(resource_id type, const std::string& ns, std::string_view owner_uid) const
    {
        std::vector<object_ptr> out;
        const auto& objects = api_.store().objects(type);
        for (auto it = objects.lower_bound({ns, {}}); it != objects.end() && it->first.namespace_name == ns; ++it)
            if (controller_uid(it->second->object) == owner_uid)
                out.push_back(it->second);
        return out;
    }

    void reconcile_deployment(const object_key& key)
    {
        const auto deployment = api_.store().get(resources::deployments, key);
        if (!deployment || deployment->metadata().if_contains("deletionTimestamp") != nullptr)
            return;
        const auto& spec = deployment->object.at("spec").as_object();
        const auto* pod_template = spec.if_contains("template");
        if (pod_template == nullptr)
            return;
        const std::string hash = template_hash(*pod_template);
        const std::int64_t replicas = std::max<std::int64_t>(member_int(spec, "replicas", 1), 0);
        const std::string uid(uid_of(deployment->object));
        object_ptr current_rs;
        std::vector<object_ptr> old_sets;
        for (auto& rs : owned(resources::replicasets, key.namespace_name, uid)) {
            const auto* labels = member_object(rs->metadata(), "labels");
            if (labels != nullptr && member_string(*labels, "pod-template-hash") == hash)
                current_rs = rs;
            else
                old_sets.push_back(rs);
        }
        if (!current_rs) {
            boost::json::object tmpl = pod_template->as_object();
            ensure_object(ensure_object(tmpl, "metadata"), "labels")["pod-template-hash"] = hash;
            boost::json::object selector = spec.at("selector").as_object();
            ensure_object(selector, "matchLabels")["pod-template-hash"] = hash;
            boost::json::object labels = member_object(tmpl.at("metadata").as_object(), "labels") != nullptr
                                             ? tmpl.at("metadata").as_object().at("labels").as_object()
                                             : boost::json::object();
            const std::int64_t revision = static_cast<std::int64_t>(old_sets.size()) + 1;
            boost::json::object rs{
                {"metadata", boost::json::object{{"name", std::string(deployment->name()) + "-" + hash},
                                                 {"labels", labels},
                                                 {"annotations", boost::json::object{{"deployment.kubernetes.io/revision", std::to_string(revision)},
                                                                                     {"deployment.kubernetes.io/desired-replicas", std::to_string(replicas)}}},
                                                 {"ownerReferences", boost::json::array{owner_reference(resources::deployments, *deployment)}}}},
                {"spec", boost::json::object{{"replicas", replicas}, {"selector", std::move(selector)}, {"template", std::move(tmpl)}}}};
            auto created = api_.create(resources::replicasets, key.namespace_name, std::move(rs), system_write());
            if (!created)
                return;
            current_rs = created->object;
            record_event(*deployment, resources::deployments, "Normal", "ScalingReplicaSet",
                         "Scaled up replica set " + std::string(current_rs->name()) + " to " + std::to_string(replicas), "deployment-controller");
        } else if (member_int(current_rs->object.at("spec").as_object(), "replicas") != replicas) {
            boost::json::object next = current_rs->object;
            next["spec"].as_object()["replicas"] = replicas;
            api_.controller_write(resources::replicasets, *current_rs, std::move(next), "kube-controller-manager");
        }
        // Old replica sets go down once the new one is available (a rollout, simplified to one step).
        const auto* new_status = member_object(current_rs->object, "status");
        const bool new_available = new_status != nullptr && member_int(*new_status, "availableReplicas") >= replicas;
        for (const auto& old : old_sets)
            if (new_available && member_int(old->object.at("spec").as_object(), "replicas") != 0) {
                boost::json::object next = old->object;
                next["spec"].as_object()["replicas"] = 0;
                api_.controller_write(resources::replicasets, *old, std::move(next), "kube-controller-manager");
            }
        // Status from the replica sets.
        std::int64_t total = 0, ready = 0, available = 0;
        for (const auto& rs : owned(resources::replicasets, key.namespace_name, uid))
            if (const auto* st = member_object(rs->object, "status")) {
                total += member_int(*st, "replicas");
                ready += member_int(*st, "readyReplicas");
                available += member_int(*st, "availableReplicas");
            }
        const std::int64_t updated = new_status != nullptr ? member_int(*new_status, "replicas") : 0;
        const std::string now = format_time(api_.clock().now());
        boost::json::object status{{"observedGeneration", member_int(deployment->metadata(), "generation", 1)},
                                   {"replicas", total},
                                   {"updatedReplicas", updated},
                                   {"readyReplicas", ready},
                                   {"availableReplicas", available}};
        if (total - available > 0)
            status["unavailableReplicas"] = total - available;
        for (const char* field : {"replicas", "updatedReplicas", "readyReplicas", "availableReplicas"})
            if (member_int(status, field) == 0)
                status.erase(field);
        const bool is_available = available >= replicas;
        const bool complete = is_available && updated == replicas && total == replicas;
        boost::json::array conditions{
            boost::json::object{{"type", "Available"}, {"status", is_available ? "True" : "False"}, {"lastUpdateTime", now}, {"lastTransitionTime", now},
                                {"reason", is_available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable"},
                                {"message", is_available ? "Deployment has minimum availability." : "Deployment does not have minimum availability."}},
            boost::json::object{{"type", "Progressing"}, {"status", "True"}, {"lastUpdateTime", now}, {"lastTransitionTime", now},
                                {"reason", complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated"},
                                {"message", "ReplicaSet \"" + std::string(current_rs->name()) + "\" " +
                                                (complete ? "has successfully progressed." : "is progressing.")}}};
        // Keep transition times when the condition did not change, so a steady state writes nothing.
        if (const auto* old_status = member_object(deployment->object, "status"))
            if (const auto* old_conditions = member_array(*old_status, "conditions"))
                for (auto& c : conditions)
                    for (const auto& o : *old_conditions)
                        if (member_string(o.as_object(), "type") == member_string(c.as_object(), "type") &&
                            member_string(o.as_object(), "status") == member_string(c.as_object(), "status") &&
                            member_string(o.as_object(), "reason") == member_string(c.as_object(), "reason"))
                            c = o;
        status["conditions"] = std::move(conditions);
        if (const auto* old_status = member_object(deployment->object, "status"); old_status != nullptr && *old_status == status)
            return;
        boost::json::object next = deployment->object;
        next["status"] = std::move(status);
        api_.controller_write(resources::deployments, *deployment, std::move(next), "kube-controller-manager", "status");
    }

    static bool pod_ready(const boost::json::object& pod)
    {
        if (metadata_of(pod).if_contains("deletionTimestamp") != nullptr)
            return false;
        if (const auto* status = member_object(pod, "status"))
            if (const auto* conditions = member_array(*status, "conditions"))
                for (const auto& c : *conditions)
                    if (member_string(c.as_object(), "type") == "Ready")
                        return member_string(c.as_object(), "status") == "True";
        return false;
    }

    void reconcile_replicaset(const object_key& key)
    {
        const auto rs = api_.store().get(resources::replicasets, key);
        if (!rs || rs->metadata().if_contains("deletionTimestamp") != nullptr)
            return;
        const auto& spec = rs->object.at("spec").as_object();
        const std::int64_t replicas = std::max<std::int64_t>(member_int(spec, "replicas", 1), 0);
        const std::string uid(uid_of(rs->object));
        std::vector<object_ptr> active;
        for (auto& pod : owned(resources::pods, key.namespace_name, uid))
            if (pod->metadata().if_contains("deletionTimestamp") == nullptr)
                active.push_back(pod);
        const auto have = static_cast<std::int64_t>(active.size());
        if (have < replicas) {
            const auto* tmpl = spec.if_contains("template");
            for (std::int64_t i = have; i < replicas && tmpl != nullptr; ++i) {
                boost::json::object pod{{"metadata", tmpl->as_object().contains("metadata") ? tmpl->as_object().at("metadata") : boost::json::object()},
                                        {"spec", tmpl->as_object().at("spec")}};
                auto& metadata = pod["metadata"].as_object();
                metadata.erase("name");
                metadata["generateName"] = std::string(rs->name()) + "-";
                metadata["ownerReferences"] = boost::json::array{owner_reference(resources::replicasets, *rs)};
                auto created = api_.create(resources::pods, key.namespace_name, std::move(pod), system_write());
                if (created)
                    record_event(*rs, resources::replicasets, "Normal", "SuccessfulCreate", "Created pod: " + std::string(created->object->name()),
                                 "replicaset-controller");
                else
                    record_event(*rs, resources::replicasets, "Warning", "FailedCreate", "Error creating: " + created.error().message,
                                 "replicaset-controller");
            }
        } else if (have > replicas) {
            // Unscheduled and unready pods go first, then the youngest.
            std::sort(active.begin(), active.end(), [](const object_ptr& a, const object_ptr& b) {
                const auto rank = [](const object_ptr& p) {
                    return std::tuple(!member_string(p->object.at("spec").as_object(), "nodeName").empty(), pod_ready(p->object),
                                      std::string_view(member_string(p->metadata(), "creationTimestamp")));
                };
                const auto ra = rank(a), rb = rank(b);
                return std::get<0>(ra) != std::get<0>(rb)   ? !std::get<0>(ra)
                       : std::get<1>(ra) != std::get<1>(rb) ? !std::get<1>(ra)
                                                            : std::get<2>(ra) > std::get<2>(rb);
            });
            for (std::int64_t i = 0; i < have - replicas; ++i) {
                const std::string name(active[static_cast<std::size_t>(i)]->name());
                if (api_.remove(resources::pods, key.namespace_name, name, {}))
                    record_event(*rs, resources::replicasets, "Normal", "SuccessfulDelete", "Deleted pod: " + name, "replicaset-controller");
            }
        }
        std::int64_t total = 0, ready = 0;
        for (const auto& pod : owned(resources::pods, key.namespace_name, uid))
            if (pod->metadata().if_contains("deletionTimestamp") == nullptr) {
                ++total;
                ready += pod_ready(pod->object) ? 1 : 0;
            }
        boost::json::object status{{"replicas", total}, {"fullyLabeledReplicas", total}, {"readyReplicas", ready},
                                   {"availableReplicas", ready}, {"observedGeneration", member_int(rs->metadata(), "generation", 1)}};
        for (const char* field : {"fullyLabeledReplicas", "readyReplicas", "availableReplicas"})
            if (member_int(status, field) == 0)
                status.erase(field);
        if (const auto* old = member_object(rs->object, "status"); old != nullptr && *old == status)
            return;
        boost::json::object next = rs->object;
        next["status"] = std::move(status);
        api_.controller_write(resources::replicasets, *rs, std::move(next), "kube-controller-manager", "status");
    }

    // --- scheduler and kubelet ----------------------------------------------------------------

    void sync_node(const stored_object& node)
    {
        auto spec = node_spec_of(node.object, api_.clock().now());
        if (!spec)
            return; // the kubelet has not reported yet
        if (known_nodes_.insert(spec->name).second)
            (void)engine_.add_node(*spec);
        else
            (void)engine_.update_node(*spec);
    }

    void release_pod(const boost::json::object& pod)
    {
        const std::string uid(uid_of(pod));
        if (const auto found = placements_.find(uid); found != placements_.end()) {
            (void)engine_.release(found->second);
            placements_.erase(found);
        }
        pending_.erase({std::string(namespace_of(pod)), std::string(name_of(pod))});
    }

    void reconcile_pod(const object_key& key)
    {
        const auto pod = api_.store().get(resources::pods, key);
        if (!pod) {
            pending_.erase(key);
            return;
        }
        const auto& spec = pod->object.at("spec").as_object();
        const bool deleting = pod->metadata().if_contains("deletionTimestamp") != nullptr;
        if (deleting) {
            pending_.erase(key);
            if (member_string(spec, "nodeName").empty())
                api_.finish_deletion(resources::pods, key.namespace_name, key.name);
            else
                after(settings_.termination_delay, "terminate/" + key.namespace_name + "/" + key.name, [this, key] {
                    if (auto p = api_.store().get(resources::pods, key); p && p->metadata().if_contains("deletionTimestamp") != nullptr)
                        api_.finish_deletion(resources::pods, key.namespace_name, key.name);
                });
            return;
        }
        if (member_string(spec, "nodeName").empty()) {
            schedule_pod(key, *pod);
            return;
        }
        const std::string uid(uid_of(pod->object));
        if (!placements_.contains(uid)) {
            // Bound without our scheduler (the binding subresource, a restored snapshot): count it
            // on its node. A pod bound to a node that does not exist never starts.
            auto assigned = engine_.assign(workload_of(pod->object), member_string(spec, "nodeName"));
            if (!assigned)
                return;
            placements_[uid] = *assigned;
        }
        const auto* status = member_object(pod->object, "status");
        const std::string_view phase = status != nullptr ? member_string(*status, "phase") : "";
        if (phase == "Pending")
            after(settings_.pod_start_delay, "start/" + uid, [this, key] { start_pod(key); });
        else if (phase == "Running" && !pod_ready(pod->object))
            after(settings_.pod_ready_delay, "ready/" + uid, [this, key] { make_ready(key); });
    }

    void schedule_pod(const object_key& key, const stored_object& pod)
    {
        if (member_string(pod.object.at("spec").as_object(), "schedulerName") != "default-scheduler")
            return;
        auto placed = engine_.place(workload_of(pod.object), api_.clock().now());
        if (!placed || !*placed) {
            const bool first = pending_.insert(key).second;
            const std::string message = placed ? placed->why.message() : placed.error().detail();
            boost::json::object next = pod.object;
            auto& status = ensure_object(next, "status");
            status["conditions"] = boost::json::array{boost::json::object{
                {"type", "PodScheduled"}, {"status", "False"}, {"lastProbeTime", nullptr},
                {"lastTransitionTime", format_time(api_.clock().now())}, {"reason", "Unschedulable"}, {"message", message}}};
            if (first) {
                record_event(pod, resources::pods, "Warning", "FailedScheduling", message, "default-scheduler");
                api_.controller_write(resources::pods, pod, std::move(next), "kube-scheduler", "status");
            }
            return;
        }
        pending_.erase(key);
        const std::string node(placed->node);
        placements_[std::string(uid_of(pod.object))] = placed->id;
        boost::json::object next = pod.object;
        next["spec"].as_object()["nodeName"] = node;
        auto& status = ensure_object(next, "status");
        status["conditions"] = boost::json::array{boost::json::object{
            {"type", "PodScheduled"}, {"status", "True"}, {"lastProbeTime", nullptr}, {"lastTransitionTime", format_time(api_.clock().now())}}};
        // Binding changes spec.nodeName, which only the binding subresource may: write it directly.
        auto written = api_.controller_write(resources::pods, pod, std::move(next), "kube-scheduler");
        if (written)
            record_event(*written, resources::pods, "Normal", "Scheduled",
                         "Successfully assigned " + key.namespace_name + "/" + key.name + " to " + node, "default-scheduler");
    }

    void start_pod(const object_key& key)
    {
        const auto pod = api_.store().get(resources::pods, key);
        if (!pod || pod->metadata().if_contains("deletionTimestamp") != nullptr)
            return;
        const auto& spec = pod->object.at("spec").as_object();
        const std::string now = format_time(api_.clock().now());
        boost::json::object next = pod->object;
        auto& status = ensure_object(next, "status");
        if (member_string(status, "phase") != "Pending")
            return;
        status["phase"] = "Running";
        status["startTime"] = now;
        status["hostIP"] = node_ip(member_string(spec, "nodeName"));
        status["hostIPs"] = boost::json::array{boost::json::object{{"ip", status["hostIP"]}}};
        const std::uint32_t ip_index = ++pod_ips_;
        const std::string ip = "10.244." + std::to_string((ip_index >> 8) & 0xff) + "." + std::to_string(ip_index & 0xff);
        status["podIP"] = ip;
        status["podIPs"] = boost::json::array{boost::json::object{{"ip", ip}}};
        boost::json::array statuses;
        if (const auto* containers = member_array(spec, "containers"))
            for (const auto& c : *containers)
                statuses.push_back(boost::json::object{{"name", member_string(c.as_object(), "name")}, {"image", member_string(c.as_object(), "image")},
                                                       {"imageID", "sim://" + std::string(member_string(c.as_object(), "image"))},
                                                       {"containerID", "sim://" + random_hex()}, {"ready", false}, {"started", true},
                                                       {"restartCount", 0}, {"state", boost::json::object{{"running", boost::json::object{{"startedAt", now}}}}}});
        status["containerStatuses"] = std::move(statuses);
        status["conditions"] = pod_conditions(now, false);
        status["qosClass"] = "BestEffort";
        auto written = api_.controller_write(resources::pods, *pod, std::move(next), "kubelet", "status");
        if (written)
            record_event(*written, resources::pods, "Normal", "Started", "Started container(s)", "kubelet");
    }

    void make_ready(const object_key& key)
    {
        const auto pod = api_.store().get(resources::pods, key);
        if (!pod || pod->metadata().if_contains("deletionTimestamp") != nullptr)
            return;
        if (faults_ != nullptr)
            if (const auto* containers = member_array(pod->object.at("spec").as_object(), "containers"))
                for (const auto& c : *containers) {
                    if (!c.is_object())
                        continue;
                    if (faults_->crash_loops(member_string(c.get_object(), "image"))) {
                        crash(*pod); // a fault: it crashes again instead of becoming ready
                        return;
                    }
                    if (faults_->never_ready(member_string(c.get_object(), "image")))
                        return; // a fault: its readiness probe never passes
                }
        boost::json::object next = pod->object;
        auto& status = ensure_object(next, "status");
        if (member_string(status, "phase") != "Running")
            return;
        const std::string now = format_time(api_.clock().now());
        status["conditions"] = pod_conditions(now, true);
        if (auto* statuses = status.if_contains("containerStatuses"); statuses != nullptr && statuses->is_array())
            for (auto& cs : statuses->get_array()) {
                auto& c = cs.as_object();
                c["ready"] = true;
                if (const auto* state = member_object(c, "state"); state == nullptr || member_object(*state, "running") == nullptr) {
                    c["started"] = true; // restarted after a crash: running again
                    c["state"] = boost::json::object{{"running", boost::json::object{{"startedAt", now}}}};
                }
            }
        api_.controller_write(resources::pods, *pod, std::move(next), "kubelet", "status");
    }

    /// The pod's containers exited with an error and wait to be restarted: the restart count
    /// grows, and the pod update brings the next attempt (and the next crash).
    void crash(const stored_object& pod)
    {
        boost::json::object next = pod.object;
        auto& status = ensure_object(next, "status");
        if (member_string(status, "phase") != "Running")
            return;
        const std::string now = format_time(api_.clock().now());
        if (auto* statuses = status.if_contains("containerStatuses"); statuses != nullptr && statuses->is_array())
            for (auto& cs : statuses->get_array()) {
                auto& c = cs.as_object();
                c["ready"] = false;
                c["started"] = false;
                c["restartCount"] = member_int(c, "restartCount") + 1;
                c["lastState"] = boost::json::object{
                    {"terminated", boost::json::object{{"exitCode", 1}, {"reason", "Error"}, {"startedAt", now}, {"finishedAt", now}}}};
                c["state"] = boost::json::object{
                    {"waiting", boost::json::object{{"reason", "CrashLoopBackOff"}, {"message", "back-off restarting failed container"}}}};
            }
        status["conditions"] = pod_conditions(now, false);
        auto written = api_.controller_write(resources::pods, pod, std::move(next), "kubelet", "status");
        if (written)
            record_event(*written, resources::pods, "Warning", "BackOff", "Back-off restarting failed container", "kubelet");
    }

    static boost::json::array pod_conditions(const std::string& now, bool ready)
    {
        boost::json::array out;
        for (const char* type : {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
            const bool waits = std::string_view(type) == "Ready" || std::string_view(type) == "ContainersReady";
            out.push_back(boost::json::object{{"type", type}, {"status", !waits || ready ? "True" : "False"}, {"lastProbeTime", nullptr},
                                              {"lastTransitionTime", now}});
        }
        return out;
    }

    std::string node_ip(std::string_view node) const
    {
        if (const auto n = api_.store().get(resources::nodes, {{}, std::string(node)}))
            if (const auto* status = member_object(n->object, "status"))
                if (const auto* addresses = member_array(*status, "addresses"))
                    for (const auto& a : *addresses)
                        if (member_string(a.as_object(), "type") == "InternalIP")
                            return std::string(member_string(a.as_object(), "address"));
        return "172.18.0.1";
    }

    std::string random_hex() { return api_.random_uid().substr(0, 8) + api_.random_uid().substr(0, 8); }

    // --- namespaces ---------------------------------------------------------------------------

    void reconcile_namespace(const object_key& key)
    {
        const auto ns = api_.store().get(resources::namespaces, key);
        if (!ns) {
            terminating_.erase(key.name);
            return;
        }
        if (ns->metadata().if_contains("deletionTimestamp") == nullptr)
            return;
        terminating_.insert(key.name);
        bool remaining = false;
        for (resource_id type = 0; type < resource_types().size(); ++type) {
            if (!resource_types()[type].namespaced)
                continue;
            std::vector<object_key> keys;
            const auto& objects = api_.store().objects(type);
            for (auto it = objects.lower_bound({key.name, {}}); it != objects.end() && it->first.namespace_name == key.name; ++it) {
                remaining = true;
                if (it->second->metadata().if_contains("deletionTimestamp") == nullptr)
                    keys.push_back(it->first);
            }
            for (const auto& k : keys)
                (void)api_.remove(type, k.namespace_name, k.name, {});
        }
        if (remaining)
            return;
        // Empty: the namespace's own finalizer ("kubernetes" in spec.finalizers) is done.
        terminating_.erase(key.name);
        api_.finish_deletion(resources::namespaces, "", key.name);
    }

    // --- disruption budgets -------------------------------------------------------------------

    struct budget_state {
        std::int64_t current = 0, desired = 0, expected = 0, allowed = 0;
    };

    budget_state budget_health(const stored_object& budget) const
    {
        budget_state h;
        const auto* spec = member_object(budget.object, "spec");
        const auto selector = spec != nullptr ? label_selector::from_object(spec->if_contains("selector")) : std::nullopt;
        const auto& pods = api_.store().objects(resources::pods);
        const std::string ns(budget.namespace_name());
        for (auto it = pods.lower_bound({ns, {}}); it != pods.end() && it->first.namespace_name == ns; ++it) {
            if (!selector || selector->empty() || !selector->matches_object(it->second->object))
                continue;
            ++h.expected;
            h.current += pod_ready(it->second->object) ? 1 : 0;
        }
        const auto amount = [&](const boost::json::value& v) -> std::int64_t {
            if (v.is_int64())
                return v.get_int64();
            if (v.is_string() && v.get_string().ends_with("%")) {
                const auto percent = std::stoll(std::string(v.get_string()).substr(0, v.get_string().size() - 1));
                return (h.expected * percent + 99) / 100;
            }
            return 0;
        };
        if (spec != nullptr && spec->if_contains("minAvailable") != nullptr)
            h.desired = amount(spec->at("minAvailable"));
        else if (spec != nullptr && spec->if_contains("maxUnavailable") != nullptr)
            h.desired = std::max<std::int64_t>(h.expected - amount(spec->at("maxUnavailable")), 0);
        h.allowed = std::max<std::int64_t>(h.current - h.desired, 0);
        return h;
    }

    void refresh_budgets()
    {
        for (const auto& [key, budget] : std::map(api_.store().objects(resources::poddisruptionbudgets))) {
            const auto h = budget_health(*budget);
            boost::json::object status{{"currentHealthy", h.current}, {"desiredHealthy", h.desired}, {"expectedPods", h.expected},
                                       {"disruptionsAllowed", h.allowed}, {"observedGeneration", member_int(budget->metadata(), "generation", 1)}};
            if (const auto* old = member_object(budget->object, "status"))
                if (member_int(*old, "currentHealthy") == h.current && member_int(*old, "desiredHealthy") == h.desired &&
                    member_int(*old, "expectedPods") == h.expected && member_int(*old, "disruptionsAllowed") == h.allowed &&
                    old->if_contains("observedGeneration") != nullptr)
                    continue;
            boost::json::object next = budget->object;
            next["status"] = std::move(status);
            api_.controller_write(resources::poddisruptionbudgets, *budget, std::move(next), "kube-controller-manager", "status");
        }
    }

    // --- nodes --------------------------------------------------------------------------------

    void renew_lease(const std::string& node)
    {
        const std::string now = core::format_rfc3339(api_.clock().now(), core::fraction_digits::micros);
        const auto current = api_.store().get(resources::leases, {"kube-node-lease", node});
        if (!current) {
            boost::json::object lease{{"metadata", boost::json::object{{"name", node}}},
                                      {"spec", boost::json::object{{"holderIdentity", node}, {"leaseDurationSeconds", 40}, {"renewTime", now}}}};
            (void)api_.create(resources::leases, "kube-node-lease", std::move(lease), system_write());
            return;
        }
        boost::json::object next = current->object;
        next["spec"].as_object()["renewTime"] = now;
        api_.controller_write(resources::leases, *current, std::move(next), "kubelet");
    }

    void schedule_heartbeat()
    {
        heartbeat_.expires_after(settings_.heartbeat_interval);
        heartbeat_.async_wait([this](const boost::system::error_code& ec) {
            if (ec || stopped_)
                return;
            const std::string now = format_time(api_.clock().now());
            for (const auto& [key, node] : std::map(api_.store().objects(resources::nodes))) {
                renew_lease(key.name);
                boost::json::object next = node->object;
                if (auto* status = member_object(next, "status"))
                    if (auto* conditions = status->if_contains("conditions"); conditions != nullptr && conditions->is_array())
                        for (auto& c : conditions->get_array())
                            c.as_object()["lastHeartbeatTime"] = now;
                api_.controller_write(resources::nodes, *node, std::move(next), "kubelet", "status");
            }
            schedule_heartbeat();
        });
    }

    // --- events and timers --------------------------------------------------------------------

    void record_event(const stored_object& about, resource_id type, const char* kind, const char* reason, const std::string& message,
                      const char* component)
    {
        const resource_type& rt = resource_types()[type];
        const std::string ns = rt.namespaced ? std::string(about.namespace_name()) : "default";
        if (!api_.store().get(resources::namespaces, {{}, ns}))
            return;
        const std::string now = format_time(api_.clock().now());
        boost::json::object event{
            {"metadata", boost::json::object{{"name", std::string(about.name()) + "." + api_.random_suffix(16)}}},
            {"involvedObject", boost::json::object{{"kind", rt.kind}, {"namespace", about.namespace_name()}, {"name", about.name()},
                                                   {"uid", uid_of(about.object)}, {"apiVersion", rt.api_version()},
                                                   {"resourceVersion", std::to_string(about.resource_version)}}},
            {"reason", reason}, {"message", message}, {"source", boost::json::object{{"component", component}}},
            {"firstTimestamp", now}, {"lastTimestamp", now}, {"count", 1}, {"type", kind},
            {"reportingComponent", component}, {"reportingInstance", ""}};
        (void)api_.create(resources::events, ns, std::move(event), system_write());
    }

    template <typename F>
    void after(std::chrono::milliseconds delay, const std::string& id, F&& action)
    {
        if (timers_.count(id) != 0)
            return; // already scheduled
        auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
        timers_[id] = timer;
        timer->async_wait([this, id, timer, action = std::forward<F>(action)](const boost::system::error_code& ec) mutable {
            if (ec || stopped_)
                return;
            timers_.erase(id);
            action();
        });
    }

    boost::asio::io_context& io_;
    cluster_api& api_;
    controller_settings settings_;
    const fault_settings* faults_ = nullptr;
    boost::asio::steady_timer heartbeat_;
    scheduler::engine engine_;
    std::uint64_t listener_ = 0;
    bool stopped_ = false;
    bool pass_posted_ = false;
    bool retry_pending_ = false;
    std::set<work_key> dirty_;
    std::vector<std::string> deleted_uids_;
    std::set<object_key> pending_;
    std::set<std::string> terminating_;
    std::set<std::string> known_nodes_;
    std::map<std::string, std::uint64_t> placements_;
    std::map<std::string, std::shared_ptr<boost::asio::steady_timer>> timers_;
    std::uint32_t pod_ips_ = 1;
};

} // namespace paaskit::k8s::sim
