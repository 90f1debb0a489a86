"""Prices declared beside the operations: an estimate for every operation and every surcharge,
in the service's own unit, with where the figure comes from; unknown where none is published;
a live figure from the service wins."""

import pytest

from conjure.providers import registry
from conjure.providers.prices import Estimate, amount_words
from conjure.providers.services import SERVICES

#: (service, operation, options, amount or None for unknown, terms that must appear).
CASES = [
    ("thrixel", "create", {"task": "a lamp"}, None, ["create ?"]),
    ("thrixel", "refine", {}, None, []),
    ("thrixel", "edit", {"modification_request": "blue"}, None, []),
    ("thrixel", "detail", {"image": "look.png"}, 14, ["detail 14"]),
    ("thrixel", "detail", {"reference_image_id": "img-1"}, 14, []),
    ("thrixel", "detail", {"prompt": "weathered bronze"}, 17,
     ["reference picture from the prompt +3"]),
    ("thrixel", "detail", {}, 21, ["reference picture from the model +7"]),
    ("thrixel", "upload", {"glb_file": "a.glb"}, 0, []),
    ("thrixel", "convert", {"format": "fbx"}, 0, []),
    ("tripo", "text_to_model", {"prompt": "a mug"}, 20, ["text_to_model 20"]),
    ("tripo", "text_to_model", {"prompt": "a mug", "texture": False, "pbr": False}, 10, []),
    ("tripo", "text_to_model", {"texture": False, "pbr": False, "generate_parts": True}, 30,
     ["parts +20"]),
    ("tripo", "text_to_model", {"quad": True}, 25, ["quad +5"]),
    ("tripo", "text_to_model", {"texture_quality": "detailed"}, 30, ["detailed texture +10"]),
    ("tripo", "text_to_model", {"texture_quality": "extreme"}, 40, ["extreme texture +20"]),
    ("tripo", "text_to_model", {"geometry_quality": "detailed"}, 40,
     ["detailed geometry +20"]),
    ("tripo", "text_to_model", {"smart_low_poly": True}, 30, ["smart low poly +10"]),
    ("tripo", "image_to_model", {"image": "a.png"}, 30, ["image_to_model 30"]),
    ("tripo", "image_to_model", {"quad": True, "texture_quality": "detailed"}, 45, []),
    ("tripo", "image_to_model", {"texture": False, "pbr": False}, 20, []),
    ("tripo", "multiview_to_model", {"front": "f.png", "left": "l.png"}, 30, []),
    ("tripo", "multiview_to_model", {"smart_low_poly": True, "texture": False, "pbr": False},
     30, []),
    ("tripo", "refine_model", {}, None, []),
    ("tripo", "text_to_image", {"prompt": "a mug"}, None, []),
    ("tripo", "generate_image", {"prompt": "a mug"}, None, []),
    ("tripo", "texture_model", {}, 10, ["texture_model 10"]),
    ("tripo", "texture_model", {"texture_quality": "detailed"}, 20, []),
    ("tripo", "convert_model", {"format": "FBX"}, 5, ["convert_model 5"]),
    # An option at its documented default is no advanced conversion; one away from it is.
    ("tripo", "convert_model", {"format": "FBX", "quad": False, "face_limit": 10000}, 5, []),
    ("tripo", "convert_model", {"format": "FBX", "quad": True}, 10, ["advanced options +5"]),
    ("tripo", "convert_model", {"format": "OBJ", "part_names": ["lid"]}, 10, []),
    ("tripo", "animate_prerigcheck", {}, 0, []),
    ("tripo", "animate_rig", {}, 25, []),
    ("tripo", "animate_retarget", {"animations": ["preset:walk"]}, 10, []),
    ("tripo", "animate_retarget", {"animations": ["preset:walk", "preset:run", "preset:idle"]},
     30, []),
    ("pixal3d", "image_to_3d", {"image_url": "https://example.com/a.png"}, 0.42, []),
    ("pixal3d", "image_to_3d", {"texture_size": 1024}, 0.30, []),
    ("pixal3d", "image_to_3d", {"texture_size": 4096}, 0.42, []),
    ("voxelai", "candidates", {"prompt": "a barn"}, 0, []),
    ("voxelai", "voxelize", {"image": "c.png", "voxel_size": 64}, 1, []),
]


@pytest.mark.parametrize(("service", "name", "values", "amount", "terms"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_estimate_for_the_chosen_options(service, name, values, amount, terms):
    estimate = registry.operation(service, name).estimate(values)
    if amount is None:
        assert estimate.amount is None and not estimate.known
        assert estimate.words() == "price unknown" and estimate.note
    else:
        assert estimate.amount == pytest.approx(amount)
    for term in terms:
        assert term in estimate.terms
    if estimate.amount:
        assert estimate.unit == registry.unit(service)


def test_every_operation_is_in_the_table_and_every_surcharge_is_tried():
    tried = {(c[0], c[1]) for c in CASES}
    assert tried == {(op.service, op.name) for op in registry.operations()}
    terms = {term.split(" +")[0] for c in CASES
             for term in registry.operation(c[0], c[1]).estimate(c[2]).terms}
    for op in registry.operations():
        for surcharge in op.price.surcharges if op.price else ():
            assert surcharge.label in terms, f"{op.service} {op.name}: {surcharge.label}"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.id)
def test_paid_operations_declare_a_price_in_the_services_unit_with_its_source(service):
    for op in registry.operations(service.id):
        if not op.paid:
            assert op.estimate({}).free
            continue
        assert op.price is not None, f"{op.name} is paid and declares no price"
        assert op.price.unit == registry.unit(service.id)
        assert op.price.source and op.price.dated
        estimate = op.estimate({})
        assert (estimate.source, estimate.dated) == (op.price.source, op.price.dated)
        assert not estimate.live


def test_units_are_the_services_own():
    assert [registry.unit(s.id) for s in SERVICES] == ["Cubes", "credits", "USD", "tokens"]


def test_a_live_figure_wins_over_the_declared_one():
    create = registry.operation("thrixel", "create")
    live = {"architect": 4, "architect-balanced": 2, "detailer": 12, "reference_image": 2,
            "reference_image_mesh": 5}
    plus = create.estimate({"task": "a lamp"}, live)
    assert (plus.amount, plus.live, plus.dated) == (4, True, "")
    assert "just now" in plus.source
    assert create.estimate({"task": "a lamp", "model": "architect-balanced"}, live).amount == 2
    detail = registry.operation("thrixel", "detail")
    assert detail.estimate({}, live).amount == 17
    assert detail.estimate({"prompt": "bronze"}, live).amount == 14
    assert detail.estimate({"image": "a.png"}, {"architect": 4}).amount == 14  # not listed
    # A live list without the figure leaves the declared one (here: none).
    assert create.estimate({"task": "x"}, {"detailer": 12}).amount is None


@pytest.mark.parametrize(("estimate", "words"), [
    (Estimate(30, "credits"), "about 30 credits"),
    (Estimate(1, "tokens"), "about 1 token"),
    (Estimate(0.42, "USD"), "about $0.42"),
    (Estimate(14.5, "Cubes"), "about 14.5 Cubes"),
    (Estimate(0, "credits"), "free"),
    (Estimate(None, "Cubes"), "price unknown"),
])
def test_words(estimate, words):
    assert estimate.words() == words


def test_amounts_add_up_and_an_unknown_part_makes_the_whole_unknown():
    free = registry.operation("voxelai", "candidates").estimate({"prompt": "x"})
    token = registry.operation("voxelai", "voxelize").estimate({"image": "a.png"})
    both = free.plus(token)
    assert (both.amount, both.unit) == (1, "tokens")
    assert Estimate(20, "credits").plus(Estimate(None, "credits")).amount is None
    assert amount_words(2, "tokens") == "2 tokens" and amount_words(0.3, "USD") == "$0.30"

