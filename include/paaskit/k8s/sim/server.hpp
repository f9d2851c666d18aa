#pragma once
/// \file
/// The simulated cluster's HTTP API: Kubernetes REST paths over Boost.Beast with C++20 coroutines,
/// on the cluster's single event loop. Serves discovery and OpenAPI documents, the resource verbs
/// (get, list, watch, create, update, patch, delete, deletecollection), the pod subresources (log,
/// eviction, binding, status), scale and status subresources, server-side printing (Table) for
/// kubectl, and the fault injection of `faults.hpp`.

#include <paaskit/k8s/sim/api.hpp>
#include <paaskit/k8s/sim/controllers.hpp>
#include <paaskit/k8s/sim/discovery.hpp>
#include <paaskit/k8s/sim/openapi_v2.hpp>
#include <paaskit/k8s/sim/faults.hpp>
#include <paaskit/k8s/sim/protobuf.hpp>
#include <paaskit/k8s/sim/tables.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <array>
#include <charconv>
#include <deque>
#include <map>
#include <memory>
#include <string>

namespace paaskit::k8s::sim {

namespace asio = boost::asio;
namespace http = boost::beast::http;

struct server_settings {
    std::size_t body_limit = 3 * 1024 * 1024; ///< kube-apiserver's request size limit
    std::chrono::milliseconds bookmark_interval{5'000};
    std::chrono::seconds default_watch_timeout{1800}; ///< when the client names none
    std::size_t watch_queue_limit = 50'000; ///< a watcher further behind is disconnected
    std::string bearer_token{}; ///< when set, requests must carry it (or a client certificate)
    /// HTTPS instead of HTTP. With a client CA, a certificate it signed authenticates a connection
    /// as the bearer token does; without one (and without a token) anyone may call.
    struct tls_settings {
        std::string certificate_chain_pem; ///< the server's certificate, then any intermediates
        std::string private_key_pem;
        std::string client_ca_pem{};
    };
    std::optional<tls_settings> tls{};
};

/// One OpenAPI v3 document served under /openapi/v3/<path>.
struct openapi_document {
    std::string path; ///< "api/v1", "apis/apps/v1"
    std::string text;
    std::string hash;
};

class api_http_server {
public:
    api_http_server(asio::io_context& io, cluster_api& api, controllers& control, fault_injector& faults,
                    std::vector<openapi_document> openapi, server_settings settings)
        : io_(io), api_(api), control_(control), faults_(faults), openapi_(std::move(openapi)), settings_(std::move(settings)), acceptor_(io)
    {
    }

    /// Binds and listens; the bound endpoint (port 0 picks one).
    boost::system::error_code listen(const asio::ip::tcp::endpoint& where, asio::ip::tcp::endpoint& bound)
    {
        boost::system::error_code ec;
        acceptor_.open(where.protocol(), ec);
        if (!ec)
            acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec)
            acceptor_.bind(where, ec);
        if (!ec)
            acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (!ec)
            bound = acceptor_.local_endpoint(ec);
        if (!ec)
            address_ = bound.address().to_string() + ":" + std::to_string(bound.port());
        if (!ec && settings_.tls)
            ec = make_tls_context(*settings_.tls);
        return ec;
    }

    void start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

    void stop()
    {
        stopping_ = true;
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        for (auto* socket : sockets_)
            socket->close(ignored);
        for (auto* timer : waits_)
            timer->cancel();
    }

private:
    using tcp = asio::ip::tcp;
    static constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

    struct request_view {
        http::verb method;
        std::string path;
        std::map<std::string, std::string> query;
        std::string content_type;
        std::string accept;
        std::string body;
        std::string user_agent;
        std::string authorization;

        std::string param(const std::string& name) const
        {
            const auto found = query.find(name);
            return found != query.end() ? found->second : std::string();
        }
        bool has(const std::string& name) const { return query.count(name) != 0; }
        bool wants_table() const { return accept.find("as=Table") != std::string::npos; }
    };

    struct response {
        unsigned status = 200;
        std::string content_type = "application/json";
        std::string body;
        std::vector<std::pair<std::string, std::string>> headers{};
    };

    /// A watch or log stream in progress: lines queued by store listeners, drained by the connection.
    struct stream_state {
        explicit stream_state(asio::io_context& io) : wake(io) {}
        asio::steady_timer wake;
        std::deque<std::string> lines;
        bool closed = false; ///< the producer ended the stream (queue overflow, too old)
        bool peer_gone = false;    ///< the client closed its end (or sent bytes, which a watch never should)
        bool probe_pending = false; ///< the read that notices a closing client is outstanding
    };

    boost::system::error_code make_tls_context(const server_settings::tls_settings& tls)
    {
        namespace ssl = asio::ssl;
        auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
        boost::system::error_code ec;
        context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                 ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                             ec);
        if (!ec)
            context->use_certificate_chain(asio::buffer(tls.certificate_chain_pem), ec);
        if (!ec)
            context->use_private_key(asio::buffer(tls.private_key_pem), ssl::context::pem, ec);
        if (!ec && !tls.client_ca_pem.empty()) {
            context->add_certificate_authority(asio::buffer(tls.client_ca_pem), ec);
            // Ask for a certificate, but let clients without one in (they may carry a token).
            if (!ec)
                context->set_verify_mode(ssl::verify_peer, ec);
            if (!ec) {
                // The CA names clients are told to choose a certificate by.
                STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
                BIO* bio = BIO_new_mem_buf(tls.client_ca_pem.data(), static_cast<int>(tls.client_ca_pem.size()));
                if (X509* ca = bio != nullptr ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr) {
                    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca)));
                    X509_free(ca);
                }
                BIO_free(bio);
                SSL_CTX_set_client_CA_list(context->native_handle(), names);
            }
        }
        if (!ec)
            tls_ = std::move(context);
        return ec;
    }

    bool authentication_required() const { return !settings_.bearer_token.empty() || (settings_.tls && !settings_.tls->client_ca_pem.empty()); }

    asio::awaitable<void> accept_loop()
    {
        while (!stopping_) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
            if (ec) {
                if (stopping_ || ec == asio::error::operation_aborted)
                    co_return;
                continue;
            }
            socket.set_option(tcp::no_delay(true), ec);
            asio::co_spawn(io_, tls_ ? serve_tls(std::move(socket)) : serve_plain(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> serve_plain(tcp::socket socket)
    {
        sockets_.insert(&socket);
        co_await serve(socket, false);
        sockets_.erase(&socket);
        close(socket);
    }

    asio::awaitable<void> serve_tls(tcp::socket socket)
    {
        asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
        sockets_.insert(&stream.next_layer());
        auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
        if (!ec && !stopping_) {
            // A certificate that failed verification fails the handshake; one that is here passed.
            const bool certified = SSL_get0_peer_certificate(stream.native_handle()) != nullptr &&
                                   SSL_get_verify_result(stream.native_handle()) == X509_V_OK;
            co_await serve(stream, certified);
        }
        sockets_.erase(&stream.next_layer());
        close(stream.next_layer());
    }

    static void close(tcp::socket& socket)
    {
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }

    /// Requests on one connection until it closes or a stream takes it over.
    template <typename Stream>
    asio::awaitable<void> serve(Stream& socket, bool certified)
    {
        boost::beast::flat_buffer buffer;
        while (!stopping_) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(settings_.body_limit);
            parser.header_limit(64 * 1024);
            auto [ec, bytes] = co_await http::async_read(socket, buffer, parser, use_tuple);
            (void)bytes;
            if (ec) {
                if (ec == http::error::body_limit) {
                    response r = error_response(errors::entity_too_large("the request body exceeds the limit of " +
                                                                         std::to_string(settings_.body_limit) + " bytes"));
                    co_await write(socket, r, false);
                }
                break;
            }
            auto& message = parser.get();
            request_view request;
            request.method = message.method();
            request.content_type = std::string(message[http::field::content_type]);
            if (const auto semi = request.content_type.find(';'); semi != std::string::npos)
                request.content_type.resize(semi);
            request.accept = std::string(message[http::field::accept]);
            request.user_agent = std::string(message[http::field::user_agent]);
            request.authorization = std::string(message[http::field::authorization]);
            request.body = std::move(message.body());
            auto target = boost::urls::parse_origin_form(std::string_view(message.target().data(), message.target().size()));
            if (!target) {
                co_await write(socket, error_response(errors::bad_request("malformed request target")), false);
                break;
            }
            request.path = std::string(target->path());
            for (const auto& p : target->params())
                request.query[std::string(p.key)] = std::string(p.value);
            const bool keep_alive = message.keep_alive();

            const bool token_valid = !settings_.bearer_token.empty() && request.authorization == "Bearer " + settings_.bearer_token;
            if (authentication_required() && !certified && !token_valid) {
                co_await write(socket, error_response(errors::unauthorized()), keep_alive);
                continue;
            }
            if (!request.path.starts_with("/sim/")) {
                if (faults_.settings().latency.count() > 0) {
                    asio::steady_timer delay(io_, faults_.settings().latency);
                    co_await delay.async_wait(use_tuple);
                }
                switch (faults_.next_request()) {
                case fault_injector::verdict::throttle: {
                    const unsigned after = faults_.settings().retry_after_seconds;
                    response r = error_response(errors::too_many_requests("Too many requests, please try again later.", after));
                    r.headers.emplace_back("Retry-After", std::to_string(after));
                    co_await write(socket, r, keep_alive);
                    continue;
                }
                case fault_injector::verdict::fail:
                    co_await write(socket, error_response(errors::internal("injected failure")), keep_alive);
                    continue;
                case fault_injector::verdict::none: break;
                }
            }
            bool streamed = false;
            if (request.method == http::verb::get && wants_watch(request)) {
                streamed = true;
                co_await watch(socket, request);
            } else if (request.method == http::verb::get && request.path.ends_with("/log") && request.param("follow") == "true") {
                streamed = true;
                co_await follow_log(socket, request);
            }
            if (streamed)
                break; // a stream ends with the connection
            response r = dispatch(request);
            if (!co_await write(socket, r, keep_alive) || !keep_alive)
                break;
        }
    }

    static const char* reason_text(unsigned status)
    {
        return http::obsolete_reason(static_cast<http::status>(status)).data();
    }

    template <typename Stream>
    asio::awaitable<bool> write(Stream& socket, const response& r, bool keep_alive)
    {
        std::string wire = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_text(r.status) + "\r\nContent-Type: " + r.content_type +
                           "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\nCache-Control: no-cache, private\r\n";
        for (const auto& [name, value] : r.headers)
            wire += name + ": " + value + "\r\n";
        if (!keep_alive)
            wire += "Connection: close\r\n";
        wire += "\r\n";
        wire += r.body;
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(wire), use_tuple);
        (void)n;
        co_return !ec;
    }

    static response error_response(const api_error& error)
    {
        response r{error.code, "application/json", boost::json::serialize(error.to_status())};
        if (error.retry_after_seconds > 0)
            r.headers.emplace_back("Retry-After", std::to_string(error.retry_after_seconds));
        return r;
    }

    static response json_response(const boost::json::value& v, unsigned status = 200) { return {status, "application/json", boost::json::serialize(v)}; }

    /// `stored` with kind and apiVersion spliced in front, from its pre-serialised JSON.
    static std::string typed_json(const resource_type& rt, const stored_object& stored)
    {
        std::string out;
        out.reserve(stored.json.size() + 64);
        out += "{\"kind\":\"";
        out += rt.kind;
        out += "\",\"apiVersion\":\"";
        out += rt.api_version();
        out += "\"";
        if (stored.json.size() > 2)
            out += ",";
        out.append(stored.json, 1);
        return out;
    }

    // --- routing ------------------------------------------------------------------------------

    struct resource_target {
        resource_id type = 0;
        std::string ns;
        std::string name;
        std::string subresource;
        bool watch_prefix = false;
    };

    /// Parses /api/v1/... and /apis/<group>/<version>/... into a resource target.
    static std::optional<resource_target> parse_target(std::string_view path, std::string& problem)
    {
        std::vector<std::string_view> parts;
        for (std::size_t i = 1; i <= path.size();) {
            const auto slash = path.find('/', i);
            const auto end = slash == std::string_view::npos ? path.size() : slash;
            if (end > i)
                parts.push_back(path.substr(i, end - i));
            i = end + 1;
        }
        std::string_view group, version;
        std::size_t at = 0;
        if (parts.size() >= 2 && parts[0] == "api") {
            version = parts[1];
            at = 2;
        } else if (parts.size() >= 3 && parts[0] == "apis") {
            group = parts[1];
            version = parts[2];
            at = 3;
        } else {
            return std::nullopt;
        }
        resource_target t;
        if (at < parts.size() && parts[at] == "watch") {
            t.watch_prefix = true;
            ++at;
        }
        std::vector<std::string_view> rest(parts.begin() + static_cast<std::ptrdiff_t>(at), parts.end());
        if (rest.empty())
            return std::nullopt;
        if (rest[0] == "namespaces" && rest.size() >= 3 && find_resource(group, version, rest[2]) &&
            resource_types()[*find_resource(group, version, rest[2])].namespaced) {
            t.ns = std::string(rest[1]);
            rest.erase(rest.begin(), rest.begin() + 2);
        }
        const auto type = find_resource(group, version, rest[0]);
        if (!type) {
            problem = "the server could not find the requested resource";
            return std::nullopt;
        }
        t.type = *type;
        if (rest.size() >= 2)
            t.name = std::string(rest[1]);
        if (rest.size() >= 3)
            t.subresource = std::string(rest[2]);
        if (rest.size() > 3 || (!t.subresource.empty() && !resource_types()[t.type].has_subresource(t.subresource))) {
            problem = "the server could not find the requested resource";
            return std::nullopt;
        }
        return t;
    }

    bool wants_watch(const request_view& request) const
    {
        std::string ignored;
        const auto target = parse_target(request.path, ignored);
        if (!target)
            return false;
        const std::string w = request.param("watch");
        return target->watch_prefix || w == "true" || w == "1";
    }

    response dispatch(const request_view& request)
    {
        const std::string& path = request.path;
        if (request.method == http::verb::get) {
            if (path == "/version" || path == "/version/")
                return json_response(version_document());
            if (path == "/healthz" || path == "/livez" || path == "/readyz")
                return {200, "text/plain", "ok"};
            if (path == "/api" || path == "/api/")
                return json_response(api_versions_document(address_));
            if (path == "/apis" || path == "/apis/")
                return json_response(api_group_list_document());
            if (path == "/api/v1" || path == "/api/v1/")
                return json_response(api_resource_list("", "v1"));
            if (path.starts_with("/openapi/v3"))
                return openapi(path);
            if (path == "/openapi/v2" || path == "/openapi/v2/")
                return openapi_v2(request);
            if (path.starts_with("/apis/")) {
                std::vector<std::string> parts;
                std::string_view p(path);
                p.remove_prefix(6);
                while (!p.empty()) {
                    const auto slash = p.find('/');
                    parts.emplace_back(p.substr(0, slash));
                    p = slash == std::string_view::npos ? std::string_view() : p.substr(slash + 1);
                }
                for (const auto& [group, version] : served_group_versions()) {
                    if (parts.size() == 1 && parts[0] == group)
                        return json_response(api_group(group, version));
                    if (parts.size() == 2 && parts[0] == group && parts[1] == version)
                        return json_response(api_resource_list(group, version));
                }
            }
        }
        if (path == "/sim/faults")
            return fault_endpoint(request);
        if (path == "/sim/changes")
            return change_log(request);
        std::string problem;
        const auto target = parse_target(path, problem);
        if (!target)
            return error_response(api_error{404, "NotFound", problem.empty() ? "the server could not find the requested resource" : problem});
        return handle_resource(request, *target);
    }

    response openapi(const std::string& path)
    {
        if (path == "/openapi/v3" || path == "/openapi/v3/") {
            boost::json::object paths;
            for (const auto& doc : openapi_)
                paths[doc.path] = boost::json::object{{"serverRelativeURL", "/openapi/v3/" + doc.path + "?hash=" + doc.hash}};
            return json_response(boost::json::object{{"paths", std::move(paths)}});
        }
        const std::string wanted = path.substr(12);
        for (const auto& doc : openapi_)
            if (doc.path == wanted)
                return {200, "application/json", doc.text, {{"Etag", "\"" + doc.hash + "\""}}};
        return error_response(api_error{404, "NotFound", "the server could not find the requested resource"});
    }

    /// The Swagger 2.0 document, made from the v3 documents on first request (kubectl asks for it
    /// in protobuf to validate `kind: List` files; JSON when the client accepts only that).
    response openapi_v2(const request_view& request)
    {
        if (openapi_.empty())
            return error_response(api_error{404, "NotFound", "the server could not find the requested resource"});
        if (openapi_v2_json_.empty()) {
            std::vector<std::string_view> texts;
            for (const auto& doc : openapi_)
                texts.push_back(doc.text);
            const auto swagger = swagger_from_openapi_v3(texts);
            openapi_v2_json_ = boost::json::serialize(swagger);
            openapi_v2_protobuf_ = sim::openapi_v2_protobuf(swagger);
        }
        // Clients ask with "...spec.v2@v1.0+protobuf"; the API server answers with a dot in place of
        // the '@', which Go's media type parser would refuse.
        if (request.accept.find("application/com.github.proto-openapi.spec.v2") != std::string::npos)
            return {200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", openapi_v2_protobuf_};
        return {200, "application/json", openapi_v2_json_};
    }

    response fault_endpoint(const request_view& request)
    {
        if (request.method == http::verb::get)
            return json_response(faults_.settings().to_json());
        if (request.method != http::verb::put && request.method != http::verb::post)
            return error_response(errors::method_not_allowed("use GET or PUT on /sim/faults"));
        boost::system::error_code ec;
        const auto body = boost::json::parse(request.body, ec);
        if (ec || !body.is_object())
            return error_response(errors::bad_request("the body must be a JSON object"));
        if (std::string problem = faults_.settings().update_from(body.get_object()); !problem.empty())
            return error_response(errors::bad_request(problem));
        return json_response(faults_.settings().to_json());
    }

    /// A resourceVersion as the store counts it: decimal digits and nothing else.
    static std::optional<std::uint64_t> parse_revision(std::string_view text)
    {
        std::uint64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size())
            return std::nullopt;
        return value;
    }

    /// GET /sim/changes?since=RV[&resource=PLURAL][&namespace=NS]: the store's own log of every
    /// change after RV, oldest first — what a client's watch can be checked against. 410 when the
    /// log no longer reaches back to RV.
    response change_log(const request_view& request)
    {
        if (request.method != http::verb::get)
            return error_response(errors::method_not_allowed("use GET on /sim/changes"));
        const std::string since_text = request.param("since");
        const auto since = since_text.empty() ? std::optional<std::uint64_t>(0) : parse_revision(since_text);
        if (!since)
            return error_response(errors::bad_request("since must be a resourceVersion"));
        const std::string plural = request.param("resource");
        const std::string ns = request.param("namespace");
        boost::json::array items;
        const bool complete = api_.store().changes_since(*since, [&](const change_record& record) {
            const auto& type = resource_types()[record.type];
            if ((!plural.empty() && type.plural != plural) || (!ns.empty() && record.key.namespace_name != ns))
                return;
            items.push_back(boost::json::object{{"resourceVersion", std::to_string(record.revision)},
                                                {"type", watch_event_name(record.what)},
                                                {"resource", type.plural},
                                                {"namespace", record.key.namespace_name},
                                                {"name", record.key.name}});
        });
        if (!complete)
            return error_response(api_error{410, "Expired", "the change log no longer reaches back to " + since_text});
        return json_response(boost::json::object{{"resourceVersion", std::to_string(api_.store().resource_version())}, {"items", std::move(items)}});
    }

    static std::optional<boost::json::value> parse_body(const request_view& request, api_error& error)
    {
        if (request.content_type == "application/vnd.kubernetes.protobuf") {
            auto decoded = decode_protobuf_body(request.body);
            if (auto* problem = std::get_if<std::string>(&decoded)) {
                error = api_error{415, "UnsupportedMediaType", *problem};
                return std::nullopt;
            }
            return std::get<boost::json::value>(std::move(decoded));
        }
        // JSON (and the JSON subset of YAML for apply).
        if (!request.content_type.empty() && request.content_type != "application/json" && !request.content_type.ends_with("+json") &&
            request.content_type != "application/apply-patch+yaml" && request.content_type != "application/yaml") {
            error = api_error{415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
                                                           "application/json, application/yaml; got " + request.content_type};
            return std::nullopt;
        }
        boost::system::error_code ec;
        auto value = boost::json::parse(request.body, ec);
        if (ec) {
            error = errors::bad_request("the body of the request could not be decoded as JSON: " + ec.message());
            return std::nullopt;
        }
        return value;
    }

    write_options write_options_of(const request_view& request, api_error& error, const resource_target& target) const
    {
        write_options options;
        const std::string dry = request.param("dryRun");
        if (!dry.empty() && dry != "All")
            error = errors::bad_request("dryRun: Unsupported value: \"" + dry + "\": supported values: \"All\"");
        options.dry_run = dry == "All";
        options.field_manager = request.param("fieldManager");
        if (options.field_manager.empty() && request.content_type != "application/apply-patch+yaml") {
            // What the server records without a fieldManager: the client's program name.
            const std::string agent = request.user_agent.substr(0, request.user_agent.find('/'));
            options.field_manager = agent.empty() ? "unknown" : agent;
        }
        const std::string validation = request.param("fieldValidation");
        if (validation == "Strict")
            options.validation = field_validation::strict;
        else if (validation == "Ignore")
            options.validation = field_validation::ignore;
        else if (validation.empty() || validation == "Warn")
            options.validation = field_validation::warn;
        else
            error = errors::bad_request("fieldValidation: Unsupported value: \"" + validation + "\": supported values: \"Ignore\", \"Strict\", \"Warn\"");
        options.force = request.param("force") == "true";
        if (options.force && request.content_type != "application/apply-patch+yaml")
            error = errors::bad_request("force: Invalid value: true: may not be specified for non-apply patch");
        options.subresource = target.subresource;
        return options;
    }

    response object_response(const resource_type& rt, const write_outcome& outcome, unsigned status)
    {
        response r{status, "application/json", typed_json(rt, *outcome.object)};
        for (const auto& warning : outcome.warnings)
            r.headers.emplace_back("Warning", "299 - \"" + escape_warning(warning) + "\"");
        return r;
    }

    static std::string escape_warning(const std::string& text)
    {
        std::string out;
        for (const char c : text) {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
        return out;
    }

    response handle_resource(const request_view& request, const resource_target& target)
    {
        const resource_type& rt = resource_types()[target.type];
        if (rt.namespaced && target.ns.empty() && !target.name.empty())
            return error_response(errors::not_found(rt, target.name)); // a namespaced object needs its namespace
        if (!target.subresource.empty())
            return handle_subresource(request, target);
        api_error error;
        switch (request.method) {
        case http::verb::get: {
            if (!target.name.empty()) {
                auto found = api_.get(target.type, target.ns, target.name);
                if (!found)
                    return error_response(found.error());
                if (request.wants_table())
                    return json_response(table_of(target.type, {*found}, (*found)->resource_version, api_.clock().now(), include_of(request)));
                return {200, "application/json", typed_json(rt, **found)};
            }
            auto query = list_query_of(request, rt, error);
            if (error.code != 500 || !error.reason.empty())
                return error_response(error);
            auto listed = api_.list(target.type, target.ns, *query);
            if (!listed)
                return error_response(listed.error());
            if (request.wants_table()) {
                auto table = table_of(target.type, listed->items, listed->resource_version, api_.clock().now(), include_of(request));
                if (!listed->continue_token.empty())
                    table["metadata"].as_object()["continue"] = listed->continue_token;
                return json_response(table);
            }
            return {200, "application/json", list_json(rt, *listed)};
        }
        case http::verb::post: {
            if (!target.name.empty())
                return error_response(errors::method_not_allowed("POST is not supported on a named " + std::string(rt.singular)));
            auto options = write_options_of(request, error, target);
            auto body = error.reason.empty() ? parse_body(request, error) : std::nullopt;
            if (!body)
                return error_response(error);
            auto created = api_.create(target.type, target.ns, std::move(*body), options);
            if (!created)
                return error_response(created.error());
            return object_response(rt, *created, 201);
        }
        case http::verb::put: {
            if (target.name.empty())
                return error_response(errors::method_not_allowed("PUT needs a name"));
            auto options = write_options_of(request, error, target);
            auto body = error.reason.empty() ? parse_body(request, error) : std::nullopt;
            if (!body)
                return error_response(error);
            auto updated = api_.update(target.type, target.ns, target.name, std::move(*body), options);
            if (!updated)
                return error_response(updated.error());
            return object_response(rt, *updated, 200);
        }
        case http::verb::patch: {
            if (target.name.empty())
                return error_response(errors::method_not_allowed("PATCH needs a name"));
            return patch(request, target);
        }
        case http::verb::delete_: {
            auto options = delete_options_of(request, error);
            if (!error.reason.empty())
                return error_response(error);
            if (target.name.empty())
                return delete_collection(request, target, options);
            auto removed = api_.remove(target.type, target.ns, target.name, options);
            if (!removed)
                return error_response(removed.error());
            if (rt.delete_returns_object || !removed->finished)
                return {200, "application/json", typed_json(rt, *removed->object)};
            return json_response(boost::json::object{
                {"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", boost::json::object{}}, {"status", "Success"},
                {"details", boost::json::object{{"name", target.name}, {"group", rt.group}, {"kind", rt.plural}, {"uid", uid_of(removed->object->object)}}}});
        }
        default: return error_response(errors::method_not_allowed("method not supported"));
        }
    }

    response patch(const request_view& request, const resource_target& target)
    {
        const resource_type& rt = resource_types()[target.type];
        api_error error;
        auto options = write_options_of(request, error, target);
        if (!error.reason.empty())
            return error_response(error);
        const std::string& type = request.content_type;
        if (type != "application/json-patch+json" && type != "application/merge-patch+json" &&
            type != "application/strategic-merge-patch+json" && type != "application/apply-patch+yaml")
            return error_response(errors::unsupported_media_type(type));
        if (type == "application/apply-patch+yaml" && faults_.settings().refuses_apply_of(rt.kind))
            return error_response(api_error{403, "Forbidden", "admission webhook \"faults.sim.paaskit.dev\" denied the request: " +
                                                                  std::string(rt.kind) + " applies are refused (injected fault)",
                                            target.name, std::string(rt.group), std::string(rt.plural)});
        auto body = parse_body(request, error);
        if (!body) {
            if (type == "application/apply-patch+yaml")
                error.message = "error decoding YAML: only the JSON subset of YAML is supported by this simulator";
            return error_response(error);
        }
        auto patched = api_.patch(target.type, target.ns, target.name, type, *body, options);
        if (!patched)
            return error_response(patched.error());
        return object_response(rt, *patched, patched->created ? 201 : 200);
    }

    response delete_collection(const request_view& request, const resource_target& target, const delete_options& options)
    {
        const resource_type& rt = resource_types()[target.type];
        api_error error;
        auto query = list_query_of(request, rt, error);
        if (!query)
            return error_response(error);
        query->limit = 0;
        auto listed = api_.list(target.type, target.ns, *query);
        if (!listed)
            return error_response(listed.error());
        boost::json::array items;
        for (const auto& item : listed->items) {
            auto removed = api_.remove(target.type, std::string(item->namespace_name()), std::string(item->name()), options);
            if (removed)
                items.push_back(boost::json::parse(typed_json(rt, *removed->object)));
        }
        return json_response(boost::json::object{{"kind", rt.list_kind()}, {"apiVersion", rt.api_version()},
                                                 {"metadata", boost::json::object{{"resourceVersion", std::to_string(api_.store().resource_version())}}},
                                                 {"items", std::move(items)}});
    }

    static include_object include_of(const request_view& request)
    {
        const std::string v = request.param("includeObject");
        return v == "Object" ? include_object::object : v == "None" ? include_object::none : include_object::metadata;
    }

    std::optional<list_query> list_query_of(const request_view& request, const resource_type& rt, api_error& error) const
    {
        list_query query;
        auto labels = label_selector::parse(request.param("labelSelector"));
        if (auto* problem = std::get_if<std::string>(&labels)) {
            error = errors::bad_request(*problem);
            return std::nullopt;
        }
        query.labels = std::get<label_selector>(std::move(labels));
        auto fields = field_selector::parse(request.param("fieldSelector"), rt);
        if (auto* problem = std::get_if<std::string>(&fields)) {
            error = errors::bad_request(*problem);
            return std::nullopt;
        }
        query.fields = std::get<field_selector>(std::move(fields));
        if (const std::string limit = request.param("limit"); !limit.empty()) {
            try {
                const long long n = std::stoll(limit);
                query.limit = n > 0 ? static_cast<std::size_t>(n) : 0;
            } catch (...) {
                error = errors::bad_request("limit: invalid value \"" + limit + "\"");
                return std::nullopt;
            }
        }
        query.continue_token = request.param("continue");
        return query;
    }

    delete_options delete_options_of(const request_view& request, api_error& error) const
    {
        delete_options options;
        options.propagation = request.param("propagationPolicy");
        options.dry_run = request.param("dryRun") == "All";
        if (const std::string grace = request.param("gracePeriodSeconds"); !grace.empty())
            options.grace_period = std::atoll(grace.c_str());
        if (!request.body.empty()) {
            api_error parse_error;
            const auto parsed = parse_body(request, parse_error);
            const boost::json::value body = parsed.value_or(boost::json::value());
            if (!parsed || !body.is_object()) {
                error = errors::bad_request("the DeleteOptions body could not be decoded");
                return options;
            }
            const auto& o = body.get_object();
            if (const std::string_view p = member_string(o, "propagationPolicy"); !p.empty())
                options.propagation = std::string(p);
            if (const auto* g = o.if_contains("gracePeriodSeconds"); g != nullptr && g->is_int64())
                options.grace_period = g->get_int64();
            if (const auto* d = member_array(o, "dryRun"); d != nullptr && !d->empty())
                options.dry_run = true;
            if (const auto* pre = member_object(o, "preconditions")) {
                options.precondition_uid = std::string(member_string(*pre, "uid"));
                options.precondition_resource_version = std::string(member_string(*pre, "resourceVersion"));
            }
            if (member_bool(o, "orphanDependents") && options.propagation.empty())
                options.propagation = "Orphan";
        }
        return options;
    }

    static std::string list_json(const resource_type& rt, const list_outcome& listed)
    {
        std::string out = "{\"kind\":\"" + rt.list_kind() + "\",\"apiVersion\":\"" + rt.api_version() + "\",\"metadata\":{\"resourceVersion\":\"" +
                          std::to_string(listed.resource_version) + "\"";
        if (!listed.continue_token.empty())
            out += ",\"continue\":\"" + listed.continue_token + "\",\"remainingItemCount\":" + std::to_string(listed.remaining);
        out += "},\"items\":[";
        std::size_t size = out.size();
        for (const auto& item : listed.items)
            size += item->json.size() + 1;
        out.reserve(size + 2);
        for (std::size_t i = 0; i < listed.items.size(); ++i) {
            if (i > 0)
                out += ',';
            out += listed.items[i]->json;
        }
        out += "]}";
        return out;
    }

    // --- subresources ------------------------------------------------------------------------

    response handle_subresource(const request_view& request, const resource_target& target)
    {
        const resource_type& rt = resource_types()[target.type];
        if (target.subresource == "status") {
            if (request.method == http::verb::get) {
                auto found = api_.get(target.type, target.ns, target.name);
                return found ? response{200, "application/json", typed_json(rt, **found)} : error_response(found.error());
            }
            if (request.method == http::verb::put) {
                api_error error;
                auto options = write_options_of(request, error, target);
                auto body = error.reason.empty() ? parse_body(request, error) : std::nullopt;
                if (!body)
                    return error_response(error);
                auto updated = api_.update(target.type, target.ns, target.name, std::move(*body), options);
                return updated ? object_response(rt, *updated, 200) : error_response(updated.error());
            }
            if (request.method == http::verb::patch)
                return patch(request, target);
            return error_response(errors::method_not_allowed("status supports get, update and patch"));
        }
        if (target.subresource == "scale")
            return scale(request, target);
        if (target.subresource == "log")
            return log(request, target);
        if (target.subresource == "eviction" && request.method == http::verb::post)
            return evict(request, target);
        if (target.subresource == "binding" && request.method == http::verb::post)
            return bind(request, target);
        if (target.subresource == "finalize" && request.method == http::verb::put) {
            api_error error;
            auto body = parse_body(request, error);
            if (!body)
                return error_response(error);
            auto current = api_.get(target.type, target.ns, target.name);
            if (!current)
                return error_response(current.error());
            boost::json::object next = (*current)->object;
            if (const auto* spec = body->is_object() ? member_object(body->get_object(), "spec") : nullptr)
                next["spec"] = *spec;
            auto written = api_.controller_write(target.type, **current, std::move(next), "finalize");
            return written ? response{200, "application/json", typed_json(rt, *written)} : error_response(errors::internal("finalize failed"));
        }
        return error_response(errors::method_not_allowed("method not supported on " + target.subresource));
    }

    response scale(const request_view& request, const resource_target& target)
    {
        const resource_type& rt = resource_types()[target.type];
        auto current = api_.get(target.type, target.ns, target.name);
        if (!current)
            return error_response(current.error());
        const auto scale_of = [&](const stored_object& object) {
            const auto& spec = object.object.at("spec").as_object();
            const auto* status = member_object(object.object, "status");
            std::string selector;
            if (const auto* sel = member_object(spec, "selector"))
                if (const auto* labels = member_object(*sel, "matchLabels"))
                    for (const auto& [k, v] : *labels)
                        selector += (selector.empty() ? "" : ",") + std::string(k) + "=" + std::string(v.as_string());
            boost::json::object metadata{{"name", object.name()}, {"namespace", object.namespace_name()}, {"uid", uid_of(object.object)},
                                         {"resourceVersion", std::to_string(object.resource_version)},
                                         {"creationTimestamp", member_string(object.metadata(), "creationTimestamp")}};
            return boost::json::object{{"kind", "Scale"}, {"apiVersion", "autoscaling/v1"}, {"metadata", std::move(metadata)},
                                       {"spec", boost::json::object{{"replicas", member_int(spec, "replicas", 1)}}},
                                       {"status", boost::json::object{{"replicas", status != nullptr ? member_int(*status, "replicas") : 0}, {"selector", selector}}}};
        };
        if (request.method == http::verb::get)
            return json_response(scale_of(**current));
        if (request.method != http::verb::put && request.method != http::verb::patch)
            return error_response(errors::method_not_allowed("scale supports get, update and patch"));
        api_error error;
        auto body = parse_body(request, error);
        if (!body)
            return error_response(error);
        boost::json::value desired = scale_of(**current);
        if (request.method == http::verb::put) {
            desired = *body;
        } else if (request.content_type == "application/json-patch+json") {
            auto result = apply_json_patch(desired, *body);
            if (auto* problem = std::get_if<std::string>(&result))
                return error_response(api_error{422, "Invalid", *problem});
            desired = std::get<0>(result);
        } else if (request.content_type == "application/merge-patch+json" || request.content_type == "application/strategic-merge-patch+json") {
            desired = apply_merge_patch(desired, *body);
        } else {
            return error_response(errors::unsupported_media_type(request.content_type));
        }
        const auto* spec = desired.is_object() ? member_object(desired.get_object(), "spec") : nullptr;
        const auto* replicas = spec != nullptr ? spec->if_contains("replicas") : nullptr;
        if (replicas == nullptr || !replicas->is_int64() || replicas->get_int64() < 0)
            return error_response(errors::invalid(rt, target.name, std::vector<status_cause>{{"FieldValueInvalid", "must be greater than or equal to 0", "spec.replicas"}}));
        const auto* meta = member_object(desired.get_object(), "metadata");
        if (meta != nullptr && !member_string(*meta, "resourceVersion").empty() &&
            member_string(*meta, "resourceVersion") != std::to_string((*current)->resource_version))
            return error_response(errors::stale(rt, target.name));
        boost::json::object next = (*current)->object;
        next["spec"].as_object()["replicas"] = replicas->get_int64();
        auto options = write_options_of(request, error, resource_target{target.type, target.ns, target.name, "", false});
        if (!error.reason.empty())
            return error_response(error);
        auto updated = api_.update(target.type, target.ns, target.name, api_.with_type(rt, next), options);
        if (!updated)
            return error_response(updated.error());
        return json_response(scale_of(*updated->object));
    }

    response log(const request_view& request, const resource_target& target)
    {
        auto pod = api_.get(resources::pods, target.ns, target.name);
        if (!pod)
            return error_response(pod.error());
        auto parsed = log_request_of(request, **pod);
        if (!parsed)
            return error_response(errors::bad_request(std::get<std::string>(parsed.error_state)));
        auto text = control_.logs(**pod, *parsed.request, api_.clock().now());
        std::string body = text.value_or("");
        if (const std::string limit = request.param("limitBytes"); !limit.empty()) {
            const long long n = std::atoll(limit.c_str());
            if (n > 0 && static_cast<std::size_t>(n) < body.size())
                body.resize(static_cast<std::size_t>(n));
        }
        return {200, "text/plain", std::move(body)};
    }

    struct parsed_log_request {
        std::optional<log_request> request;
        std::variant<std::monostate, std::string> error_state;
        explicit operator bool() const { return request.has_value(); }
    };

    parsed_log_request log_request_of(const request_view& request, const stored_object& pod) const
    {
        parsed_log_request out;
        log_request r;
        std::vector<std::string> containers;
        if (const auto* spec = member_object(pod.object, "spec"))
            if (const auto* list = member_array(*spec, "containers"))
                for (const auto& c : *list)
                    containers.emplace_back(member_string(c.as_object(), "name"));
        r.container = request.param("container");
        if (r.container.empty()) {
            if (containers.size() != 1) {
                std::string names;
                for (const auto& c : containers)
                    names += (names.empty() ? "" : " ") + c;
                out.error_state = "a container name must be specified for pod " + std::string(pod.name()) + ", choose one of: [" + names + "]";
                return out;
            }
            r.container = containers.front();
        } else if (std::find(containers.begin(), containers.end(), r.container) == containers.end()) {
            out.error_state = "container " + r.container + " is not valid for pod " + std::string(pod.name());
            return out;
        }
        if (const std::string tail = request.param("tailLines"); !tail.empty())
            r.tail_lines = std::max<long long>(std::atoll(tail.c_str()), 0);
        if (const std::string since = request.param("sinceSeconds"); !since.empty())
            r.since = api_.clock().now() - std::chrono::seconds(std::max<long long>(std::atoll(since.c_str()), 1));
        if (const std::string since_time = request.param("sinceTime"); !since_time.empty()) {
            auto t = core::parse_rfc3339(since_time);
            if (!t) {
                out.error_state = "sinceTime: invalid RFC 3339 time \"" + since_time + "\"";
                return out;
            }
            r.since = *t;
        }
        r.timestamps = request.param("timestamps") == "true";
        out.request = std::move(r);
        return out;
    }

    response evict(const request_view& request, const resource_target& target)
    {
        api_error error;
        auto body = parse_body(request, error);
        if (!body)
            return error_response(error);
        auto pod = api_.get(resources::pods, target.ns, target.name);
        if (!pod)
            return error_response(pod.error());
        if (const auto* eviction = body->if_object()) {
            if (const std::string_view name = name_of(*eviction); !name.empty() && name != target.name)
                return error_response(errors::bad_request("name in URL does not match name in Eviction object"));
        }
        if ((*pod)->metadata().if_contains("deletionTimestamp") == nullptr)
            if (auto refused = control_.check_eviction(**pod))
                return error_response(*refused);
        delete_options options;
        if (const auto* eviction = body->if_object())
            if (const auto* delete_opts = member_object(*eviction, "deleteOptions")) {
                if (const auto* g = delete_opts->if_contains("gracePeriodSeconds"); g != nullptr && g->is_int64())
                    options.grace_period = g->get_int64();
                if (const auto* d = member_array(*delete_opts, "dryRun"); d != nullptr && !d->empty())
                    options.dry_run = true;
            }
        auto removed = api_.remove(resources::pods, target.ns, target.name, options);
        if (!removed)
            return error_response(removed.error());
        return json_response(boost::json::object{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", boost::json::object{}},
                                                 {"status", "Success"}, {"code", 201}},
                             201);
    }

    response bind(const request_view& request, const resource_target& target)
    {
        api_error error;
        auto body = parse_body(request, error);
        if (!body)
            return error_response(error);
        const auto* binding = body->if_object();
        const auto* to = binding != nullptr ? member_object(*binding, "target") : nullptr;
        const std::string_view node = to != nullptr ? member_string(*to, "name") : std::string_view();
        if (node.empty())
            return error_response(errors::bad_request("a Binding needs target.name"));
        auto pod = api_.get(resources::pods, target.ns, target.name);
        if (!pod)
            return error_response(pod.error());
        const auto& spec = (*pod)->object.at("spec").as_object();
        if (!member_string(spec, "nodeName").empty())
            return error_response(errors::conflict(resource_types()[resources::pods], target.name,
                                                   "pod " + target.name + " is already assigned to node \"" +
                                                       std::string(member_string(spec, "nodeName")) + "\""));
        boost::json::object next = (*pod)->object;
        next["spec"].as_object()["nodeName"] = node;
        api_.controller_write(resources::pods, **pod, std::move(next), "kube-scheduler");
        return json_response(boost::json::object{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", boost::json::object{}},
                                                 {"status", "Success"}, {"code", 201}},
                             201);
    }

    // --- streams ------------------------------------------------------------------------------

    static std::string chunk(std::string_view data)
    {
        char size[20];
        const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
        std::string out(size, static_cast<std::size_t>(n));
        out.append(data);
        out += "\r\n";
        return out;
    }

    template <typename Stream>
    asio::awaitable<bool> write_raw(Stream& socket, const std::string& data)
    {
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(data), use_tuple);
        (void)n;
        co_return !ec;
    }

    static std::string stream_head(const char* content_type)
    {
        return std::string("HTTP/1.1 200 OK\r\nContent-Type: ") + content_type + "\r\nTransfer-Encoding: chunked\r\nCache-Control: no-cache, private\r\n\r\n";
    }

    std::string event_line(resource_id type, const char* event, const stored_object& object, bool table, include_object include)
    {
        std::string line = "{\"type\":\"";
        line += event;
        line += "\",\"object\":";
        if (table)
            line += boost::json::serialize(table_of(type, {std::make_shared<stored_object>(object)}, object.resource_version, api_.clock().now(), include));
        else
            line += typed_json(resource_types()[type], object);
        line += "}\n";
        return line;
    }

    static std::string bookmark_line(const resource_type& rt, std::uint64_t rv)
    {
        return "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"" + std::string(rt.kind) + "\",\"apiVersion\":\"" + rt.api_version() +
               "\",\"metadata\":{\"resourceVersion\":\"" + std::to_string(rv) + "\",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}}\n";
    }

    template <typename Stream>
    asio::awaitable<void> watch(Stream& socket, const request_view& request)
    {
        std::string problem;
        const auto target = parse_target(request.path, problem);
        const resource_type& rt = resource_types()[target->type];
        api_error error;
        auto query = list_query_of(request, rt, error);
        if (!query) {
            co_await write(socket, error_response(error), false);
            co_return;
        }
        std::string ns = target->ns;
        if (!target->name.empty()) {
            // /watch/namespaces/x/pods/name: a watch of one object.
            auto fields = field_selector::parse("metadata.name=" + target->name, rt);
            query->fields = std::get<field_selector>(std::move(fields));
        }
        const bool table = request.wants_table();
        const include_object include = include_of(request);
        const bool bookmarks = request.param("allowWatchBookmarks") == "true";
        std::chrono::seconds timeout = settings_.default_watch_timeout;
        if (const std::string t = request.param("timeoutSeconds"); !t.empty())
            timeout = std::chrono::seconds(std::max<long long>(std::atoll(t.c_str()), 0));
        const std::string rv_text = request.param("resourceVersion");
        std::uint64_t since = 0;
        const bool initial = rv_text.empty() || rv_text == "0";
        if (!initial) {
            const auto parsed = parse_revision(rv_text);
            if (!parsed) {
                co_await write(socket, error_response(errors::bad_request("resourceVersion: invalid value \"" + rv_text + "\"")), false);
                co_return;
            }
            since = *parsed;
        }
        if (!co_await write_raw(socket, stream_head("application/json")))
            co_return;

        const auto matches = [&, ns](const stored_object* object) {
            if (object == nullptr)
                return false;
            if (!ns.empty() && object->namespace_name() != ns)
                return false;
            return query->labels.matches_object(object->object) && query->fields.matches(object->object);
        };
        auto state = std::make_shared<stream_state>(io_);
        const bool cut_after_first = faults_.cut_new_watch();
        const auto enqueue = [this, state, target, table, include, &matches](const change& c) {
            if (c.type != target->type || state->closed)
                return;
            const bool now = matches(c.object.get());
            const bool before = c.previous && matches(c.previous.get());
            const char* event = nullptr;
            if (c.what == change_type::deleted)
                event = before ? "DELETED" : nullptr;
            else if (now && before)
                event = "MODIFIED";
            else if (now)
                event = "ADDED";
            else if (before)
                event = "DELETED"; // no longer matches the selector
            if (event == nullptr)
                return;
            state->lines.push_back(event_line(target->type, event, *c.object, table, include));
            if (state->lines.size() > settings_.watch_queue_limit)
                state->closed = true;
            state->wake.cancel();
        };
        if (initial) {
            auto listed = api_.list(target->type, ns, list_query{query->labels, query->fields});
            for (const auto& item : listed->items)
                state->lines.push_back(event_line(target->type, "ADDED", *item, table, include));
            since = api_.store().resource_version();
        } else {
            const bool replayed = api_.store().replay_since(since, enqueue);
            if (!replayed) {
                api_error gone_error = errors::expired("too old resource version: " + std::to_string(since) + " (" +
                                                       std::to_string(api_.store().compacted_revision()) + ")");
                const std::string line = "{\"type\":\"ERROR\",\"object\":" + boost::json::serialize(gone_error.to_status()) + "}\n";
                co_await write_raw(socket, chunk(line));
                co_await write_raw(socket, "0\r\n\r\n");
                co_return;
            }
        }
        const std::uint64_t subscription = api_.store().subscribe(enqueue);
        // A client that goes away is noticed at once (by a read that completes), not at the next
        // event or the timeout: an idle watch would otherwise hold its subscription for 30 minutes.
        auto probe = std::make_shared<std::array<char, 64>>();
        state->probe_pending = true;
        socket.async_read_some(asio::buffer(*probe), [state, probe](boost::system::error_code, std::size_t) {
            state->probe_pending = false;
            state->peer_gone = true;
            state->wake.cancel();
        });
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        auto next_bookmark = std::chrono::steady_clock::now() + settings_.bookmark_interval;
        bool alive = true;
        std::size_t sent_events = 0;
        waits_.insert(&state->wake);
        while (alive && !stopping_ && !state->peer_gone) {
            if (!state->lines.empty()) {
                std::string batch;
                bool drop = false;
                while (!state->lines.empty()) {
                    batch += chunk(state->lines.front());
                    state->lines.pop_front();
                    ++sent_events;
                    if ((cut_after_first && sent_events >= 1) || faults_.drop_after_event()) {
                        drop = true;
                        break;
                    }
                }
                if (!co_await write_raw(socket, batch) || drop)
                    break;
                continue;
            }
            if (state->closed)
                break;
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) {
                if (bookmarks)
                    co_await write_raw(socket, chunk(bookmark_line(rt, api_.store().resource_version())));
                co_await write_raw(socket, "0\r\n\r\n");
                break;
            }
            if (bookmarks && now >= next_bookmark) {
                next_bookmark = now + settings_.bookmark_interval;
                if (!co_await write_raw(socket, chunk(bookmark_line(rt, api_.store().resource_version()))))
                    break;
                continue;
            }
            state->wake.expires_at(bookmarks ? std::min(deadline, next_bookmark) : deadline);
            auto [ec] = co_await state->wake.async_wait(use_tuple);
            (void)ec;
            // Either woken by a new event (cancel), by the deadline, or by shutdown.
            if (!socket.lowest_layer().is_open())
                alive = false;
        }
        api_.store().unsubscribe(subscription);
        // The probe must finish before the stream object goes (a TLS read refers to it).
        if (state->probe_pending) {
            boost::system::error_code ignored;
            socket.lowest_layer().cancel(ignored);
            while (state->probe_pending) {
                state->wake.expires_after(std::chrono::seconds(1));
                co_await state->wake.async_wait(use_tuple);
            }
        }
        waits_.erase(&state->wake);
    }

    template <typename Stream>
    asio::awaitable<void> follow_log(Stream& socket, const request_view& request)
    {
        std::string problem;
        const auto target = parse_target(request.path, problem);
        auto pod = api_.get(resources::pods, target->ns, target->name);
        if (!pod) {
            co_await write(socket, error_response(pod.error()), false);
            co_return;
        }
        auto parsed = log_request_of(request, **pod);
        if (!parsed) {
            co_await write(socket, error_response(errors::bad_request(std::get<std::string>(parsed.error_state))), false);
            co_return;
        }
        log_request log_req = *parsed.request;
        if (!co_await write_raw(socket, stream_head("text/plain")))
            co_return;
        const std::string uid(uid_of((*pod)->object));
        asio::steady_timer tick(io_);
        waits_.insert(&tick);
        core::time_point shown_until{};
        bool first = true;
        while (!stopping_) {
            const auto current = api_.store().get(resources::pods, {target->ns, target->name});
            if (!current || uid_of(current->object) != uid)
                break; // the pod is gone: the stream ends, as the kubelet's does
            const auto now = api_.clock().now();
            log_request window = log_req;
            if (!first) {
                window.tail_lines.reset();
                window.since = shown_until;
            }
            std::string text = control_.logs(*current, window, now).value_or("");
            first = false;
            if (!text.empty()) {
                if (!co_await write_raw(socket, chunk(text)))
                    break;
                shown_until = now + std::chrono::nanoseconds(1);
            } else if (shown_until.time_since_epoch().count() == 0) {
                shown_until = now;
            }
            tick.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(control_.log_interval()));
            auto [ec] = co_await tick.async_wait(use_tuple);
            if (ec && stopping_)
                break;
        }
        waits_.erase(&tick);
        co_await write_raw(socket, "0\r\n\r\n");
    }

    asio::io_context& io_;
    cluster_api& api_;
    controllers& control_;
    fault_injector& faults_;
    std::vector<openapi_document> openapi_;
    std::string openapi_v2_json_;     // made on first request to /openapi/v2 (one loop thread)
    std::string openapi_v2_protobuf_;
    server_settings settings_;
    tcp::acceptor acceptor_;
    std::string address_;
    bool stopping_ = false;
    std::set<tcp::socket*> sockets_;
    std::set<asio::steady_timer*> waits_;
    std::unique_ptr<asio::ssl::context> tls_;
};

} // namespace paaskit::k8s::sim
