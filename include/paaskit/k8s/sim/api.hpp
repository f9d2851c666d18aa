#pragma once
/// \file
/// The simulated API server's verbs on its store, with kube-apiserver's semantics: admission
/// (namespace exists and is not terminating), decoding with field validation, defaults,
/// validation against the OpenAPI schemas and the rules they do not carry, system metadata (uid,
/// creationTimestamp, generation, resourceVersion, managedFields), optimistic concurrency,
/// generateName, dry runs, finalizers and graceful deletion. The HTTP layer and the simulated
/// controllers both write through here, so a controller's write is checked like a client's.
///
/// Thread-safety: none; everything runs on the cluster's event loop.

#include <paaskit/core/clock.hpp>
#include <paaskit/core/detail/os_random.hpp>
#include <paaskit/k8s/object_rules.hpp>
#include <paaskit/k8s/schema.hpp>
#include <paaskit/k8s/sim/defaults.hpp>
#include <paaskit/k8s/sim/managed_fields.hpp>
#include <paaskit/k8s/sim/object_fields.hpp>
#include <paaskit/k8s/sim/patch.hpp>
#include <paaskit/k8s/sim/selectors.hpp>
#include <paaskit/k8s/sim/status.hpp>
#include <paaskit/k8s/sim/store.hpp>

#include <boost/json.hpp>

#include <array>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

namespace paaskit::k8s::sim {

/// A value or the Status the API server would answer with.
template <typename T>
class api_result {
public:
    api_result(T value) : state_(std::move(value)) {}
    api_result(api_error error) : state_(std::move(error)) {}

    explicit operator bool() const noexcept { return state_.index() == 0; }
    T& operator*() { return std::get<0>(state_); }
    const T& operator*() const { return std::get<0>(state_); }
    T* operator->() { return &std::get<0>(state_); }
    const T* operator->() const { return &std::get<0>(state_); }
    const api_error& error() const { return std::get<1>(state_); }

private:
    std::variant<T, api_error> state_;
};

enum class field_validation { strict, warn, ignore };

struct write_options {
    bool dry_run = false;
    std::string field_manager{};  ///< empty: "unknown" (what the server records without one)
    field_validation validation = field_validation::warn;
    bool force = false;           ///< server-side apply: take over conflicting fields
    std::string subresource{};    ///< "status" for writes to /status
};

struct write_outcome {
    object_ptr object;
    std::vector<std::string> warnings{};
    bool created = false;
};

struct delete_options {
    std::string propagation{};              ///< Background (default), Foreground, Orphan
    std::optional<std::int64_t> grace_period{};
    bool dry_run = false;
    std::string precondition_uid{};
    std::string precondition_resource_version{};
};

struct delete_outcome {
    object_ptr object;    ///< the last state, or the state with deletionTimestamp set when pending
    bool finished = false; ///< gone from the store (false: waits for finalizers or the kubelet)
};

struct list_query {
    label_selector labels{};
    field_selector fields{};
    std::size_t limit = 0; ///< 0: everything
    std::string continue_token{};
};

struct list_outcome {
    std::vector<object_ptr> items;
    std::uint64_t resource_version = 0;
    std::string continue_token{};
    std::size_t remaining = 0;
};

struct api_settings {
    const openapi_schemas* schemas = nullptr; ///< null: no schema validation, unknown fields kept
    std::int64_t max_grace_seconds = 0;       ///< pods: graceful deletion is cut to this (the kubelet simulates no shutdown)
};

class cluster_api {
public:
    cluster_api(object_store& store, const core::clock& clock, api_settings settings = {})
        : store_(store), clock_(clock), settings_(settings)
    {
        std::array<std::uint32_t, 8> seed{};
        core::detail::fill_os_random(std::as_writable_bytes(std::span(seed)));
        std::seed_seq sequence(seed.begin(), seed.end());
        random_.seed(sequence);
    }

    object_store& store() noexcept { return store_; }
    const core::clock& clock() const noexcept { return clock_; }
    const api_settings& settings() const noexcept { return settings_; }

    api_result<object_ptr> get(resource_id type, std::string_view ns, std::string_view name) const
    {
        if (auto found = store_.get(type, key(type, ns, name)))
            return found;
        return errors::not_found(resource_types()[type], name);
    }

    /// Objects in key order (namespace, then name); `ns` empty: every namespace.
    api_result<list_outcome> list(resource_id type, std::string_view ns, const list_query& query) const
    {
        list_outcome out;
        out.resource_version = store_.resource_version();
        const auto& objects = store_.objects(type);
        auto it = objects.begin();
        if (!query.continue_token.empty()) {
            const auto token = decode_continue(query.continue_token);
            if (!token)
                return errors::bad_request("continue key is not valid: " + query.continue_token);
            if (token->first < store_.compacted_revision())
                return errors::expired("The provided continue parameter is too old to display a consistent list result. "
                                       "You can start a new list without the continue parameter, or use the continue token in "
                                       "this response to retrieve the remainder of the results.");
            out.resource_version = token->first;
            it = objects.upper_bound(token->second);
        } else if (!ns.empty() && resource_types()[type].namespaced) {
            it = objects.lower_bound(object_key{std::string(ns), {}});
        }
        for (; it != objects.end(); ++it) {
            if (!ns.empty() && it->first.namespace_name != ns)
                break;
            const auto& object = it->second->object;
            if (!query.labels.matches_object(object) || !query.fields.matches(object))
                continue;
            if (query.limit > 0 && out.items.size() == query.limit) {
                // Count what is left, as remainingItemCount does (only without a field selector).
                std::size_t remaining = 0;
                for (auto rest = it; rest != objects.end() && (ns.empty() || rest->first.namespace_name == ns); ++rest)
                    if (query.labels.matches_object(rest->second->object) && query.fields.matches(rest->second->object))
                        ++remaining;
                out.remaining = remaining;
                out.continue_token = encode_continue(out.resource_version, std::prev(it)->first);
                break;
            }
            out.items.push_back(it->second);
        }
        return out;
    }

    api_result<write_outcome> create(resource_id type, std::string_view ns, boost::json::value body, const write_options& options)
    {
        auto built = build_new(type, ns, std::move(body), options);
        if (!built)
            return built.error();
        auto& [object, warnings] = *built;
        record_update(type, object, nullptr, options, "Update");
        if (options.dry_run)
            return write_outcome{freeze_dry(std::move(object)), std::move(warnings), true};
        return write_outcome{store_.put(type, std::move(object)), std::move(warnings), true};
    }

    /// PUT: replaces the object; a non-empty metadata.resourceVersion must be the current one.
    api_result<write_outcome> update(resource_id type, std::string_view ns, std::string_view name, boost::json::value body,
                                     const write_options& options)
    {
        const resource_type& rt = resource_types()[type];
        auto decoded = decode(rt, ns, std::move(body), options);
        if (!decoded)
            return decoded.error();
        auto& [object, warnings] = *decoded;
        if (name_of(object) != name)
            return errors::bad_request("the name of the object (" + std::string(name_of(object)) +
                                       ") does not match the name on the URL (" + std::string(name) + ")");
        const auto current = store_.get(type, key(type, ns, name));
        if (!current)
            return errors::not_found(rt, name);
        const std::string_view expected = member_string(metadata_of(object), "resourceVersion");
        if (!expected.empty() && expected != std::to_string(current->resource_version))
            return errors::stale(rt, name);
        auto written = replace(type, *current, std::move(object), options, "Update");
        if (!written)
            return written.error();
        written->warnings = std::move(warnings);
        return written;
    }

    /// PATCH in one of the four formats; apply patches create a missing object.
    api_result<write_outcome> patch(resource_id type, std::string_view ns, std::string_view name, std::string_view content_type,
                                    const boost::json::value& patch_body, const write_options& options)
    {
        const resource_type& rt = resource_types()[type];
        const auto current = store_.get(type, key(type, ns, name));
        if (content_type == "application/apply-patch+yaml")
            return apply(type, ns, name, current, patch_body, options);
        if (!current)
            return errors::not_found(rt, name);
        boost::json::value document = with_type(rt, current->object);
        boost::json::value patched;
        if (content_type == "application/json-patch+json") {
            auto result = apply_json_patch(document, patch_body);
            if (auto* problem = std::get_if<std::string>(&result))
                return api_error{422, "Invalid", "the server rejected our request due to an error in our request: " + *problem};
            patched = std::move(std::get<0>(result));
        } else if (content_type == "application/merge-patch+json") {
            patched = apply_merge_patch(document, patch_body);
        } else if (content_type == "application/strategic-merge-patch+json") {
            auto result = apply_strategic_merge_patch(document, patch_body);
            if (auto* problem = std::get_if<std::string>(&result))
                return api_error{422, "Invalid", *problem};
            patched = std::move(std::get<0>(result));
        } else {
            return errors::unsupported_media_type(content_type);
        }
        if (!patched.is_object())
            return errors::bad_request("the patched document is not an object");
        auto decoded = decode(rt, ns, std::move(patched), options);
        if (!decoded)
            return decoded.error();
        auto& [object, warnings] = *decoded;
        const std::string_view expected = member_string(metadata_of(object), "resourceVersion");
        if (!expected.empty() && expected != std::to_string(current->resource_version))
            return errors::stale(rt, name);
        if (name_of(object) != name)
            return errors::bad_request("metadata.name: the patch may not change the name");
        auto written = replace(type, *current, std::move(object), options, "Update");
        if (!written)
            return written.error();
        written->warnings = std::move(warnings);
        return written;
    }

    api_result<delete_outcome> remove(resource_id type, std::string_view ns, std::string_view name, const delete_options& options)
    {
        const resource_type& rt = resource_types()[type];
        const auto current = store_.get(type, key(type, ns, name));
        if (!current)
            return errors::not_found(rt, name);
        const auto& metadata = current->metadata();
        if (!options.precondition_uid.empty() && options.precondition_uid != member_string(metadata, "uid"))
            return errors::conflict(rt, name, "Precondition failed: UID in precondition: " + options.precondition_uid +
                                                  ", UID in object meta: " + std::string(member_string(metadata, "uid")));
        if (!options.precondition_resource_version.empty() &&
            options.precondition_resource_version != std::to_string(current->resource_version))
            return errors::conflict(rt, name, "Precondition failed: ResourceVersion in precondition: " +
                                                  options.precondition_resource_version + ", ResourceVersion in object meta: " +
                                                  std::to_string(current->resource_version));
        if (!options.propagation.empty() && options.propagation != "Background" && options.propagation != "Foreground" &&
            options.propagation != "Orphan")
            return errors::bad_request("propagationPolicy: Unsupported value: \"" + options.propagation +
                                       "\": supported values: \"Foreground\", \"Background\", \"Orphan\"");

        boost::json::object next = current->object;
        auto& next_meta = next["metadata"].as_object();
        bool pending = false;
        if (type == resources::namespaces) {
            pending = true;
            ensure_object(next, "status")["phase"] = "Terminating";
        }
        if (const auto* finalizers = member_array(metadata, "finalizers"); finalizers != nullptr && !finalizers->empty())
            pending = true;
        if (options.propagation == "Foreground" || options.propagation == "Orphan") {
            auto& finalizers = next_meta["finalizers"];
            if (!finalizers.is_array())
                finalizers = boost::json::array();
            const char* finalizer = options.propagation == "Foreground" ? "foregroundDeletion" : "orphan";
            if (std::find(finalizers.get_array().begin(), finalizers.get_array().end(), boost::json::value(finalizer)) ==
                finalizers.get_array().end())
                finalizers.get_array().push_back(finalizer);
            pending = true;
        }
        std::int64_t grace = 0;
        const auto* pod_spec = type == resources::pods ? member_object(current->object, "spec") : nullptr;
        if (pod_spec != nullptr && !member_string(*pod_spec, "nodeName").empty()) {
            // A pod on a node ends gracefully: the kubelet finishes the deletion.
            grace = options.grace_period.value_or(member_int(*pod_spec, "terminationGracePeriodSeconds", 30));
            if (grace > 0)
                pending = true;
        }
        if (!pending) {
            if (options.dry_run)
                return delete_outcome{current, true};
            return delete_outcome{store_.erase(type, key(type, ns, name)), true};
        }
        if (metadata.if_contains("deletionTimestamp") != nullptr && !options.dry_run) {
            // Already being deleted: a second delete changes nothing but may shorten a pod's grace.
            return delete_outcome{current, false};
        }
        const std::int64_t recorded_grace = std::min(grace, settings_.max_grace_seconds > 0 ? settings_.max_grace_seconds : grace);
        next_meta["deletionTimestamp"] = format_time(clock_.now() + std::chrono::seconds(recorded_grace));
        next_meta["deletionGracePeriodSeconds"] = recorded_grace;
        if (options.dry_run)
            return delete_outcome{freeze_dry(std::move(next)), false};
        return delete_outcome{store_.put(type, std::move(next)), false};
    }

    /// Removes a finalizer (a controller finishing its part of a deletion); deletes the object when
    /// it was the last and deletion was asked for.
    void remove_finalizer(resource_id type, const stored_object& current, std::string_view finalizer)
    {
        boost::json::object next = current.object;
        auto& metadata = next["metadata"].as_object();
        if (auto* finalizers = metadata.if_contains("finalizers"); finalizers != nullptr && finalizers->is_array()) {
            auto& list = finalizers->get_array();
            list.erase(std::remove(list.begin(), list.end(), boost::json::value(finalizer)), list.end());
            if (list.empty())
                metadata.erase("finalizers");
        }
        commit_or_finish(type, std::move(next));
    }

    /// Deletes a pod at once, as the kubelet does when a graceful deletion has run its course.
    object_ptr finish_deletion(resource_id type, std::string_view ns, std::string_view name)
    {
        return store_.erase(type, key(type, ns, name));
    }

    /// A write by a built-in controller: no field validation, manager named after the controller.
    object_ptr controller_write(resource_id type, const stored_object& current, boost::json::object next, std::string_view manager,
                                std::string_view subresource = {})
    {
        write_options options;
        options.field_manager = std::string(manager);
        options.subresource = std::string(subresource);
        options.validation = field_validation::ignore;
        auto written = replace(type, current, std::move(next), options, "Update");
        return written ? written->object : nullptr;
    }

    static object_key key(resource_id type, std::string_view ns, std::string_view name)
    {
        return {resource_types()[type].namespaced ? std::string(ns) : std::string(), std::string(name)};
    }

    /// `object` with `kind` and `apiVersion` first, as single-object answers carry them.
    static boost::json::value with_type(const resource_type& rt, const boost::json::object& object)
    {
        boost::json::object out;
        out.reserve(object.size() + 2);
        out["kind"] = rt.kind;
        out["apiVersion"] = rt.api_version();
        for (const auto& [k, v] : object)
            out[k] = v;
        return out;
    }

    std::string random_uid()
    {
        std::array<std::uint8_t, 16> bytes{};
        for (auto& b : bytes)
            b = static_cast<std::uint8_t>(random_());
        bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);
        bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
        static constexpr char hex[] = "0123456789abcdef";
        std::string out;
        for (std::size_t i = 0; i < 16; ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10)
                out += '-';
            out += hex[bytes[i] >> 4];
            out += hex[bytes[i] & 15];
        }
        return out;
    }

    /// A random suffix in kube's name alphabet (5 characters for generateName).
    std::string random_suffix(std::size_t n = 5)
    {
        std::string out;
        for (std::size_t i = 0; i < n; ++i)
            out += kube_name_alphabet[random_() % kube_name_alphabet.size()];
        return out;
    }

private:
    struct decoded_body {
        boost::json::object object;
        std::vector<std::string> warnings;
    };

    /// A new object ready to store: decoded, admitted, named, with system metadata and defaults, valid.
    api_result<decoded_body> build_new(resource_id type, std::string_view ns, boost::json::value body, const write_options& options)
    {
        const resource_type& rt = resource_types()[type];
        auto fresh = decode(rt, ns, std::move(body), options);
        if (!fresh)
            return fresh.error();
        auto& object = fresh->object;
        auto& metadata = ensure_object(object, "metadata");
        if (!member_string(metadata, "resourceVersion").empty())
            return errors::internal("resourceVersion should not be set on objects to be created");
        if (auto refused = admit_namespace(rt, ns, name_of(object)); refused)
            return *refused;
        if (member_string(metadata, "name").empty() && !member_string(metadata, "generateName").empty())
            metadata["name"] = generate_name(type, ns, member_string(metadata, "generateName"));
        const std::string name(member_string(metadata, "name"));
        metadata["uid"] = random_uid();
        metadata["creationTimestamp"] = format_time(clock_.now());
        if (rt.has_generation)
            metadata["generation"] = 1;
        for (const char* system : {"deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"})
            metadata.erase(system);
        if (!rt.namespaced)
            metadata.erase("namespace");
        if (std::string problem = apply_defaults(type, object, true, ips_); !problem.empty())
            return errors::invalid(rt, name, std::vector<status_cause>{{"FieldValueInvalid", problem}});
        if (auto problems = validate(rt, object); !problems.empty())
            return errors::invalid(rt, name, problems);
        if (store_.get(type, key(type, ns, name)))
            return errors::already_exists(rt, name);
        return fresh;
    }

    /// Type and namespace checks, then unknown fields by the field-validation mode.
    api_result<decoded_body> decode(const resource_type& rt, std::string_view ns, boost::json::value body, const write_options& options)
    {
        auto* object = body.if_object();
        if (object == nullptr)
            return errors::bad_request("the body of the request must be a JSON object");
        const std::string api_version = rt.api_version();
        if (const std::string_view given = member_string(*object, "apiVersion"); !given.empty() && given != api_version)
            return errors::bad_request("the API version in the data (" + std::string(given) +
                                       ") does not match the expected API version (" + api_version + ")");
        if (const std::string_view given = member_string(*object, "kind"); !given.empty() && given != rt.kind)
            return errors::bad_request("the kind in the data (" + std::string(given) + ") does not match the expected kind (" +
                                       std::string(rt.kind) + ")");
        auto& metadata = ensure_object(*object, "metadata");
        if (rt.namespaced) {
            if (const std::string_view given = member_string(metadata, "namespace"); !given.empty() && given != ns)
                return errors::bad_request("the namespace of the provided object does not match the namespace sent on the request");
            metadata["namespace"] = ns;
        }
        decoded_body out;
        (*object)["kind"] = rt.kind;
        (*object)["apiVersion"] = api_version;
        if (settings_.schemas != nullptr) {
            if (auto problems = settings_.schemas->validate(body)) {
                std::vector<std::string> unknown;
                for (const auto& problem : *problems)
                    if (problem.what == field_problem::kind::unknown_field)
                        unknown.push_back(problem.field);
                if (!unknown.empty() && options.validation == field_validation::strict) {
                    std::string message = "strict decoding error: ";
                    for (std::size_t i = 0; i < unknown.size(); ++i)
                        message += (i == 0 ? "" : ", ") + std::string("unknown field \"") + unknown[i] + "\"";
                    return errors::bad_request(std::move(message));
                }
                for (const auto& field : unknown) {
                    erase_field_path(body, field);
                    if (options.validation == field_validation::warn)
                        out.warnings.push_back("unknown field \"" + field + "\"");
                }
            }
        }
        object->erase("kind");
        object->erase("apiVersion");
        out.object = std::move(*object);
        return out;
    }

    /// Schema problems other than unknown fields, and the rules the schemas do not carry.
    std::vector<field_problem> validate(const resource_type& rt, const boost::json::object& object) const
    {
        const boost::json::value typed = with_type(rt, object);
        std::vector<field_problem> problems;
        if (settings_.schemas != nullptr)
            if (auto found = settings_.schemas->validate(typed))
                for (auto& problem : *found)
                    if (problem.what != field_problem::kind::unknown_field)
                        problems.push_back(std::move(problem));
        for (auto& problem : check_object_rules(typed))
            problems.push_back(std::move(problem));
        return problems;
    }

    std::optional<api_error> admit_namespace(const resource_type& rt, std::string_view ns, std::string_view name) const
    {
        if (!rt.namespaced)
            return std::nullopt;
        const auto space = store_.get(resources::namespaces, {{}, std::string(ns)});
        if (!space)
            return errors::not_found(resource_types()[resources::namespaces], ns);
        if (space->metadata().if_contains("deletionTimestamp") != nullptr) {
            auto error = errors::forbidden(rt, name, "unable to create new content in namespace " + std::string(ns) +
                                                         " because it is being terminated");
            error.causes.push_back({"NamespaceTerminating", "namespace " + std::string(ns) + " is being terminated", "metadata.namespace"});
            return error;
        }
        return std::nullopt;
    }

    std::string generate_name(resource_id type, std::string_view ns, std::string_view base)
    {
        const std::string prefix(base.substr(0, 58));
        std::string name;
        for (int attempt = 0; attempt < 8; ++attempt) {
            name = prefix + random_suffix();
            if (!store_.get(type, key(type, ns, name)))
                break;
        }
        return name;
    }

    /// The write path shared by update, patch and controllers: keeps system metadata, status or
    /// spec depending on the subresource, bumps generation on spec changes, validates, and skips
    /// writes that change nothing.
    api_result<write_outcome> replace(resource_id type, const stored_object& current, boost::json::object object,
                                      const write_options& options, std::string_view operation)
    {
        const resource_type& rt = resource_types()[type];
        const auto& old_meta = current.metadata();
        auto& metadata = ensure_object(object, "metadata");
        for (const char* system : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"}) {
            if (const auto* kept = old_meta.if_contains(system))
                metadata[system] = *kept;
            else
                metadata.erase(system);
        }
        if (!rt.namespaced)
            metadata.erase("namespace");
        metadata["resourceVersion"] = std::to_string(current.resource_version);
        if (rt.has_subresource("status")) {
            if (options.subresource == "status") {
                // Only status (and metadata) may change through /status.
                for (const auto& [k, v] : current.object)
                    if (k != "status" && k != "metadata")
                        object[k] = v;
                for (auto it = object.begin(); it != object.end();)
                    it = (it->key() != "status" && it->key() != "metadata" && current.object.if_contains(it->key()) == nullptr)
                             ? object.erase(it)
                             : std::next(it);
            } else if (const auto* status = current.object.if_contains("status")) {
                object["status"] = *status;
            } else {
                object.erase("status");
            }
        }
        if (std::string problem = apply_defaults(type, object, false, ips_); !problem.empty())
            return errors::invalid(rt, name_of(object), std::vector<status_cause>{{"FieldValueInvalid", problem}});
        if (rt.has_generation) {
            const auto* old_spec = current.object.if_contains("spec");
            const auto* new_spec = object.if_contains("spec");
            const bool changed = (old_spec == nullptr) != (new_spec == nullptr) || (old_spec != nullptr && *old_spec != *new_spec);
            if (changed)
                metadata["generation"] = member_int(old_meta, "generation", 1) + 1;
        }
        auto problems = validate(rt, object);
        if (old_meta.if_contains("deletionTimestamp") != nullptr)
            if (std::string added = new_finalizers(old_meta, metadata); !added.empty())
                problems.push_back({field_problem::kind::forbidden, "metadata.finalizers",
                                    "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{" +
                                        added + "}"});
        if (!problems.empty())
            return errors::invalid(rt, name_of(object), problems);
        if (type == resources::namespaces && old_meta.if_contains("deletionTimestamp") != nullptr)
            ensure_object(object, "status")["phase"] = "Terminating";
        record_update(type, object, &current.object, options, operation);
        if (same_content(current.object, object))
            return write_outcome{std::make_shared<stored_object>(current)};
        if (options.dry_run)
            return write_outcome{freeze_dry(std::move(object))};
        return write_outcome{commit_or_finish(type, std::move(object))};
    }

    /// The finalizers in `next` that `previous` did not have, quoted and comma-separated.
    static std::string new_finalizers(const boost::json::object& previous, const boost::json::object& next)
    {
        std::string added;
        const auto* before = member_array(previous, "finalizers");
        if (const auto* after = member_array(next, "finalizers"))
            for (const auto& f : *after)
                if (before == nullptr || std::find(before->begin(), before->end(), f) == before->end())
                    added += (added.empty() ? "" : ", ") + boost::json::serialize(f);
        return added;
    }

    /// Stores `next`, or deletes it when it is being deleted and its last finalizer is gone.
    object_ptr commit_or_finish(resource_id type, boost::json::object next)
    {
        const auto& metadata = metadata_of(next);
        const auto* finalizers = member_array(metadata, "finalizers");
        const bool finalized = finalizers == nullptr || finalizers->empty();
        if (metadata.if_contains("deletionTimestamp") != nullptr && finalized && type != resources::pods)
            return store_.erase(type, key(type, namespace_of(next), name_of(next)));
        return store_.put(type, std::move(next));
    }

    /// Equal apart from managedFields times and the resourceVersion (a no-op write).
    static bool same_content(const boost::json::object& a, const boost::json::object& b)
    {
        const auto strip = [](boost::json::object o) {
            auto& m = o["metadata"].as_object();
            m.erase("managedFields");
            m.erase("resourceVersion");
            return o;
        };
        return strip(a) == strip(b);
    }

    /// managedFields: the fields this write set now belong to its manager.
    void record_update(resource_id type, boost::json::object& object, const boost::json::object* previous, const write_options& options,
                       std::string_view operation)
    {
        const std::string manager = options.field_manager.empty() ? "unknown" : options.field_manager;
        update_managed_fields(object, previous, manager, operation, options.subresource, format_time(clock_.now()),
                              resource_types()[type].api_version());
    }

    api_result<write_outcome> apply(resource_id type, std::string_view ns, std::string_view name, const object_ptr& current,
                                    const boost::json::value& applied, const write_options& options)
    {
        const resource_type& rt = resource_types()[type];
        if (options.field_manager.empty())
            return errors::bad_request("PATCH with application/apply-patch+yaml requires a fieldManager query parameter");
        if (!applied.is_object())
            return errors::bad_request("error decoding YAML: the apply configuration must be a JSON or YAML object");
        if (name_of(applied.get_object()) != name)
            return errors::bad_request("the name of the object (" + std::string(name_of(applied.get_object())) +
                                       ") does not match the name on the URL (" + std::string(name) + ")");
        auto decoded = decode(rt, ns, applied, options);
        if (!decoded)
            return decoded.error();
        auto& [config, warnings] = *decoded;
        const std::string now = format_time(clock_.now());
        if (!current) {
            write_options create_options = options;
            create_options.validation = field_validation::ignore; // decoded above
            auto built = build_new(type, ns, with_type(rt, config), create_options);
            if (!built)
                return built.error();
            boost::json::object stored = std::move(built->object);
            set_apply_ownership(stored, config, options.field_manager, options.subresource, now, rt.api_version());
            if (options.dry_run)
                return write_outcome{freeze_dry(std::move(stored)), std::move(warnings), true};
            return write_outcome{store_.put(type, std::move(stored)), std::move(warnings), true};
        }
        auto merged = merge_applied(current->object, config, options.field_manager, options.force, now, rt.api_version());
        if (auto* conflicts = std::get_if<std::vector<apply_conflict>>(&merged)) {
            api_error error = errors::conflict(rt, name, "");
            std::string list;
            for (const auto& c : *conflicts) {
                error.causes.push_back({"FieldManagerConflict", "conflict with \"" + c.manager + "\"" +
                                                                    (c.operation == "Update" ? " using " + c.api_version : ""),
                                        c.field});
                list += "\n- " + error.causes.back().message + ": " + c.field;
            }
            error.message = "Apply failed with " + std::to_string(conflicts->size()) + " conflict" + (conflicts->size() > 1 ? "s" : "") +
                            ":" + list;
            return error;
        }
        auto& next = std::get<boost::json::object>(merged);
        write_options apply_options = options;
        auto written = replace(type, *current, std::move(next), apply_options, "Apply");
        if (!written)
            return written.error();
        written->warnings = std::move(warnings);
        return written;
    }

    static object_ptr freeze_dry(boost::json::object object)
    {
        auto stored = std::make_shared<stored_object>();
        stored->json = boost::json::serialize(object);
        stored->object = std::move(object);
        return stored;
    }

    static std::optional<std::pair<std::uint64_t, object_key>> decode_continue(std::string_view token)
    {
        auto text = core::detail::base64_decode(token, core::detail::base64_alphabet::url);
        if (!text)
            return std::nullopt;
        const auto first = text->find('\n');
        const auto second = first == std::string::npos ? std::string::npos : text->find('\n', first + 1);
        if (second == std::string::npos)
            return std::nullopt;
        try {
            return std::pair{std::stoull(text->substr(0, first)),
                             object_key{text->substr(first + 1, second - first - 1), text->substr(second + 1)}};
        } catch (...) {
            return std::nullopt;
        }
    }

    static std::string encode_continue(std::uint64_t revision, const object_key& last)
    {
        return core::detail::base64_encode(std::to_string(revision) + "\n" + last.namespace_name + "\n" + last.name);
    }

    object_store& store_;
    const core::clock& clock_;
    api_settings settings_;
    cluster_ip_allocator ips_;
    std::mt19937_64 random_;
};

} // namespace paaskit::k8s::sim
