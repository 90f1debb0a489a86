"""The one HTTP layer every service client goes through.

It owns: a ``requests`` session per service with connect/read timeouts, proxy, CA bundle and TLS
verification; the retry policy; the online-access guard; mapping of HTTP failures into the error
taxonomy; and registering credentials with the redactor before they are sent.

Retry policy. Reads (and requests a client marks idempotent) are retried on 429 (honouring
``Retry-After``), 5xx and connection errors with capped exponential back-off. A request that
creates a paid job is retried only when the connection failed before any byte was sent: after
that, the service may already have created and charged the job.

Downloads. A result file is read as a ``Body`` under two guards besides the read timeout (which
only bounds the wait for each piece): a stall (less than ``STALL_BYTES`` in the stall time, so a
trickle of a byte now and then is caught too) and a time limit for the whole download. How large
a file may be depends on its kind, which is known once its first bytes are in, so the size limits
are applied by the reader (``jobs.results``), against the announced ``size`` and the bytes.
A streamed answer that is not the file (an error page, a "still preparing" note) is read only up
to ``NOTE_BYTES``.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests
import urllib3
from urllib3.exceptions import NameResolutionError, NewConnectionError

from . import errors
from .redaction import log, redact, register_secret

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: A download that receives less than this within its stall time has stalled.
STALL_BYTES = 64 * 1024
#: The most of a streamed answer that is not the file that is read (it only goes into a message).
NOTE_BYTES = 64 * 1024
#: Where the download limits are set, as messages name it.
DOWNLOAD_SETTINGS = "Edit > Preferences > Add-ons > Conjure > Downloads"

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
    #: A result download that receives less than ``STALL_BYTES`` in this many seconds is given
    #: up (and tried again, as a connection that broke off is).
    download_stall_s: float = 60.0
    #: The longest a result download may take in all, however steadily it arrives.
    download_time_s: float = 3600.0


class Body:
    """A result file's bytes as they arrive, in chunks, read once.

    ``size`` is the length the sender announced (``Content-Length``; None when it did not say).
    It is only a claim: a reader that limits sizes counts the bytes too. ``close`` ends the
    download early; it may be called at any time, more than once.
    """

    def __init__(self, chunks: Iterable[bytes], *, size: int | None = None,
                 close: Callable[[], None] = lambda: None) -> None:
        self.size = size
        self._chunks = iter(chunks)
        self._close = close

    @classmethod
    def of(cls, data: bytes) -> Body:
        """A file that is already in memory (delivered inside an answer)."""
        return cls([data], size=len(data))

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        self._close()


class _Pace:
    """The guards of one download besides the read timeout: a stall (less than
    ``STALL_BYTES`` in the last ``download_stall_s``) and the time limit (``download_time_s``
    in all). ``arrived`` is told each piece; the reads themselves wait at most the stall time
    (``HttpClient.download_timeout``), so both are noticed within about one stall time."""

    def __init__(self, settings: NetworkSettings, what: str, service: str) -> None:
        self.settings = settings
        self.what = what
        self.service = service
        self.start = self.mark = time.monotonic()
        self.since_mark = 0

    def arrived(self, count: int) -> None:
        now = time.monotonic()
        s = self.settings
        if now - self.start > s.download_time_s:
            raise errors.DownloadLimitError(
                f"the download of {self.what} took longer than the time limit of "
                f"{_duration(s.download_time_s)}; raise Time Limit ({DOWNLOAD_SETTINGS}) to "
                "allow it more", service=self.service)
        self.since_mark += count
        if self.since_mark >= STALL_BYTES:
            self.mark, self.since_mark = now, 0
        elif now - self.mark > s.download_stall_s:
            raise errors.TransientServiceError(
                f"the download of {self.what} stalled: less than {STALL_BYTES // 1024} KB "
                f"arrived in {s.download_stall_s:.0f} s (Stall Timeout, {DOWNLOAD_SETTINGS})",
                service=self.service)

    def silent(self) -> errors.TransientServiceError:
        """The error for a read that timed out: nothing arrived for a whole read's wait."""
        s = self.settings
        setting = (f"Stall Timeout, {DOWNLOAD_SETTINGS}" if s.download_stall_s <= s.read_timeout
                   else "Read Timeout in Conjure's network preferences")
        wait = min(s.download_stall_s, s.read_timeout)
        return errors.TransientServiceError(
            f"the download of {self.what} stalled: nothing arrived for {wait:.0f} s ({setting})",
            service=self.service)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def announced_size(response: requests.Response) -> int | None:
    """The body's length as the answer announced it; None when it did not say plainly."""
    value = response.headers.get("Content-Length", "").strip()
    return int(value) if value.isdigit() else None


def _pieces(response: requests.Response, size: int) -> Iterator[bytes]:
    """A streamed body as it arrives, at most ``size`` bytes a piece. Each piece is what one
    read of the connection gave, so the download guards see a trickle while it trickles; a
    urllib3 without ``read1`` (before 2.0) gives whole pieces of ``size`` only."""
    read1 = getattr(response.raw, "read1", None)
    if read1 is None:
        yield from response.iter_content(size)
        return
    while piece := read1(size, decode_content=True):
        yield piece


def _timed_out(exc: Exception) -> bool:
    """True when ``exc`` (as urllib3 raised it, or requests around it) is a read that timed
    out."""
    if isinstance(exc, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError):
        return True
    return bool(exc.args) and isinstance(exc.args[0], urllib3.exceptions.ReadTimeoutError)


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
            if stream and response.status_code != 200:
                self.read_note(response, url)
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

    def download_timeout(self) -> tuple[float, float]:
        """The timeouts of a result download: no read waits longer than the stall time."""
        s = self.settings
        return s.connect_timeout, min(s.read_timeout, s.download_stall_s)

    def stream(self, url: str, *, chunk_size: int = 1 << 20, authenticated: bool = False,
               not_ready: tuple[int, ...] = (), **kwargs: Any) -> Body:
        """GET ``url`` and return its body (see ``body``) once the answer's headers are in.

        Result files are usually public or signed URLs, so no key is sent unless asked.
        A status in ``not_ready`` (e.g. 202 "still preparing") raises ``ResultNotReadyError``.
        """
        kwargs.setdefault("timeout", self.download_timeout())
        response = self.request("GET", url, stream=True, authenticated=authenticated,
                                ok=not_ready, **kwargs)
        if response.status_code in not_ready:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            detail = body_excerpt(response)
            response.close()
            raise errors.ResultNotReadyError(f"file not ready yet ({detail or 'preparing'})",
                                             service=self.service, retry_after=retry_after)
        return self.body(response, url, chunk_size)

    def body(self, response: requests.Response, url: str, chunk_size: int = 1 << 20) -> Body:
        """The body of a streamed answer (sent with ``download_timeout``) as a ``Body`` read
        under the download guards: ``TransientServiceError`` when it breaks off or stalls,
        ``DownloadLimitError`` past the time limit. The answer is closed when the body ends,
        fails or is closed."""
        pace = _Pace(self.settings, _path(url), self.service)
        return Body(self._guarded(response, pace, chunk_size), size=announced_size(response),
                    close=response.close)

    def _guarded(self, response: requests.Response, pace: _Pace,
                 chunk_size: int) -> Iterator[bytes]:
        try:
            for piece in _pieces(response, chunk_size):
                pace.arrived(len(piece))
                yield piece
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            if _timed_out(exc):
                raise pace.silent() from None
            raise errors.TransientServiceError(
                f"download of {pace.what} broke off: {type(exc).__name__}", service=self.service
            ) from None
        finally:
            response.close()

    def read_note(self, response: requests.Response, url: str) -> None:
        """Reads at most ``NOTE_BYTES`` of a streamed answer that is not the file (an error
        page, a "still preparing" note), under the download guards, and closes it: its text
        and JSON are then read from what was kept, and an endless one costs no more."""
        pace = _Pace(self.settings, _path(url), self.service)
        kept = bytearray()
        try:
            for piece in _pieces(response, NOTE_BYTES):
                pace.arrived(len(piece))
                kept += piece
                if len(kept) >= NOTE_BYTES:
                    break
        except (requests.RequestException, urllib3.exceptions.HTTPError,
                errors.ServiceError):
            pass  # the status says what matters; the note is only shown
        finally:
            response.close()
        # requests' own cache of the body, which ``text`` and ``json()`` read.
        response._content = bytes(kept[:NOTE_BYTES])

    def map_error(self, response: requests.Response) -> errors.ServiceError:
        mapped = self._error_mapper(response) if self._error_mapper else None
        return mapped or generic_error(response, self.service)


def _path(url: str) -> str:
    """The URL without its query string, which may carry signatures."""
    return redact(url.split("?", 1)[0])
