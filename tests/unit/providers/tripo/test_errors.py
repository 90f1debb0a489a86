"""Every documented Tripo3D code in the shared taxonomy, in both API families, without the key."""

import pytest
import responses
from unit.providers.tripo.mocks import KEY, V2, V3, service

from conjure.providers import errors
from conjure.providers.tripo.errors import CODES
from support.jobs import job

#: (HTTP status, code) pairs as the seed and docs §2.7 list them.
DOCUMENTED = [(500, 1000), (500, 1001), (401, 1002), (400, 1003), (400, 1004), (403, 1005),
              (429, 1007), (429, 2000), (404, 2001), (400, 2002), (400, 2003), (400, 2004),
              (400, 2006), (400, 2007), (400, 2008), (403, 2010), (403, 2013), (500, 2014),
              (400, 2015), (400, 2016), (400, 2017), (400, 2018), (404, 2019), (400, 2021),
              (400, 2022)]
EXPECTED = {
    1000: (errors.TransientServiceError, "try again"),
    1001: (errors.TransientServiceError, "try again"),
    1002: (errors.AuthenticationError, "refused the API key"),
    1003: (errors.InvalidRequestError, "malformed"),
    1004: (errors.InvalidRequestError, "refused a parameter"),
    1005: (errors.AuthenticationError, "does not allow this key"),
    1007: (errors.RateLimitedError, "per-minute limit"),
    2000: (errors.RateLimitedError, "too many Tripo3D tasks at once"),
    2001: (errors.NotFoundError, "no such task"),
    2002: (errors.InvalidRequestError, "does not support this task type"),
    2003: (errors.InvalidRequestError, "input file is empty"),
    2004: (errors.InvalidRequestError, "use PNG, JPEG or WebP"),
    2006: (errors.InvalidRequestError, "not a draft"),
    2007: (errors.InvalidRequestError, "draft task did not succeed"),
    2008: (errors.ContentRejectedError, "content policy"),
    2010: (errors.InsufficientCreditsError,
           "not enough Tripo3D credits — top up at https://platform.tripo3d.ai/billing"),
    2013: (errors.AuthenticationError, "priority tier"),
    2014: (errors.TransientServiceError, "moderation service"),
    2015: (errors.InvalidRequestError, "deprecated"),
    2016: (errors.InvalidRequestError, "animate_model is retired"),
    2017: (errors.InvalidRequestError, "does not know this model_version"),
    2018: (errors.InvalidRequestError, "too complex to remesh"),
    2019: (errors.NotFoundError, "cannot find the referenced file"),
    2021: (errors.InvalidRequestError, "too large"),
    2022: (errors.InvalidRequestError, "too large"),
}


def test_every_documented_code_has_a_mapping():
    assert {code for _, code in DOCUMENTED} == set(CODES) == set(EXPECTED)


@responses.activate
@pytest.mark.parametrize(("status", "code"), DOCUMENTED)
@pytest.mark.parametrize("api", ["v2", "v3"])
def test_each_documented_code_maps_to_its_class_and_message(api, status, code):
    url = f"{V2}/task" if api == "v2" else f"{V3}/generation/text-to-model"
    body = {"code": 2 if (api == "v3" and code == 1002) else code,
            "message": "Service words.", "suggestion": "Service hint."}
    if api == "v3":
        body |= {"status": "error", "request_id": "req-1"}
    headers = {"X-Tripo-Trace-ID": "trace-9", "Retry-After": "5"}
    responses.post(url, json=body, status=status, headers=headers)
    with pytest.raises(errors.ServiceError) as caught:
        service(api).submit(job("text_to_model", {"prompt": "a"}))
    cls, words = EXPECTED[code]
    assert type(caught.value) is cls
    assert words in str(caught.value)
    assert f"code {code}" in str(caught.value) and "trace-9" in str(caught.value)
    assert caught.value.status == status and caught.value.service_code == code
    assert caught.value.retry_after == 5
    assert len(responses.calls) == 1  # a paid POST is never repeated, whatever the answer


@responses.activate
def test_an_error_echoing_the_key_does_not_show_it():
    responses.post(f"{V2}/task", status=400, json={
        "code": 1004, "message": f"bad key {KEY}", "suggestion": ""})
    with pytest.raises(errors.InvalidRequestError) as caught:
        service("v2").submit(job("text_to_model", {"prompt": "a"}))
    assert KEY not in str(caught.value)
