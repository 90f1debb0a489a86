"""Argument parsing for ``blender -c conjure``. bpy-free."""

from __future__ import annotations

import argparse

from ..providers.services import SERVICES

PROG = "blender -c conjure"
PROVIDERS = [s.public_name for s in SERVICES]


class UsageError(Exception):
    """Bad command line; the text is argparse's message plus the usage line."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    # argparse prints and exits on errors; inside Blender the command must return a code.
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.format_usage()}{self.prog}: error: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        raise UsageError(message or "", status)


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog=PROG, description="Generate 3D models with Conjure from the command "
                                         "line (the extension's preferences and keys apply)")
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser("generate", help="one model, saved to --output")
    gen.add_argument("--provider", required=True, type=str.upper, choices=PROVIDERS)
    gen.add_argument("--prompt", default="")
    gen.add_argument("--negative-prompt", default="")
    gen.add_argument("--mode", default="", help="operation name or mode word (text, image, …)")
    gen.add_argument("--image", default="", help="a local picture")
    gen.add_argument("--image-url", default="", help="a public https picture")
    gen.add_argument("--options", default="", help='JSON object, e.g. {"face_limit": 5000}')
    gen.add_argument("--candidate", type=int, default=0,
                     help="Voxel-AI: the candidate picture to voxelize (0-2)")
    gen.add_argument("--output", required=True, help="a .blend or .glb file to write")
    gen.add_argument("--timeout", type=float, default=None, help="seconds to wait at most")

    batch = sub.add_parser("batch", help="one model per CSV row (provider,prompt[,mode,options])")
    batch.add_argument("csv", help="CSV file with a header row")
    batch.add_argument("--concurrency", type=int, default=None,
                       help="rows at once; by default as many as each service allows at once")
    batch.add_argument("--output-dir", required=True)
    batch.add_argument("--format", choices=("blend", "glb"), default="blend")
    batch.add_argument("--timeout", type=float, default=None,
                       help="seconds to wait for the whole batch at most")

    sub.add_parser("jobs", help="list the jobs in the journal")

    imp = sub.add_parser("import", help="import a finished job (from the local copy)")
    imp.add_argument("job_id")
    imp.add_argument("--output", default="", help="a .blend or .glb file to write")
    return top


def parse(argv: list[str]) -> argparse.Namespace:
    """Parsed arguments; ``UsageError`` (with argparse's text) on a bad command line."""
    ns = parser().parse_args(argv)
    if getattr(ns, "concurrency", None) is not None and ns.concurrency < 1:
        raise UsageError(f"{PROG} batch: error: --concurrency must be at least 1")
    for name in ("output",):
        value = getattr(ns, name, "")
        if ns.command == "generate" and not value.lower().endswith((".blend", ".glb")):
            raise UsageError(f"{PROG} generate: error: --output must end in .blend or .glb")
    if ns.command == "generate" and not (ns.prompt or ns.image or ns.image_url):
        raise UsageError(f"{PROG} generate: error: give --prompt, --image or --image-url")
    return ns
