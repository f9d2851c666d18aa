#pragma once
// The platform's built-in mail templates (Mustache): per kind a subject, a plain text body and an
// HTML body that fills the HTML layout's `content` block. Every template sees the kind's values
// and `platform.name`, `platform.url` and `platform.support` (an address; may be empty).

#include <string_view>

namespace paaskit::notify::detail {

struct builtin_template {
    std::string_view kind;
    std::string_view subject;
    std::string_view text;
    std::string_view html;
};

inline constexpr std::string_view builtin_html_layout = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{platform.name}}</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2328">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0">
<tr><td align="center">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;background:#ffffff;border-radius:8px;padding:32px">
<tr><td style="font-size:20px;font-weight:600;padding-bottom:16px">{{platform.name}}</td></tr>
<tr><td style="font-size:15px;line-height:1.6">
{{$content}}{{/content}}
</td></tr>
<tr><td style="font-size:12px;color:#6e7781;padding-top:24px;border-top:1px solid #e5e7eb">
You receive this e-mail because you have an account at <a href="{{platform.url}}" style="color:#6e7781">{{platform.name}}</a>.{{#platform.support}} Questions? Write to <a href="mailto:{{platform.support}}" style="color:#6e7781">{{platform.support}}</a>.{{/platform.support}}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
)";

inline constexpr std::string_view builtin_text_footer = R"(
--
{{platform.name}} - {{platform.url}}
{{#platform.support}}Questions? Write to {{platform.support}}.
{{/platform.support}})";

inline constexpr builtin_template builtin_templates[] = {
    {"welcome", "Welcome to {{platform.name}}",
     R"(Hello {{name}},

Welcome to {{platform.name}}. Your account is ready.

Top up your credit, then pick an app (n8n, Ghost, WordPress) and a plan: it runs at its own
address within minutes, and is charged from your credit every period.

Sign in: {{platform.url}}
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p>Welcome to {{platform.name}}. Your account is ready.</p>
<p>Top up your credit, then pick an app (n8n, Ghost, WordPress) and a plan: it runs at its own address within minutes, and is charged from your credit every period.</p>
<p><a href="{{platform.url}}" style="display:inline-block;background:#2563eb;color:#ffffff;padding:10px 18px;border-radius:6px;text-decoration:none">Sign in</a></p>
{{/content}}{{/layout}})"},

    {"password_changed", "Your {{platform.name}} password was changed",
     R"(Hello {{name}},

The password of your {{platform.name}} account was changed at {{changed_at}}{{#client_address}} from {{client_address}}{{/client_address}}.
Every other session was signed out.

If this was not you, reset your password at {{platform.url}} now and tell us.
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p>The password of your {{platform.name}} account was changed at <strong>{{changed_at}}</strong>{{#client_address}} from {{client_address}}{{/client_address}}. Every other session was signed out.</p>
<p>If this was not you, <a href="{{platform.url}}">reset your password</a> now and tell us.</p>
{{/content}}{{/layout}})"},

    {"password_reset", "Choose a new {{platform.name}} password",
     R"(Hello {{name}},

Someone asked to reset the password of your {{platform.name}} account. To choose a new one, open
this link within {{expires_in}}:

{{link}}

It works once. If you did not ask for it, ignore this e-mail: your password stays as it is.
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p>Someone asked to reset the password of your {{platform.name}} account. To choose a new one, open this link within {{expires_in}}:</p>
<p><a href="{{link}}" style="display:inline-block;background:#2563eb;color:#ffffff;padding:10px 18px;border-radius:6px;text-decoration:none">Choose a new password</a></p>
<p>It works once. If you did not ask for it, ignore this e-mail: your password stays as it is.</p>
{{/content}}{{/layout}})"},

    {"email_verification", "Confirm your e-mail address for {{platform.name}}",
     R"(Hello {{name}},

Please confirm that {{email}} is your address: open this link within {{expires_in}}.

{{link}}
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p>Please confirm that <strong>{{email}}</strong> is your address: open this link within {{expires_in}}.</p>
<p><a href="{{link}}" style="display:inline-block;background:#2563eb;color:#ffffff;padding:10px 18px;border-radius:6px;text-decoration:none">Confirm my address</a></p>
{{/content}}{{/layout}})"},

    {"topup_received", "Top-up received: {{amount}}",
     R"(Hello {{name}},

We received your top-up of {{amount}} (order {{order_id}}). Your credit is now {{balance}}.
{{#invoice_number}}
Invoice {{invoice_number}} is attached.
{{/invoice_number}}
Thank you.
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p>We received your top-up of <strong>{{amount}}</strong> (order {{order_id}}). Your credit is now <strong>{{balance}}</strong>.</p>
{{#invoice_number}}<p>Invoice {{invoice_number}} is attached.</p>{{/invoice_number}}
<p>Thank you.</p>
{{/content}}{{/layout}})"},

    {"topup_failed", "Top-up not completed: {{amount}}",
     R"(Hello {{name}},

Your top-up of {{amount}} (order {{order_id}}) was not completed: {{reason}}.
No money was taken from you for it, and your credit is unchanged.

You can start a new top-up at {{platform.url}}.
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p>Your top-up of <strong>{{amount}}</strong> (order {{order_id}}) was not completed: {{reason}}. No money was taken from you for it, and your credit is unchanged.</p>
<p>You can <a href="{{platform.url}}">start a new top-up</a>.</p>
{{/content}}{{/layout}})"},

    {"subscription_created", "{{service}} is being set up",
     R"(Hello {{name}},

Your subscription to {{service}} ({{plan}}, {{price}} per {{period}}) is created, and the app is being
set up. We will write again when it is ready.
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p>Your subscription to <strong>{{service}}</strong> ({{plan}}, {{price}} per {{period}}) is created, and the app is being set up. We will write again when it is ready.</p>
{{/content}}{{/layout}})"},

    {"service_ready", "{{service}} is ready",
     R"(Hello {{name}},

{{service}} is running at {{url}}

{{sign_in}}
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p><strong>{{service}}</strong> is running at <a href="{{url}}">{{url}}</a>.</p>
<p>{{sign_in}}</p>
{{/content}}{{/layout}})"},

    {"subscription_failed", "{{service}} could not be set up",
     R"(Hello {{name}},

{{service}} ({{plan}}) could not be set up: {{reason}}.
Nothing was charged: the credit held for it is yours again.
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p><strong>{{service}}</strong> ({{plan}}) could not be set up: {{reason}}.</p>
<p>Nothing was charged: the credit held for it is yours again.</p>
{{/content}}{{/layout}})"},

    {"renewal_reminder", "{{service}} renews in {{days}} days: top up your credit",
     R"(Hello {{name}},

{{service}} renews on {{renews_at}} for {{price}}, and your credit is {{balance}}.
Top up before then, or the app is suspended.

Top up: {{platform.url}}
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p><strong>{{service}}</strong> renews on {{renews_at}} for <strong>{{price}}</strong>, and your credit is {{balance}}. Top up before then, or the app is suspended.</p>
<p><a href="{{platform.url}}">Top up</a></p>
{{/content}}{{/layout}})"},

    {"suspended", "{{service}} is suspended",
     R"(Hello {{name}},

{{service}} is suspended: {{reason}}. Its data is kept.
{{#amount_due}}
Top up {{amount_due}} to resume it: {{platform.url}}
{{/amount_due}}
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p><strong>{{service}}</strong> is suspended: {{reason}}. Its data is kept.</p>
{{#amount_due}}<p>Top up <strong>{{amount_due}}</strong> to <a href="{{platform.url}}">resume it</a>.</p>{{/amount_due}}
{{/content}}{{/layout}})"},

    {"resumed", "{{service}} is running again",
     R"(Hello {{name}},

{{service}} is running again{{#url}} at {{url}}{{/url}}.
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p><strong>{{service}}</strong> is running again{{#url}} at <a href="{{url}}">{{url}}</a>{{/url}}.</p>
{{/content}}{{/layout}})"},

    {"terminated", "{{service}} is terminated",
     R"(Hello {{name}},

{{service}} is terminated: {{reason}}. Its resources are removed.
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p><strong>{{service}}</strong> is terminated: {{reason}}. Its resources are removed.</p>
{{/content}}{{/layout}})"},

    {"crash_loop", "{{service}} keeps failing",
     R"(Hello {{name}},

{{service}} keeps failing: it restarted {{restarts}} times since {{since}}.
Its logs are in your dashboard: {{platform.url}}
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p><strong>{{service}}</strong> keeps failing: it restarted {{restarts}} times since {{since}}.</p>
<p>Its logs are in <a href="{{platform.url}}">your dashboard</a>.</p>
{{/content}}{{/layout}})"},

    {"pod_failed", "{{service}} stopped with a failure",
     R"(Hello {{name}},

{{service}} stopped with a failure: {{pod}} ended as {{reason}} at {{since}}.
Its logs are in your dashboard: {{platform.url}}
)",
     R"({{<layout}}{{$content}}<p>Hello {{name}},</p>
<p><strong>{{service}}</strong> stopped with a failure: {{pod}} ended as {{reason}} at {{since}}.</p>
<p>Its logs are in <a href="{{platform.url}}">your dashboard</a>.</p>
{{/content}}{{/layout}})"},
};

} // namespace paaskit::notify::detail
