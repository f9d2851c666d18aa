#pragma once
/// \file
/// Typed handles for the kinds the platform uses, over `dynamic_client`: each binds a kind to a
/// namespace (or to the cluster, for namespaces and nodes) and adds the kind's own operations —
/// scale, rollout restart and rollout status for deployments; logs, followed logs and evictions for
/// pods; cordon, uncordon and drain for nodes; string data in and out of secrets; the events about
/// an object. Objects stay `boost::json` (the API's own shape, every field), with readers for the
/// few status fields the platform decides on.
///
/// ```cpp
/// using namespace paaskit::k8s::client;
/// clientset k(api);
/// auto web = k.deployments("shop").get("web");
/// k.deployments("shop").scale("web", 3);
/// auto log = k.pods("shop").logs("web-0", {.tail_lines = 20});
/// k.nodes().cordon("node-1");
/// ```
///
/// Thread-safety: handles are cheap values; as the transport's (any number of threads).

#include <paaskit/core/detail/base64.hpp>
#include <paaskit/k8s/client/informer.hpp>
#include <paaskit/k8s/client/operations.hpp>
#include <paaskit/k8s/client/watch.hpp>

#include <map>
#include <memory>

namespace paaskit::k8s::client {

/// The verbs of one kind in one namespace ("" for cluster-scoped kinds, or for a namespaced
/// kind's list and watch across every namespace).
class kind_client {
public:
    kind_client(dynamic_client& api, resource what, std::string ns = {}) : api_(&api), what_(std::move(what)), namespace_(std::move(ns)) {}

    result<boost::json::object> get(std::string_view name) const
    {
        if (auto missing = need_namespace("get"))
            return *missing;
        return api_->get(what_, namespace_, name);
    }

    /// Every item (every page; relists when a continue token expires).
    result<list_result> list(list_options options = {}) const { return api_->list(what_, namespace_, std::move(options)); }

    /// Creates in this handle's namespace, or in the object's own metadata.namespace when the
    /// handle has none; the two must agree when both are set.
    result<boost::json::object> create(const boost::json::object& object, const write_options& options = {}) const
    {
        auto ns = namespace_for(object, "create");
        if (!ns)
            return ns.error();
        return api_->create(what_, *ns, object, options);
    }

    /// PUT with the object's resourceVersion as the precondition (409 conflict when stale).
    result<boost::json::object> replace(const boost::json::object& object, const write_options& options = {}) const
    {
        auto ns = namespace_for(object, "replace");
        if (!ns)
            return ns.error();
        return api_->replace(what_, *ns, object, options);
    }

    result<boost::json::object> patch(std::string_view name, patch_type type, const boost::json::value& body, const write_options& options = {}) const
    {
        if (auto missing = need_namespace("patch"))
            return *missing;
        return api_->patch(what_, namespace_, name, type, body, options);
    }

    /// Server-side apply of a whole manifest as `field_manager`.
    result<boost::json::object> apply(const boost::json::object& manifest, std::string field_manager, bool force = false, bool dry_run = false) const
    {
        auto ns = namespace_for(manifest, "apply");
        if (!ns)
            return ns.error();
        return api_->apply(what_, *ns, manifest, std::move(field_manager), force, dry_run);
    }

    result<boost::json::object> remove(std::string_view name, const delete_options& options = {}) const
    {
        if (auto missing = need_namespace("delete"))
            return *missing;
        return api_->remove(what_, namespace_, name, options);
    }

    /// Deletes what the selectors match in this handle's namespace (a handle across every
    /// namespace refuses: the API server serves no such collection, and it would be too broad).
    result<boost::json::object> remove_collection(const list_options& selection = {}, const delete_options& options = {}) const
    {
        if (auto missing = need_namespace("delete collection"))
            return *missing;
        return api_->remove_collection(what_, namespace_, selection, options);
    }

    /// A watch of this kind here; `run` it on a thread of the caller's.
    watcher watch(watch_options options = {}) const { return watcher(*api_, what_, namespace_, std::move(options)); }

    /// A cache of this kind here, kept by a watch (call `start`).
    std::unique_ptr<informer> make_informer(watch_options options = {}) const
    {
        return std::make_unique<informer>(*api_, what_, namespace_, std::move(options));
    }

    const resource& kind() const noexcept { return what_; }
    const std::string& namespace_name() const noexcept { return namespace_; }
    dynamic_client& api() const noexcept { return *api_; }

protected:
    std::optional<failure> need_namespace(const char* verb) const
    {
        if (what_.namespaced && namespace_.empty())
            return failure(errc::invalid_config, std::string(verb) + " of " + what_.plural + " needs a namespace (they are namespaced)");
        return std::nullopt;
    }

    result<std::string> namespace_for(const boost::json::object& object, const char* verb) const
    {
        if (!what_.namespaced)
            return std::string();
        const std::string own(namespace_of(object));
        if (!own.empty() && !namespace_.empty() && own != namespace_)
            return failure(errc::invalid_config, std::string(verb) + ": the object's namespace \"" + own + "\" is not the handle's \"" + namespace_ + "\"");
        if (own.empty() && namespace_.empty())
            return failure(errc::invalid_config, std::string(verb) + " of " + what_.plural + " needs a namespace (they are namespaced)");
        return own.empty() ? namespace_ : own;
    }

    dynamic_client* api_;
    resource what_;
    std::string namespace_;
};

/// How far a deployment's rollout is, read the way `kubectl rollout status` reads it.
struct rollout_status {
    std::int64_t desired = 1;             ///< spec.replicas
    std::int64_t current = 0;             ///< status.replicas: pods of every revision
    std::int64_t updated = 0;             ///< status.updatedReplicas: pods of the newest template
    std::int64_t ready = 0;
    std::int64_t available = 0;
    bool observed = false;                ///< status.observedGeneration caught up with metadata.generation
    bool deadline_exceeded = false;       ///< Progressing=False with ProgressDeadlineExceeded
    std::string message{};                ///< what kubectl would print while waiting

    /// Every replica runs the newest template and is available; no old pod is left.
    bool complete() const noexcept { return observed && updated >= desired && current <= updated && available >= updated; }
};

inline rollout_status rollout_of(const boost::json::object& deployment)
{
    rollout_status out;
    const auto* spec = member_object(deployment, "spec");
    const auto* status = member_object(deployment, "status");
    if (spec != nullptr)
        out.desired = member_int(*spec, "replicas", 1);
    const auto generation = member_int(metadata_of(deployment), "generation");
    if (status != nullptr) {
        out.current = member_int(*status, "replicas");
        out.updated = member_int(*status, "updatedReplicas");
        out.ready = member_int(*status, "readyReplicas");
        out.available = member_int(*status, "availableReplicas");
        out.observed = member_int(*status, "observedGeneration", -1) >= generation;
        if (const auto* conditions = member_array(*status, "conditions"))
            for (const auto& c : *conditions)
                if (c.is_object() && member_string(c.get_object(), "type") == "Progressing" &&
                    member_string(c.get_object(), "reason") == "ProgressDeadlineExceeded")
                    out.deadline_exceeded = true;
    }
    const auto n = [](std::int64_t v) { return std::to_string(v); };
    if (!out.observed)
        out.message = "waiting for the deployment spec update to be observed";
    else if (out.updated < out.desired)
        out.message = n(out.updated) + " of " + n(out.desired) + " updated replicas are available";
    else if (out.current > out.updated)
        out.message = n(out.current - out.updated) + " old replicas are pending termination";
    else if (out.available < out.updated)
        out.message = n(out.available) + " of " + n(out.updated) + " updated replicas are available";
    else
        out.message = "successfully rolled out";
    return out;
}

/// Whether `object`'s status has condition `type` with status "True" (pods and nodes alike).
inline bool condition_true(const boost::json::object& object, std::string_view type)
{
    const auto* status = member_object(object, "status");
    const auto* conditions = status != nullptr ? member_array(*status, "conditions") : nullptr;
    if (conditions != nullptr)
        for (const auto& c : *conditions)
            if (c.is_object() && member_string(c.get_object(), "type") == type)
                return member_string(c.get_object(), "status") == "True";
    return false;
}

/// A pod's Ready condition is True.
inline bool pod_ready(const boost::json::object& pod) { return condition_true(pod, "Ready"); }

/// A node's Ready condition is True and it is not cordoned.
inline bool node_schedulable(const boost::json::object& node)
{
    const auto* spec = member_object(node, "spec");
    return !(spec != nullptr && member_bool(*spec, "unschedulable")) && condition_true(node, "Ready");
}

class deployment_client : public kind_client {
public:
    deployment_client(dynamic_client& api, std::string ns) : kind_client(api, resources::deployments, std::move(ns)) {}

    /// Sets replicas through the scale subresource; the Scale object.
    result<boost::json::object> scale(std::string_view name, std::int64_t replicas) const
    {
        if (auto missing = need_namespace("scale"))
            return *missing;
        return client::scale(*api_, namespace_, name, replicas);
    }

    result<boost::json::object> rollout_restart(std::string_view name) const
    {
        if (auto missing = need_namespace("rollout restart"))
            return *missing;
        return client::rollout_restart(*api_, namespace_, name);
    }

    result<rollout_status> rollout(std::string_view name) const
    {
        auto deployment = get(name);
        if (!deployment)
            return deployment.error();
        return rollout_of(*deployment);
    }

    /// Watches the deployment until its rollout is complete (the final status), its progress
    /// deadline is exceeded (`errc::timeout`, with kubectl's words), it is deleted
    /// (`errc::not_found`) or `timeout` passes (`errc::timeout` with the last status).
    result<rollout_status> wait_for_rollout(std::string_view name, std::chrono::milliseconds timeout) const
    {
        // Answered at once when there is nothing to wait for.
        auto now = rollout(name);
        if (!now)
            return now.error();
        if (now->complete())
            return *now;
        if (now->deadline_exceeded)
            return failure(errc::timeout, "deployment \"" + std::string(name) + "\" exceeded its progress deadline");
        std::atomic<bool> stop{false};
        rollout_status last = *now; // what a timeout before the first event reports
        bool deleted = false;
        auto watch = this->watch({.field_selector = "metadata.name=" + std::string(name), .max_consecutive_failures = 5});
        const stop_after deadline(stop, timeout);
        auto ran = watch.run(
            [&](const watch_event& event) {
                if (event.type == watch_event::kind::deleted) {
                    deleted = true;
                    stop = true;
                    return;
                }
                last = rollout_of(event.object);
                if (last.complete() || last.deadline_exceeded)
                    stop = true;
            },
            stop);
        if (!ran)
            return ran.error();
        if (deleted)
            return failure(errc::not_found, "deployment \"" + std::string(name) + "\" was deleted during its rollout");
        if (last.deadline_exceeded)
            return failure(errc::timeout, "deployment \"" + std::string(name) + "\" exceeded its progress deadline");
        if (!last.complete())
            return failure(errc::timeout, "deployment \"" + std::string(name) + "\": " + last.message);
        return last;
    }
};

class pod_client : public kind_client {
public:
    pod_client(dynamic_client& api, std::string ns) : kind_client(api, resources::pods, std::move(ns)) {}

    result<std::string> logs(std::string_view name, const log_options& options = {}) const
    {
        if (auto missing = need_namespace("logs"))
            return *missing;
        return client::logs(*api_, namespace_, name, options);
    }

    /// Streams the log as it is written until the pod goes, `on_text` returns false or `stop`.
    result<void> follow_logs(std::string_view name, const log_options& options, const std::function<bool(std::string_view)>& on_text,
                             const std::atomic<bool>* stop = nullptr) const
    {
        if (auto missing = need_namespace("logs"))
            return *missing;
        return client::follow_logs(*api_, namespace_, name, options, on_text, stop);
    }

    /// A disruption budget's refusal is `errc::too_many_requests`.
    result<void> evict(std::string_view name, std::optional<std::int64_t> grace_period_seconds = {}) const
    {
        if (auto missing = need_namespace("evict"))
            return *missing;
        return client::evict(*api_, namespace_, name, grace_period_seconds);
    }
};

class node_client : public kind_client {
public:
    explicit node_client(dynamic_client& api) : kind_client(api, resources::nodes) {}

    result<boost::json::object> cordon(std::string_view name) const { return client::cordon(*api_, name); }
    result<boost::json::object> uncordon(std::string_view name) const { return client::uncordon(*api_, name); }
    result<drain_report> drain(std::string_view name, const drain_options& options = {}) const { return client::drain(*api_, name, options); }
};

/// Secrets with their values as plain strings (the API carries them base64-encoded).
class secret_client : public kind_client {
public:
    secret_client(dynamic_client& api, std::string ns) : kind_client(api, resources::secrets, std::move(ns)) {}

    /// A Secret object of `type` holding `values` (encoded into `data`).
    static boost::json::object make(std::string_view name, const std::map<std::string, std::string>& values, std::string_view type = "Opaque")
    {
        boost::json::object data;
        for (const auto& [key, value] : values)
            data[key] = core::detail::base64_encode_padded(value);
        return {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", boost::json::object{{"name", name}}}, {"type", type}, {"data", std::move(data)}};
    }

    /// `data` decoded, with `stringData` (as a dry run answers) on top.
    static result<std::map<std::string, std::string>> values(const boost::json::object& secret)
    {
        std::map<std::string, std::string> out;
        if (const auto* data = member_object(secret, "data"))
            for (const auto& [key, value] : *data) {
                auto decoded = value.is_string() ? core::detail::base64_decode_padded(value.get_string()) : std::nullopt;
                if (!decoded)
                    return failure(errc::bad_response, "secret key \"" + std::string(key) + "\" is not base64");
                out[std::string(key)] = std::move(*decoded);
            }
        if (const auto* plain = member_object(secret, "stringData"))
            for (const auto& [key, value] : *plain)
                if (value.is_string())
                    out[std::string(key)] = std::string(value.get_string());
        return out;
    }

    /// The decoded values of the named secret.
    result<std::map<std::string, std::string>> read(std::string_view name) const
    {
        auto secret = get(name);
        if (!secret)
            return secret.error();
        return values(*secret);
    }
};

class event_client : public kind_client {
public:
    event_client(dynamic_client& api, std::string ns) : kind_client(api, resources::events, std::move(ns)) {}

    /// The events about one object (by uid when it has one, else by kind and name), oldest first
    /// as the server keeps them.
    result<list_result> about(const boost::json::object& object) const
    {
        const std::string uid(uid_of(object));
        std::string selector = !uid.empty() ? "involvedObject.uid=" + uid
                                            : "involvedObject.kind=" + std::string(member_string(object, "kind")) +
                                                  ",involvedObject.name=" + std::string(name_of(object));
        return list({.field_selector = std::move(selector)});
    }
};

/// Every typed handle, from one dynamic client.
class clientset {
public:
    explicit clientset(dynamic_client& api) : api_(&api) {}

    kind_client namespaces() const { return {*api_, resources::namespaces}; }
    node_client nodes() const { return node_client(*api_); }
    pod_client pods(std::string ns) const { return {*api_, std::move(ns)}; }
    deployment_client deployments(std::string ns) const { return {*api_, std::move(ns)}; }
    secret_client secrets(std::string ns) const { return {*api_, std::move(ns)}; }
    event_client events(std::string ns) const { return {*api_, std::move(ns)}; }
    kind_client configmaps(std::string ns) const { return {*api_, resources::configmaps, std::move(ns)}; }
    kind_client persistentvolumeclaims(std::string ns) const { return {*api_, resources::persistentvolumeclaims, std::move(ns)}; }
    kind_client replicasets(std::string ns) const { return {*api_, resources::replicasets, std::move(ns)}; }
    kind_client services(std::string ns) const { return {*api_, resources::services, std::move(ns)}; }
    kind_client ingresses(std::string ns) const { return {*api_, resources::ingresses, std::move(ns)}; }
    kind_client networkpolicies(std::string ns) const { return {*api_, resources::networkpolicies, std::move(ns)}; }
    kind_client resourcequotas(std::string ns) const { return {*api_, resources::resourcequotas, std::move(ns)}; }
    kind_client limitranges(std::string ns) const { return {*api_, resources::limitranges, std::move(ns)}; }
    kind_client poddisruptionbudgets(std::string ns) const { return {*api_, resources::poddisruptionbudgets, std::move(ns)}; }
    kind_client leases(std::string ns) const { return {*api_, resources::leases, std::move(ns)}; }

    dynamic_client& api() const noexcept { return *api_; }

private:
    dynamic_client* api_;
};

} // namespace paaskit::k8s::client
