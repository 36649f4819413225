#!/usr/bin/env python3
"""A real SMTP server for the tests (Debian's python3-aiosmtpd).

    python3 tests/smtp/sink.py DIR

Listens on a free port of 127.0.0.1, prints "listening PORT" once ready,
and writes every message it receives to DIR as 0001.eml, 0002.eml, ...
(written under another name first, then renamed, so a reader never sees
half a message). Stops when its standard input closes (the test dropped
it) or on SIGTERM.
"""
import os
import signal
import socket
import sys

from aiosmtpd.controller import Controller


class SaveToDir:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.folder, "%04d.eml" % self.count)
        with open(path + ".part", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".part", path)
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    port = free_port()
    controller = Controller(SaveToDir(folder), hostname="127.0.0.1", port=port)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening %d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
