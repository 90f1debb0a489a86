"""What the benchmarks that run Conjure against the sandbox share: pointing the four services at
an in-process sandbox, and before/after figures in one run (``--against REV``: the same
benchmark run first on that revision of the checkout, then on this one, each in a fresh
process, with the sandbox of this checkout for both).

No bpy here: the comparing process only starts the two measuring ones.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The environment variables that point each sandbox service's client at it (README, "Keys").
ENVIRONMENT = {
    "thrixel": ("CONJURE_THRIXEL_URL", "CONJURE_THRIXEL_KEY"),
    "tripo": ("CONJURE_TRIPO_URL", "CONJURE_TRIPO_KEY"),
    "pixazo": ("CONJURE_PIXAZO_URL", "CONJURE_PIXAZO_KEY"),
    "voxelai": ("CONJURE_VOXELAI_URL", "CONJURE_VOXELAI_TOKEN"),
}
#: The line a measuring process ends with: its figures as JSON, for the comparing process.
RESULT = "BENCH_RESULT="


def environment(sandbox: Any) -> dict[str, str]:
    """The variables that send every service's requests to ``sandbox`` with its default keys."""
    env = {}
    for service, (url_name, key_name) in ENVIRONMENT.items():
        env[url_name] = sandbox.service_url(service)
        env[key_name] = sandbox.default_keys[service]
    return env


def options(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--against", metavar="REV",
                        help="also measure this git revision of the checkout (before/after)")
    parser.add_argument("--extension", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--label", default="this checkout", help=argparse.SUPPRESS)
    return parser


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def report(figures: dict[str, Any]) -> None:
    """End a measuring process: its figures, for a comparing process to read."""
    print(RESULT + json.dumps(figures), flush=True)


def export_revision(rev: str) -> Path:
    """A plain copy of the checkout at ``rev`` in a scratch folder (no git worktree is made)."""
    folder = Path(tempfile.mkdtemp(prefix="conjure-rev-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def measure(script: Path, argv: list[str], extension: Path, label: str) -> dict[str, Any]:
    """Run ``script`` in a fresh process on the extension at ``extension``; its output is shown
    as it comes, and its figures are returned."""
    command = [sys.executable, str(script), *argv, "--extension", str(extension),
               "--label", label]
    print(f"== {label}", flush=True)
    figures: dict[str, Any] = {}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(RESULT):
                figures = json.loads(line[len(RESULT):])
            else:
                print(line, end="", flush=True)
    if process.returncode != 0 or not figures:
        raise SystemExit(f"{script.name} on {label} failed (exit {process.returncode})")
    return figures


def compare(script: Path, argv: list[str], rev: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The benchmark's figures on ``rev`` (before) and on this checkout (after)."""
    folder = export_revision(rev)
    try:
        before = measure(script, argv, folder, f"before ({rev})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    after = measure(script, argv, ROOT, "after (this checkout)")
    return before, after


def run(script: Path, args: argparse.Namespace, measure_here: Callable[[argparse.Namespace], int],
        table: Callable[[str, dict[str, Any]], None]) -> int:
    """A benchmark's main: measure this checkout, or with ``--against REV`` that revision and
    this checkout one after the other, each printed by ``table``."""
    if not args.against:
        return measure_here(args)
    before, after = compare(script, own_arguments(sys.argv[1:]), args.against)
    table(f"before ({args.against})", before)
    table("after (this checkout)", after)
    return 0


def own_arguments(argv: list[str]) -> list[str]:
    """``argv`` without ``--against REV`` (what the measuring processes are given)."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--against":
            skip = True
        elif not arg.startswith("--against="):
            kept.append(arg)
    return kept
