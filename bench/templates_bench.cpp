// Render throughput of paaskit's Mustache engine next to kainjow mustache (Debian's
// libkainjow-mustache-dev), on the two templates the platform renders: an invoice e-mail with a
// 50-row table (HTML escaping) and a Deployment manifest (JSON-string escaping). Both engines get
// the same template and the same data, render into a reused buffer, and must produce the same
// bytes (checked before timing). One thread: figures are per core.
//
//   build/bench/bench/paaskit_templates_bench

#include <paaskit/templates/mustache.hpp>

#include <benchmark/benchmark.h>
#include <kainjow/mustache.hpp>

#include <boost/json/value.hpp>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace json = boost::json;
namespace templates = paaskit::templates;
namespace kj = kainjow::mustache;

namespace {

const char* const invoice_template = R"(<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Invoice {{invoice.number}}</title></head>
<body style="font-family: sans-serif">
  <h1>{{platform}}</h1>
  <p>Hello {{customer.name}},</p>
  <p>Here is your invoice <strong>{{invoice.number}}</strong> for {{invoice.period}}.</p>
  <table>
    <thead><tr><th>#</th><th>Service</th><th>Plan</th><th>Quantity</th><th>Unit price</th><th>Amount</th></tr></thead>
    <tbody>
    {{#invoice.lines}}
      <tr><td>{{position}}</td><td>{{service}}</td><td>{{plan}}</td><td>{{quantity}}</td><td>{{unit_price}}</td><td>{{amount}}</td></tr>
    {{/invoice.lines}}
    </tbody>
  </table>
  <p>Total: <strong>{{invoice.total}}</strong></p>
  {{#invoice.paid}}<p>Paid from your credit balance on {{invoice.paid_on}}. Thank you!</p>{{/invoice.paid}}
  {{^invoice.paid}}<p>Please top up your credit before {{invoice.due}}.</p>{{/invoice.paid}}
  <p><a href="{{links.billing}}">Billing</a> | <a href="{{links.unsubscribe}}">Unsubscribe</a></p>
</body>
</html>
)";

const char* const manifest_template = R"({
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {
    "name": "{{name}}",
    "namespace": "{{namespace}}",
    "labels": {
      "app.kubernetes.io/name": "{{service}}",
      "app.kubernetes.io/instance": "{{name}}",
      "app.kubernetes.io/managed-by": "paaskit",
      "paaskit.io/tenant": "{{tenant}}",
      "paaskit.io/subscription": "{{subscription}}"
    }
  },
  "spec": {
    "replicas": {{replicas}},
    "selector": {"matchLabels": {"app.kubernetes.io/instance": "{{name}}"}},
    "template": {
      "metadata": {"labels": {"app.kubernetes.io/instance": "{{name}}", "app.kubernetes.io/name": "{{service}}"}},
      "spec": {
        "securityContext": {"runAsNonRoot": true, "runAsUser": {{uid}}, "fsGroup": {{uid}}, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
          "name": "{{service}}",
          "image": "{{image}}:{{version}}",
          "ports": [{{#ports}}{"name": "{{port_name}}", "containerPort": {{port}}}{{^last}}, {{/last}}{{/ports}}],
          "env": [{{#env}}
            {"name": "{{env_name}}", "value": "{{env_value}}"}{{^last}},{{/last}}{{/env}}
          ],
          "resources": {
            "requests": {"cpu": "{{cpu_request}}", "memory": "{{memory_request}}"},
            "limits": {"cpu": "{{cpu_limit}}", "memory": "{{memory_limit}}"}
          },
          "readinessProbe": {"httpGet": {"path": "{{probe_path}}", "port": {{port}}}, "periodSeconds": 10},
          "livenessProbe": {"httpGet": {"path": "{{probe_path}}", "port": {{port}}}, "initialDelaySeconds": 30},
          "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": false, "capabilities": {"drop": ["ALL"]}},
          "volumeMounts": [{"name": "data", "mountPath": "{{data_path}}"}]
        }],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "{{name}}-data"}}]
      }
    }
  }
}
)";

json::value invoice_data()
{
    json::array lines;
    for (int i = 1; i <= 50; ++i) {
        const int quantity = 1 + i % 3;
        const long unit = 45'000 + 5'000L * (i % 7);
        lines.push_back(json::object{
            {"position", i},
            {"service", i % 3 == 0 ? "WordPress" : i % 3 == 1 ? "n8n" : "Ghost"},
            {"plan", i % 2 == 0 ? "Starter & Blog" : "Business <2 vCPU>"},
            {"quantity", quantity},
            {"unit_price", "Rp " + std::to_string(unit)},
            {"amount", "Rp " + std::to_string(unit * quantity)},
        });
    }
    return json::object{
        {"platform", "paaskit cloud"},
        {"customer", {{"name", "Siti \"Ana\" Rahma"}}},
        {"invoice", {{"number", "INV-2026-000123"}, {"period", "November 2026"}, {"lines", lines},
                     {"total", "Rp 7.450.000"}, {"paid", true}, {"paid_on", "2026-11-24"}, {"due", "2026-12-01"}}},
        {"links", {{"billing", "https://paaskit.example/billing?tab=invoices&id=123"},
                   {"unsubscribe", "https://paaskit.example/unsubscribe?u=42&t=abc"}}},
    };
}

json::value manifest_data()
{
    json::array env;
    const char* const names[] = {"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "N8N_HOST", "N8N_PROTOCOL",
                                 "WEBHOOK_URL", "GENERIC_TIMEZONE", "N8N_ENCRYPTION_KEY"};
    for (int i = 0; i < 10; ++i)
        env.push_back(json::object{{"env_name", names[i]},
                                   {"env_value", i == 4 ? "p\"4ss\\w0rd\nx" : "value-" + std::to_string(i) + ".tenant-42.svc"},
                                   {"last", i == 9}});
    return json::object{
        {"name", "n8n-7f3a"}, {"namespace", "paaskit-t42-n8n-7f3a"}, {"service", "n8n"}, {"tenant", "t42"},
        {"subscription", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}, {"replicas", 1}, {"uid", 1000},
        {"image", "docker.n8n.io/n8nio/n8n"}, {"version", "1.70.3"},
        {"ports", json::array{json::object{{"port_name", "http"}, {"port", 5678}, {"last", true}}}}, {"port", 5678},
        {"env", env}, {"cpu_request", "250m"}, {"memory_request", "512Mi"}, {"cpu_limit", "1"}, {"memory_limit", "1Gi"},
        {"probe_path", "/healthz"}, {"data_path", "/home/node/.n8n"},
    };
}

/// The same data as kainjow's own data type (it has no numbers: they become their decimal text).
kj::data to_kainjow(const json::value& value)
{
    switch (value.kind()) {
    case json::kind::object: {
        kj::data object{kj::data::type::object};
        for (const auto& [key, member] : value.get_object())
            object.set(std::string(key), to_kainjow(member));
        return object;
    }
    case json::kind::array: {
        kj::data list{kj::data::type::list};
        for (const json::value& item : value.get_array())
            list.push_back(to_kainjow(item));
        return list;
    }
    case json::kind::string: return kj::data(std::string(value.get_string()));
    case json::kind::bool_: return kj::data(value.get_bool());
    case json::kind::int64: return kj::data(std::to_string(value.get_int64()));
    default: return kj::data(std::string("?"));
    }
}

std::string kainjow_json_escape(const std::string& text)
{
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
    return out;
}

struct fixture {
    templates::mustache_template ours;
    kj::mustache theirs;
    json::value context;
    kj::data theirs_context;
};

fixture make_fixture(const char* source, json::value context, templates::escape_mode escape)
{
    auto ours = templates::mustache_template::compile(source, {}, {.escape = escape});
    if (!ours) {
        std::fprintf(stderr, "compile failed: %s\n", ours.error().message().c_str());
        std::abort();
    }
    kj::mustache theirs(source);
    if (!theirs.is_valid()) {
        std::fprintf(stderr, "kainjow compile failed: %s\n", theirs.error_message().c_str());
        std::abort();
    }
    if (escape == templates::escape_mode::json)
        theirs.set_custom_escape(kainjow_json_escape);
    fixture f{std::move(*ours), std::move(theirs), std::move(context), {}};
    f.theirs_context = to_kainjow(f.context);
    // Same bytes from both, or the comparison means nothing.
    std::string a, b;
    (void)f.ours.render(f.context, a);
    f.theirs.render(f.theirs_context, [&](const std::string& piece) { b += piece; });
    if (a != b) {
        std::fprintf(stderr, "the engines disagree:\n--- paaskit\n%s\n--- kainjow\n%s\n", a.c_str(), b.c_str());
        std::abort();
    }
    return f;
}

fixture& invoice()
{
    static fixture f = make_fixture(invoice_template, invoice_data(), templates::escape_mode::html);
    return f;
}

fixture& manifest()
{
    static fixture f = make_fixture(manifest_template, manifest_data(), templates::escape_mode::json);
    return f;
}

void run_paaskit(benchmark::State& state, fixture& f)
{
    std::string out;
    for (auto _ : state) {
        out.clear();
        if (!f.ours.render(f.context, out))
            state.SkipWithError("render failed");
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(out.size()));
    state.counters["output_bytes"] = static_cast<double>(out.size());
}

void run_kainjow(benchmark::State& state, fixture& f)
{
    std::string out;
    for (auto _ : state) {
        out.clear();
        f.theirs.render(f.theirs_context, [&](const std::string& piece) { out += piece; });
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(out.size()));
    state.counters["output_bytes"] = static_cast<double>(out.size());
}

void bm_invoice_email_paaskit(benchmark::State& state) { run_paaskit(state, invoice()); }
void bm_invoice_email_kainjow(benchmark::State& state) { run_kainjow(state, invoice()); }
void bm_manifest_paaskit(benchmark::State& state) { run_paaskit(state, manifest()); }
void bm_manifest_kainjow(benchmark::State& state) { run_kainjow(state, manifest()); }

void bm_compile_invoice_paaskit(benchmark::State& state)
{
    for (auto _ : state)
        benchmark::DoNotOptimize(templates::mustache_template::compile(invoice_template));
}

} // namespace

BENCHMARK(bm_invoice_email_paaskit);
BENCHMARK(bm_invoice_email_kainjow);
BENCHMARK(bm_manifest_paaskit);
BENCHMARK(bm_manifest_kainjow);
BENCHMARK(bm_compile_invoice_paaskit);

BENCHMARK_MAIN();
