#pragma once
// The client's address behind reverse proxies: only a proxy the operator trusts (--trusted-proxies)
// may say who its client was, in `Forwarded` (RFC 7239) or `X-Forwarded-For`. Every other peer's
// headers are ignored, so a client cannot choose the address its rate limits are counted under.

#include "http/http_types.hpp"

#include <paaskit/core/result.hpp>

#include <boost/asio/ip/address.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace paaskit::server {

/// A set of address ranges in CIDR notation ("10.0.0.0/8", "::1/128", "192.168.1.7").
class trusted_proxies {
public:
    /// Comma-separated CIDRs; an empty text trusts nobody.
    static core::result<trusted_proxies> parse(std::string_view text);

    bool contains(const boost::asio::ip::address& address) const noexcept;
    bool empty() const noexcept { return ranges_.empty(); }

private:
    struct range {
        boost::asio::ip::address_v6 network; // IPv4 as v4-mapped IPv6, so one comparison serves both
        unsigned prefix = 128;
    };
    std::vector<range> ranges_;
};

/// The client's address for a request from `peer`: `peer` itself unless it is a trusted proxy;
/// then the rightmost address of the forwarding chain that is not a trusted proxy (the first hop
/// nobody trusted wrote everything to its left), from `Forwarded` when present, else from
/// `X-Forwarded-For`. When every hop is trusted, the leftmost. A malformed or obfuscated hop
/// ("unknown", "_hidden") stops the walk at the hop before it.
std::string client_address(std::string_view peer, const http_request& request, const trusted_proxies& proxies);

} // namespace paaskit::server
