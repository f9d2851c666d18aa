// Uses paaskit::core and paaskit::config, fetched with FetchContent.
#include <paaskit/config.hpp>
#include <paaskit/core.hpp>

#include <iostream>

int main(int argc, char** argv)
{
    using namespace paaskit;
    std::string amount = "12.34";
    config::command_line cli("fetchcontent_consumer", "Formats an amount of US dollars.");
    cli.option("amount", amount, "Decimal amount");
    const auto parsed = cli.parse(argc, argv, std::cout);
    if (!parsed) {
        std::cerr << parsed.error().message() << '\n';
        return 2;
    }
    if (*parsed == config::parse_outcome::exit)
        return 0;

    const auto usd = core::currency::iso("USD").value();
    const auto money = core::money::parse(amount, usd);
    if (!money) {
        std::cerr << money.error().message() << '\n';
        return 1;
    }
    core::system_clock clock;
    core::logger log(std::make_shared<core::fd_log_sink>(), clock);
    log.info("parsed", {{"minor_units", money->minor_units()}, {"text", money->to_string()}});
    return money->minor_units() == 1234 ? 0 : 1;
}
