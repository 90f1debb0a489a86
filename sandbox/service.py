"""Base class of the emulated services: routing and the default error shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .http import Request, Response, Router, json_response
from .state import Account

if TYPE_CHECKING:
    from .server import Sandbox


class Service:
    """Base of the four emulated services; subclasses fill ``router`` and the error shapes."""

    name = ""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.state = sandbox.state
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
