import threading
import time

from conjure import formspec, uistatus
from conjure.providers.params import Operation, Param


def test_durations_and_timing():
    assert [uistatus.duration(s) for s in (5, 65, 3725)] == ["5s", "1m 05s", "1h 02m"]
    assert uistatus.timing("running", 100, 0, 30, now=175) == "1m 15s · ETA 30s"
    assert uistatus.timing("ready", 100, 160, 30, now=9999) == "1m 00s"
    assert uistatus.timing("running", 0, 0, -1) == ""


def test_state_icons_cover_every_state_and_unknown_text():
    assert uistatus.state_icon("failed") == "ERROR"
    assert uistatus.state_icon("nonsense") == "QUESTION"


def test_clear_plan_deletes_only_cache_and_imported_results(tmp_path):
    for name in ("results/tripo/a/m.glb", "results/tripo/b/m.glb", "cache/inputs/p.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * 10)
    plan = uistatus.clear_plan(tmp_path, [("tripo", "a")])
    assert plan.size == 20
    assert uistatus.clear(plan) == 20
    assert not (tmp_path / "results/tripo/a").exists() and not (tmp_path / "cache").exists()
    assert (tmp_path / "results/tripo/b/m.glb").is_file()


def test_background_never_waits_and_reports_errors():
    gate = threading.Event()

    def slow():
        gate.wait(5)
        return "1200 credits"

    bg = uistatus.Background()
    start = time.monotonic()
    assert bg.get("k", slow).pending and time.monotonic() - start < 0.5
    gate.set()
    while bg.peek("k").pending:
        time.sleep(0.01)
    assert (bg.peek("k").text, bg.peek("k").ok) == ("1200 credits", True)

    def boom():
        raise RuntimeError("key refused")
    bg.get("k", boom, refresh=True)
    while bg.peek("k").pending:
        time.sleep(0.01)
    assert (bg.peek("k").text, bg.peek("k").ok) == ("key refused", False)


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
