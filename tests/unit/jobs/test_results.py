import pytest

from conjure.jobs.results import (
    StopRequested,
    adopt_saved_folders,
    job_folder,
    remove_partials,
    safe_name,
    sniff,
    write_result,
)
from conjure.providers.errors import UnexpectedResponseError


@pytest.mark.parametrize(("head", "kind"), [
    (b"glTF\x02\x00\x00\x00", "glb"),
    (b"Kaydara FBX Binary  \x00\x1a\x00", "fbx"),
    (b"VOX \x96\x00\x00\x00", "vox"),
    (b"PK\x03\x04\x14\x00", "zip"),
    (b"\x89PNG\r\n\x1a\n\x00", "png"),
    (b"\xff\xd8\xff\xe0", "jpg"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
    (b'{"detail": "not found"}', None),
    (b"<html>", None),
    (b"", None),
])
def test_sniff(head, kind):
    assert sniff(head) == kind


@pytest.mark.parametrize(("name", "kind", "expected"), [
    ("model.glb", "glb", "model.glb"),
    ("../../etc/passwd", "glb", "passwd.glb"),
    ("..\\..\\win.ini", "fbx", "win.ini.fbx"),
    ("/abs/path/Cart Final.GLB", "glb", "Cart Final.glb"),
    ("...", "vox", "result.vox"),
    ("", "png", "result.png"),
    ("x.jpeg", "jpg", "x.jpeg"),
    ("a\x00b;rm -rf.glb", "glb", "a_b_rm -rf.glb"),
])
def test_safe_name_stays_in_its_folder(name, kind, expected):
    assert safe_name(name, kind) == expected


def test_job_folder_cannot_escape(tmp_path):
    folder = job_folder(tmp_path, "../x", "../../y")
    assert folder.resolve().is_relative_to((tmp_path / "results").resolve())


def test_write_result_renames_a_checked_file(tmp_path):
    path = write_result([b"glTF", b"\x02" * 100], tmp_path, "../m.glb", kinds={"glb"})
    assert path == tmp_path / "m.glb"
    assert path.read_bytes() == b"glTF" + b"\x02" * 100
    assert list(tmp_path.iterdir()) == [path]


def test_json_body_is_never_saved_as_a_model(tmp_path):
    with pytest.raises(UnexpectedResponseError, match="not glb"):
        write_result([b'{"error": "expired"}'], tmp_path, "m.glb", kinds={"glb"})
    assert list(tmp_path.iterdir()) == []


def test_wrong_kind_is_refused(tmp_path):
    with pytest.raises(UnexpectedResponseError):
        write_result([b"VOX \x96\x00"], tmp_path, "m.glb", kinds={"glb"})


def test_stop_leaves_nothing(tmp_path):
    stop = iter([False, True])
    with pytest.raises(StopRequested):
        write_result([b"glTF", b"x", b"y"], tmp_path, "m.glb", should_stop=lambda: next(stop))
    assert list(tmp_path.iterdir()) == []


def test_broken_stream_leaves_nothing(tmp_path):
    def chunks():
        yield b"glTF"
        raise ConnectionResetError("reset")

    with pytest.raises(ConnectionResetError):
        write_result(chunks(), tmp_path, "m.glb")
    assert list(tmp_path.iterdir()) == []


def test_remove_partials_keeps_results(tmp_path):
    (tmp_path / ".abc.part").write_bytes(b"half")
    (tmp_path / "m.glb").write_bytes(b"glTF")
    remove_partials(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.glb"]


def binary_stl(triangles):
    return b"any header".ljust(80, b" ") + triangles.to_bytes(4, "little") + b"\x00" * (
        50 * triangles)


@pytest.mark.parametrize(("data", "kind"), [
    (binary_stl(0), "stl"),
    (binary_stl(3), "stl"),
    (b"solid cube\n  facet normal 0 0 1\n", "stl"),
    (binary_stl(3)[:-1], None),  # length does not match the triangle count
    (b'{"error": "' + b"x" * 200 + b'"}', None),
    (b"solid but not a mesh", None),
    (b"glTF\x02\x00\x00\x00" + b"\x00" * 100, "glb"),
])
def test_whole_file_sniffing_recognises_stl_by_its_length(data, kind):
    from conjure.jobs.results import sniff_whole
    assert sniff_whole(data[:84], len(data)) == kind


def test_an_stl_result_is_saved_under_its_name(tmp_path):
    data = binary_stl(2)
    path = write_result([data[:50], data[50:]], tmp_path, "model.stl", kinds={"stl"})
    assert path.name == "model.stl" and path.read_bytes() == data


@pytest.mark.parametrize(("name", "kind", "expected"), [
    ("CON", "glb", "_CON.glb"),
    ("nul.glb", "glb", "_nul.glb"),
    ("Aux.tar.fbx", "fbx", "_Aux.tar.fbx"),
    ("com1.vox", "vox", "_com1.vox"),
    ("LPT9", "png", "_LPT9.png"),
    ("prn .glb", "glb", "_prn.glb"),
    ("console.glb", "glb", "console.glb"),
    ("com10.glb", "glb", "com10.glb"),
])
def test_names_windows_reserves_for_devices_are_not_kept(name, kind, expected):
    assert safe_name(name, kind) == expected


def test_two_results_of_one_job_with_the_same_name_are_both_kept(tmp_path):
    first = write_result([b"glTF", b"\x01" * 10], tmp_path, "output.glb", kinds={"glb"})
    second = write_result([b"glTF", b"\x02" * 20], tmp_path, "x/output.glb", kinds={"glb"})
    assert (first.name, second.name) == ("output.glb", "output-2.glb")
    assert first.read_bytes() == b"glTF" + b"\x01" * 10
    assert second.read_bytes() == b"glTF" + b"\x02" * 20


def test_a_download_done_again_lands_on_the_same_files(tmp_path):
    results = [[b"glTF", b"\x01" * 10], [b"glTF", b"\x02" * 20], [b"glTF", b"\x03" * 30]]
    first = [write_result(chunks, tmp_path, "output.glb") for chunks in results]
    again = [write_result(chunks, tmp_path, "output.glb") for chunks in results]
    assert again == first
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "output-2.glb", "output-3.glb", "output.glb"]


def test_results_filed_under_an_id_of_0_1_move_to_todays_folder(tmp_path):
    old = tmp_path / "results" / "pixazo"
    (old / "job1").mkdir(parents=True)
    (old / "job1" / "output.glb").write_bytes(b"glTF")
    (tmp_path / "results" / "pixal3d" / "job2").mkdir(parents=True)
    adopt_saved_folders(tmp_path)
    assert (job_folder(tmp_path, "pixal3d", "job1") / "output.glb").read_bytes() == b"glTF"
    assert (tmp_path / "results" / "pixal3d" / "job2").is_dir()
    assert not old.exists()
    adopt_saved_folders(tmp_path)  # nothing left to move
