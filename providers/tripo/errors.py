"""Tripo3D's failures in the shared taxonomy: every documented code of its envelope
``{code, message, suggestion}`` (``CODES``), HTTP refusals and expired result links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from .. import errors
from ..http import body_excerpt, parse_retry_after
from .operations import SERVICE

TOP_UP = "https://platform.tripo3d.ai/billing"
KEYS_PAGE = "https://platform.tripo3d.ai/api-keys"


@dataclass(frozen=True)
class _Code:
    error: type[errors.ServiceError]
    text: str


#: Every documented code (seed and docs §2.7), with what the user can do about it.
CODES: dict[int, _Code] = {
    1000: _Code(errors.TransientServiceError, "Tripo3D had an unknown server error; try again "
                "in a minute"),
    1001: _Code(errors.TransientServiceError, "Tripo3D had a fatal server error; try again, "
                "and contact Tripo support if it keeps happening"),
    1002: _Code(errors.AuthenticationError, "Tripo3D refused the API key: paste a valid key "
                f"(starts with tsk_, from {KEYS_PAGE}) in Preferences; keys work only in their "
                "own region"),
    1003: _Code(errors.InvalidRequestError, "Tripo3D could not read the request (malformed "
                "body); please report this Conjure bug"),
    1004: _Code(errors.InvalidRequestError, "Tripo3D refused a parameter (or an uploaded "
                "image's token expired; generate again to upload it anew)"),
    1005: _Code(errors.AuthenticationError, "Tripo3D does not allow this key to do that; check "
                "the key's permissions on the Tripo platform"),
    1007: _Code(errors.RateLimitedError, "Tripo3D's per-minute limit of new tasks is reached; "
                "Conjure sends it again shortly"),
    2000: _Code(errors.RateLimitedError, "too many Tripo3D tasks at once for this account; "
                "Conjure sends it when one finishes"),
    2001: _Code(errors.NotFoundError, "Tripo3D has no such task for this key (it may belong "
                "to another key or region); check the source task id"),
    2002: _Code(errors.InvalidRequestError, "Tripo3D does not support this task type on this "
                "API version; try the other API version in Preferences"),
    2003: _Code(errors.InvalidRequestError, "the input file is empty (or was blocked by "
                "Tripo3D's firewall); pick the image again"),
    2004: _Code(errors.InvalidRequestError, "Tripo3D does not accept this file type; use PNG, "
                "JPEG or WebP"),
    2006: _Code(errors.InvalidRequestError, "the task to refine is not a draft (refine works "
                "once, on models made before model v2.0)"),
    2007: _Code(errors.InvalidRequestError, "the draft task did not succeed, so it cannot be "
                "refined; pick a successful one"),
    2008: _Code(errors.ContentRejectedError, "rejected by Tripo3D's content policy; change the "
                "prompt or image (contact Tripo if you believe it is valid)"),
    2010: _Code(errors.InsufficientCreditsError, "not enough Tripo3D credits — top up at "
                f"{TOP_UP}"),
    2013: _Code(errors.AuthenticationError, "your Tripo3D plan does not allow this priority "
                "tier; upgrade the plan or use the default priority"),
    2014: _Code(errors.TransientServiceError, "Tripo3D's moderation service failed; try again "
                "later"),
    2015: _Code(errors.InvalidRequestError, "this model version is deprecated; choose a newer "
                "model_version"),
    2016: _Code(errors.InvalidRequestError, "animate_model is retired; use Rig then Animate"),
    2017: _Code(errors.InvalidRequestError, "Tripo3D does not know this model_version; choose "
                "one from the list"),
    2018: _Code(errors.InvalidRequestError, "the model is too complex to remesh (or the task "
                "timed out in Tripo3D's queue); try another model or fewer options"),
    2019: _Code(errors.NotFoundError, "Tripo3D cannot find the referenced file; generate again "
                "so the image is uploaded anew"),
    2021: _Code(errors.InvalidRequestError, "the file is too large for Tripo3D; use a smaller "
                "one (images at most 20 MB)"),
    2022: _Code(errors.InvalidRequestError, "the model is too large for Tripo3D"),
}


def _trace(response: requests.Response) -> str:
    trace = response.headers.get("X-Tripo-Trace-ID") or response.headers.get("X-Request-ID")
    return f" [trace {trace}]" if trace else ""


def _envelope(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_for(code: int | None, status: int | None, service_message: str = "",
              suggestion: str = "", trace: str = "", retry_after: float | None = None
              ) -> errors.ServiceError | None:
    """The taxonomy error for a Tripo code, or None when the code is not a documented one."""
    known = CODES.get(code) if code is not None else None
    if known is None:
        return None
    said = errors.said("; ".join(s for s in (service_message, suggestion) if s))
    message = f"{known.text} (code {code}" + (f": {said}" if said else "") + f"){trace}"
    kwargs: dict[str, Any] = {"service": SERVICE, "status": status, "service_code": code,
                              "retry_after": retry_after}
    return known.error(message, **kwargs)


def map_error(response: requests.Response) -> errors.ServiceError | None:
    """Tripo's envelope ``{code, message, suggestion}`` into the taxonomy."""
    body = _envelope(response)
    status = response.status_code
    code = body.get("code") if isinstance(body.get("code"), int) else None
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    trace = _trace(response)
    message = errors.said(body.get("message") or "")
    suggestion = str(body.get("suggestion") or "")
    if status == 401:  # v3 sends body code 2 for authentication; the status is what counts
        code = 1002
    mapped = error_for(code, status, message, suggestion, trace, retry_after)
    if mapped is not None:
        return mapped
    if status in (405, 415):
        return errors.InvalidRequestError(
            f"Tripo3D refused the request format (HTTP {status}: {message}); please report "
            f"this Conjure bug{trace}", service=SERVICE, status=status, service_code=code)
    return None


def map_download_error(response: requests.Response) -> errors.ServiceError | None:
    """Signed result URLs answer 401/403 (S3: ``AccessDenied``/``Request has expired``) once
    they expire; re-reading the task signs fresh ones."""
    if response.status_code in (401, 403, 410):
        return errors.ResultExpiredError(
            f"the result link expired (HTTP {response.status_code}); asking Tripo3D for a "
            "fresh one", service=SERVICE, status=response.status_code)
    return None


def data_of(response: requests.Response) -> dict[str, Any]:
    """The ``data`` of an answer; a code other than 0 in a 200 answer raises its error."""
    body = _envelope(response)
    code = body.get("code")
    if code not in (0, None):  # an error in a 200 answer
        mapped = error_for(code if isinstance(code, int) else None, response.status_code,
                           str(body.get("message") or ""), str(body.get("suggestion") or ""),
                           _trace(response))
        raise mapped or errors.UnexpectedResponseError(
            f"Tripo3D answered code {code}: {body_excerpt(response)}", service=SERVICE,
            status=response.status_code)
    data = body.get("data")
    if not isinstance(data, dict):
        raise errors.UnexpectedResponseError(
            f"Tripo3D answered without data: {body_excerpt(response)}", service=SERVICE)
    return data
