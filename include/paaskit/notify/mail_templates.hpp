#pragma once
/// \file
/// The platform's mail: the kinds of message it sends (and which a customer may turn off), and
/// their templates (Mustache, `paaskit::templates`): per kind a subject and a plain text body
/// (rendered without escaping) and an HTML body (HTML-escaped) inside an HTML layout. The built-in
/// set may be overridden, file by file, from a directory; branding comes from configuration.
///
/// \code
/// auto mail = notify::mail_templates::builtin();
/// auto welcome = mail->render("welcome", {{"name", "Ana"}}, {.platform_name = "Awan", .url = "https://awan.example"});
/// // welcome->subject == "Welcome to Awan"; welcome->html escapes the name, welcome->text does not
/// \endcode

#include <paaskit/notify/detail/builtin_templates.hpp>
#include <paaskit/notify/error.hpp>

#include <paaskit/core/result.hpp>
#include <paaskit/templates/mustache.hpp>

#include <boost/json/object.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace paaskit::notify {

/// A kind of message. Essential ones (receipts, security, the state of a customer's services) are
/// always sent; the others a customer may turn off.
struct mail_kind {
    std::string_view name;
    bool essential;
    std::string_view description;
};

inline constexpr mail_kind mail_kinds[] = {
    {"welcome", false, "a welcome when the account is created"},
    {"password_changed", true, "the account's password was changed"},
    {"password_reset", true, "a link to choose a new password, when one was asked for"},
    {"email_verification", true, "a link that shows the e-mail address is yours"},
    {"topup_received", true, "a receipt for each top-up, with its invoice"},
    {"topup_failed", true, "a top-up that failed or expired"},
    {"subscription_created", true, "a subscription was created and its app is being set up"},
    {"service_ready", true, "an app is ready: its address and how to sign in"},
    {"subscription_failed", true, "an app could not be set up (nothing was charged)"},
    {"renewal_reminder", false, "a renewal is coming and the credit is too low for it"},
    {"suspended", true, "an app was suspended (for lack of credit)"},
    {"resumed", true, "an app is running again"},
    {"terminated", true, "an app was cancelled and its resources removed"},
    {"crash_loop", true, "an app keeps failing (once per incident)"},
    {"pod_failed", true, "a part of an app stopped with a failure (once per incident)"},
};

inline const mail_kind* find_mail_kind(std::string_view name) noexcept
{
    for (const auto& k : mail_kinds)
        if (k.name == name)
            return &k;
    return nullptr;
}

/// What every message says about the platform.
struct branding {
    std::string platform_name = "paaskit";
    std::string url = "http://localhost:8080"; ///< where customers sign in
    std::string support{};                     ///< an address for questions; empty: none shown
};

struct rendered_mail {
    std::string subject;
    std::string text;
    std::string html;
};

class mail_templates {
public:
    /// The built-in set.
    static core::result<mail_templates> builtin() { return load_from({}); }

    /// The built-in set with the files of `directory` in place of the built-ins they name:
    /// `<kind>.subject.mustache`, `<kind>.txt.mustache`, `<kind>.html.mustache`,
    /// `layout.html.mustache` (the HTML bodies fill its `{{$content}}` block) and
    /// `footer.txt.mustache` (appended to every text body). Any other file there is an error (a
    /// misspelt name would otherwise be ignored silently), as is a template that does not compile.
    static core::result<mail_templates> load(const std::filesystem::path& directory)
    {
        std::map<std::string, std::string, std::less<>> files;
        std::error_code ec;
        std::filesystem::directory_iterator it(directory, ec);
        if (ec)
            return core::error(errc::invalid_template, "cannot read the mail template directory " + directory.string() + ": " + ec.message());
        for (const auto& entry : it) {
            if (!entry.is_regular_file())
                continue;
            const auto name = entry.path().filename().string();
            if (!known_file(name))
                return core::error(errc::invalid_template, "unknown mail template file " + name +
                                                               " (expected <kind>.subject.mustache, <kind>.txt.mustache, "
                                                               "<kind>.html.mustache, layout.html.mustache or footer.txt.mustache)");
            if (entry.file_size(ec) > (1u << 20))
                return core::error(errc::invalid_template, name + " is larger than 1 MiB");
            std::ifstream in(entry.path(), std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            if (!in && !in.eof())
                return core::error(errc::invalid_template, "cannot read " + name);
            files.emplace(name, text.str());
        }
        return load_from(files);
    }

    /// Renders a kind with its values; `platform` is added from `brand`.
    core::result<rendered_mail> render(std::string_view kind, const boost::json::object& values, const branding& brand) const
    {
        const auto found = compiled_.find(kind);
        if (found == compiled_.end())
            return core::error(errc::invalid_template, "no mail template for kind \"" + std::string(kind) + "\"");
        boost::json::object context = values;
        context["platform"] = boost::json::object{{"name", brand.platform_name}, {"url", brand.url}, {"support", brand.support}};
        const boost::json::value ctx(std::move(context));
        rendered_mail out;
        for (auto [t, target] : {std::pair{&found->second.subject, &out.subject}, std::pair{&found->second.text, &out.text},
                                 std::pair{&found->second.html, &out.html}}) {
            if (auto r = t->render(ctx, *target); !r)
                return core::error(errc::invalid_template, std::string(kind) + ": " + r.error().message());
        }
        // Subjects are one line: whatever a value brought in, line breaks become spaces.
        for (auto& c : out.subject)
            if (c == '\r' || c == '\n' || c == '\t')
                c = ' ';
        while (!out.subject.empty() && out.subject.back() == ' ')
            out.subject.pop_back();
        return out;
    }

private:
    struct compiled_kind {
        templates::mustache_template subject, text, html;
    };

    static bool known_file(std::string_view name)
    {
        if (name == "layout.html.mustache" || name == "footer.txt.mustache")
            return true;
        for (const auto& b : detail::builtin_templates)
            for (std::string_view part : {".subject.mustache", ".txt.mustache", ".html.mustache"})
                if (name.size() == b.kind.size() + part.size() && name.starts_with(b.kind) && name.ends_with(part))
                    return true;
        return false;
    }

    static core::result<mail_templates> load_from(const std::map<std::string, std::string, std::less<>>& files)
    {
        const auto pick = [&](const std::string& name, std::string_view builtin) -> std::string {
            const auto f = files.find(name);
            return f != files.end() ? f->second : std::string(builtin);
        };
        const templates::partial_map html_partials{{"layout", pick("layout.html.mustache", detail::builtin_html_layout)}};
        const templates::partial_map text_partials{{"footer", pick("footer.txt.mustache", detail::builtin_text_footer)}};
        mail_templates set;
        for (const auto& b : detail::builtin_templates) {
            const std::string kind(b.kind);
            const auto compile = [&](const std::string& file, std::string_view builtin, const templates::partial_map& partials,
                                     templates::escape_mode escape, std::string_view suffix) -> core::result<templates::mustache_template> {
                auto source = pick(file, builtin) + std::string(suffix);
                auto t = templates::mustache_template::compile(source, partials, {.escape = escape});
                if (!t)
                    return core::error(errc::invalid_template, file + ": " + t.error().message());
                return t;
            };
            auto subject = compile(kind + ".subject.mustache", b.subject, {}, templates::escape_mode::none, "");
            auto text = compile(kind + ".txt.mustache", b.text, text_partials, templates::escape_mode::none, "{{>footer}}");
            auto html = compile(kind + ".html.mustache", b.html, html_partials, templates::escape_mode::html, "");
            for (const auto* r : {&subject, &text, &html})
                if (!*r)
                    return r->error();
            set.compiled_.emplace(kind, compiled_kind{std::move(*subject), std::move(*text), std::move(*html)});
        }
        return set;
    }

    std::map<std::string, compiled_kind, std::less<>> compiled_;
};

} // namespace paaskit::notify
