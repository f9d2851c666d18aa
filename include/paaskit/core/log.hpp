#pragma once
/// \file
/// A structured logger that writes one JSON object per line:
/// `{"ts":"2026-11-23T21:13:04.123456Z","level":"info","msg":"listening","port":8080}`.

#include <paaskit/core/clock.hpp>
#include <paaskit/core/detail/json_escape.hpp>
#include <paaskit/core/log_sinks.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/timestamp.hpp>

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace paaskit::core {

/// Severity, in increasing order; `off` disables a logger.
enum class log_level : std::uint8_t { trace, debug, info, warn, error, off };

inline std::string_view to_string(log_level level) noexcept
{
    switch (level) {
    case log_level::trace: return "trace";
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::off: return "off";
    }
    return "off";
}

/// "trace", "debug", "info", "warn", "error" or "off".
inline result<log_level> parse_log_level(std::string_view text)
{
    for (auto level : {log_level::trace, log_level::debug, log_level::info, log_level::warn, log_level::error,
                       log_level::off})
        if (text == to_string(level))
            return level;
    return error(errc::invalid_argument,
                 "log level \"" + std::string(text.substr(0, 32)) + "\" is not one of trace, debug, info, warn, error, off");
}

/// One key/value pair of a log line. Keys are written as given (use plain identifiers); values
/// are strings, integers, floating point numbers, booleans or null.
class log_field {
public:
    using value_type = std::variant<std::nullptr_t, std::string_view, std::int64_t, std::uint64_t, double, bool>;

    log_field(std::string_view key, std::string_view value) noexcept : key_(key), value_(value) {}
    log_field(std::string_view key, const std::string& value) noexcept : key_(key), value_(std::string_view(value)) {}
    log_field(std::string_view key, const char* value) noexcept : key_(key), value_(std::string_view(value)) {}
    log_field(std::string_view key, bool value) noexcept : key_(key), value_(value) {}
    log_field(std::string_view key, double value) noexcept : key_(key), value_(value) {}
    log_field(std::string_view key, std::nullptr_t) noexcept : key_(key), value_(nullptr) {}
    template <class Int>
        requires(std::is_integral_v<Int> && !std::is_same_v<Int, bool>)
    log_field(std::string_view key, Int value) noexcept : key_(key)
    {
        if constexpr (std::is_signed_v<Int>)
            value_ = static_cast<std::int64_t>(value);
        else
            value_ = static_cast<std::uint64_t>(value);
    }

    /// Appends `,"key":value` to `out`.
    void append_to(std::string& out) const
    {
        out += ',';
        detail::append_json_string(out, key_);
        out += ':';
        std::visit([&](const auto& v) { append_value(out, v); }, value_);
    }

private:
    static void append_value(std::string& out, std::nullptr_t) { out += "null"; }
    static void append_value(std::string& out, std::string_view v) { detail::append_json_string(out, v); }
    static void append_value(std::string& out, bool v) { out += v ? "true" : "false"; }
    template <class Number>
    static void append_value(std::string& out, Number v)
    {
        if constexpr (std::is_floating_point_v<Number>) {
            if (!std::isfinite(v)) { // JSON has no NaN or infinity
                out += "null";
                return;
            }
        }
        char buf[32];
        const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
        out.append(buf, end);
    }

    std::string_view key_;
    value_type value_;
};

/// A structured JSON-lines logger.
///
/// Each line carries `ts` (RFC 3339, microseconds, UTC, from the given clock), `level`, `msg`, the
/// fields bound with `with`, then the call's own fields. Nothing is formatted below the level.
/// Thread-safety: all members are safe to call concurrently; `with` returns a logger that shares
/// the sink, clock and level setting with its parent.
class logger {
public:
    logger(std::shared_ptr<log_sink> sink, const clock& clock, log_level level = log_level::info)
        : shared_(std::make_shared<shared_state>(std::move(sink), clock, level))
    {
    }

    bool enabled(log_level level) const noexcept
    {
        return level != log_level::off && level >= shared_->level.load(std::memory_order_relaxed);
    }

    /// Changes the level of this logger and of every logger derived from the same root.
    void set_level(log_level level) noexcept { shared_->level.store(level, std::memory_order_relaxed); }

    log_level level() const noexcept { return shared_->level.load(std::memory_order_relaxed); }

    /// A logger that adds `fields` to every line (for example a request id).
    logger with(std::initializer_list<log_field> fields) const
    {
        logger child(*this);
        for (const auto& field : fields)
            field.append_to(child.bound_);
        return child;
    }

    void log(log_level level, std::string_view message, std::initializer_list<log_field> fields = {}) const
    {
        if (!enabled(level))
            return;
        std::string line;
        line.reserve(256 + bound_.size());
        line += "{\"ts\":\"";
        char ts[rfc3339_max_length];
        line.append(ts, format_rfc3339_to(ts, shared_->time_source.now()));
        line += "\",\"level\":\"";
        line += to_string(level);
        line += "\",\"msg\":";
        detail::append_json_string(line, message);
        line += bound_;
        for (const auto& field : fields)
            field.append_to(line);
        line += "}\n";
        shared_->sink->write(line);
    }

    void trace(std::string_view message, std::initializer_list<log_field> fields = {}) const { log(log_level::trace, message, fields); }
    void debug(std::string_view message, std::initializer_list<log_field> fields = {}) const { log(log_level::debug, message, fields); }
    void info(std::string_view message, std::initializer_list<log_field> fields = {}) const { log(log_level::info, message, fields); }
    void warn(std::string_view message, std::initializer_list<log_field> fields = {}) const { log(log_level::warn, message, fields); }
    void error(std::string_view message, std::initializer_list<log_field> fields = {}) const { log(log_level::error, message, fields); }

private:
    struct shared_state {
        shared_state(std::shared_ptr<log_sink> s, const core::clock& c, log_level l) : sink(std::move(s)), time_source(c), level(l) {}
        std::shared_ptr<log_sink> sink;
        const core::clock& time_source;
        std::atomic<log_level> level;
    };

    std::shared_ptr<shared_state> shared_;
    std::string bound_; // pre-rendered `,"key":value` pairs
};

} // namespace paaskit::core
