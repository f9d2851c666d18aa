#pragma once
/// \file
/// paaskit::notify: e-mail (see docs/notify.md): messages serialised per RFC 5322 and MIME, SMTP
/// delivery through libcurl with the reply classified, and the platform's mail templates.

#include <paaskit/notify/error.hpp>
#include <paaskit/notify/mail_templates.hpp>
#include <paaskit/notify/message.hpp>
#include <paaskit/notify/mime.hpp>
#include <paaskit/notify/smtp.hpp>
