#pragma once
/// \file
/// The API server's validation rules that the OpenAPI documents do not carry: names, label and
/// annotation keys, label values, a workload's selector matching its template labels, container
/// and port names and numbers, environment variable names, volume mounts naming a volume,
/// requests not above limits, Secret and ConfigMap keys, Ingress hosts and paths.

#include <paaskit/k8s/names.hpp>
#include <paaskit/k8s/object_fields.hpp>
#include <paaskit/k8s/quantity.hpp>
#include <paaskit/k8s/schema.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::k8s {

namespace detail {

class rule_checker {
public:
    explicit rule_checker(std::vector<field_problem>& problems) : problems_(problems) {}

    void check(const boost::json::object& object)
    {
        const std::string kind = text(object, "kind");
        check_metadata(object, kind);
        const auto* spec = member_object(object, "spec");
        if (kind == "Pod" && spec != nullptr)
            check_pod_spec(*spec, "spec");
        if ((kind == "Deployment" || kind == "ReplicaSet") && spec != nullptr)
            check_workload(*spec);
        if (kind == "Service" && spec != nullptr)
            check_service(*spec);
        if (kind == "Secret" || kind == "ConfigMap") {
            for (const char* field : {"data", "stringData", "binaryData"})
                if (const auto* data = member_object(object, field))
                    for (const auto& entry : *data)
                        if (std::string problem = check_config_key(entry.key()); !problem.empty())
                            invalid(std::string(field) + "[" + std::string(entry.key()) + "]", problem);
        }
        if (kind == "Ingress" && spec != nullptr)
            check_ingress(*spec);
    }

private:
    static std::string text(const boost::json::object& object, std::string_view key) { return std::string(member_string(object, key)); }

    void invalid(std::string field, std::string message)
    {
        problems_.push_back({field_problem::kind::invalid, std::move(field), "Invalid value: " + std::move(message)});
    }

    void required(std::string field, std::string message = "Required value")
    {
        problems_.push_back({field_problem::kind::required, std::move(field), std::move(message)});
    }

    void check_metadata(const boost::json::object& object, const std::string& kind)
    {
        const auto* metadata = member_object(object, "metadata");
        if (metadata == nullptr) {
            required("metadata.name", "Required value: name or generateName is required");
            return;
        }
        const std::string name = text(*metadata, "name");
        if (name.empty()) {
            if (text(*metadata, "generateName").empty())
                required("metadata.name", "Required value: name or generateName is required");
        } else {
            const std::string problem = kind == "Namespace" ? check_dns1123_label(name)
                                      : kind == "Service"   ? check_dns1035_label(name)
                                                            : check_dns1123_subdomain(name);
            if (!problem.empty())
                invalid("metadata.name", problem);
        }
        if (const std::string ns = text(*metadata, "namespace"); !ns.empty())
            if (std::string problem = check_dns1123_label(ns); !problem.empty())
                invalid("metadata.namespace", problem);
        check_labels(member_object(*metadata, "labels"), "metadata.labels");
        if (const auto* annotations = member_object(*metadata, "annotations"))
            for (const auto& entry : *annotations)
                if (std::string problem = check_qualified_name(entry.key()); !problem.empty())
                    invalid("metadata.annotations", problem);
    }

    void check_labels(const boost::json::object* labels, const std::string& field)
    {
        if (labels == nullptr)
            return;
        for (const auto& entry : *labels) {
            if (std::string problem = check_qualified_name(entry.key()); !problem.empty())
                invalid(field, problem);
            if (entry.value().is_string())
                if (std::string problem = check_label_value(entry.value().get_string()); !problem.empty())
                    invalid(field, problem);
        }
    }

    /// Whether a LabelSelector (matchLabels and matchExpressions) selects `labels`.
    static bool selects(const boost::json::object& selector, const boost::json::object* labels)
    {
        const auto label = [&](std::string_view key) -> const boost::json::value* {
            return labels != nullptr ? labels->if_contains(key) : nullptr;
        };
        if (const auto* match = member_object(selector, "matchLabels"))
            for (const auto& entry : *match) {
                const auto* have = label(entry.key());
                if (have == nullptr || *have != entry.value())
                    return false;
            }
        if (const auto* expressions = member_array(selector, "matchExpressions"))
            for (const auto& expression : *expressions) {
                if (!expression.is_object())
                    return false;
                const auto& e = expression.get_object();
                const auto* have = label(text(e, "key"));
                const std::string op = text(e, "operator");
                bool listed = false;
                if (const auto* values = member_array(e, "values"))
                    for (const auto& v : *values)
                        listed = listed || (have != nullptr && *have == v);
                const bool ok = op == "In" ? listed : op == "NotIn" ? !listed : op == "Exists" ? have != nullptr
                              : op == "DoesNotExist" ? have == nullptr : false;
                if (!ok)
                    return false;
            }
        return true;
    }

    void check_workload(const boost::json::object& spec)
    {
        const auto* selector = member_object(spec, "selector");
        const auto* pod_template = member_object(spec, "template");
        const auto* template_metadata = pod_template != nullptr ? member_object(*pod_template, "metadata") : nullptr;
        const auto* template_labels = template_metadata != nullptr ? member_object(*template_metadata, "labels") : nullptr;
        if (selector != nullptr) {
            const auto* match = member_object(*selector, "matchLabels");
            const auto* expressions = member_array(*selector, "matchExpressions");
            if ((match == nullptr || match->empty()) && (expressions == nullptr || expressions->empty()))
                invalid("spec.selector", "empty selector is invalid for deployment");
            else if (!selects(*selector, template_labels))
                invalid("spec.template.metadata.labels",
                        (template_labels != nullptr ? boost::json::serialize(*template_labels) : std::string("{}"))
                            + ": `selector` does not match template `labels`");
        }
        for (const char* count : {"replicas", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"})
            if (const auto* n = spec.if_contains(count); n != nullptr && n->is_int64() && n->get_int64() < 0)
                invalid("spec." + std::string(count), std::to_string(n->get_int64()) + ": must be greater than or equal to 0");
        if (template_metadata != nullptr)
            check_labels(template_labels, "spec.template.metadata.labels");
        if (pod_template != nullptr)
            if (const auto* pod_spec = member_object(*pod_template, "spec"))
                check_pod_spec(*pod_spec, "spec.template.spec");
    }

    void check_port_number(const boost::json::value* port, const std::string& field)
    {
        if (port != nullptr && port->is_int64() && (port->get_int64() < 1 || port->get_int64() > 65535))
            invalid(field, std::to_string(port->get_int64()) + ": must be between 1 and 65535, inclusive");
    }

    void check_pod_spec(const boost::json::object& spec, const std::string& at)
    {
        std::set<std::string> volumes;
        if (const auto* list = member_array(spec, "volumes"))
            for (std::size_t i = 0; i < list->size(); ++i)
                if (const auto* volume = (*list)[i].if_object()) {
                    const std::string name = text(*volume, "name");
                    volumes.insert(name);
                    if (std::string problem = check_dns1123_label(name); !problem.empty())
                        invalid(at + ".volumes[" + std::to_string(i) + "].name", problem);
                }
        for (const char* group : {"initContainers", "containers"}) {
            const auto* list = member_array(spec, group);
            if (list == nullptr)
                continue;
            for (std::size_t i = 0; i < list->size(); ++i)
                if (const auto* container = (*list)[i].if_object())
                    check_container(*container, at + "." + group + "[" + std::to_string(i) + "]", volumes);
        }
    }

    void check_container(const boost::json::object& container, const std::string& at, const std::set<std::string>& volumes)
    {
        if (std::string problem = check_dns1123_label(text(container, "name")); !problem.empty())
            invalid(at + ".name", problem);
        if (const auto* ports = member_array(container, "ports"))
            for (std::size_t i = 0; i < ports->size(); ++i)
                if (const auto* port = (*ports)[i].if_object()) {
                    const std::string field = at + ".ports[" + std::to_string(i) + "]";
                    check_port_number(port->if_contains("containerPort"), field + ".containerPort");
                    if (const std::string name = text(*port, "name"); !name.empty())
                        if (std::string problem = check_port_name(name); !problem.empty())
                            invalid(field + ".name", problem);
                }
        if (const auto* env = member_array(container, "env"))
            for (std::size_t i = 0; i < env->size(); ++i)
                if (const auto* variable = (*env)[i].if_object())
                    if (std::string problem = check_env_var_name(text(*variable, "name")); !problem.empty())
                        invalid(at + ".env[" + std::to_string(i) + "].name", problem);
        if (const auto* mounts = member_array(container, "volumeMounts"))
            for (std::size_t i = 0; i < mounts->size(); ++i)
                if (const auto* mount = (*mounts)[i].if_object()) {
                    const std::string name = text(*mount, "name");
                    if (!volumes.contains(name))
                        problems_.push_back({field_problem::kind::invalid, at + ".volumeMounts[" + std::to_string(i) + "].name",
                                             "Not found: \"" + name + "\""});
                }
        if (const auto* resources = member_object(container, "resources")) {
            const auto* requests = member_object(*resources, "requests");
            const auto* limits = member_object(*resources, "limits");
            if (requests != nullptr && limits != nullptr)
                for (const auto& entry : *requests) {
                    const auto* limit = limits->if_contains(entry.key());
                    if (limit == nullptr || !limit->is_string() || !entry.value().is_string())
                        continue;
                    auto request_quantity = quantity::parse(entry.value().get_string());
                    auto limit_quantity = quantity::parse(limit->get_string());
                    if (request_quantity && limit_quantity && *request_quantity > *limit_quantity)
                        invalid(at + ".resources.requests[" + std::string(entry.key()) + "]",
                                "\"" + std::string(entry.value().get_string()) + "\": must be less than or equal to "
                                    + std::string(entry.key()) + " limit of " + std::string(limit->get_string()));
                }
        }
    }

    void check_service(const boost::json::object& spec)
    {
        if (const auto* ports = member_array(spec, "ports"))
            for (std::size_t i = 0; i < ports->size(); ++i)
                if (const auto* port = (*ports)[i].if_object()) {
                    const std::string field = "spec.ports[" + std::to_string(i) + "]";
                    check_port_number(port->if_contains("port"), field + ".port");
                    if (const auto* target = port->if_contains("targetPort")) {
                        if (target->is_int64())
                            check_port_number(target, field + ".targetPort");
                        else if (target->is_string())
                            if (std::string problem = check_port_name(target->get_string()); !problem.empty())
                                invalid(field + ".targetPort", problem);
                    }
                }
        if (const auto* selector = member_object(spec, "selector"))
            check_labels(selector, "spec.selector");
    }

    void check_ingress(const boost::json::object& spec)
    {
        const auto* rules = member_array(spec, "rules");
        if (rules == nullptr)
            return;
        for (std::size_t i = 0; i < rules->size(); ++i) {
            const auto* rule = (*rules)[i].if_object();
            if (rule == nullptr)
                continue;
            const std::string at = "spec.rules[" + std::to_string(i) + "]";
            if (std::string host = text(*rule, "host"); !host.empty()) {
                const std::string_view checked = std::string_view(host).starts_with("*.") ? std::string_view(host).substr(2) : host;
                if (std::string problem = check_dns1123_subdomain(checked); !problem.empty())
                    invalid(at + ".host", problem);
            }
            const auto* http = member_object(*rule, "http");
            const auto* paths = http != nullptr ? member_array(*http, "paths") : nullptr;
            if (paths == nullptr)
                continue;
            for (std::size_t k = 0; k < paths->size(); ++k)
                if (const auto* path = (*paths)[k].if_object()) {
                    const std::string value = text(*path, "path");
                    if (!value.empty() && value.front() != '/')
                        invalid(at + ".http.paths[" + std::to_string(k) + "].path", "\"" + value + "\": must be an absolute path");
                }
        }
    }

    std::vector<field_problem>& problems_;
};

} // namespace detail

/// Problems of `object` under the rules above; empty when there are none. Objects of kinds the
/// rules do not know get the metadata checks only.
inline std::vector<field_problem> check_object_rules(const boost::json::value& object)
{
    std::vector<field_problem> problems;
    if (const auto* fields = object.if_object())
        detail::rule_checker(problems).check(*fields);
    return problems;
}

/// Schema validation (strict: unknown fields are problems) and the rules above, as the API server
/// applies them on create and update. Fails only for a kind with no loaded schema.
inline core::result<std::vector<field_problem>> validate_object(const openapi_schemas& schemas, const boost::json::value& object)
{
    auto problems = schemas.validate(object);
    if (!problems)
        return problems.error();
    for (field_problem& problem : check_object_rules(object))
        problems->push_back(std::move(problem));
    return problems;
}

} // namespace paaskit::k8s
