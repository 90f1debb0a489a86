"""The HTTP server: one origin, one prefix per service, fault injection around every handler.

The only module that imports the services; they see the sandbox through ``service.Host``."""

from __future__ import annotations

import ipaddress
import socket
import struct
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .cdn import CdnService
from .faults import (
    DOWNLOAD_FAULTS,
    FAULT_HEADER,
    FAULT_QUERY,
    FaultSet,
    FaultSpecError,
    parse_faults,
)
from .http import JSON_TYPE, Request, Response, json_response
from .models import ModelLibrary
from .pixazo import PixazoService
from .results import ResultFiles
from .service import Host, Service
from .state import DEFAULT_KEYS, SERVICES, Account, SandboxState
from .thrixel import ThrixelService
from .tripo import TripoService
from .voxelai import VoxelAiService


class ControlService(Service):
    """``/_sandbox``: health and key set-up for callers that run the sandbox as a subprocess."""

    name = "_sandbox"

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.router.add("GET", "/health", self._health)
        self.router.add("POST", "/keys", self._add_key)
        self.router.add("GET", "/keys/{service}/{key}", self._show_key)

    def credential(self, req: Request) -> str | None:
        return None

    def _health(self, req: Request) -> Response:
        return json_response(200, {"ok": True, "speed": self.state.speed.name})

    def _add_key(self, req: Request) -> Response:
        try:
            body = req.json()
            account = self.state.add_key(
                str(body["service"]),
                str(body["key"]),
                faults=body.get("faults"),
                balance=body.get("balance"),
                forbidden=bool(body.get("forbidden", False)),
                monthly_runs_left=body.get("monthly_runs_left"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            return json_response(400, {"error": str(exc)})
        return json_response(201, _account_view(account))

    def _show_key(self, req: Request) -> Response:
        account = self.state.account(req.params["service"], req.params["key"])
        if account is None:
            return json_response(404, {"error": "no such key"})
        return json_response(200, _account_view(account))


def _account_view(account: Account) -> dict[str, Any]:
    return {
        "service": account.service,
        "key": account.key,
        "balance": account.balance,
        "frozen": account.frozen,
        "faults": account.faults.text,
        "forbidden": account.forbidden,
    }


@dataclass(frozen=True)
class Logged:
    """One request the sandbox answered, for benchmarks that count requests per job."""

    at: float  # time.monotonic() when the answer was ready
    service: str  # the path's first segment: a service, "cdn" or "_sandbox"
    method: str
    path: str  # below the service prefix
    query: str
    status: int


class RequestLog:
    """The most recent requests, oldest first (bounded, so a long demo does not grow it)."""

    def __init__(self, size: int = 100_000) -> None:
        self._entries: deque[Logged] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, entry: Logged) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[Logged]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: Sandbox


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sandbox.verbose:
            sys.stderr.write("sandbox: " + (format % args) + "\n")

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        url = urlsplit(self.path)
        prefix, _, rest = url.path.lstrip("/").partition("/")
        service = sandbox.services.get(prefix)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        req = Request(
            self.command,
            "/" + rest,
            url.query,
            dict(self.headers.items()),
            self.rfile.read,
            length,
            sandbox.url,
        )
        sandbox.requests_seen.append(f"{self.command} {url.path}")
        if service is None:
            response = json_response(404, {"detail": "Not Found"})
        else:
            response = self._respond(sandbox, service, req)
        # Keep-alive needs the body gone from the socket before the next request.
        if not req.body_consumed:
            req.discard_body()
        sandbox.log.add(
            Logged(time.monotonic(), prefix, req.method, req.path, url.query, response.status)
        )
        self._write(response, req.faults)

    def _respond(self, sandbox: Sandbox, service: Service, req: Request) -> Response:
        try:
            faults = parse_faults(req.header(FAULT_HEADER)).merged(
                parse_faults(req.query.get(FAULT_QUERY))
            )
        except FaultSpecError as exc:
            return json_response(400, {"sandbox_error": str(exc)})
        account = service.account_for(req)
        key_faults = account.faults if account is not None else FaultSet()
        req.faults = key_faults.merged(faults)
        if "latency" in req.faults:
            time.sleep(req.faults.number("latency", 0) / 1000.0)
        if "rate_limit" in req.faults:
            return service.rate_limited(int(req.faults.number("rate_limit", 2)))
        if "5xx_burst" in req.faults:
            burst = int(req.faults.number("5xx_burst", 1))
            if "5xx_burst" in faults:
                # Per-request fault: the same request (method, path, spec) fails N times.
                scope = f"{service.name}|{faults.text}|{req.method}|{req.path}"
            else:
                scope = f"{service.name}|key|{account.key if account else ''}"
            if sandbox.state.count(scope) <= burst:
                return service.server_error(503)
        try:
            return service.handle(req)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return service.internal_error()

    def _write(self, response: Response, faults: FaultSet) -> None:
        body = response.body
        damage = FaultSet()
        if response.is_file:
            damage = response.file_faults.merged(faults.subset(DOWNLOAD_FAULTS))
            if "corrupt" in damage:
                body = corrupt_bytes(body)
        if "malformed_json" in faults and response.content_type == JSON_TYPE and body:
            body = body[: max(1, len(body) // 2)]
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.stream is not None:
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for chunk in response.stream:
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        self.send_header("Content-Length", str(len(body)))
        if "reset" in damage or "truncate" in damage:
            self.send_header("Connection", "close")
        self.end_headers()
        if "reset" in damage:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if "truncate" in damage:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


def corrupt_bytes(data: bytes) -> bytes:
    """Same length, wrong magic, and a damaged stretch in the middle."""
    if not data:
        return data
    damaged = bytearray(data)
    for i in range(min(4, len(damaged))):
        damaged[i] ^= 0x5A
    middle = len(damaged) // 2
    for i in range(middle, min(len(damaged), middle + 64)):
        damaged[i] ^= 0xFF
    return bytes(damaged)


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"the sandbox binds loopback addresses only, not {host!r}")


class Sandbox:
    """A running sandbox. Use ``start_sandbox()``; stop with ``stop()`` or a ``with`` block."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: str = "fast",
        seed: int = 0,
        models_dir: str | Path | None = None,
        keys: dict[str, list[str]] | None = None,
        verbose: bool = False,
        pixazo_allow_data_uri: bool = False,
        webhooks_allow_http: bool = False,
    ) -> None:
        _check_loopback(host)
        self.verbose = verbose
        self.log = RequestLog()
        self.state = SandboxState(speed, seed)
        self.models = ModelLibrary(models_dir, seed)
        #: "METHOD /path" of the latest requests, oldest first (tests: "nothing was sent").
        self.requests_seen: deque[str] = deque(maxlen=10_000)
        self.pixazo_allow_data_uri = pixazo_allow_data_uri
        self.webhooks_allow_http = webhooks_allow_http
        for service_name, service_keys in (keys or {}).items():
            for key in service_keys:
                self.state.add_key(service_name, key)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("_BoundServer", (_Server,), {"address_family": family})
        self._server = server_class((host, port), _Handler)
        self._server.sandbox = self
        bound_host, bound_port = self._server.server_address[:2]
        shown = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
        self.url = f"http://{shown}:{bound_port}"
        self.cdn = ResultFiles(self.url, self.state)
        self.services: dict[str, Service] = {
            "thrixel": ThrixelService(self),
            "tripo": TripoService(self),
            "pixazo": PixazoService(self),
            "voxelai": VoxelAiService(self),
            "cdn": CdnService(self),
            "_sandbox": ControlService(self),
        }
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def shutdown_from_signal(self) -> None:
        # shutdown() blocks until serve_forever returns, so it must not run on that thread.
        threading.Thread(target=self._server.shutdown, daemon=True).start()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- conveniences for tests and the demo -----------------------------------------------
    def service_url(self, service: str) -> str:
        """Base URL standing for the service's real origin, e.g. ``http://127.0.0.1:PORT/tripo``."""
        if service not in SERVICES:
            raise ValueError(f"service must be one of {', '.join(SERVICES)}")
        return f"{self.url}/{service}"

    def add_key(
        self,
        service: str,
        key: str,
        *,
        faults: str | None = None,
        balance: float | None = None,
        forbidden: bool = False,
        monthly_runs_left: int | None = None,
    ) -> Account:
        """Accept one more key; ``faults`` makes every request with it misbehave."""
        return self.state.add_key(
            service,
            key,
            faults=faults,
            balance=balance,
            forbidden=forbidden,
            monthly_runs_left=monthly_runs_left,
        )

    def set_faults(self, service: str, key: str, faults: str | None) -> None:
        self.state.set_faults(service, key, faults)

    def account(self, service: str, key: str) -> Account:
        account = self.state.account(service, key)
        if account is None:
            raise KeyError(f"no {service} key {key!r}")
        return account

    @property
    def default_keys(self) -> dict[str, str]:
        return dict(DEFAULT_KEYS)


def start_sandbox(**options: Any) -> Sandbox:
    """Start a sandbox on a background thread and return it; ``options`` are ``Sandbox``'s
    (host, port — 0 for a free one —, speed, seed, models_dir, keys, ...)."""
    return Sandbox(**options).start()
