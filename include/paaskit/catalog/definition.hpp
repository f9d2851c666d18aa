#pragma once
/// \file
/// The service definition format (JSON, `schemaVersion` 1): what a one-click app is, which plans
/// it is sold in, and how its workloads run. `parse_definition` validates strictly and reports
/// every problem with its field path. The format is described in docs/catalog.md.

#include <paaskit/catalog/error.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/k8s/names.hpp>
#include <paaskit/k8s/quantity.hpp>
#include <paaskit/templates/mustache.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paaskit::catalog {

inline constexpr std::int64_t current_schema_version = 1;

/// Requests and limits of one workload in one plan (quantity text, validated).
struct resource_range {
    std::string request;
    std::string limit;
};

struct workload_resources {
    resource_range cpu;
    resource_range memory;
};

struct plan {
    std::string id;   ///< DNS label, unique in the service
    std::string name;
    std::int64_t monthly_price = 0;      ///< credit minor units, > 0
    std::string storage;                 ///< size of every volume whose size is "plan"
    std::map<std::string, workload_resources> resources; ///< by workload name: every workload in the plan
    std::vector<std::string> companions; ///< the optional companions this plan includes
};

struct port {
    std::string name; ///< IANA service name
    std::int64_t number = 0;
};

/// An environment variable: a literal (a Mustache template over the platform values, see
/// docs/catalog.md) or a generated secret. `when` names an optional companion it depends on.
struct env_var {
    std::string name;
    std::optional<std::string> value;
    std::optional<std::string> secret;
    std::string when;
};

struct volume {
    std::string name;
    std::string mount_path;
    std::string size; ///< a quantity, or "plan" for the plan's storage
};

struct probe {
    std::string type = "http"; ///< "http" or "tcp"
    std::string path;          ///< http only
    std::string port;          ///< a port name of the workload
    std::int64_t initial_delay_seconds = 0;
    std::int64_t period_seconds = 10;
    std::int64_t failure_threshold = 3;
};

struct workload {
    std::string name;
    std::string image;
    std::string version;
    std::vector<std::string> args;
    std::vector<port> ports;
    std::vector<env_var> env;
    std::vector<volume> volumes;
    std::optional<probe> readiness;
    std::optional<probe> liveness;
    std::int64_t run_as_user = 1000;
    std::int64_t fs_group = 1000;
    std::vector<std::pair<std::string, std::string>> sysctls; ///< namespaced "safe" sysctls only
    bool internet_egress = false; ///< may open connections to public addresses (80, 443, 587)
    bool optional = false;        ///< companions only: present only in plans that list it
};

/// A secret generated with a CSPRNG for every subscription, never stored in the definition.
struct generated_secret {
    std::string name;       ///< a Secret key
    std::int64_t length = 32;
    std::string alphabet = "alnum"; ///< "alnum" or "hex"
};

struct service_definition {
    std::int64_t schema_version = current_schema_version;
    std::string slug;  ///< DNS label of at most 30 characters
    std::string name;
    std::string category; ///< DNS label
    std::string description;
    std::string icon;
    std::vector<plan> plans;
    workload app;
    std::vector<workload> companions;
    std::vector<generated_secret> secrets;
    std::string expose_port; ///< the app port the Ingress routes to

    const plan* find_plan(std::string_view id) const noexcept
    {
        for (const plan& p : plans)
            if (p.id == id)
                return &p;
        return nullptr;
    }
};

/// One problem of a definition, at its JSON path (`plans[1].monthlyPrice`).
struct definition_problem {
    std::string field;
    std::string message;
    friend bool operator==(const definition_problem&, const definition_problem&) = default;
};

namespace detail {

/// Reads a JSON definition field by field, collecting problems with their paths.
class definition_reader {
public:
    explicit definition_reader(std::vector<definition_problem>& problems) : problems_(problems) {}

    void problem(const std::string& field, std::string message) { problems_.push_back({field, std::move(message)}); }

    static std::string join(const std::string& base, std::string_view key)
    {
        return base.empty() ? std::string(key) : base + "." + std::string(key);
    }

    /// The object at `field`, after checking that it has no members outside `allowed`.
    const boost::json::object* object(const boost::json::value* value, const std::string& field,
                                      std::initializer_list<std::string_view> allowed)
    {
        if (value == nullptr)
            return nullptr;
        const auto* object = value->if_object();
        if (object == nullptr) {
            problem(field, "must be an object");
            return nullptr;
        }
        for (const auto& entry : *object) {
            bool known = false;
            for (const std::string_view name : allowed)
                known = known || entry.key() == name;
            if (!known)
                problem(join(field, entry.key()), "unknown field");
        }
        return object;
    }

    const boost::json::value* member(const boost::json::object* object, std::string_view key) const
    {
        return object != nullptr ? object->if_contains(key) : nullptr;
    }

    std::string text(const boost::json::object* object, std::string_view key, const std::string& base, bool required,
                     std::size_t max_size = 200)
    {
        const std::string field = join(base, key);
        const auto* value = member(object, key);
        if (value == nullptr) {
            if (required && object != nullptr)
                problem(field, "required");
            return {};
        }
        if (!value->is_string()) {
            problem(field, "must be a string");
            return {};
        }
        std::string result(value->get_string());
        if (required && result.empty())
            problem(field, "must not be empty");
        else if (result.size() > max_size)
            problem(field, "must be at most " + std::to_string(max_size) + " bytes");
        return result;
    }

    std::optional<std::string> optional_text(const boost::json::object* object, std::string_view key, const std::string& base)
    {
        if (member(object, key) == nullptr)
            return std::nullopt;
        return text(object, key, base, false, 4096);
    }

    std::int64_t integer(const boost::json::object* object, std::string_view key, const std::string& base, std::int64_t fallback,
                         std::int64_t min, std::int64_t max, bool required = false)
    {
        const std::string field = join(base, key);
        const auto* value = member(object, key);
        if (value == nullptr) {
            if (required && object != nullptr)
                problem(field, "required");
            return fallback;
        }
        if (!value->is_int64() || value->get_int64() < min || value->get_int64() > max) {
            problem(field, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
            return fallback;
        }
        return value->get_int64();
    }

    bool boolean(const boost::json::object* object, std::string_view key, const std::string& base)
    {
        const auto* value = member(object, key);
        if (value == nullptr)
            return false;
        if (!value->is_bool()) {
            problem(join(base, key), "must be true or false");
            return false;
        }
        return value->get_bool();
    }

    /// Each element of the array at `key` (an empty list when absent), with its path.
    template <class Each>
    void each(const boost::json::object* object, std::string_view key, const std::string& base, std::size_t max_items, Each&& visit)
    {
        const std::string field = join(base, key);
        const auto* value = member(object, key);
        if (value == nullptr)
            return;
        const auto* array = value->if_array();
        if (array == nullptr) {
            problem(field, "must be an array");
            return;
        }
        if (array->size() > max_items) {
            problem(field, "must have at most " + std::to_string(max_items) + " entries");
            return;
        }
        for (std::size_t i = 0; i < array->size(); ++i)
            visit((*array)[i], field + "[" + std::to_string(i) + "]");
    }

    void name_rule(const std::string& field, const std::string& value, std::string (*rule)(std::string_view))
    {
        if (value.empty())
            return;
        if (std::string why = rule(value); !why.empty())
            problem(field, why);
    }

    void quantity_rule(const std::string& field, const std::string& value)
    {
        if (value.empty())
            return;
        auto parsed = k8s::quantity::parse(value);
        if (!parsed)
            problem(field, "not a quantity: " + parsed.error().detail());
        else if (parsed->milli() <= 0)
            problem(field, "must be positive");
    }

private:
    std::vector<definition_problem>& problems_;
};

inline resource_range read_range(definition_reader& r, const boost::json::value* value, const std::string& field)
{
    const auto* object = r.object(value, field, {"request", "limit"});
    if (value == nullptr)
        r.problem(field, "required");
    resource_range range{r.text(object, "request", field, true), r.text(object, "limit", field, true)};
    r.quantity_rule(field + ".request", range.request);
    r.quantity_rule(field + ".limit", range.limit);
    auto request = k8s::quantity::parse(range.request);
    auto limit = k8s::quantity::parse(range.limit);
    if (request && limit && *request > *limit)
        r.problem(field + ".request", "must not exceed the limit");
    return range;
}

inline std::optional<probe> read_probe(definition_reader& r, const boost::json::value* value, const std::string& field,
                                       const workload& w)
{
    const auto* object = r.object(value, field, {"type", "path", "port", "initialDelaySeconds", "periodSeconds", "failureThreshold"});
    if (object == nullptr)
        return std::nullopt;
    probe p;
    if (r.member(object, "type") != nullptr)
        p.type = r.text(object, "type", field, true);
    if (p.type != "http" && p.type != "tcp")
        r.problem(field + ".type", "must be \"http\" or \"tcp\"");
    p.path = r.text(object, "path", field, p.type == "http");
    if (!p.path.empty() && p.path.front() != '/')
        r.problem(field + ".path", "must start with /");
    p.port = r.text(object, "port", field, true);
    bool known_port = false;
    for (const port& candidate : w.ports)
        known_port = known_port || candidate.name == p.port;
    if (!p.port.empty() && !known_port)
        r.problem(field + ".port", "names no port of this workload");
    p.initial_delay_seconds = r.integer(object, "initialDelaySeconds", field, 0, 0, 3600);
    p.period_seconds = r.integer(object, "periodSeconds", field, 10, 1, 3600);
    p.failure_threshold = r.integer(object, "failureThreshold", field, 3, 1, 100);
    return p;
}

inline workload read_workload(definition_reader& r, const boost::json::value* value, const std::string& field, bool companion)
{
    workload w;
    std::initializer_list<std::string_view> fields = {"name", "image", "version", "args", "ports", "env", "volumes", "readiness",
                                                      "liveness", "runAsUser", "fsGroup", "sysctls", "internetEgress", "optional"};
    const auto* object = r.object(value, field, fields);
    if (value == nullptr) {
        r.problem(field, "required");
        return w;
    }
    if (object == nullptr)
        return w;
    w.name = r.text(object, "name", field, true, 30);
    r.name_rule(field + ".name", w.name, k8s::check_dns1035_label);
    w.image = r.text(object, "image", field, true);
    if (w.image.find_first_of(" \t\n:@") != std::string::npos)
        r.problem(field + ".image", "must be an image name without tag, digest or spaces");
    w.version = r.text(object, "version", field, true, 128);
    if (w.version.find_first_of(" \t\n:@/") != std::string::npos)
        r.problem(field + ".version", "must be an image tag");
    r.each(object, "args", field, 32, [&](const boost::json::value& arg, const std::string& at) {
        if (!arg.is_string())
            r.problem(at, "must be a string");
        else
            w.args.emplace_back(arg.get_string());
    });
    std::set<std::string> port_names;
    r.each(object, "ports", field, 8, [&](const boost::json::value& item, const std::string& at) {
        const auto* p = r.object(&item, at, {"name", "port"});
        port entry{r.text(p, "name", at, true, 15), r.integer(p, "port", at, 0, 1, 65535, true)};
        r.name_rule(at + ".name", entry.name, k8s::check_port_name);
        if (!entry.name.empty() && !port_names.insert(entry.name).second)
            r.problem(at + ".name", "duplicate port name");
        w.ports.push_back(std::move(entry));
    });
    std::set<std::string> env_names;
    r.each(object, "env", field, 64, [&](const boost::json::value& item, const std::string& at) {
        const auto* e = r.object(&item, at, {"name", "value", "secret", "when"});
        env_var entry{r.text(e, "name", at, true), r.optional_text(e, "value", at), r.optional_text(e, "secret", at),
                      r.text(e, "when", at, false)};
        r.name_rule(at + ".name", entry.name, k8s::check_env_var_name);
        if (!entry.name.empty() && !env_names.insert(entry.name).second)
            r.problem(at + ".name", "duplicate variable");
        if (e != nullptr && entry.value.has_value() == entry.secret.has_value())
            r.problem(at, "needs exactly one of value and secret");
        // A value is a Mustache template: one that does not compile is refused now, when the
        // definition is saved, not when a customer's subscription is rendered.
        if (entry.value)
            if (auto compiled = templates::mustache_template::compile(*entry.value, {}, {.escape = templates::escape_mode::none}); !compiled)
                r.problem(at + ".value", "not a valid template: " + compiled.error().detail());
        w.env.push_back(std::move(entry));
    });
    std::set<std::string> volume_names, mount_paths;
    r.each(object, "volumes", field, 8, [&](const boost::json::value& item, const std::string& at) {
        const auto* v = r.object(&item, at, {"name", "mountPath", "size"});
        volume entry{r.text(v, "name", at, true, 30), r.text(v, "mountPath", at, true, 256), r.text(v, "size", at, true, 32)};
        r.name_rule(at + ".name", entry.name, k8s::check_dns1123_label);
        if (!entry.name.empty() && !volume_names.insert(entry.name).second)
            r.problem(at + ".name", "duplicate volume");
        if (!entry.mount_path.empty() && (entry.mount_path.front() != '/' || !mount_paths.insert(entry.mount_path).second))
            r.problem(at + ".mountPath", "must be an absolute path used once");
        if (entry.size != "plan")
            r.quantity_rule(at + ".size", entry.size);
        w.volumes.push_back(std::move(entry));
    });
    w.readiness = read_probe(r, r.member(object, "readiness"), field + ".readiness", w);
    w.liveness = read_probe(r, r.member(object, "liveness"), field + ".liveness", w);
    // Pod Security "restricted" wants a non-root user.
    w.run_as_user = r.integer(object, "runAsUser", field, 1000, 1, 2147483647);
    w.fs_group = r.integer(object, "fsGroup", field, w.run_as_user, 1, 2147483647);
    r.each(object, "sysctls", field, 4, [&](const boost::json::value& item, const std::string& at) {
        const auto* s = r.object(&item, at, {"name", "value"});
        std::string name = r.text(s, "name", at, true), setting = r.text(s, "value", at, true);
        // The sysctls Pod Security "baseline" and "restricted" allow (namespaced and safe).
        static constexpr std::string_view safe[] = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                                                    "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                                                    "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                                                    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                                                    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"};
        bool allowed = false;
        for (const std::string_view candidate : safe)
            allowed = allowed || candidate == name;
        if (!name.empty() && !allowed)
            r.problem(at + ".name", "not a sysctl Pod Security allows");
        w.sysctls.emplace_back(std::move(name), std::move(setting));
    });
    w.internet_egress = r.boolean(object, "internetEgress", field);
    w.optional = r.boolean(object, "optional", field);
    if (w.optional && !companion)
        r.problem(field + ".optional", "only companions can be optional");
    return w;
}

} // namespace detail

/// Whether `icon` may be shown as an image source in a web page: an `https:` URL or an absolute
/// path on the platform's own origin (not `//host`, which is another origin), with no spaces,
/// quotes, angle brackets or backslashes. `javascript:`, `data:` and `http:` are refused.
inline bool is_icon_reference(std::string_view icon) noexcept
{
    if (icon.find_first_of(" \t\r\n\"'<>\\`") != std::string_view::npos ||
        std::any_of(icon.begin(), icon.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
        return false;
    if (icon.size() > 8 && (icon.substr(0, 8) == "https://" || icon.substr(0, 8) == "HTTPS://"))
        return icon.find('/', 8) != 8; // a host follows
    return icon.size() > 1 && icon[0] == '/' && icon[1] != '/';
}

/// Parses and validates a definition. On failure the error's detail lists the problems and, when
/// `problems` is given, it receives each with its field path.
inline core::result<service_definition> parse_definition(const boost::json::value& json,
                                                        std::vector<definition_problem>* problems = nullptr)
{
    std::vector<definition_problem> found;
    detail::definition_reader r(found);
    service_definition d;
    const auto* root = r.object(&json, "", {"schemaVersion", "slug", "name", "category", "description", "icon", "plans", "app",
                                            "companions", "secrets", "exposePort"});
    if (root != nullptr) {
        d.schema_version = r.integer(root, "schemaVersion", "", 0, current_schema_version, current_schema_version, true);
        d.slug = r.text(root, "slug", "", true, 30);
        r.name_rule("slug", d.slug, k8s::check_dns1035_label);
        d.name = r.text(root, "name", "", true, 100);
        d.category = r.text(root, "category", "", true, 40);
        r.name_rule("category", d.category, k8s::check_dns1123_label);
        d.description = r.text(root, "description", "", true, 2000);
        d.icon = r.text(root, "icon", "", true, 2048);
        if (!d.icon.empty() && !is_icon_reference(d.icon))
            r.problem("icon", "an https: URL or a path starting with '/' (no other scheme, spaces or quotes)");
        d.app = detail::read_workload(r, r.member(root, "app"), "app", false);
        std::set<std::string> workload_names{d.app.name};
        r.each(root, "companions", "", 4, [&](const boost::json::value& item, const std::string& at) {
            d.companions.push_back(detail::read_workload(r, &item, at, true));
            if (!workload_names.insert(d.companions.back().name).second)
                r.problem(at + ".name", "duplicate workload name");
        });
        std::set<std::string> secret_names;
        r.each(root, "secrets", "", 16, [&](const boost::json::value& item, const std::string& at) {
            const auto* s = r.object(&item, at, {"name", "length", "alphabet"});
            generated_secret secret{r.text(s, "name", at, true, 63), r.integer(s, "length", at, 32, 16, 128), "alnum"};
            if (r.member(s, "alphabet") != nullptr)
                secret.alphabet = r.text(s, "alphabet", at, true);
            if (secret.alphabet != "alnum" && secret.alphabet != "hex")
                r.problem(at + ".alphabet", "must be \"alnum\" or \"hex\"");
            r.name_rule(at + ".name", secret.name, k8s::check_dns1123_label);
            if (!secret.name.empty() && !secret_names.insert(secret.name).second)
                r.problem(at + ".name", "duplicate secret");
            d.secrets.push_back(std::move(secret));
        });
        d.expose_port = r.text(root, "exposePort", "", true, 15);
        bool exposed = false;
        for (const port& p : d.app.ports)
            exposed = exposed || p.name == d.expose_port;
        if (!d.expose_port.empty() && !exposed)
            r.problem("exposePort", "names no port of the app");
        // Every reference inside the definition must resolve.
        const auto check_references = [&](const workload& w, const std::string& at) {
            for (std::size_t i = 0; i < w.env.size(); ++i) {
                const std::string field = at + ".env[" + std::to_string(i) + "]";
                if (w.env[i].secret && !secret_names.contains(*w.env[i].secret))
                    r.problem(field + ".secret", "names no secret of the service");
                if (!w.env[i].when.empty()) {
                    bool optional_companion = false;
                    for (const workload& c : d.companions)
                        optional_companion = optional_companion || (c.name == w.env[i].when && c.optional);
                    if (!optional_companion)
                        r.problem(field + ".when", "names no optional companion");
                }
            }
        };
        check_references(d.app, "app");
        for (std::size_t i = 0; i < d.companions.size(); ++i)
            check_references(d.companions[i], "companions[" + std::to_string(i) + "]");
        std::set<std::string> plan_ids;
        r.each(root, "plans", "", 8, [&](const boost::json::value& item, const std::string& at) {
            const auto* p = r.object(&item, at, {"id", "name", "monthlyPrice", "storage", "resources", "companions"});
            plan entry;
            entry.id = r.text(p, "id", at, true, 30);
            r.name_rule(at + ".id", entry.id, k8s::check_dns1123_label);
            if (!entry.id.empty() && !plan_ids.insert(entry.id).second)
                r.problem(at + ".id", "duplicate plan");
            entry.name = r.text(p, "name", at, true, 100);
            entry.monthly_price = r.integer(p, "monthlyPrice", at, 0, 1, 1'000'000'000'000'000, true);
            entry.storage = r.text(p, "storage", at, true, 32);
            r.quantity_rule(at + ".storage", entry.storage);
            r.each(p, "companions", at, 4, [&](const boost::json::value& name, const std::string& where) {
                bool optional_companion = false;
                for (const workload& c : d.companions)
                    optional_companion = optional_companion || (name.is_string() && c.name == name.get_string() && c.optional);
                if (!optional_companion)
                    r.problem(where, "names no optional companion");
                else
                    entry.companions.emplace_back(name.get_string());
            });
            const auto* resources_value = r.member(p, "resources");
            const auto* resources = resources_value != nullptr ? resources_value->if_object() : nullptr;
            if (p != nullptr && resources == nullptr)
                r.problem(at + ".resources", "required: an object with the resources of each workload");
            if (resources != nullptr) {
                for (const auto& [name, range] : *resources) {
                    const std::string field = at + ".resources." + std::string(name);
                    if (!workload_names.contains(std::string(name))) {
                        r.problem(field, "names no workload");
                        continue;
                    }
                    const auto* object = r.object(&range, field, {"cpu", "memory"});
                    entry.resources[std::string(name)] = {detail::read_range(r, r.member(object, "cpu"), field + ".cpu"),
                                                          detail::read_range(r, r.member(object, "memory"), field + ".memory")};
                }
                for (const std::string& name : workload_names) {
                    bool needed = name == d.app.name;
                    for (const workload& c : d.companions)
                        needed = needed || (c.name == name && (!c.optional || std::find(entry.companions.begin(), entry.companions.end(), name) != entry.companions.end()));
                    if (needed && !entry.resources.contains(name))
                        r.problem(at + ".resources." + name, "required: the plan runs this workload");
                }
            }
            d.plans.push_back(std::move(entry));
        });
        if (d.plans.empty() && r.member(root, "plans") != nullptr && r.member(root, "plans")->is_array())
            r.problem("plans", "needs at least one plan");
        else if (r.member(root, "plans") == nullptr)
            r.problem("plans", "required");
    }
    if (found.empty())
        return d;
    std::string detail;
    for (const definition_problem& problem : found)
        detail += (detail.empty() ? "" : "; ") + (problem.field.empty() ? std::string("(root)") : problem.field) + ": " + problem.message;
    if (problems != nullptr)
        *problems = std::move(found);
    return core::error(errc::invalid_definition, detail);
}

} // namespace paaskit::catalog
