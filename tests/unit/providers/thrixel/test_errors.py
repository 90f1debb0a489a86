"""Every documented Thrixel refusal and failure code in the shared taxonomy, with what to do."""

from __future__ import annotations

import pytest
import requests
import responses
from unit.providers.thrixel.mocks import API, KEY, SID, service

from conjure.providers import errors
from conjure.providers.base import Phase
from conjure.providers.thrixel.errors import FAILURE_CODES, map_error
from support.jobs import job


@pytest.mark.parametrize(("status", "body", "headers", "cls", "words"), [
    (400, {"detail": "decimation_target below 10000"}, {}, errors.InvalidRequestError,
     "decimation_target below 10000"),
    (422, {"detail": [{"loc": ["body", "texture_size"], "msg": "unsupported"}]}, {},
     errors.InvalidRequestError, "the live service takes 2048 or 4096"),
    (401, {"detail": "Invalid API key."}, {}, errors.AuthenticationError, "paste a valid key"),
    (402, {"detail": "Not enough Cubes"}, {}, errors.InsufficientCreditsError, "top up"),
    (402, {"detail": "Monthly allowance"}, {"X-Thrixel-Reason": "monthly_runs"},
     errors.InsufficientCreditsError, "free plan's monthly runs for this operation are used up"),
    (403, {"detail": "This API key has been revoked."}, {}, errors.AuthenticationError,
     "paste a valid key"),
    (403, {"detail": "Sculptor needs the Studio plan"}, {}, errors.AuthenticationError,
     "plan does not allow this"),
    (403, {"detail": {"code": "CONTENT_BLOCKED", "verdict": "block", "message": "no"}}, {},
     errors.ContentRejectedError, "content rules"),
    (404, {"detail": "Submission not found"}, {}, errors.NotFoundError, "does not know"),
    (409, {"detail": "busy"}, {}, errors.RateLimitedError, "trying again shortly"),
    (413, {"detail": "too big"}, {}, errors.InvalidRequestError, "at most 100 MB"),
    (429, {"detail": "You have 3 jobs already running"}, {"Retry-After": "5"},
     errors.RateLimitedError, "jobs already running"),
    (500, {"detail": "boom"}, {}, errors.TransientServiceError, "server error"),
    (503, {"detail": "down"}, {}, errors.TransientServiceError, "server error"),
])
@responses.activate
def test_every_documented_error_maps_to_the_taxonomy(status, body, headers, cls, words):
    responses.post(API + "/phase1/submit", json=body, status=status, headers=headers)
    with pytest.raises(cls) as caught:
        service().submit(job("create", {"task": "x"}))
    assert words in str(caught.value)
    assert caught.value.status == status
    assert KEY not in str(caught.value)
    assert len(responses.calls) == 1  # a paid POST is never sent twice
    if status == 429:
        assert caught.value.retry_after == 5.0
    if status == 422:
        assert caught.value.field == "texture_size"


@pytest.mark.parametrize("code", sorted(FAILURE_CODES))
@responses.activate
def test_every_failure_code_is_explained(code):
    responses.get(f"{API}/{SID}/info", json={
        "submission_id": SID, "status": "failed", "error_code": code,
        "error_message": "server words"})
    status = service().poll(job("create", {}, SID))
    cls, advice = FAILURE_CODES[code]
    assert status.phase == Phase.FAILED
    assert status.error_code == cls.code
    assert status.message.startswith(advice) and code in status.message
    assert code != "CONTENT_BLOCKED" or status.error_code == "content_rejected"


@responses.activate
def test_cancelled_by_user_and_unknown_codes():
    responses.get(f"{API}/{SID}/info", json={"status": "failed",
                                             "error_code": "CANCELLED_BY_USER"})
    responses.get(f"{API}/x/info", json={"status": "failed", "error_code": "NEW_CODE"})
    assert service().poll(job("create", {}, SID)).phase == Phase.CANCELLED
    other = service().poll(job("create", {}, "x"))
    assert other.phase == Phase.FAILED and "NEW_CODE" in other.message


def test_map_error_leaves_unknown_statuses_to_the_generic_mapping():
    response = requests.Response()
    response.status_code = 418
    response._content = b"{}"
    assert map_error(response) is None
