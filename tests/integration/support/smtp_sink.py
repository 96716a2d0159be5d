"""An SMTP server for the tests: it takes every message and writes it, parsed, as one JSON
file per message (000001.json, ...) in --dir, so a test can read what was sent: envelope,
headers, and the plain-text and HTML parts.

With --refuse N it answers the first N messages "451 try again later", as a mail server that
cannot take mail for a while does; with --drop N it hangs up in the middle of the first N
(after their data, before answering), as a server that goes away does. It prints "ready"
once it listens on --port.

It runs on aiosmtpd (PyPI), which the tests install into target/ on first use.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
import sys

from aiosmtpd.controller import Controller


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
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Sink(args.dir, args.refuse, args.drop), hostname="127.0.0.1", port=args.port)
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
