#include "http/client_address.hpp"

#include <paaskit/core/ascii.hpp>

#include <charconv>

namespace paaskit::server {

namespace {

std::string_view trim(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

boost::asio::ip::address_v6 as_v6(const boost::asio::ip::address& address)
{
    return address.is_v4() ? boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4()) : address.to_v6();
}

std::optional<boost::asio::ip::address> parse_address(std::string_view text)
{
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(text), ec);
    if (ec)
        return std::nullopt;
    return address;
}

// One hop of a forwarding header as an address: `192.0.2.1`, `192.0.2.1:8080`, `[2001:db8::1]`,
// `"[2001:db8::1]:4711"`, `2001:db8::1`; nullopt for "unknown", obfuscated names and junk.
std::optional<boost::asio::ip::address> hop_address(std::string_view hop)
{
    hop = trim(hop);
    if (hop.size() >= 2 && hop.front() == '"' && hop.back() == '"')
        hop = hop.substr(1, hop.size() - 2);
    if (!hop.empty() && hop.front() == '[') {
        const auto close = hop.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        return parse_address(hop.substr(1, close - 1));
    }
    if (auto whole = parse_address(hop))
        return whole; // IPv4, or IPv6 without brackets
    const auto colon = hop.rfind(':');
    if (colon != std::string_view::npos && hop.find(':') == colon)
        return parse_address(hop.substr(0, colon)); // IPv4 with a port
    return std::nullopt;
}

// The `for=` values of every Forwarded element, in order (each field line may hold several).
std::vector<std::string_view> forwarded_for(std::string_view header, std::vector<std::string_view> out)
{
    while (!header.empty()) {
        const auto comma = header.find(',');
        const auto element = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        std::string_view rest = element;
        std::string_view found = "unknown";
        while (!rest.empty()) {
            const auto semicolon = rest.find(';');
            const auto pair = trim(rest.substr(0, semicolon));
            rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
            const auto equals = pair.find('=');
            if (equals != std::string_view::npos && core::iequals_ascii(trim(pair.substr(0, equals)), "for"))
                found = trim(pair.substr(equals + 1));
        }
        out.push_back(found);
    }
    return out;
}

std::vector<std::string_view> comma_list(std::string_view header, std::vector<std::string_view> out)
{
    while (!header.empty()) {
        const auto comma = header.find(',');
        out.push_back(trim(header.substr(0, comma)));
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    }
    return out;
}

} // namespace

core::result<trusted_proxies> trusted_proxies::parse(std::string_view text)
{
    trusted_proxies proxies;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const auto item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        if (item.empty())
            continue;
        const auto bad = [&](const char* why) {
            return core::error(core::errc::invalid_config, "--trusted-proxies \"" + std::string(item.substr(0, 100)) + "\": " + why);
        };
        const auto slash = item.find('/');
        auto address = parse_address(item.substr(0, slash));
        if (!address)
            return bad("not an IP address");
        const unsigned max_prefix = address->is_v4() ? 32 : 128;
        unsigned prefix = max_prefix;
        if (slash != std::string_view::npos) {
            const auto digits = item.substr(slash + 1);
            const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
            if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty() || prefix > max_prefix)
                return bad(address->is_v4() ? "the prefix length must be 0 to 32" : "the prefix length must be 0 to 128");
        }
        range r{as_v6(*address), address->is_v4() ? prefix + 96 : prefix};
        // The network address itself: bits past the prefix cleared.
        auto bytes = r.network.to_bytes();
        for (unsigned bit = r.prefix; bit < 128; ++bit)
            bytes[bit / 8] = static_cast<unsigned char>(bytes[bit / 8] & ~(0x80u >> (bit % 8)));
        r.network = boost::asio::ip::address_v6(bytes);
        proxies.ranges_.push_back(r);
    }
    return proxies;
}

bool trusted_proxies::contains(const boost::asio::ip::address& address) const noexcept
{
    const auto bytes = as_v6(address).to_bytes();
    for (const auto& r : ranges_) {
        const auto network = r.network.to_bytes();
        bool inside = true;
        for (unsigned bit = 0; bit < r.prefix && inside; ++bit) {
            const auto mask = static_cast<unsigned char>(0x80u >> (bit % 8));
            inside = (bytes[bit / 8] & mask) == (network[bit / 8] & mask);
        }
        if (inside)
            return true;
    }
    return false;
}

std::string client_address(std::string_view peer, const http_request& request, const trusted_proxies& proxies)
{
    const auto peer_address = parse_address(peer);
    if (proxies.empty() || !peer_address || !proxies.contains(*peer_address))
        return std::string(peer);
    std::vector<std::string_view> hops;
    // Every field line, in order: a proxy may add a line rather than extend the last one.
    for (auto [field, end] = request.equal_range(http::field::forwarded); field != end; ++field)
        hops = forwarded_for(field->value(), std::move(hops));
    if (hops.empty())
        for (auto [field, end] = request.equal_range("X-Forwarded-For"); field != end; ++field)
            hops = comma_list(field->value(), std::move(hops));
    std::string client(peer);
    for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
        const auto address = hop_address(*hop);
        if (!address)
            break; // nobody vouches for what lies beyond an unreadable hop
        client = address->to_string();
        if (!proxies.contains(*address))
            break;
    }
    return client;
}

} // namespace paaskit::server
