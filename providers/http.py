"""The one HTTP layer every service client goes through.

It owns: a ``requests`` session per service with connect/read timeouts, proxy, CA bundle and TLS
verification; the retry policy; the online-access guard; mapping of HTTP failures into the error
taxonomy; and registering credentials with the redactor before they are sent.

Retry policy. Reads (and requests a client marks idempotent) are retried on 429 (honouring
``Retry-After``), 5xx and connection errors with capped exponential back-off. A request that
creates a paid job is retried only when the connection failed before any byte was sent: after
that, the service may already have created and charged the job.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests
import urllib3
from urllib3.exceptions import NameResolutionError, NewConnectionError

from . import errors
from .redaction import log, redact, register_secret

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

#: Set while Conjure stops its workers: a back-off wait in progress ends at once, so disabling
#: the extension or quitting Blender never waits out a retry delay.
stopping = threading.Event()
#: Per worker thread: ``interrupt`` is the event that ends this thread's waits early (the
#: engine sets it to the job's cancel flag, so a cancel does not wait out a back-off either);
#: ``paid_attempts`` (a ``PaidAttempts``) hears about each attempt of a request that creates a
#: paid job, so the engine can record which of them the service may have seen.
this_thread = threading.local()


class PaidAttempts(Protocol):
    """Told about the attempts of one request that creates a paid job."""

    def unsent(self, error: errors.ConnectionFailedError) -> None:
        """An attempt failed before its connection opened: the service saw nothing. Called
        before waiting to retry (and before giving up)."""

    def resending(self) -> None:
        """Called immediately before the request is sent again after ``unsent``; raising
        sends nothing."""


def wait_or_stop(seconds: float) -> None:
    """Sleep ``seconds`` unless Conjure is stopping or this thread's job was cancelled; then
    raise, having sent nothing more."""
    interrupt: threading.Event | None = getattr(this_thread, "interrupt", None)
    deadline = time.monotonic() + seconds
    while True:
        if stopping.is_set() or (interrupt is not None and interrupt.is_set()):
            raise errors.ConnectionFailedError("Conjure stopped waiting to retry; nothing more "
                                               "was sent")
        left = deadline - time.monotonic()
        if left <= 0:
            return
        stopping.wait(min(left, 0.1))


#: A function that maps a failed response to an error, or None to use the generic mapping.
ErrorMapper = Callable[[requests.Response], "errors.ServiceError | None"]


@dataclass(frozen=True)
class NetworkSettings:
    """What the user sets under Preferences > Network (all optional)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    proxy: str = ""
    ca_bundle: str = ""
    verify_tls: bool = True
    max_retries: int = 4
    backoff_base: float = 1.0
    backoff_cap: float = 30.0


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def bearer(token: str) -> Callable[[], dict[str, str]]:
    """``auth_headers`` for a service that takes its key as a bearer token (none when unset)."""
    return lambda: {"Authorization": f"Bearer {token}"} if token else {}


def body_excerpt(response: requests.Response, limit: int = errors.SAID_LIMIT) -> str:
    """A short, redacted piece of a response body for error messages."""
    try:
        text = response.text
    except Exception:  # an undecodable body is no reason to lose the error itself
        return ""
    return errors.said(" ".join(text.split()), limit)


def generic_error(response: requests.Response, service: str) -> errors.ServiceError:
    """The taxonomy class for an HTTP failure when the service's own codes say nothing more."""
    status = response.status_code
    detail = body_excerpt(response)
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    kwargs: dict[str, Any] = {"service": service, "status": status, "retry_after": retry_after}
    if status in (400, 409, 413, 422):
        return errors.InvalidRequestError(message, **kwargs)
    if status in (401, 403):
        return errors.AuthenticationError(message, **kwargs)
    if status == 402:
        return errors.InsufficientCreditsError(message, **kwargs)
    if status in (404, 410):
        return errors.NotFoundError(message, **kwargs)
    if status == 429:
        return errors.RateLimitedError(message, **kwargs)
    if status >= 500:
        return errors.TransientServiceError(message, **kwargs)
    return errors.UnexpectedResponseError(message, **kwargs)


def _failed_before_sending(exc: requests.RequestException) -> bool:
    """True when the connection never opened, so the service cannot have seen the request."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError | NameResolutionError)
    return False


class HttpClient:
    """HTTP for one service: settings, credentials, guard, retries and error mapping."""

    def __init__(
        self,
        service: str,
        settings: NetworkSettings | None = None,
        *,
        auth_headers: Callable[[], Mapping[str, str]] = dict,
        guard: Callable[[], None] = lambda: None,
        error_mapper: ErrorMapper | None = None,
        sleep: Callable[[float], None] = wait_or_stop,
    ) -> None:
        self.service = service
        self.settings = settings or NetworkSettings()
        self._auth_headers = auth_headers
        self._guard = guard
        self._error_mapper = error_mapper
        self._sleep = sleep
        self.session = requests.Session()
        self.configure(self.settings)

    def configure(self, settings: NetworkSettings) -> None:
        self.settings = settings
        session = self.session
        proxy = settings.proxy
        session.proxies = {"http": proxy, "https": proxy} if proxy else {}
        session.verify = settings.ca_bundle or settings.verify_tls
        session.headers["User-Agent"] = "Conjure-Blender"

    def close(self) -> None:
        self.session.close()

    def backoff(self, attempt: int) -> float:
        """Capped exponential back-off with jitter, so many clients do not retry in step."""
        s = self.settings
        delay = min(s.backoff_cap, s.backoff_base * 2**attempt)
        return delay * random.uniform(0.75, 1.25)

    def request(
        self,
        method: str,
        url: str,
        *,
        creates_job: bool = False,
        idempotent: bool | None = None,
        authenticated: bool = True,
        ok: tuple[int, ...] = (),
        stream: bool = False,
        timeout: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request under the retry policy and return a successful response.

        ``ok`` lists extra status codes the caller handles itself (e.g. 202 "still preparing");
        every other status of 400 or above raises a ``ServiceError``. ``creates_job`` marks a
        request that may charge money: never retried once it may have reached the service.
        ``idempotent`` overrides the method's default (e.g. a POST that only cancels).
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        may_retry = idempotent and not creates_job
        headers = self._headers(kwargs.pop("headers", None), authenticated)
        timeout = timeout or (self.settings.connect_timeout, self.settings.read_timeout)
        attempts: PaidAttempts | None = (getattr(this_thread, "paid_attempts", None)
                                         if creates_job else None)
        attempt = 0
        while True:
            self._guard()
            if attempts is not None and attempt:
                attempts.resending()
            try:
                response = self.session.request(
                    method, url, headers=headers, stream=stream, timeout=timeout, **kwargs
                )
            except requests.RequestException as exc:
                safe = _failed_before_sending(exc)
                error: errors.ServiceError = (
                    errors.ConnectionFailedError if safe else errors.TransientServiceError
                )(f"{type(exc).__name__} for {method} {_path(url)}: {exc}", service=self.service)
                if attempts is not None and isinstance(error, errors.ConnectionFailedError):
                    attempts.unsent(error)
                if (may_retry or safe) and self._wait_to_retry(error, attempt, None):
                    attempt += 1
                    continue
                raise error from None
            if response.status_code < 400 or response.status_code in ok:
                return response
            error = self.map_error(response)
            response.close()
            retryable = response.status_code == 429 or response.status_code >= 500
            if may_retry and retryable and self._wait_to_retry(error, attempt, error.retry_after):
                attempt += 1
                continue
            raise error

    def _headers(self, given: dict[str, str] | None, authenticated: bool) -> dict[str, str]:
        headers = dict(given or {})
        if authenticated:
            for name, value in self._auth_headers().items():
                register_secret(value.split(" ", 1)[-1])
                headers[name] = value
        return headers

    def _wait_to_retry(self, error: errors.ServiceError, attempt: int,
                       retry_after: float | None) -> bool:
        """Waits before attempt ``attempt + 1`` (the service's ``retry_after``, else the
        back-off); False, without waiting, when no attempt is left."""
        if attempt >= self.settings.max_retries:
            return False
        delay = self.backoff(attempt) if retry_after is None else retry_after
        log.info("%s; retrying in %.1f s", error, delay)
        self._sleep(delay)
        return True

    def stream(self, url: str, *, chunk_size: int = 1 << 20, authenticated: bool = False,
               not_ready: tuple[int, ...] = (), **kwargs: Any) -> Iterator[bytes]:
        """GET ``url`` and yield its body in chunks; a broken body raises a transient error.

        Result files are usually public or signed URLs, so no key is sent unless asked.
        A status in ``not_ready`` (e.g. 202 "still preparing") raises ``ResultNotReadyError``.
        """
        response = self.request("GET", url, stream=True, authenticated=authenticated,
                                ok=not_ready, **kwargs)
        if response.status_code in not_ready:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            detail = body_excerpt(response)
            response.close()
            raise errors.ResultNotReadyError(f"file not ready yet ({detail or 'preparing'})",
                                             service=self.service, retry_after=retry_after)
        try:
            yield from response.iter_content(chunk_size)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise errors.TransientServiceError(
                f"download of {_path(url)} broke off: {type(exc).__name__}", service=self.service
            ) from None
        finally:
            response.close()

    def map_error(self, response: requests.Response) -> errors.ServiceError:
        mapped = self._error_mapper(response) if self._error_mapper else None
        return mapped or generic_error(response, self.service)


def _path(url: str) -> str:
    """The URL without its query string, which may carry signatures."""
    return redact(url.split("?", 1)[0])
