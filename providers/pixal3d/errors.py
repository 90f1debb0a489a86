"""Pixazo's HTTP refusals in the shared taxonomy, each with what the user can do."""

from __future__ import annotations

from typing import Any

import requests

from .. import errors
from ..http import body_excerpt, parse_retry_after
from .operations import SERVICE

DASHBOARD = "https://api-console.pixazo.ai/dashboard"
KEYS_PAGE = "https://api-console.pixazo.ai/api_keys"


def _said(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", body_excerpt(response)
    if not isinstance(body, dict):
        return "", body_excerpt(response)
    message = body.get("message")
    return str(body.get("error") or ""), errors.said(message) if message else body_excerpt(response)


def map_error(response: requests.Response) -> errors.ServiceError | None:
    status = response.status_code
    title, message = _said(response)
    kwargs: dict[str, Any] = {"service": SERVICE, "status": status,
                              "retry_after": parse_retry_after(response.headers.get("Retry-After"))}
    if status == 400 and title == "Model not found":
        return errors.InvalidRequestError(
            f"Pixal3D is not available to this key ({message}); check the model is enabled "
            f"for your subscription at {DASHBOARD}", **kwargs)
    if status == 400:
        return errors.InvalidRequestError(f"Pixazo refused the request: {message}", **kwargs)
    if status == 401:
        return errors.AuthenticationError(
            f"Pixazo refused the subscription key ({message}); paste a valid key from "
            f"{KEYS_PAGE} in Preferences", **kwargs)
    if status == 402:
        return errors.InsufficientCreditsError(
            f"not enough balance in the Pixazo wallet — top up at {DASHBOARD}", **kwargs)
    if status == 403:
        return errors.AuthenticationError(
            f"Pixazo does not allow this key to use Pixal3D ({message}); check the "
            f"subscription at {DASHBOARD}", **kwargs)
    if status == 404:
        return errors.NotFoundError(f"Pixazo has no such request for this key ({message})",
                                    **kwargs)
    if status == 429:
        return errors.RateLimitedError(f"too many requests to Pixazo ({message}); Conjure "
                                       "waits and tries again", **kwargs)
    if status >= 500:
        return errors.TransientServiceError(f"Pixazo server error {status} ({message}); try "
                                            "again later", **kwargs)
    return None


