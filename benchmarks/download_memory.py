"""Peak memory growth while the engine streams a 100 MB result from a loopback server.

    python benchmarks/download_memory.py [MB]      # run with the dev environment's python
    python benchmarks/download_memory.py endless   # a body that never ends, stopped at the limit

The server runs in a child process so its buffers do not count. The download goes through the
same path as every job's result: ``HttpClient.stream`` into ``jobs.results.write_result``
(``.part`` file, magic-byte check, atomic rename). Target: growth under 16 MB for 100 MB.
``endless`` streams a body without a length until the default size limit for a model stops it
(2 GB are written to a temporary folder, then removed).
"""

import resource
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support import package

package.install()

from conjure.jobs.results import SizeLimits, write_result  # noqa: E402
from conjure.providers.errors import DownloadLimitError  # noqa: E402
from conjure.providers.http import HttpClient  # noqa: E402

BLOCK = 1 << 20


def serve(size: int, ready) -> None:
    block = b"glTF" + b"\x00" * (BLOCK - 4)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            length = BLOCK if self.path.startswith("/small") else size
            endless = self.path.startswith("/endless")
            self.send_response(200)
            if not endless:  # HTTP/1.0: without a length, the body ends when the server closes
                self.send_header("Content-Length", str(length))
            self.end_headers()
            sent = 0
            try:
                while endless or sent < length:
                    piece = block[: min(BLOCK, length - sent)] if not endless else block
                    self.wfile.write(piece)
                    sent += len(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading

    server = HTTPServer(("127.0.0.1", 0), Handler)
    ready.send(server.server_address[1])
    server.serve_forever()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    endless = sys.argv[1:2] == ["endless"]
    size = int(float(sys.argv[1]) * 1e6) if len(sys.argv) > 1 and not endless else 100_000_000
    ctx = get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(size, child), daemon=True)
    server.start()
    port = parent.recv()
    http = HttpClient("bench")
    small = f"http://127.0.0.1:{port}/small.glb"
    with tempfile.TemporaryDirectory() as folder:
        # Warm up imports, connection pools and buffers with a body far smaller than the test.
        write_result(http.stream(small), Path(folder), "warm.glb")
        if endless:
            measure_endless(http, f"http://127.0.0.1:{port}/endless.glb", Path(folder))
        else:
            measure(http, f"http://127.0.0.1:{port}/model.glb", Path(folder))
    server.terminate()


def measure(http: HttpClient, url: str, folder: Path) -> None:
    before = peak_rss_mb()
    start = time.perf_counter()
    path = write_result(http.stream(url), folder, "model.glb")
    seconds = time.perf_counter() - start
    streamed = peak_rss_mb() - before
    written = path.stat().st_size
    # The same body read whole, to show the measurement sees growth when there is some.
    before = peak_rss_mb()
    body = http.request("GET", url).content
    whole = peak_rss_mb() - before
    del body
    print(f"streamed {written / 1e6:.0f} MB in {seconds:.2f} s "
          f"({written / 1e6 / seconds:.0f} MB/s)")
    print(f"peak RSS growth while streaming: {streamed:.1f} MB (target < 16 MB)")
    print(f"peak RSS growth reading the body whole, for comparison: {whole:.1f} MB")


def measure_endless(http: HttpClient, url: str, folder: Path) -> None:
    before = peak_rss_mb()
    start = time.perf_counter()
    try:
        write_result(http.stream(url), folder, "model.glb")
    except DownloadLimitError as stopped:
        print(f"stopped: {stopped}")
    else:
        raise SystemExit("an endless body was saved whole")
    seconds = time.perf_counter() - start
    left = [p.name for p in folder.iterdir() if p.name != "warm.glb"]
    limit = SizeLimits().models / 1e6
    print(f"endless body stopped at the {limit:.0f} MB limit after {seconds:.2f} s; "
          f"files left: {left or 'none'}")
    print(f"peak RSS growth while streaming: {peak_rss_mb() - before:.1f} MB (target < 16 MB)")


if __name__ == "__main__":
    main()
