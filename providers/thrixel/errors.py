"""Thrixel's failures in the shared taxonomy: HTTP refusals (``map_error``) and the error codes
of failed submissions (``FAILURE_CODES``, ``failure_status``), each with what the user can do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from .. import errors
from ..base import Phase, RemoteStatus
from ..http import body_excerpt, parse_retry_after
from .operations import SERVICE

KEY_HELP = "thrixel.com/create/#settings/api-keys"
TOP_UP = "thrixel.com (Settings > Billing)"

#: Service ``error_code`` of a failed job → (taxonomy class, what the user can do).
FAILURE_CODES: dict[str, tuple[type[errors.ServiceError], str]] = {
    "CONTENT_BLOCKED": (errors.ContentRejectedError,
                        "Thrixel's content filter refused the prompt or picture; change it and "
                        "generate again"),
    "INVALID_IMAGE": (errors.InvalidRequestError,
                      "Thrixel could not read the reference picture; use a PNG or JPEG"),
    "MULTI_VIEW_IMAGE": (errors.InvalidRequestError,
                         "the picture shows several views at once; give one view per picture "
                         "(several views go in Images)"),
    "LLM_RATE_LIMITED": (errors.TransientServiceError,
                         "Thrixel's language model was rate limited; generate again in a few "
                         "minutes"),
    "LLM_OVERLOADED": (errors.TransientServiceError,
                       "Thrixel's language model was overloaded; generate again in a few minutes"),
    "LLM_CONNECTION_ERROR": (errors.TransientServiceError,
                             "Thrixel could not reach its language model; generate again later"),
    "LLM_SERVER_ERROR": (errors.TransientServiceError,
                         "Thrixel's language model failed; generate again later"),
    "TASK_LOST": (errors.TransientServiceError,
                  "Thrixel lost the job on its workers; generate again"),
    "NEVER_DISPATCHED": (errors.TransientServiceError,
                         "Thrixel never started the job; generate again"),
    "rig_unsupported": (errors.InvalidRequestError, "Thrixel cannot rig this model"),
    "rig_failed": (errors.TransientServiceError, "Thrixel's rigging failed; try again"),
}


def _detail(response: requests.Response) -> tuple[str, str | None, Any]:
    """(readable detail, field it names, the structured guard's code) of an error body."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return body_excerpt(response, 200), None, None
    if isinstance(detail, list):  # Pydantic: [{loc: ["body", field], msg}]
        items = [d for d in detail if isinstance(d, dict)]
        fields = [".".join(map(str, d.get("loc", [])[1:])) for d in items]
        text = "; ".join(f"{f}: {d.get('msg')}" if f else str(d.get("msg")) for f, d in
                         zip(fields, items, strict=True))
        return text, next((f for f in fields if f), None), None
    if isinstance(detail, dict):  # a structured guard {code, verdict, message}
        return str(detail.get("message") or detail), None, detail.get("code") or detail.get(
            "verdict")
    return str(detail or body_excerpt(response, 200)), None, None


#: Extra words for refusals of fields where the docs and the live service disagree.
_FIELD_HINTS = {
    "texture_size": "the docs list 512, 768, 1024 or 2048 while the live service takes 2048 or "
                    "4096; try the other set, or leave it empty",
    "decimation_target": "the docs allow 10,000-500,000, the live service may stop at 250,000",
}


def map_error(response: requests.Response) -> errors.ServiceError | None:
    """Every documented Thrixel HTTP failure in the shared taxonomy, with what to do."""
    status = response.status_code
    detail, field_name, guard = _detail(response)
    detail = errors.said(detail)
    kwargs: dict[str, Any] = {"service": SERVICE, "status": status,
                              "retry_after": parse_retry_after(response.headers.get("Retry-After"))}
    if guard is not None:
        kwargs["service_code"] = guard
    lowered = detail.lower()
    if status == 402:
        if response.headers.get("X-Thrixel-Reason", "").lower() == "monthly_runs":
            return errors.InsufficientCreditsError(
                "the free plan's monthly runs for this operation are used up; wait for next "
                f"month or upgrade at {TOP_UP}", service_code="monthly_runs",
                **{k: v for k, v in kwargs.items() if k != "service_code"})
        return errors.InsufficientCreditsError(
            f"not enough Cubes ({detail}); top up at {TOP_UP}", **kwargs)
    if guard is not None and any(w in str(guard).lower() for w in ("content", "block", "policy",
                                                                    "moderat", "unsafe")):
        return errors.ContentRejectedError(
            f"refused by Thrixel's content rules: {detail}; change the prompt or picture",
            **kwargs)
    if status == 401 or (status == 403 and any(w in lowered for w in ("invalid", "revoked",
                                                                      "api key"))):
        return errors.AuthenticationError(
            f"the API key was refused ({detail}); paste a valid key in Preferences > Add-ons > "
            f"Conjure (keys: {KEY_HELP})", **kwargs)
    if status == 403:
        return errors.AuthenticationError(
            f"your Thrixel plan does not allow this ({detail}); check your plan at {TOP_UP}",
            **kwargs)
    if status == 404:
        return errors.NotFoundError(
            f"Thrixel does not know this submission or file ({detail}); it may have been "
            "deleted or made with another key", **kwargs)
    if status == 409:
        # A conflict the service expects to pass; nothing was created, so trying again is safe.
        kwargs["retry_after"] = kwargs["retry_after"] or 5.0
        return errors.RateLimitedError(f"Thrixel is busy with this model ({detail}); trying "
                                       "again shortly", **kwargs)
    if status == 429:
        return errors.RateLimitedError(
            f"too many jobs or requests at once ({detail}); Conjure sends it when one finishes",
            **kwargs)
    if status == 413:
        return errors.InvalidRequestError(
            f"too large for Thrixel ({detail}): a GLB may be at most 100 MB, an inline picture "
            "12 MiB", **kwargs)
    if status in (400, 422):
        hint = _FIELD_HINTS.get(field_name or "")
        return errors.InvalidRequestError(
            f"Thrixel refused the request: {detail}" + (f" ({hint})" if hint else ""),
            field=field_name, **kwargs)
    if status >= 500:
        return errors.TransientServiceError(
            f"Thrixel had a server error (HTTP {status}); it usually passes, try again shortly",
            **kwargs)
    return None


def failure_status(data: Mapping[str, Any]) -> RemoteStatus:
    """A failed submission: cancelled by the user, or the service's code and what to do."""
    code = str(data.get("error_code") or "")
    said = errors.said(data.get("error_message") or "")
    if code == "CANCELLED_BY_USER":
        return RemoteStatus(Phase.CANCELLED, error_code=code, message="Cancelled at Thrixel")
    cls, advice = FAILURE_CODES.get(code, (errors.ServiceError, "Thrixel reported a failure"))
    detail = ", ".join(x for x in (code, said) if x)
    return RemoteStatus(Phase.FAILED, error_code=cls.code if code in FAILURE_CODES else
                        "service_failed", message=advice + (f" ({detail})" if detail else ""))
