// paaskit-midtrans-sim: Midtrans's Snap and Core APIs, a payment page and signed notifications,
// on loopback, for development and tests.

#include <paaskit/billing/sim/simulator.hpp>
#include <paaskit/config/command_line.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv)
{
    paaskit::billing::sim::simulator_settings settings;
    std::string listen = "127.0.0.1:8090";
    std::vector<std::string> keys;
    std::int64_t expiry_minutes = settings.default_expiry.count();

    paaskit::config::command_line cli("paaskit-midtrans-sim", "A Midtrans simulator: Snap, Core API, payment page, notifications",
                                      "PAASKIT_MIDTRANS_SIM_");
    cli.option("listen", listen, "address:port to serve on");
    cli.option("server-key", keys, "a server key it accepts (repeat for more); default SB-Mid-server-paaskit-sim");
    cli.option("public-url", settings.public_url, "base of the payment pages' URLs (default: http://<listen>)");
    cli.option("retry-scale", settings.retry_scale, "notification retry delays times this (Midtrans: 2, 10, 30, 90, 210 minutes)");
    cli.option("expiry-minutes", expiry_minutes, "how long a Snap transaction waits for payment without an expiry of its own");
    const auto parsed = cli.parse(argc, argv, std::cout);
    if (!parsed) {
        std::cerr << "paaskit-midtrans-sim: " << parsed.error().detail() << "\n";
        return 2;
    }
    if (*parsed == paaskit::config::parse_outcome::exit)
        return 0;
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        std::cerr << "paaskit-midtrans-sim: --listen must be address:port\n";
        return 2;
    }
    settings.listen_address = listen.substr(0, colon);
    try {
        settings.port = static_cast<unsigned short>(std::stoul(listen.substr(colon + 1)));
    } catch (...) {
        std::cerr << "paaskit-midtrans-sim: --listen: bad port\n";
        return 2;
    }
    if (!keys.empty())
        settings.server_keys = keys;
    if (settings.retry_scale < 0 || expiry_minutes < 1) {
        std::cerr << "paaskit-midtrans-sim: --retry-scale must be >= 0 and --expiry-minutes >= 1\n";
        return 2;
    }
    settings.default_expiry = std::chrono::minutes(expiry_minutes);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    paaskit::billing::sim::simulator midtrans(settings);
    if (auto started = midtrans.start(); !started) {
        std::cerr << "paaskit-midtrans-sim: " << started.error().detail() << "\n";
        return 1;
    }
    std::cout << "{\"msg\":\"listening\",\"url\":\"" << midtrans.url() << "\",\"snap_url\":\"" << midtrans.snap_url() << "\"}" << std::endl;
    int received = 0;
    sigwait(&signals, &received);
    midtrans.stop();
    return 0;
}
