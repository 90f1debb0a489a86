"""Download limits against a real loopback server: size per kind (announced and sent), stalls,
the time limit, endless error pages; what is left on disk and how much memory it took."""

import time
import tracemalloc

import pytest

from conjure.jobs.results import MB, SizeLimits, write_result
from conjure.providers import errors
from conjure.providers.http import HttpClient, NetworkSettings
from support.file_server import FileServer

PICTURES = {"png", "jpg", "webp"}
#: The most ``HttpClient.stream`` hands over at once.
CHUNK = 1 << 20


@pytest.fixture
def server():
    with FileServer() as running:
        yield running


class Part:
    """Records each size the ``.part`` file had as chunks were written (``write_result``'s
    checkpoint after each chunk)."""

    def __init__(self, folder):
        self.folder = folder
        self.sizes = []

    def __call__(self, point):
        if point == "download-chunk":
            self.sizes.extend(p.stat().st_size for p in self.folder.glob("*.part"))


def download(server, route, part, *, settings=None, **kwargs):
    """``write_result`` of the server's ``route`` through a fresh client."""
    http = HttpClient("svc", settings or NetworkSettings(max_retries=0))
    name = route.rpartition("/")[2].partition("?")[0]
    return write_result(http.stream(f"{server.url}/{route}"), part.folder, name,
                        checkpoint=part, **kwargs)


@pytest.fixture
def part(tmp_path):
    return Part(tmp_path)


def test_an_announced_size_over_the_limit_is_refused_before_a_byte_is_written(server, part,
                                                                              tmp_path):
    start = time.monotonic()
    with pytest.raises(errors.DownloadLimitError) as refused:
        download(server, f"announce/m.glb?size={10_000 * MB}", part, kinds={"glb"})
    # The server sends four bytes and then nothing: reading on would have hung until a guard.
    assert time.monotonic() - start < 5
    assert part.sizes == []
    assert list(tmp_path.iterdir()) == []
    text = str(refused.value)
    assert "m.glb is 10,000 MB, more than the 2,000 MB a model may be" in text
    assert "raise Largest Model (Edit > Preferences > Add-ons > Conjure > Downloads)" in text
    assert refused.value.code == "download_limit"


def test_a_picture_is_held_to_the_picture_limit(server, part, tmp_path):
    with pytest.raises(errors.DownloadLimitError, match=r"a picture may be.*Largest Picture"):
        download(server, f"announce/c.png?size={300 * MB}", part, kinds=PICTURES)
    # A file of either kind: the larger limit holds until its first bytes say it is a picture.
    limits = SizeLimits(models=50 * MB, pictures=2 * MB)
    with pytest.raises(errors.DownloadLimitError, match=r"c\.png was stopped at the 2 MB a "
                                                        "picture may be"):
        download(server, "endless/c.png", part, limits=limits)
    assert 2 * MB - CHUNK < max(part.sizes) <= 2 * MB
    assert list(tmp_path.iterdir()) == []


def test_an_endless_body_is_stopped_at_the_limit_with_bounded_memory(server, part, tmp_path):
    limits = SizeLimits(models=40 * MB)
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(errors.DownloadLimitError) as stopped:
            download(server, "endless/m.glb", part, kinds={"glb"}, limits=limits)
        seconds = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "m.glb was stopped at the 40 MB a model may be; raise Largest Model" in str(
        stopped.value)
    # Never more than the limit on disk (stopped within a chunk of it), nothing once stopped.
    assert 40 * MB - CHUNK < max(part.sizes) <= 40 * MB
    assert list(tmp_path.iterdir()) == []
    assert peak < 4 * MB, f"{peak / MB:.1f} MB held while streaming 40 MB"
    assert seconds < 30


def test_a_trickle_is_a_stall(server, part, tmp_path):
    # 100 bytes every 50 ms keeps every read well inside its timeout, and never ends.
    settings = NetworkSettings(max_retries=0, download_stall_s=1.0)
    start = time.monotonic()
    with pytest.raises(errors.TransientServiceError) as stalled:
        download(server, "trickle/m.glb?every=0.05", part, settings=settings)
    assert 1.0 <= time.monotonic() - start < 10
    assert "stalled: less than 64 KB arrived in 1 s (Stall Timeout" in str(stalled.value)
    assert not isinstance(stalled.value, errors.DownloadLimitError)  # tried again later
    assert list(tmp_path.iterdir()) == []


def test_a_silent_body_is_a_stall_after_the_stall_time(server, part, tmp_path):
    settings = NetworkSettings(max_retries=0, read_timeout=60.0, download_stall_s=1.0)
    start = time.monotonic()
    with pytest.raises(errors.TransientServiceError, match="nothing arrived for 1 s "
                                                           r"\(Stall Timeout"):
        download(server, "silent/m.glb", part, settings=settings)
    assert time.monotonic() - start < 10
    assert list(tmp_path.iterdir()) == []


def test_a_steady_download_past_the_time_limit_fails(server, part, tmp_path):
    settings = NetworkSettings(max_retries=0, download_time_s=1.0)
    start = time.monotonic()
    with pytest.raises(errors.DownloadLimitError, match="took longer than the time limit of "
                                                        r"1 s; raise Time Limit \(Edit"):
        download(server, "trickle/m.glb?every=0.01", part, settings=settings)
    assert time.monotonic() - start < 10
    assert list(tmp_path.iterdir()) == []


def test_a_file_within_the_limits_is_saved_whole(server, part, tmp_path):
    limits = SizeLimits(models=3 * MB)  # exactly its size
    path = download(server, f"file/m.glb?size={3 * MB}", part, kinds={"glb"}, limits=limits)
    data = path.read_bytes()
    assert path.name == "m.glb" and len(data) == 3 * MB and data[:4] == b"glTF"
    assert [p.name for p in tmp_path.iterdir()] == ["m.glb"]


def test_an_endless_error_page_is_read_only_in_part(server):
    http = HttpClient("svc", NetworkSettings(max_retries=0))
    tracemalloc.start()
    try:
        with pytest.raises(errors.TransientServiceError) as failed:
            http.stream(f"{server.url}/error")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert failed.value.status == 500
    assert peak < 2 * MB
