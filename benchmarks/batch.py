"""How a batch of Tripo3D jobs scales: twelve rows against one, at the sandbox's fast pace.

    python benchmarks/batch.py [--rounds 3] [--rows 12] [--against REV]
    # with a bpy environment's python; --against REV: before (REV) and after in one run

Runs ``blender -c conjure batch`` (its entry point, in this process) over a CSV of one Tripo3D
row, then of ``--rows`` rows with the default settings, then with ``--concurrency`` equal to
the row count, against the sandbox in this process at its fast pace; each model is imported
into a fresh file and saved as a .blend, as the command line does. Prints the median wall time
of each over ``--rounds`` rounds and the ratio to the single row.

Target (issue 14): the twelve rows take <= 1.3x the single row's time with default settings.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sandboxed import (
    environment,
    median,
    options,
    report,
    run,
)
from sandbox import start_sandbox
from tools.blender_dev import enable_extension, exit_now


def write_rows(path: Path, count: int, tag: str) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["provider", "prompt"])
        for n in range(count):
            writer.writerow(["TRIPO", f"a stone gargoyle {tag} no. {n + 1}"])


def run_batch(command_line: Any, folder: Path, rows: int, concurrency: int | None,
              tag: str) -> float:
    """Seconds one ``batch`` command takes; raises when a row failed."""
    table = folder / f"{tag}.csv"
    write_rows(table, rows, tag)
    argv = ["batch", str(table), "--output-dir", str(folder / tag)]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    said = io.StringIO()
    began = time.perf_counter()
    with contextlib.redirect_stdout(said):
        status = command_line.main(argv)
    took = time.perf_counter() - began
    if status != 0:
        raise SystemExit(f"batch {tag} ended with {status}:\n{said.getvalue()[-2000:]}")
    return took


def measure(args: Any) -> int:
    runs: dict[str, list[float]] = {"one row": [], f"{args.rows} rows, default settings": [],
                                    f"{args.rows} rows, --concurrency {args.rows}": []}
    with start_sandbox(speed="fast") as sandbox, tempfile.TemporaryDirectory() as scratch:
        os.environ.update(environment(sandbox))
        conjure = enable_extension(online=True, root=args.extension)
        command_line = import_module(f"{conjure.__name__}.blender.command_line")
        session = import_module(f"{conjure.__name__}.blender.session")
        folder = Path(scratch)
        for n in range(args.rounds):
            single, default, wide = runs.values()
            single.append(run_batch(command_line, folder, 1, None, f"one-{n}"))
            default.append(run_batch(command_line, folder, args.rows, None, f"default-{n}"))
            wide.append(run_batch(command_line, folder, args.rows, args.rows, f"wide-{n}"))
        session.shutdown()
    results = {name: median(times) for name, times in runs.items()}
    table(args.label, results)
    report(results)
    return 0


def table(label: str, results: dict[str, Any]) -> None:
    single = next(iter(results.values()))
    print(f"-- {label}: median wall time of each batch command")
    for name, took in results.items():
        print(f"{name:32} {took:7.2f} s  {took / single:5.2f}x the single row")


def main() -> int:
    parser = options(__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=12)
    return run(Path(__file__), parser.parse_args(), measure, table)


if __name__ == "__main__":
    exit_now(main())
