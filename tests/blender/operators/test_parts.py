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


def objects_of(job):
    return {ob["conjure_node_name"]: ob for ob in bpy.data.objects
            if ob.get("conjure_job_id") == job.id}


def test_a_focused_edit_from_the_panel_sends_the_checked_parts(session, orrery, mod,
                                                              form_reset):
    mod("blender.parts").set_checked(orrery.id, {"pointer_arm", "crank"})
    edit_op = mod("providers.registry").operation("thrixel", "edit")
    mod("blender.forms").group(bpy.context, edit_op).modification_request = "brass gears"
    assert bpy.ops.conjure.edit(job_id=orrery.id, from_panel=True) == {"FINISHED"}
    edit = newest(session)
    assert edit.params["modification_request"] == "brass gears"
    assert edit.params["focus_on_node_names"] == ["crank", "pointer_arm"]  # the tree's order


def test_from_python_without_parts_the_selected_parts_are_focused(session, orrery, capsys):
    crank = objects_of(orrery)["crank"]
    for ob in bpy.context.view_layer.objects:
        ob.select_set(ob == crank)
    assert bpy.ops.conjure.edit(request="longer handle") == {"FINISHED"}
    assert newest(session).params["focus_on_node_names"] == ["crank"]


def test_no_parts_is_the_whole_model_said_before_sending(session, orrery, capsys):
    assert bpy.ops.conjure.edit(job_id=orrery.id, request="steampunk") == {"FINISHED"}
    assert "focus_on_node_names" not in newest(session).params
    said = capsys.readouterr().out
    assert said.index("No parts given: Thrixel may change the whole model") < \
        said.index("· Waiting to send")
