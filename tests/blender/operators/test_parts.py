"""Thrixel parts: the part tree of a real multi-part model, part names checked before a paid
request."""

import json

import bpy
import pytest

from support.fixtures import prompt_for


def newest(session):
    return session.get().journal.jobs(limit=1)[0]


@pytest.fixture
def hierarchies(mod):
    return mod("blender.hierarchies")


@pytest.fixture
def orrery(session, thrixel, sandbox, fresh_scene, hierarchies):
    """The orrery (six named parts) generated, imported, and its part tree in."""
    assert bpy.ops.conjure.generate(provider="THRIXEL",
                                    prompt=prompt_for(sandbox, "orrery")) == {"FINISHED"}
    job = newest(session)
    hierarchies.wait(job)
    return job


def test_the_part_tree_is_fetched_once_and_kept_with_the_results(session, orrery, hierarchies,
                                                                  sandbox, mod):
    tree = hierarchies.known(orrery)
    assert tree.part_names() == ["OrreryBody", "crank", "orbit_ring_inner",
                                 "orbit_ring_middle", "orbit_ring_outer", "pointer_arm"]
    kept = session.result_paths(orrery)[0].parent / "hierarchy.json"
    assert json.loads(kept.read_text())["children"][1]["name"] == "crank"
    # Asked again (another redraw, a new session reading the kept file): no new request.
    sandbox.requests_seen.clear()
    session.hierarchies.forget()
    assert hierarchies.known(orrery).part_names() == tree.part_names()
    assert not [r for r in sandbox.requests_seen if r.endswith("/hierarchy")]
    # Refresh reads it again from the service.
    hierarchies.request(orrery, refresh=True)
    session.hierarchies.wait(f"thrixel:{orrery.remote_id}", 10)
    assert [r for r in sandbox.requests_seen if r.endswith("/hierarchy")]


def test_unknown_part_names_are_refused_before_anything_is_sent(session, orrery, sandbox):
    sandbox.requests_seen.clear()
    with pytest.raises(RuntimeError, match=r"no part named 'crnak' \(did you mean 'crank'\?\)"):
        bpy.ops.conjure.edit(job_id=orrery.id, request="make it gold", parts="crnak, lid")
    with pytest.raises(RuntimeError, match=r"no part named 'Orrery_Body'.*'OrreryBody'"):
        bpy.ops.conjure.detail(job_id=orrery.id, parts="Orrery_Body")
    assert list(sandbox.requests_seen) == []
    assert newest(session).id == orrery.id
