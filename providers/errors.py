"""The error taxonomy every service client maps into.

Each class says what the user can do about the failure; ``code`` is a stable short name stored in
the journal, ``retry_after`` (seconds) is set when the service said when to come back. Messages
are redacted on construction (and kept to ``MESSAGE_LIMIT`` characters), so an exception can be
shown, logged or stored as it is. What a service said goes into a message through ``said``.
"""

from __future__ import annotations

from .redaction import excerpt

#: How much of what a service said (an error body, a message field) goes into one message.
SAID_LIMIT = 300
#: The longest message an error carries; what a service said is cut well before this.
MESSAGE_LIMIT = 2000


def said(text: object, limit: int = SAID_LIMIT) -> str:
    """What a service said, fit for a message: redacted first, then cut to ``limit``."""
    return excerpt(text, limit)


class ServiceError(Exception):
    """A request to a generation service failed."""

    code = "service_error"
    #: True when the same request may succeed later without the user changing anything.
    transient = False

    def __init__(
        self,
        message: str,
        *,
        service: str = "",
        status: int | None = None,
        service_code: str | int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = excerpt(message, MESSAGE_LIMIT)
        self.service = service
        self.status = status
        self.service_code = service_code
        self.retry_after = retry_after
        super().__init__(self.message)

    def __str__(self) -> str:
        prefix = f"{self.service}: " if self.service else ""
        return prefix + self.message


class AuthenticationError(ServiceError):
    """The key or token is missing, wrong, expired or lacks permission."""

    code = "authentication"


class InsufficientCreditsError(ServiceError):
    """The account cannot pay for this request."""

    code = "insufficient_credits"


class RateLimitedError(ServiceError):
    """Too many requests; ``retry_after`` says when to try again where the service told us."""

    code = "rate_limited"
    transient = True


class InvalidRequestError(ServiceError):
    """A parameter was refused; ``field`` names it where known."""

    code = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None, **kwargs) -> None:
        self.field = field
        super().__init__(message, **kwargs)


class ContentRejectedError(ServiceError):
    """The service refused the prompt or image by its content policy."""

    code = "content_rejected"


class NotFoundError(ServiceError):
    """The job or file does not exist (or belongs to another account)."""

    code = "not_found"


class TransientServiceError(ServiceError):
    """The service or the network failed in a way that may pass: 5xx, timeouts, resets."""

    code = "transient"
    transient = True


class ConnectionFailedError(TransientServiceError):
    """No connection could be made, so the request was certainly never sent."""

    code = "connection_failed"


class UnexpectedResponseError(ServiceError):
    """The service answered with something this version of Conjure does not understand."""

    code = "unexpected_response"


class OfflineError(ServiceError):
    """Blender's online access is off, so nothing was sent."""

    code = "offline"


class ResultExpiredError(ServiceError):
    """A signed result URL has expired; asking the service for the job again gives fresh ones."""

    code = "result_expired"
    transient = True


class DownloadLimitError(ServiceError):
    """A result file is larger, or its download slower, than the user's download limits allow.
    Downloading it again meets the same limit until the limit is raised."""

    code = "download_limit"


class ResultNotReadyError(ServiceError):
    """The service is still preparing the result file; try again after ``retry_after``."""

    code = "result_not_ready"
    transient = True
