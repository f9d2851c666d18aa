#include <paaskit/core/json.hpp>
#include <paaskit/core/log.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <unistd.h>

using namespace paaskit::core;

namespace {

boost::json::object only_line(const memory_log_sink& sink)
{
    const auto lines = sink.lines();
    REQUIRE(lines.size() == 1);
    REQUIRE(lines[0].back() == '\n');
    return parse_json(lines[0]).value().as_object();
}

} // namespace

TEST_CASE("a log line is one JSON object with ts, level, msg and fields")
{
    auto sink = std::make_shared<memory_log_sink>();
    manual_clock clock(time_point{std::chrono::seconds{1'700'000'000}});
    logger log(sink, clock);
    log.info("listening", {{"port", 8080}, {"address", "127.0.0.1"}, {"tls", false}, {"load", 0.5}, {"none", nullptr}});
    const auto line = only_line(*sink);
    CHECK(line.at("ts") == "2023-11-14T22:13:20.000000Z");
    CHECK(line.at("level") == "info");
    CHECK(line.at("msg") == "listening");
    CHECK(line.at("port") == 8080);
    CHECK(line.at("address") == "127.0.0.1");
    CHECK(line.at("tls") == false);
    CHECK(line.at("load") == 0.5);
    CHECK(line.at("none").is_null());
}

TEST_CASE("levels filter before formatting")
{
    auto sink = std::make_shared<memory_log_sink>();
    system_clock clock;
    logger log(sink, clock, log_level::warn);
    log.info("dropped");
    log.debug("dropped");
    log.warn("kept");
    CHECK(sink->lines().size() == 1);
    log.set_level(log_level::off);
    log.error("dropped");
    CHECK(sink->lines().size() == 1);
    CHECK(parse_log_level("debug").value() == log_level::debug);
    CHECK(parse_log_level("verbose").error() == errc::invalid_argument);
}

TEST_CASE("bound fields appear on every line of a derived logger")
{
    auto sink = std::make_shared<memory_log_sink>();
    system_clock clock;
    logger root(sink, clock);
    const auto request_log = root.with({{"request_id", "abc"}});
    request_log.info("handled", {{"status", 200}});
    const auto line = only_line(*sink);
    CHECK(line.at("request_id") == "abc");
    CHECK(line.at("status") == 200);
}

TEST_CASE("hostile strings still give valid JSON")
{
    auto sink = std::make_shared<memory_log_sink>();
    system_clock clock;
    logger log(sink, clock);
    const std::string hostile = "quote\" backslash\\ newline\n nul" + std::string(1, '\0') + " bad\xff\xfe utf8 \xe2\x82 ok\xe2\x82\xac";
    log.info(hostile, {{"target", hostile}, {"nan", std::numeric_limits<double>::quiet_NaN()}});
    const auto line = only_line(*sink);
    const std::string msg(line.at("msg").as_string());
    CHECK(msg.find("quote\" backslash\\ newline\n nul") == 0);
    CHECK(msg.find("\xef\xbf\xbd") != std::string::npos); // replacement character
    CHECK(msg.find("ok\xe2\x82\xac") != std::string::npos); // valid UTF-8 is kept
    CHECK(line.at("nan").is_null());
}

TEST_CASE("concurrent logging never interleaves lines")
{
    auto sink = std::make_shared<memory_log_sink>();
    system_clock clock;
    logger log(sink, clock);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&log, t] {
            for (int i = 0; i < 500; ++i)
                log.info("tick", {{"thread", t}, {"i", i}});
        });
    for (auto& th : threads)
        th.join();
    const auto lines = sink->lines();
    REQUIRE(lines.size() == 2000);
    for (const auto& l : lines)
        REQUIRE(parse_json(l).has_value());
}

TEST_CASE("background sink writes every line whole, in order per thread, before it is destroyed")
{
    char path[] = "/tmp/paaskit-log-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    {
        auto sink = std::make_shared<background_log_sink>(fd);
        system_clock clock;
        logger log(sink, clock);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&log, t] {
                for (int i = 0; i < 2'000; ++i)
                    log.info("tick", {{"thread", t}, {"i", i}});
            });
        for (auto& th : threads)
            th.join();
    } // the destructor flushes
    ::close(fd);
    std::ifstream in(path);
    std::string line;
    std::vector<std::int64_t> next(4, 0);
    std::size_t count = 0;
    while (std::getline(in, line)) {
        const auto object = parse_json(line).value().as_object();
        const auto t = static_cast<std::size_t>(object.at("thread").as_int64());
        REQUIRE(object.at("i").as_int64() == next[t]++);
        ++count;
    }
    std::remove(path);
    CHECK(count == 8'000);
}
