"""Every documented Voxel-AI refusal, on submit and on status, in the shared taxonomy."""

from __future__ import annotations

import base64

import pytest
import responses
from unit.providers.voxelai.mocks import GEN, service

from conjure.providers import errors
from support.jobs import job
from support.pictures import png


@pytest.mark.parametrize(("status", "body", "cls", "words"), [
    (400, {"error": "Invalid request body"}, errors.InvalidRequestError, "Invalid request body"),
    (401, {"error": "Unauthorized"}, errors.AuthenticationError,
     "tokens expire: sign in at voxelai.studio, copy a fresh token"),
    (402, {"error": "Insufficient tokens", "code": "INSUFFICIENT_TOKENS"},
     errors.InsufficientCreditsError, "out of tokens"),
    (403, {"error": "No token balance found", "code": "NO_BALANCE"},
     errors.InsufficientCreditsError, "no token balance"),
    (500, {"error": "Internal server error"}, errors.TransientServiceError, "server hiccup"),
])
@responses.activate
def test_every_documented_submit_error_maps_to_the_taxonomy(status, body, cls, words):
    responses.post(GEN + "/voxelize", status=status, json=body)
    with pytest.raises(cls) as caught:
        service().submit(job("voxelize", {"image": "data:image/png;base64,"
                                           + base64.b64encode(png(2, 2)).decode()}))
    assert words in str(caught.value) and caught.value.status == status
    assert caught.value.service_code == body.get("code")
    assert len(responses.calls) == 1  # a paid POST is never sent twice


@pytest.mark.parametrize(("status", "body", "cls", "words"), [
    (400, {"error": "Missing jobId"}, errors.InvalidRequestError, "Missing jobId"),
    (401, {"error": "expired"}, errors.AuthenticationError, "fresh token"),
    (403, {"error": "Forbidden"}, errors.AuthenticationError, "another account"),
    (404, {"error": "Job not found"}, errors.NotFoundError, "does not know this job"),
    (502, {"error": "Bad gateway"}, errors.TransientServiceError, "server hiccup"),
])
@responses.activate
def test_every_documented_status_error_maps_to_the_taxonomy(status, body, cls, words):
    responses.get(GEN + "/status", status=status, json=body)
    with pytest.raises(cls, match=words):
        service().poll(job("candidates", {}, "j1"))
