"""What every emulated service shares: the sandbox it runs in (as an interface), routing, the
default error shapes, and the preamble of its handlers (authenticate, read the JSON body).

The service modules depend on this module and never on ``server.py``; the server is the only
module that knows them all, so imports inside the sandbox point one way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol, TypeVar

from .http import Request, Response, Router, json_response
from .models import ModelLibrary
from .results import ResultFiles
from .state import Account, SandboxState
from .validate import Checker


class Host(Protocol):
    """The running sandbox as a service sees it (``server.Sandbox`` is the one there is)."""

    url: str
    state: SandboxState
    models: ModelLibrary
    cdn: ResultFiles
    # Pixazo options from the command line.
    pixazo_allow_data_uri: bool
    webhooks_allow_http: bool


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

    # The preamble of a handler, each service answering in its own words.
    def authenticate(self, req: Request) -> Account | Response:
        """The caller's account, or the service's refusal of the credential."""
        raise NotImplementedError(f"{self.name} has no authenticated routes")

    def read_form(self, req: Request) -> Checker | Response:
        """The JSON body ready for field checks, or the service's refusal of an unreadable body."""
        try:
            return Checker(req.json())
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
            return self.unreadable_body(req)

    def unreadable_body(self, req: Request) -> Response:
        raise NotImplementedError(f"{self.name} reads no JSON bodies")

    def invalid(self, req: Request, checker: Checker) -> Response:
        """The answer to a body whose fields failed their checks."""
        raise NotImplementedError(f"{self.name} checks no fields")

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


S = TypeVar("S", bound=Service)


def authenticated(
    handler: Callable[[S, Request, Account], Response],
) -> Callable[[S, Request], Response]:
    """A route handler that runs only for a known caller, and is given the caller's account."""

    @functools.wraps(handler)
    def route(service: S, req: Request) -> Response:
        account = service.authenticate(req)
        if isinstance(account, Response):
            return account
        return handler(service, req, account)

    return route


def with_form(
    handler: Callable[[S, Request, Account, Checker], Response],
) -> Callable[[S, Request], Response]:
    """A route handler for a known caller with a readable JSON body, given both."""

    @functools.wraps(handler)
    def route(service: S, req: Request, account: Account) -> Response:
        checker = service.read_form(req)
        if isinstance(checker, Response):
            return checker
        return handler(service, req, account, checker)

    return authenticated(route)
