"""Money over loopback: every service's jobs run through the real engine against the sandbox,
which charges and refunds as the services do. What the journal records per service adds up to
the change of the sandbox's balance; a refunded failure is recorded as refunded; where a price is
declared (or Thrixel lists one live) the estimate is what was charged."""

import uuid

import pytest

from conjure.providers import registry
from conjure.providers.registry import ClientConfig, make_client
from sandbox import start_sandbox
from support.engine_env import EngineEnv
from support.pictures import png

#: Per service: (operation, params, fault for the job or "") in the order they are run;
#: PARENT stands for the first job's remote id, PICTURE for a local picture.
RUNS = {
    "tripo": [
        ("text_to_model", {"prompt": "a stone gargoyle", "quad": True,
                           "texture_quality": "detailed"}, ""),
        ("text_to_model", {"prompt": "a bare stool", "texture": False, "pbr": False}, ""),
        ("texture_model", {"original_model_task_id": "PARENT", "texture_quality": "detailed"},
         ""),
        ("convert_model", {"original_model_task_id": "PARENT", "format": "FBX"}, ""),
        ("convert_model", {"original_model_task_id": "PARENT", "format": "OBJ",
                           "face_limit": 2000}, ""),
        ("text_to_model", {"prompt": "a broken vase"}, "fail=1001"),
    ],
    "thrixel": [
        ("create", {"task": "a brass lantern"}, ""),
        ("create", {"task": "a cheap lantern", "model": "architect-balanced"}, ""),
        ("detail", {"parent_submission_id": "PARENT", "prompt": "weathered bronze"}, ""),
        ("detail", {"parent_submission_id": "PARENT", "image": "PICTURE"}, ""),
        ("detail", {"parent_submission_id": "PARENT"}, ""),
        ("convert", {"parent_submission_id": "PARENT", "format": "stl"}, ""),
        ("create", {"task": "something forbidden"}, "fail=CONTENT_BLOCKED"),
    ],
    "pixal3d": [
        ("image_to_3d", {"image_url": "https://example.com/chair.png"}, ""),
        ("image_to_3d", {"image_url": "https://example.com/lamp.png", "texture_size": 1024}, ""),
        ("image_to_3d", {"image_url": "https://example.com/oops.png"}, "fail=ERROR"),
        ("image_to_3d", {"image_url": "https://example.com/bad.png"}, "fail=FAILED"),
    ],
    "voxelai": [
        ("voxelize", {"image": "PICTURE", "voxel_size": 16}, ""),
        ("voxelize", {"image": "PICTURE", "voxel_size": 8}, "fail=worker crashed"),
    ],
}
#: The sandbox names Pixazo by its company.
SANDBOX_NAME = {"pixal3d": "pixazo"}


@pytest.fixture(scope="module")
def sb():
    with start_sandbox(speed="fast") as sandbox:
        yield sandbox


@pytest.mark.parametrize("service", list(RUNS))
def test_the_ledger_equals_the_balance_change_and_failures_are_refunded(sb, tmp_path, service):
    name = SANDBOX_NAME.get(service, service)
    key = f"ledger-{service}-{uuid.uuid4().hex[:8]}"
    sb.add_key(name, key)
    client = make_client(service, ClientConfig(sb.service_url(name), key=key))
    live = client.live_prices()
    picture = tmp_path / "picture.png"
    # A red disc on white: a subject the voxelizer finds.
    picture.write_bytes(png(16, 16, lambda x, y: (200, 40, 40) if (x - 8) ** 2 + (y - 8) ** 2
                            < 30 else (255, 255, 255)))
    env = EngineEnv(client, tmp_path)
    before = sb.account(name, key).balance
    jobs = []
    try:
        for operation, params, fault in RUNS[service]:
            stand_ins = {"PICTURE": str(picture), "PARENT": jobs[0][0].remote_id if jobs else ""}
            params = {k: stand_ins.get(v, v) if isinstance(v, str) else v
                      for k, v in params.items()}
            sb.set_faults(name, key, fault or None)
            op = registry.operation(service, operation)
            estimate = op.estimate(params, live)
            jobs.append((env.run(operation, op.validate(params), state=None), estimate, fault))
    finally:
        env.close()
    spent = before - sb.account(name, key).balance
    assert sum(job.charged for job, _, _ in jobs) == pytest.approx(spent)
    assert spent > 0, [(j.state, j.message) for j, _, _ in jobs]
    for job, estimate, fault in jobs:
        assert job.charge_unit == registry.unit(service), job
        if fault and fault != "fail=FAILED":
            assert (job.state, job.charged, job.refunded) == ("failed", 0, True), job.message
        else:
            assert not job.refunded
            assert estimate.known, (job.operation, estimate)
            assert job.charged == pytest.approx(estimate.amount), (job.params, estimate.terms)


def test_thrixel_lists_its_prices_live_and_they_win(sb):
    client = make_client("thrixel", ClientConfig(sb.service_url("thrixel"), key="unused"))
    live = client.live_prices()
    assert live["architect"] > 0 and "detailer" in live
    create = registry.operation("thrixel", "create")
    assert not create.estimate({"task": "x"}).known
    assert create.estimate({"task": "x"}, live).live
