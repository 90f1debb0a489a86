import pytest

from conjure.providers.errors import InvalidRequestError
from conjure.providers.params import Operation, Param, exclusive, one_of, only_when

OP = Operation("Svc", "make", "Make", "text", params=(
    Param("prompt", "str", max_length=10),
    Param("image", "image"),
    Param("images", "image_list", max_items=2),
    Param("face_limit", "int", minimum=1000, maximum=20000),
    Param("quad", "bool"),
    Param("style", "enum", choices=("a", "b")),
    Param("scale", "float", minimum=0.5),
), rules=(
    one_of("prompt", "image", "images"),
    exclusive("image", "images"),
    only_when("face_limit", lambda v: not v.get("quad"), "cannot be set when quad is on"),
))


def test_valid_values_are_cleaned_and_unset_dropped():
    assert OP.validate({"prompt": "lamp", "face_limit": 5000.0, "scale": 2, "style": None}) == {
        "prompt": "lamp", "face_limit": 5000, "scale": 2.0}


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"prompt": "x" * 11}, "prompt", "at most 10 characters"),
    ({"prompt": 5}, "prompt", "must be text"),
    ({"prompt": "a", "face_limit": 999}, "face_limit", "from 1000 to 20000"),
    ({"prompt": "a", "face_limit": 1500.5}, "face_limit", "a whole number"),
    ({"prompt": "a", "quad": "yes"}, "quad", "true or false"),
    ({"prompt": "a", "style": "c"}, "style", "one of 'a', 'b'"),
    ({"prompt": "a", "scale": 0.1}, "scale", "at least 0.5"),
    ({"images": ["a", "b", "c"]}, "images", "at most 2 items"),
    ({"images": "a"}, "images", "a list"),
    ({}, "prompt", "at least one of prompt, image, images"),
    ({"image": "a", "images": ["b"]}, "images", "image and images cannot be used together"),
    ({"prompt": "a", "quad": True, "face_limit": 2000}, "face_limit", "when quad is on"),
    ({"prompt": "a", "colour": 1}, "colour", "unknown option 'colour'"),
])
def test_each_rule_names_the_field_and_what_is_allowed(values, field, words):
    with pytest.raises(InvalidRequestError) as caught:
        OP.validate(values)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert str(caught.value).startswith("Svc Make:")


def test_required_param():
    op = Operation("S", "o", "O", "model", params=(Param("parent", "str", required=True),))
    with pytest.raises(InvalidRequestError, match="parent is required"):
        op.validate({})
    with pytest.raises(InvalidRequestError, match="must not be empty"):
        op.validate({"parent": ""})


def test_roles_name_the_generic_inputs():
    op = Operation("S", "o", "O", "text", params=(Param("task", "str", role="prompt"),))
    assert op.param_for("prompt").name == "task"
    assert op.param_for("image") is None
    with pytest.raises(ValueError, match="role"):
        Param("x", "str", role="colour")
