"""An SMTP server for the tests: it takes every message and writes it, parsed, as one JSON
file per message (000001.json, ...) in --dir, so a test can read what was sent: envelope,
headers, and the plain-text and HTML parts.

With --refuse N it answers the first N messages "451 try again later", as a mail server that
cannot take mail for a while does; with --drop N it hangs up in the middle of the first N
(after their data, before answering), as a server that goes away does. It prints "ready"
once it listens on --port.

With --cert and --key it speaks TLS with that certificate: --tls starttls lets no mail in before
STARTTLS, --tls implicit speaks TLS from the first byte (smtps). With --login USER:PASSWORD it
takes mail only from a client that logged in so (over TLS). Each message's record says whether
it came over TLS and who logged in.

It runs on aiosmtpd (PyPI), which the tests install into target/ on first use.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, out, refuse, drop):
        self.out = out
        self.refuse = refuse
        self.drop = drop
        # Started again on the same directory: go on after the messages already there.
        self.count = len([n for n in os.listdir(out) if n.endswith(".json")])

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        if self.drop > 0:
            self.drop -= 1
            server.transport.abort()
            return "421 4.3.0 Gone"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            kind = part.get_content_type()
            if kind in ("text/plain", "text/html") and kind not in parts:
                parts[kind] = part.get_content()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "content_type": message.get_content_type(),
            "headers": {key: str(value) for key, value in message.items()},
            "subject": str(message["subject"] or ""),
            "text": parts.get("text/plain"),
            "html": parts.get("text/html"),
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            "login": (getattr(session.auth_data, "login", None) or b"").decode() or None,
        }
        self.count += 1
        path = os.path.join(self.out, "%06d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(path + ".tmp", path)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--refuse", type=int, default=0)
    parser.add_argument("--drop", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--tls", choices=["starttls", "implicit"])
    parser.add_argument("--login")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    options = {}
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.tls == "implicit":
            options["ssl_context"] = context
        else:
            options["tls_context"] = context
            options["require_starttls"] = True
    if args.login:
        user, password = args.login.split(":", 1)

        def check(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, auth_data=auth_data)

        options["authenticator"] = check
        options["auth_required"] = True
        if args.tls == "implicit":
            # aiosmtpd counts only STARTTLS as TLS when it allows a login; this connection is
            # TLS from its first byte.
            options["auth_require_tls"] = False
    sink = Sink(args.dir, args.refuse, args.drop)
    controller = Controller(sink, hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
