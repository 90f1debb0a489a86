"""Voxel-AI's HTTP refusals in the shared taxonomy, each with what the user can do."""

from __future__ import annotations

from typing import Any

import requests

from .. import errors
from ..http import body_excerpt, parse_retry_after
from .operations import IMAGES_INTERVAL_S, SERVICE

SITE = "voxelai.studio"


def error_body(response: requests.Response) -> dict[str, Any]:
    """An error answer's JSON object (``error``, ``code``, ``transient``), or its text."""
    try:
        body = response.json()
    except ValueError:
        return {"error": body_excerpt(response, 200)}
    return body if isinstance(body, dict) else {"error": errors.said(body, 200)}


def map_error(response: requests.Response) -> errors.ServiceError | None:
    """Every documented Voxel-AI failure in the shared taxonomy, with what to do."""
    status = response.status_code
    body = error_body(response)
    said = errors.said(str(body.get("error") or body.get("message") or "").strip())
    code = body.get("code")
    kwargs: dict[str, Any] = {"service": SERVICE, "status": status, "service_code": code,
                              "retry_after": parse_retry_after(response.headers.get("Retry-After"))}
    why = f" ({said})" if said else ""
    if status == 400:
        return errors.InvalidRequestError(f"Voxel-AI refused the request{why}", **kwargs)
    if status == 401:
        return errors.AuthenticationError(
            f"the access token is missing, expired or invalid{why}. Voxel-AI tokens expire: "
            f"sign in at {SITE}, copy a fresh token and paste it in Preferences > Add-ons > "
            "Conjure", **kwargs)
    if status == 402 or code == "INSUFFICIENT_TOKENS":
        return errors.InsufficientCreditsError(
            f"out of tokens{why}; voxelizing costs 1 token, buy more at {SITE}", **kwargs)
    if status == 403 and code == "NO_BALANCE":
        return errors.InsufficientCreditsError(
            f"this account has no token balance yet{why}; buy tokens at {SITE}", **kwargs)
    if status == 403:
        return errors.AuthenticationError(
            f"this job belongs to another account{why}; paste the token of the account that "
            "started it", **kwargs)
    if status == 404:
        return errors.NotFoundError(f"Voxel-AI does not know this job{why}", **kwargs)
    if status == 429:
        kwargs["retry_after"] = kwargs["retry_after"] or IMAGES_INTERVAL_S
        return errors.RateLimitedError(
            f"Voxel-AI allows one candidate request per {IMAGES_INTERVAL_S:g} s{why}; "
            "waiting", **kwargs)
    if status >= 500:
        return errors.TransientServiceError(
            f"Voxel-AI had a server hiccup (HTTP {status}){why}; it usually passes", **kwargs)
    return None


