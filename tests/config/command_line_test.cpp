#include <paaskit/config.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <sstream>
#include <vector>

using paaskit::config::command_line;
using paaskit::config::parse_outcome;

namespace {

struct options {
    std::string listen = "127.0.0.1:8080";
    int threads = 2;
    bool verbose = false;
};

// Environment variables are process-wide: each test sets and clears its own.
struct scoped_env {
    scoped_env(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
    ~scoped_env() { ::unsetenv(name_); }
    const char* name_;
};

paaskit::core::result<parse_outcome> parse(command_line& cli, std::vector<const char*> args, std::ostream& out)
{
    args.insert(args.begin(), "prog");
    return cli.parse(static_cast<int>(args.size()), args.data(), out);
}

command_line make_cli(options& o)
{
    command_line cli("prog", "A test program.");
    cli.option("listen", o.listen, "Address to listen on");
    cli.option("threads", o.threads, "Worker threads").check(CLI::Range(1, 256));
    cli.flag("verbose", o.verbose, "Talk more");
    return cli;
}

} // namespace

TEST_CASE("defaults stand when nothing is given")
{
    options o;
    auto cli = make_cli(o);
    std::ostringstream out;
    CHECK(parse(cli, {}, out).value() == parse_outcome::proceed);
    CHECK(o.listen == "127.0.0.1:8080");
    CHECK(o.threads == 2);
}

TEST_CASE("flags override the environment, which overrides defaults")
{
    scoped_env listen("PAASKIT_LISTEN", "0.0.0.0:9000");
    scoped_env threads("PAASKIT_THREADS", "8");
    options o;
    auto cli = make_cli(o);
    std::ostringstream out;
    CHECK(parse(cli, {"--threads", "4"}, out).value() == parse_outcome::proceed);
    CHECK(o.listen == "0.0.0.0:9000");
    CHECK(o.threads == 4);
    CHECK(cli.env_name("log-level") == "PAASKIT_LOG_LEVEL");
}

TEST_CASE("bad values and unknown flags are clear errors")
{
    std::ostringstream out;
    {
        options o;
        auto cli = make_cli(o);
        auto r = parse(cli, {"--threads", "zero"}, out);
        REQUIRE(r.has_error());
        CHECK(r.error() == paaskit::core::errc::invalid_config);
        CHECK(r.error().detail().find("threads") != std::string::npos);
    }
    {
        options o;
        auto cli = make_cli(o);
        CHECK(parse(cli, {"--threads", "1000"}, out).error() == paaskit::core::errc::invalid_config);
    }
    {
        options o;
        auto cli = make_cli(o);
        auto r = parse(cli, {"--no-such-flag"}, out);
        CHECK(r.error() == paaskit::core::errc::invalid_config);
        CHECK(r.error().detail().find("no-such-flag") != std::string::npos);
    }
    {
        scoped_env bad("PAASKIT_THREADS", "many");
        options o;
        auto cli = make_cli(o);
        CHECK(parse(cli, {}, out).error() == paaskit::core::errc::invalid_config);
    }
}

TEST_CASE("--help prints every option with its environment variable and default")
{
    options o;
    auto cli = make_cli(o);
    std::ostringstream out;
    CHECK(parse(cli, {"--help"}, out).value() == parse_outcome::exit);
    const auto help = out.str();
    CHECK(help.find("--listen") != std::string::npos);
    CHECK(help.find("PAASKIT_LISTEN") != std::string::npos);
    CHECK(help.find("127.0.0.1:8080") != std::string::npos);
    CHECK(help.find("A test program.") != std::string::npos);
}
