from conjure.providers.params import Operation, Param
from conjure.workflow import formspec

OP = Operation("svc", "make", "Make", "text", params=(
    Param("prompt", "str", role="prompt", required=True),
    Param("seed", "int", minimum=0, maximum=10),
    Param("size", "int", choices=(512, 1024)),
    Param("parts", "bool"),
    Param("quality", "enum", default="full", choices=("full", "lite")),
    Param("scale", "float", default=0.01, minimum=0),
    Param("names", "str_list"),
    Param("source", "str", role="parent", required=True),
))


def test_fields_represent_unset_values():
    fields = {f.param.name: f for f in formspec.fields(OP)}
    assert "source" not in fields
    assert fields["seed"].toggle and fields["seed"].default == 0
    assert fields["size"].items[0][0] == formspec.UNSET
    assert fields["parts"].widget == "tristate"
    assert fields["prompt"].shared == "prompt"


def test_collect_sends_only_what_was_set():
    raw = {"prompt": " a fox ", "seed": 3, "use_seed": False, "size": formspec.UNSET,
           "parts": formspec.UNSET, "quality": "full", "scale": 0.009999999776,
           "names": "a, ,b"}
    assert formspec.collect(OP, raw) == {"prompt": "a fox", "names": ["a", "b"]}
    raw.update(use_seed=True, size="1024", parts="OFF", quality="lite", scale=0.5)
    values = formspec.collect(OP, raw)
    assert values == {"prompt": "a fox", "seed": 3, "size": 1024, "parts": False,
                      "quality": "lite", "scale": 0.5, "names": ["a", "b"]}
    assert OP.validate({**values, "source": "x"})["size"] == 1024
