"""Lineage: the id follow-ups send, and the follow-ups each kind of result allows."""

from __future__ import annotations

import pytest

from conjure.jobs.model import Job
from conjure.workflow import lineage


def thrixel(operation, parent=None, **params):
    return Job("thrixel", operation, params, remote_id=f"remote-{operation}",
               parent_id=parent.id if parent else None)


def journal(*jobs):
    by_id = {job.id: job for job in jobs}
    return by_id.get


def test_a_conversion_stands_for_the_submission_it_converted():
    created = thrixel("create")
    converted = thrixel("convert", created, parent_submission_id=created.remote_id,
                        format="fbx")
    converted.remote_id = "conversion-job-id"
    assert lineage.submission_id(converted) == created.remote_id
    assert lineage.submission_id(created) == "remote-create"
    assert lineage.submission_id(Job("thrixel", "create")) == ""


@pytest.mark.parametrize("operation, refine_ok, edit_ok", [
    ("create", True, True), ("refine", True, True), ("upload", True, True),
    ("edit", False, True), ("detail", False, False),
])
def test_thrixel_follow_ups_by_phase(operation, refine_ok, edit_ok):
    source = thrixel(operation)
    find = journal(source)
    assert (lineage.refusal(source, "refine", find) is None) is refine_ok
    assert (lineage.refusal(source, "edit", find) is None) is edit_ok
    assert lineage.refusal(source, "detail", find) is None
    assert lineage.refusal(source, "convert", find) is None


def test_a_conversion_allows_what_its_source_allows():
    detailed = thrixel("detail")
    converted = thrixel("convert", detailed, parent_submission_id=detailed.remote_id)
    assert "detailed" in lineage.refusal(converted, "edit", journal(detailed, converted))
    assert "this is a detailed model" in lineage.refusal(converted, "refine",
                                                         journal(detailed, converted))
    # The source left the journal: the service decides.
    assert lineage.refusal(converted, "edit", journal(converted)) is None


def test_a_job_known_only_from_its_objects_is_not_judged():
    assert lineage.refusal(Job("thrixel", "", remote_id="x"), "refine", journal()) is None
    assert lineage.refusal(Job("tripo", "", remote_id="x"), "refine_model", journal()) is None


@pytest.mark.parametrize("operation, version, allowed", [
    ("text_to_model", None, False),                   # the default, v2.5
    ("text_to_model", "v2.0-20240919", False),
    ("image_to_model", "v1.4-20240625", True),
    ("multiview_to_model", "v1.4-20240625", True),
    ("text_to_model", "Turbo-v1.0-20250506", False),  # a newer family
    ("texture_model", "v1.4-20240625", False),        # not a draft
])
def test_tripo_refines_only_drafts_before_v2(operation, version, allowed):
    params = {"model_version": version} if version else {}
    source = Job("tripo", operation, params, remote_id="task")
    refused = lineage.refusal(source, "refine_model", journal(source))
    assert (refused is None) is allowed, refused
    if not allowed:
        assert "draft" in refused
