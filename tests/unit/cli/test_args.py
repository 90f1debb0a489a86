import pytest

from support import package

package.install()

from conjure.cli import args  # noqa: E402


def test_generate_arguments():
    ns = args.parse(["generate", "--provider", "tripo", "--prompt", "a gargoyle",
                     "--options", '{"face_limit": 5000}', "--output", "out/scene.blend"])
    assert (ns.command, ns.provider, ns.prompt, ns.options, ns.output) == (
        "generate", "TRIPO", "a gargoyle", '{"face_limit": 5000}', "out/scene.blend")
    assert ns.candidate == 0 and ns.image == "" and ns.timeout is None


@pytest.mark.parametrize("argv, message", [
    (["generate", "--provider", "NOPE", "--prompt", "x", "--output", "a.blend"], "invalid choice"),
    (["generate", "--provider", "TRIPO", "--output", "a.blend"], "--prompt, --image"),
    (["generate", "--provider", "TRIPO", "--prompt", "x", "--output", "a.obj"], ".blend or .glb"),
    (["generate", "--provider", "TRIPO", "--prompt", "x"], "--output"),
    (["batch", "rows.csv", "--output-dir", "d", "--concurrency", "0"], "at least 1"),
    (["edit", "abc", "--parts", "lid"], "--request"),
    (["edit", "abc", "--request", "  "], "must say what to change"),
    (["edit", "abc", "--request", "x", "--output", "a.fbx"], ".blend or .glb"),
    (["parts"], "job_id"),
    (["fly"], "invalid choice"),
    ([], "required"),
])
def test_bad_command_lines_raise_usage_errors_not_exit(argv, message):
    with pytest.raises(args.UsageError, match=message) as caught:
        args.parse(argv)
    assert caught.value.status == 2


def test_help_is_a_zero_status_usage_error():
    with pytest.raises(args.UsageError) as caught:
        args.parse(["--help"])
    assert caught.value.status == 0


def test_batch_jobs_import():
    ns = args.parse(["batch", "p.csv", "--concurrency", "4", "--output-dir", "out",
                     "--format", "glb"])
    assert (ns.csv, ns.concurrency, ns.output_dir, ns.format) == ("p.csv", 4, "out", "glb")
    assert args.parse(["jobs"]).command == "jobs"
    ns = args.parse(["import", "abc123", "--output", "x.blend"])
    assert (ns.command, ns.job_id, ns.output) == ("import", "abc123", "x.blend")


def test_parts_and_edit():
    assert (args.parse(["parts", "abc123"]).job_id) == "abc123"
    ns = args.parse(["edit", "abc123", "--request", "make the lid gold", "--parts",
                     "lid, hinge", "--output", "lid.glb"])
    assert (ns.command, ns.job_id, ns.request, ns.parts, ns.output, ns.timeout) == (
        "edit", "abc123", "make the lid gold", "lid, hinge", "lid.glb", None)
    assert args.parse(["edit", "abc", "--request", "x"]).output == ""


@pytest.mark.parametrize(("text", "caps"), [
    ("50", {"*": 50.0}),
    ("TRIPO=200,pixal3d=2.5", {"tripo": 200.0, "pixal3d": 2.5}),
    ("pixazo=1", {"pixal3d": 1.0}),  # 0.1's name for the service still works
    ("100,THRIXEL=20", {"*": 100.0, "thrixel": 20.0}),
])
def test_max_cost_is_one_figure_or_one_per_service(text, caps):
    ns = args.parse(["batch", "rows.csv", "--output-dir", "d", "--max-cost", text])
    assert ns.max_cost == caps
    assert args.parse(["batch", "rows.csv", "--output-dir", "d"]).max_cost is None


@pytest.mark.parametrize(("text", "message"), [
    ("lots", "give a number"), ("-1", "give a number"), ("MESHY=4", "unknown service 'MESHY'"),
    ("TRIPO=", "give a number"), ("nan", "give a number"),
])
def test_a_bad_max_cost_is_a_usage_error(text, message):
    with pytest.raises(args.UsageError, match=message):
        args.parse(["batch", "rows.csv", "--output-dir", "d", "--max-cost", text])


def test_jobs_cost():
    assert args.parse(["jobs", "--cost"]).cost is True
    assert args.parse(["jobs"]).cost is False


def test_library_switches_and_command():
    assert not args.parse(["batch", "p.csv", "--output-dir", "out"]).library
    assert args.parse(["batch", "p.csv", "--output-dir", "out", "--library"]).library
    assert args.parse(["generate", "--provider", "tripo", "--prompt", "x", "--output",
                       "a.blend", "--library"]).library
    ns = args.parse(["library"])
    assert (ns.command, ns.rebuild, ns.add) == ("library", False, [])
    ns = args.parse(["library", "--rebuild", "--add", "abc", "def"])
    assert (ns.rebuild, ns.add) == (True, ["abc", "def"])
