#!/usr/bin/python3
"""A real SMTP server for paaskit's tests (Debian's python3-aiosmtpd): stores each accepted
message as DIR/<n>.eml and prints a JSON line per event on stdout.

  smtp_sink.py --dir DIR [--port P] [--cert C --key K [--require-starttls]] [--auth USER:PASS]

It prints {"port": N} once listening (port 0 picks a free one). What it answers depends on the
recipient, so every test case is deterministic without a control channel:
  reject...@    550 5.1.1 at RCPT (permanent)
  later...@     451 4.3.0 at DATA the first time a Message-ID is seen, then accepted
anything else   250 2.0.0 queued as <n>
"""
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


a_implicit_tls = False


def say(event):
    print(json.dumps(event), flush=True)


class Handler:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.deferred = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("reject"):
            say({"rejected": address})
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        message_id = ""
        for line in content.split(b"\r\n"):
            if not line:
                break
            if line.lower().startswith(b"message-id:"):
                message_id = line.split(b":", 1)[1].strip().decode("ascii", "replace")
        if any(r.lower().startswith("later") for r in envelope.rcpt_tos) and message_id not in self.deferred:
            self.deferred.add(message_id)
            say({"deferred": message_id})
            return "451 4.3.0 try again later"
        self.count += 1
        n = self.count
        path = os.path.join(self.directory, "%06d.eml" % n)
        with open(path + ".tmp", "wb") as f:
            f.write(content)
        os.rename(path + ".tmp", path)
        say({"accepted": n, "message_id": message_id, "from": envelope.mail_from, "to": envelope.rcpt_tos,
             "tls": session.ssl is not None or a_implicit_tls, "authenticated": bool(session.authenticated), "path": path})
        return "250 2.0.0 OK queued as %d" % n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (smtps), with --cert")
    p.add_argument("--auth")
    a = p.parse_args()
    global a_implicit_tls
    a_implicit_tls = a.implicit_tls

    tls = None
    if a.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(a.cert, a.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and a.auth == "%s:%s" % (
            auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=ok, handled=False)

    handler = Handler(a.dir)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    kwargs = dict(tls_context=None if a.implicit_tls else tls, require_starttls=a.require_starttls, hostname="sink.test", loop=loop,
                  enable_SMTPUTF8=True)
    if a.auth:
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=tls is not None and not a.implicit_tls)
    server = loop.run_until_complete(loop.create_server(lambda: SMTP(handler, **kwargs), host="127.0.0.1", port=a.port,
                                                      ssl=tls if a.implicit_tls else None))
    say({"port": server.sockets[0].getsockname()[1]})
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
