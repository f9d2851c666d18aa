#pragma once
// A simulated cluster in the test process, spoken to only through raw HTTP on a real socket:
// requests with any method, body and content type; watch streams read chunk by chunk.

#include "support/http_client.hpp"
#include "support/shared_data.hpp"

#include <paaskit/k8s/sim/cluster.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/read_until.hpp>
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace paaskit::test {

namespace json = boost::json;
namespace sim = paaskit::k8s::sim;

/// Where the tests keep their config maps.
inline const std::string cm_path = "/api/v1/namespaces/default/configmaps";

/// Controllers on short delays so pods come up within milliseconds.
inline sim::cluster_settings quick_settings()
{
    sim::cluster_settings settings;
    settings.controllers.nodes = 2;
    settings.controllers.pod_start_delay = std::chrono::milliseconds(5);
    settings.controllers.pod_ready_delay = std::chrono::milliseconds(5);
    settings.controllers.termination_delay = std::chrono::milliseconds(5);
    settings.controllers.log_interval = std::chrono::milliseconds(50);
    return settings;
}

struct kube_reply {
    unsigned status;
    json::value body;
    http_response raw;

    const json::object& object() const { return body.as_object(); }
    std::string reason() const
    {
        const auto* r = body.is_object() ? body.as_object().if_contains("reason") : nullptr;
        return r && r->is_string() ? std::string(r->as_string()) : "";
    }
    std::string header(std::string_view name) const { return std::string(raw[name]); }
};

inline std::string text_at(const json::value& v, std::initializer_list<std::string_view> path)
{
    const json::value* at = &v;
    for (const auto key : path) {
        if (!at->is_object() || !at->as_object().contains(key))
            return "";
        at = &at->as_object().at(key);
    }
    return at->is_string() ? std::string(at->as_string()) : json::serialize(*at);
}

inline std::uint64_t rv_of(const json::value& object) { return std::stoull(text_at(object, {"metadata", "resourceVersion"})); }

class sim_cluster {
public:
    explicit sim_cluster(sim::cluster_settings settings = quick_settings()) : cluster_(std::move(settings))
    {
        auto started = cluster_.start();
        INFO((started ? "" : started.error().detail()));
        REQUIRE(started);
    }

    unsigned short port() const { return cluster_.port(); }
    sim::cluster& cluster() { return cluster_; }

    kube_reply request(std::string_view method, std::string_view target, const json::value& body = nullptr,
                       std::string_view content_type = "application/json", std::string extra_headers = "")
    {
        std::string text;
        if (!body.is_null()) {
            extra_headers += "Content-Type: " + std::string(content_type) + "\r\n";
            text = json::serialize(body);
        }
        if (!token_.empty())
            extra_headers += "Authorization: Bearer " + token_ + "\r\n";
        auto res = http_request_once(port(), method, target, extra_headers, text);
        boost::system::error_code ec;
        auto parsed = json::parse(res.body(), ec);
        return {res.result_int(), ec ? json::value(nullptr) : std::move(parsed), std::move(res)};
    }

    kube_reply get(std::string_view target) { return request("GET", target); }
    kube_reply post(std::string_view target, const json::value& body) { return request("POST", target, body); }
    kube_reply put(std::string_view target, const json::value& body) { return request("PUT", target, body); }
    kube_reply patch(std::string_view target, const json::value& body, std::string_view type)
    {
        return request("PATCH", target, body, type);
    }
    kube_reply remove(std::string_view target, const json::value& options = nullptr) { return request("DELETE", target, options); }

    void use_token(std::string token) { token_ = std::move(token); }

private:
    sim::cluster cluster_;
    std::string token_;
};

/// A watch (or any chunked) response read line by line as it arrives.
class watch_stream {
public:
    watch_stream(unsigned short port, std::string_view target) : connection_(port)
    {
        connection_.send("GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        std::size_t end = boost::asio::read_until(connection_.socket(), boost::asio::dynamic_buffer(raw_), "\r\n\r\n");
        head_ = raw_.substr(0, end);
        raw_.erase(0, end);
        status_ = static_cast<unsigned>(std::stoul(head_.substr(9, 3)));
    }

    unsigned status() const { return status_; }
    const std::string& head() const { return head_; }

    /// The next event, or nothing when the stream ended.
    std::optional<json::object> next()
    {
        while (true) {
            if (const auto newline = lines_.find('\n'); newline != std::string::npos) {
                std::string line = lines_.substr(0, newline);
                lines_.erase(0, newline + 1);
                return json::parse(line).as_object();
            }
            if (ended_ || !read_chunk())
                return std::nullopt;
        }
    }

    /// Events until one satisfies `done` (returned), or nothing when the stream ends first.
    template <typename Predicate>
    std::optional<json::object> until(Predicate done)
    {
        while (auto event = next())
            if (done(*event))
                return event;
        return std::nullopt;
    }

private:
    bool read_chunk()
    {
        boost::system::error_code ec;
        const std::size_t size_end = boost::asio::read_until(connection_.socket(), boost::asio::dynamic_buffer(raw_), "\r\n", ec);
        if (ec)
            return false;
        const std::size_t size = std::stoul(raw_.substr(0, size_end - 2), nullptr, 16);
        raw_.erase(0, size_end);
        if (size == 0) {
            ended_ = true;
            return false;
        }
        if (raw_.size() < size + 2) {
            const std::size_t missing = size + 2 - raw_.size();
            std::string more(missing, '\0');
            boost::asio::read(connection_.socket(), boost::asio::buffer(more), ec);
            if (ec)
                return false;
            raw_ += more;
        }
        lines_ += raw_.substr(0, size);
        raw_.erase(0, size + 2);
        return true;
    }

    http_connection connection_;
    std::string raw_;
    std::string head_;
    std::string lines_;
    unsigned status_ = 0;
    bool ended_ = false;
};

inline std::string event_type(const json::object& event) { return std::string(event.at("type").as_string()); }
inline std::string event_name(const json::object& event) { return text_at(event.at("object"), {"metadata", "name"}); }

inline json::value config_map(std::string_view name, json::object data = {{"k", "v"}})
{
    return json::object{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", std::move(data)}};
}

inline json::value deployment(std::string_view name, int replicas, std::string_view cpu = "100m")
{
    const json::object labels{{"app", name}};
    json::object container{{"name", "app"}, {"image", "nginx:1.27"}};
    container["resources"] = json::object{{"requests", json::object{{"cpu", cpu}, {"memory", "64Mi"}}}};
    json::object pod_spec{{"containers", json::array{container}}};
    json::object tmpl{{"metadata", json::object{{"labels", labels}}}, {"spec", std::move(pod_spec)}};
    json::object spec{{"replicas", replicas}, {"selector", json::object{{"matchLabels", labels}}}, {"template", std::move(tmpl)}};
    return json::object{{"apiVersion", "apps/v1"},
                        {"kind", "Deployment"},
                        {"metadata", json::object{{"name", name}, {"labels", labels}}},
                        {"spec", std::move(spec)}};
}

inline json::value pod(std::string_view name, json::object labels = {}, std::string_view cpu = "100m")
{
    json::object container{{"name", "app"}, {"image", "busybox:1.36"}, {"resources", {{"requests", {{"cpu", cpu}}}}}};
    return json::object{{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata", {{"name", name}, {"labels", std::move(labels)}}},
                        {"spec", {{"containers", json::array{container}}}}};
}

} // namespace paaskit::test
