"""The Pixazo client under test against ``responses`` mocks: its URLs, key, a job stand-in
and the seed's example request."""

from types import SimpleNamespace

from conjure.providers.http import NetworkSettings
from conjure.providers.pixal3d.operations import BY_NAME
from conjure.providers.registry import ClientConfig, make_client

KEY = "pixazo-unit-SECRET-key"
BASE = "https://gateway.pixazo.ai"
SUBMIT = f"{BASE}/pixal3d/v1/pixal3d-request"
RID = "pixal3d_019d0000-0000-7000-8000-000000000001"
STATUS = f"{BASE}/v2/requests/status/{RID}"
MEDIA = f"https://pub-582b7213209642b9b995c96c95a30381.r2.dev/v1/{RID}/output.glb"
OP = BY_NAME["image_to_3d"]
DOG = "https://example.com/example_inputs/dog.png"


def service():
    network = NetworkSettings(max_retries=2, backoff_base=0.0, backoff_cap=0.0)
    return make_client("pixal3d", ClientConfig(BASE, key=KEY, network=network))


def job(params, remote_id=None):
    return SimpleNamespace(id="j", operation="image_to_3d", params=params, remote_id=remote_id)


ACCEPTED = {"request_id": RID, "status": "QUEUED", "polling_url": STATUS}

#: The seed's example request: every documented field with its documented default.
SEED_EXAMPLE = {
    "image_url": DOG, "resolution": 1024, "ss_guidance_strength": 7.5,
    "ss_guidance_rescale": 0.7, "ss_sampling_steps": 12, "ss_rescale_t": 5,
    "shape_slat_guidance_strength": 7.5, "shape_slat_guidance_rescale": 0.5,
    "shape_slat_sampling_steps": 12, "shape_slat_rescale_t": 3,
    "tex_slat_guidance_strength": 1, "tex_slat_sampling_steps": 12, "tex_slat_rescale_t": 3,
    "mesh_scale": 1, "max_num_tokens": 49152, "decimation_target": 200000,
    "texture_size": 2048, "remesh": True,
}
