"""Tripo3D's concurrency by task group, as the docs give it (rate limits)."""

import pytest
from unit.providers.tripo.mocks import service

from conjure.providers.tripo.operations import ACCOUNT_CONCURRENCY, P1


@pytest.mark.parametrize(("operation", "params", "group", "limit"), [
    ("text_to_model", {}, "generation", 10),
    ("image_to_model", {"model_version": "v3.0-20250812"}, "generation", 10),
    ("multiview_to_model", {}, "generation", 10),
    ("text_to_image", {}, "generation", 10),
    ("text_to_model", {"model_version": P1}, "p1", 5),
    ("refine_model", {}, "refine", 5),
    ("animate_rig", {}, "animate", 10),
    ("convert_model", {}, "other", 10),
    ("texture_model", {}, "other", 10),
])
def test_each_task_counts_against_its_documented_group(operation, params, group, limit):
    slot = service().slot_group(operation, params)
    assert (slot.name, slot.limit) == (group, limit)


def test_the_client_keeps_as_many_jobs_as_the_account_allows():
    assert service().max_active == ACCOUNT_CONCURRENCY == 10
