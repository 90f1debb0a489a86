"""What every emulated service shares: the sandbox it runs in (as an interface), routing
and the default error shapes.

The service modules depend on this module and never on ``server.py``; the server is the only
module that knows them all, so imports inside the sandbox point one way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .faults import NO_FAULTS, FaultSet
from .http import Request, Response, Router, json_response
from .models import ModelLibrary
from .state import Account, SandboxState


class ResultFiles(Protocol):
    """The CDN as the services use it: publish result files, hand out their URLs."""

    def publish(
        self,
        path: str,
        producer: Callable[[], bytes],
        content_type: str,
        faults: FaultSet = NO_FAULTS,
        signed: bool = False,
    ) -> None: ...

    def url(self, path: str, expires_in: float = 0.0, expired: bool = False) -> str: ...

    def accept_upload(self, path: str, receiver: Callable[[bytes], None]) -> str: ...


class Host(Protocol):
    """The running sandbox as a service sees it."""

    @property
    def url(self) -> str: ...

    @property
    def state(self) -> SandboxState: ...

    @property
    def models(self) -> ModelLibrary: ...

    @property
    def cdn(self) -> ResultFiles: ...

    @property
    def pixazo_allow_data_uri(self) -> bool: ...

    @property
    def webhooks_allow_http(self) -> bool: ...


class Service:
    """Base of the emulated services; subclasses fill ``router`` and the error shapes."""

    name = ""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.state = host.state
        self.router = Router()

    def credential(self, req: Request) -> str | None:
        return req.bearer()

    def account_for(self, req: Request) -> Account | None:
        return self.state.account(self.name, self.credential(req))

    def handle(self, req: Request) -> Response:
        handler, params, path_known = self.router.match(req.method, req.path)
        if handler is None:
            return self.method_not_allowed() if path_known else self.not_found()
        req.params = params
        return handler(req)

    # Error shapes every service answers in its own way.
    def not_found(self) -> Response:
        return json_response(404, {"detail": "Not Found"})

    def method_not_allowed(self) -> Response:
        return json_response(405, {"detail": "Method Not Allowed"})

    def rate_limited(self, retry_after: int) -> Response:
        return json_response(
            429, {"detail": "Too many requests"}, [("Retry-After", str(retry_after))]
        )

    def server_error(self, status: int) -> Response:
        return json_response(status, {"detail": "Service temporarily unavailable"})

    def internal_error(self) -> Response:
        return self.server_error(500)
