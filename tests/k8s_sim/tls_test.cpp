// The simulated cluster over HTTPS: its generated CA verifies the server under the names it
// listens by, and a client certificate from that CA or the bearer token authenticates.

#include "k8s_sim/sim_fixture.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>

using namespace paaskit::test;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

namespace {

struct tls_client {
    std::string trusted_ca;
    std::string certificate{}; ///< empty: no client certificate
    std::string key{};
    std::string host = "127.0.0.1"; ///< the name the server certificate must carry
};

struct tls_outcome {
    boost::system::error_code handshake;
    http_response response;
};

tls_outcome tls_get(unsigned short port, const tls_client& client, std::string_view target, std::string_view token = "")
{
    asio::io_context io;
    ssl::context context(ssl::context::tls_client);
    context.add_certificate_authority(asio::buffer(client.trusted_ca));
    context.set_verify_mode(ssl::verify_peer);
    if (!client.certificate.empty()) {
        context.use_certificate_chain(asio::buffer(client.certificate));
        context.use_private_key(asio::buffer(client.key), ssl::context::pem);
    }
    ssl::stream<asio::ip::tcp::socket> stream(io, context);
    stream.set_verify_callback(ssl::host_name_verification(client.host));
    stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    tls_outcome out;
    stream.handshake(ssl::stream_base::client, out.handshake);
    if (out.handshake)
        return out;
    boost::beast::http::request<boost::beast::http::empty_body> request{boost::beast::http::verb::get, target, 11};
    request.set(boost::beast::http::field::host, "127.0.0.1");
    if (!token.empty())
        request.set(boost::beast::http::field::authorization, "Bearer " + std::string(token));
    boost::beast::http::write(stream, request);
    boost::beast::flat_buffer buffer;
    boost::system::error_code ec;
    boost::beast::http::read(stream, buffer, out.response, ec);
    if (ec)
        out.handshake = ec; // the server refused the certificate after the handshake (TLS 1.3)
    return out;
}

} // namespace

TEST_CASE("TLS: the generated CA verifies the server; a client certificate or the token authenticates", "[k8s_sim][tls]")
{
    auto settings = quick_settings();
    settings.tls = true;
    settings.server.bearer_token = "t0ken";
    sim_cluster c(settings);
    const auto* tls = c.cluster().tls();
    REQUIRE(tls != nullptr);
    CHECK(c.cluster().url() == "https://127.0.0.1:" + std::to_string(c.port()));

    const tls_client admin{tls->ca_certificate, tls->client_certificate, tls->client_key};
    auto certified = tls_get(c.port(), admin, "/api/v1/nodes");
    REQUIRE_FALSE(certified.handshake);
    CHECK(certified.response.result_int() == 200);
    CHECK(certified.response.body().find("\"node-1\"") != std::string::npos);

    tls_client by_name = admin;
    by_name.host = "localhost";
    CHECK(tls_get(c.port(), by_name, "/version").response.result_int() == 200);
    tls_client wrong_name = admin;
    wrong_name.host = "kubernetes.example.com";
    CHECK(tls_get(c.port(), wrong_name, "/version").handshake);

    const tls_client anonymous{tls->ca_certificate};
    auto refused = tls_get(c.port(), anonymous, "/api/v1/nodes");
    REQUIRE_FALSE(refused.handshake);
    CHECK(refused.response.result_int() == 401);
    CHECK(tls_get(c.port(), anonymous, "/api/v1/nodes", "t0ken").response.result_int() == 200);
    CHECK(tls_get(c.port(), anonymous, "/api/v1/nodes", "wrong").response.result_int() == 401);

    // Certificates of another authority: the client does not trust the server, the server does
    // not accept the client.
    auto stranger = paaskit::k8s::sim::make_tls_material({});
    REQUIRE(stranger.has_value());
    CHECK(tls_get(c.port(), tls_client{stranger->ca_certificate}, "/version").handshake);
    const tls_client impostor{tls->ca_certificate, stranger->client_certificate, stranger->client_key};
    auto impostor_outcome = tls_get(c.port(), impostor, "/api/v1/nodes");
    CHECK((impostor_outcome.handshake || impostor_outcome.response.result_int() == 401));

    // Plain HTTP on the TLS port gets no HTTP answer.
    http_connection plain(c.port());
    plain.send("GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    http_response garbage;
    CHECK(plain.try_read_response(garbage));
}

TEST_CASE("the kubeconfig of a TLS cluster embeds the CA and the client certificate", "[k8s_sim][tls]")
{
    auto settings = quick_settings();
    settings.tls = true;
    sim_cluster c(settings);
    const std::string config = c.cluster().kubeconfig();
    CHECK(config.find("server: https://127.0.0.1:") != std::string::npos);
    const auto data = [](const std::string& pem) { return paaskit::core::detail::base64_encode_padded(pem); };
    CHECK(config.find("certificate-authority-data: " + data(c.cluster().tls()->ca_certificate)) != std::string::npos);
    CHECK(config.find("client-certificate-data: " + data(c.cluster().tls()->client_certificate)) != std::string::npos);
    CHECK(config.find("client-key-data: " + data(c.cluster().tls()->client_key)) != std::string::npos);
    CHECK(config.find("token:") == std::string::npos);

    // Without a token, the client certificate is the only way in.
    const tls_client anonymous{c.cluster().tls()->ca_certificate};
    CHECK(tls_get(c.port(), anonymous, "/api/v1/namespaces").response.result_int() == 401);
}
