"""Every documented Pixazo refusal in the shared taxonomy, with what to do."""

import pytest
import responses
from unit.providers.pixal3d.mocks import DOG, KEY, SUBMIT, job, service

from conjure.providers import errors

ERRORS = [
    (400, {"error": "Model not found", "message": "Model 'pixal3d' not found or is disabled"},
     errors.InvalidRequestError, "Pixal3D is not available to this key"),
    (400, {"error": "Bad Request", "message": "resolution must be 1024 or 1536"},
     errors.InvalidRequestError, "refused the request: resolution must be"),
    (401, {"statusCode": 401, "message": "Access denied due to invalid subscription key."},
     errors.AuthenticationError, "https://api-console.pixazo.ai/api_keys"),
    (402, {"error": "Insufficient Balance", "message": "Your wallet does not have enough "
           "balance."}, errors.InsufficientCreditsError,
     "not enough balance in the Pixazo wallet — top up at https://api-console.pixazo.ai/dashboard"),
    (403, {"statusCode": 403, "message": "Access denied"}, errors.AuthenticationError,
     "does not allow this key to use Pixal3D"),
    (429, {"statusCode": 429, "message": "Rate limit is exceeded."}, errors.RateLimitedError,
     "too many requests"),
    (500, {"error": "Internal Server Error", "message": "oops"}, errors.TransientServiceError,
     "server error 500"),
]


@responses.activate
@pytest.mark.parametrize(("status", "body", "cls", "words"), ERRORS)
def test_each_documented_status_maps_to_its_class_and_message(status, body, cls, words):
    responses.post(SUBMIT, status=status, json=body, headers={"Retry-After": "3"})
    with pytest.raises(errors.ServiceError) as caught:
        service().submit(job({"image_url": DOG}))
    assert type(caught.value) is cls
    assert words in str(caught.value)
    assert caught.value.status == status and caught.value.retry_after == 3
    assert len(responses.calls) == 1  # never re-sent: it may charge
    assert KEY not in str(caught.value)
