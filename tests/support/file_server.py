"""A loopback file server whose bodies misbehave on purpose, for the download guards.

Routes (``size`` and ``every`` are query parameters):

- ``/file/<name>?size=N``: a whole file of N bytes that starts with the magic of ``<name>``'s
  extension, with its ``Content-Length``;
- ``/announce/<name>?size=N``: announces N bytes, sends the magic, then waits until the server
  stops (a client that reads on would hang);
- ``/endless/<name>``: no length, blocks of bytes for as long as the client reads;
- ``/trickle/<name>?every=S``: the magic, then 100 bytes every S seconds, forever;
- ``/silent/<name>``: the magic, then nothing until the server stops;
- ``/error``: a 500 answer whose body never ends.

``sent`` counts the body bytes each route wrote, so a test can tell how far a client read.
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BLOCK = 64 * 1024
MAGIC = {"glb": b"glTF", "png": b"\x89PNG\r\n\x1a\n"}


class FileServer:
    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: a body without a length ends when the connection closes.
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                try:
                    server.answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading, as it should

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        route, _, name = parts.path.strip("/").partition("/")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        magic = MAGIC.get(name.rpartition(".")[2], b"glTF")
        size = int(query.get("size", "0"))
        handler.send_response(500 if route == "error" else 200)
        handler.send_header("Content-Type", "application/octet-stream")
        if route in ("file", "announce"):
            handler.send_header("Content-Length", str(size))
        handler.end_headers()
        if route == "file":
            block, written = (magic + bytes(BLOCK))[:BLOCK], 0
            while written < size:
                self._write(handler, route, block[: size - written])
                written += len(block[: size - written])
                block = bytes(BLOCK)
            return
        if route not in ("endless", "error"):
            self._write(handler, route, magic)
        if route in ("endless", "error"):
            block = (magic + bytes(BLOCK))[:BLOCK]
            while not self.stopping.is_set():
                self._write(handler, route, block)
        elif route == "trickle":
            every = float(query.get("every", "0.05"))
            while not self.stopping.wait(every):
                self._write(handler, route, bytes(100))
        else:  # announce, silent
            self.stopping.wait()

    def _write(self, handler: BaseHTTPRequestHandler, route: str, data: bytes) -> None:
        handler.wfile.write(data)
        handler.wfile.flush()
        self.sent[route] += len(data)
