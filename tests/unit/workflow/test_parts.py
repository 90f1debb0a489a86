"""Parts, bpy-free: the panel's rows, names checked before sending with suggestions."""

from __future__ import annotations

import pytest

from conjure.providers.errors import InvalidRequestError
from conjure.providers.thrixel.hierarchy import parse_hierarchy
from conjure.workflow import parts


def mesh(name, faces):
    return {"name": name, "type": "Mesh", "faces": faces, "children": []}


def group(name, *children):
    return {"name": name, "type": "Group", "faces": sum(c["faces"] for c in children),
            "children": list(children)}


LIGHTHOUSE = parse_hierarchy(group(
    "Scene",
    group("Tower_Group", mesh("Door", 12), mesh("TowerBody", 92)),
    group("Gallery_Group", mesh("RailPost", 28), mesh("RailPost", 28), mesh("GalleryDeck", 92)),
))


def test_rows_follow_the_tree_without_the_made_up_root():
    rows = parts.rows(LIGHTHOUSE)
    assert [(r.name, r.depth, r.faces, r.container) for r in rows] == [
        ("Tower_Group", 0, 104, True), ("Door", 1, 12, False), ("TowerBody", 1, 92, False),
        ("Gallery_Group", 0, 148, True), ("RailPost", 1, 28, False),
        ("RailPost", 1, 28, False), ("GalleryDeck", 1, 92, False)]
    assert [r.path for r in rows][:3] == ["0", "0/0", "0/1"]
    # Repeated names are each a row, and say they change together.
    assert [r.same_name for r in rows if r.name == "RailPost"] == [2, 2]


def test_a_collapsed_container_hides_its_children():
    rows = parts.rows(LIGHTHOUSE, collapsed={"1"})
    assert [r.name for r in rows] == ["Tower_Group", "Door", "TowerBody", "Gallery_Group"]


def test_a_single_named_root_is_a_part():
    tree = parse_hierarchy(group("crank_assembly", mesh("crank", 10)))
    assert [r.name for r in parts.rows(tree)] == ["crank_assembly", "crank"]


def test_known_names_pass_and_containers_are_names_too():
    parts.check_names(["Door", "Gallery_Group", "RailPost"], LIGHTHOUSE)


@pytest.mark.parametrize("typed, suggested", [
    ("Dor", "Door"), ("door", "Door"), ("tower_body", "TowerBody"), ("railpost", "RailPost"),
])
def test_an_unknown_name_is_refused_with_the_nearest_real_ones(typed, suggested):
    with pytest.raises(InvalidRequestError) as caught:
        parts.check_names(["Door", typed], LIGHTHOUSE)
    message = str(caught.value)
    assert caught.value.field == "parts"
    assert f"no part named {typed!r}" in message and f"did you mean {suggested!r}" in message
    assert "its parts are Tower_Group, Door, TowerBody" in message


def test_nothing_near_lists_the_parts_and_cuts_a_long_list():
    names = [mesh(f"bolt_{i:02}", 4) for i in range(20)]
    tree = parse_hierarchy(group("Scene", *names))
    with pytest.raises(InvalidRequestError) as caught:
        parts.check_names(["windshield"], tree)
    message = str(caught.value)
    assert "did you mean" not in message
    assert "bolt_00" in message and "bolt_11" in message and "and 8 more" in message


def piece(key, name, digest, order=None, kind="mesh"):
    return parts.Piece(key, name, kind, digest, key if order is None else order)


def test_parts_match_by_name_and_content():
    old = [piece(0, "body", "B"), piece(1, "crank", "C"), piece(2, "lid", "L"),
           piece(3, "group", None, kind="empty")]
    new = [piece(10, "body", "B"), piece(11, "crank", "C2"), piece(12, "flag", "F"),
           piece(13, "group", None, kind="empty")]
    found = parts.match(old, new)
    assert sorted(found.unchanged) == [(0, 10), (3, 13)]
    assert found.changed == [(1, 11)]
    assert found.added == [12] and found.gone == [2]


def test_repeated_names_pair_equal_content_first_then_in_file_order():
    old = [piece(0, "wheel", "W1", 0), piece(1, "wheel", "W2", 1), piece(2, "wheel", "W3", 2)]
    new = [piece(10, "wheel", "W3", 0), piece(11, "wheel", "X", 1), piece(12, "wheel", "Y", 2),
           piece(13, "wheel", "W1", 3)]
    found = parts.match(old, new)
    assert sorted(found.unchanged) == [(0, 13), (2, 10)]
    assert found.changed == [(1, 11)] and found.added == [12] and found.gone == []


def test_copies_the_user_made_of_a_part_are_extra_not_gone():
    old = [piece(0, "wheel", "W", 0), piece(1, "wheel", "W", 1), piece(2, "lid", "L", 2)]
    found = parts.match(old, [piece(10, "wheel", "W2", 0)])
    assert found.changed == [(0, 10)] and found.extra == [1] and found.gone == [2]


def test_unknown_content_counts_as_changed_and_a_change_of_kind_as_remove_and_add():
    found = parts.match([piece(0, "door", None), piece(1, "lantern", None, kind="empty")],
                        [piece(10, "door", "D"), piece(11, "lantern", "G")])
    assert found.changed == [(0, 10)]
    assert found.gone == [1] and found.added == [11] and found.unchanged == []


@pytest.mark.parametrize("operation, params, in_place", [
    ("edit", {}, True), ("edit", {"focus_on_node_names": ["a"]}, True),
    ("detail", {"focus_on_node_names": ["a"]}, True), ("detail", {}, False),
    ("refine", {}, False), ("convert", {}, False), ("create", {}, False),
])
def test_what_arrives_in_place(operation, params, in_place):
    assert parts.applies_in_place("thrixel", operation, params) is in_place
    assert not parts.applies_in_place("tripo", operation, params)
