// E-mail: how fast messages are rendered and serialised (Google Benchmark), and, with
// `--deliver N THREADS`, how many messages per second reach a local SMTP server (a load run:
// tests/notify/smtp_sink.py on Debian's python3-aiosmtpd, started by this program, over STARTTLS
// with a certificate openssl makes, each thread with its own client keeping its connection).
//
//   build/bench/bench/paaskit_notify_bench                      # render and serialise
//   build/bench/bench/paaskit_notify_bench --deliver 5000 4     # delivered per second

#include <paaskit/core/clock.hpp>
#include <paaskit/notify.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace paaskit;

namespace {

const notify::branding brand{.platform_name = "Awan", .url = "https://awan.example", .support = "help@awan.example"};

notify::message receipt(const notify::mail_templates& mail, int n)
{
    auto r = mail.render("topup_received",
                         {{"name", "Ana Đặng " + std::to_string(n)}, {"amount", "Rp 150.000"}, {"order_id", "TOPUP-" + std::to_string(n)},
                          {"balance", "Rp 250.000"}, {"invoice_number", "INV-2026-000123"}},
                         brand)
                 .value();
    return {.from = {"noreply@awan.example", "Awan"}, .to = {{"ana" + std::to_string(n) + "@example.com", "Ana"}},
            .subject = std::move(r.subject), .text = std::move(r.text), .html = std::move(r.html)};
}

void render_and_serialise(benchmark::State& state)
{
    const auto mail = notify::mail_templates::builtin().value();
    const core::system_clock clock;
    int n = 0;
    std::size_t bytes = 0;
    for (auto _ : state) {
        const auto m = receipt(mail, n++);
        auto data = notify::serialize(m, {.date = clock.now(), .message_id = std::to_string(n) + "@awan.example", .boundary_token = "b"});
        bytes += data->size();
        benchmark::DoNotOptimize(data);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(render_and_serialise);

void serialise_with_attachment(benchmark::State& state)
{
    const auto mail = notify::mail_templates::builtin().value();
    auto m = receipt(mail, 1);
    m.attachments.push_back({"INV-2026-000123.pdf", "application/pdf", std::string(40'000, '\x7f')}); // an invoice's size
    for (auto _ : state) {
        auto data = notify::serialize(m, {.date = core::time_point{}, .message_id = "1@awan.example", .boundary_token = "b"});
        benchmark::DoNotOptimize(data);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(serialise_with_attachment);

std::string run_text(const std::string& command)
{
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, p))
            out += buf;
        ::pclose(p);
    }
    return out;
}

int deliver(int total, int threads)
{
    const auto dir = std::filesystem::temp_directory_path() / ("paaskit-notify-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "mail");
    const auto cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
    run_text("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout " + key +
             " -out " + cert + " 2>/dev/null");
    const auto sink = (std::filesystem::path(PAASKIT_SOURCE_DIR) / "tests/notify/smtp_sink.py").string();
    // The sink prints its port first; read it through a pipe.
    int out[2];
    if (::pipe(out) != 0)
        return 1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    const std::string mail_dir = (dir / "mail").string();
    std::vector<std::string> args{"/usr/bin/python3", sink, "--dir", mail_dir, "--cert", cert, "--key", key, "--require-starttls"};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0)
        return 1;
    ::close(out[1]);
    FILE* lines = ::fdopen(out[0], "r");
    char first[256] = {};
    if (!std::fgets(first, sizeof first, lines))
        return 1;
    const int port = std::stoi(std::string(first).substr(std::string(first).find(':') + 1));
    // The sink writes a line per message; drain them so it never blocks on a full pipe.
    std::thread drain([lines] {
        char buf[4096];
        while (std::fgets(buf, sizeof buf, lines)) {
        }
    });

    const auto mail = notify::mail_templates::builtin().value();
    auto settings = notify::parse_smtp_url("smtp://localhost:" + std::to_string(port)).value();
    settings.ca_file = cert;
    std::atomic<int> next{0}, failed{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            notify::smtp_client smtp(settings);
            const core::system_clock clock;
            for (int n; (n = next++) < total;) {
                const auto m = receipt(mail, n);
                const auto data = notify::serialize(m, {.date = clock.now(), .message_id = std::to_string(n) + "@awan.example"}).value();
                const std::vector<std::string> to{m.to[0].address};
                if (!smtp.send(m.from.address, to, data))
                    ++failed;
            }
        });
    for (auto& w : workers)
        w.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    drain.join();
    std::filesystem::remove_all(dir);
    std::cout << "delivered " << total - failed << " messages (" << failed << " failed) over STARTTLS with " << threads
              << " threads in " << seconds << " s: " << static_cast<long>((total - failed) / seconds) << " messages/s\n";
    return failed == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc >= 2 && std::string(argv[1]) == "--deliver")
        return deliver(argc > 2 ? std::stoi(argv[2]) : 5000, argc > 3 ? std::stoi(argv[3]) : 4);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    return 0;
}
