"""A finished model's hierarchy: parts, faces and bounds, and malformed answers."""

from __future__ import annotations

import pytest
import responses
from unit.providers.thrixel.mocks import API, SID, service

from conjure.providers import errors
from conjure.providers.thrixel.hierarchy import parse_hierarchy

HIERARCHY = {
    "name": "Scene", "type": "Scene", "faces": 3000,
    "children": [
        {"name": "lantern", "type": "Group", "faces": 2000, "children": [
            {"name": "lantern_glass", "type": "Mesh", "faces": 1840, "children": []},
            {"name": "lid", "type": "Mesh", "faces": 160, "children": []}]},
        {"name": "lid", "type": "Mesh", "faces": 1000, "children": []},
    ],
    "bounds": {"min": [-1, 0, -1], "max": [1, 2, 1], "size": [2, 2, 2],
               "center": [0, 1, 0], "exact": False},
}


@responses.activate
def test_hierarchy_is_a_tree_of_parts_with_faces_and_bounds():
    responses.get(f"{API}/{SID}/hierarchy", json=HIERARCHY)
    tree = service().hierarchy(SID)
    assert tree.synthetic_root
    assert tree.part_names() == ["lantern", "lantern_glass", "lid"]
    assert tree.total_faces == 3000  # leaves only; containers repeat their subtree
    assert tree.root.children[0].children[0].is_mesh
    assert tree.bounds.size == (2.0, 2.0, 2.0) and tree.bounds.exact is False


def test_hierarchy_without_bounds_and_malformed():
    tree = parse_hierarchy({"name": "crank", "type": "Mesh", "faces": 12})
    assert tree.bounds is None and tree.part_names() == ["crank"] and tree.total_faces == 12
    with pytest.raises(errors.UnexpectedResponseError):
        parse_hierarchy({"name": "x", "children": "nope"})
    with pytest.raises(errors.UnexpectedResponseError):
        parse_hierarchy({"name": "x", "bounds": {"min": [0, 0], "max": [1, 1, 1]}})


@responses.activate
def test_the_answer_is_kept_as_sent_once_it_reads_as_a_tree():
    responses.get(f"{API}/{SID}/hierarchy", json=HIERARCHY)
    assert service().hierarchy_data(SID) == HIERARCHY
    responses.get(f"{API}/other/hierarchy", json=["not", "a", "tree"])
    with pytest.raises(errors.UnexpectedResponseError):
        service().hierarchy_data("other")
