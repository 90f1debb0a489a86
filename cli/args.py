"""Argument parsing for ``blender -c conjure``. bpy-free."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from ..providers.services import SERVICES, find
from ..workflow.cost import EVERY_SERVICE

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


def max_cost(text: str) -> dict[str, float]:
    """``--max-cost``: ``N`` (for each service, in its own unit: credits, Cubes, dollars,
    tokens) or ``SERVICE=N[,SERVICE=N...]``, e.g. ``TRIPO=200,PIXAL3D=2``."""
    caps: dict[str, float] = {}
    for part in text.split(","):
        name, _, figure = part.rpartition("=")
        service = find(name) if name.strip() else None
        if name.strip() and service is None:
            raise argparse.ArgumentTypeError(
                f"unknown service {name.strip()!r} in {text!r}; use one of {', '.join(PROVIDERS)}")
        try:
            amount = float(figure)
        except ValueError:
            amount = -1.0
        if amount < 0 or amount != amount:
            raise argparse.ArgumentTypeError(
                f"{text!r}: give a number (each service in its own unit) or SERVICE=NUMBER pairs "
                "such as TRIPO=200,PIXAL3D=2")
        caps[service.id if service else EVERY_SERVICE] = amount
    return caps


def caps(value: float | str | Mapping[str, float] | None) -> dict[str, float]:
    """A spending cap as the Python API takes it: a number (each service in its own unit),
    ``--max-cost``'s text, or a mapping of service names to numbers; ``ValueError`` when it is
    none of these."""
    if value is None:
        return {}
    try:
        if isinstance(value, Mapping):
            return max_cost(",".join(f"{name}={amount}" for name, amount in value.items()))
        return max_cost(str(value))
    except argparse.ArgumentTypeError as exc:
        raise ValueError(f"max_cost: {exc}") from None


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
    gen.add_argument("--library", action="store_true",
                     help="also file the result in the Conjure asset library")

    batch = sub.add_parser("batch", help="one model per CSV row (provider,prompt[,mode,options])")
    batch.add_argument("csv", help="CSV file with a header row")
    batch.add_argument("--concurrency", type=int, default=None,
                       help="rows at once; by default as many as each service allows at once")
    batch.add_argument("--output-dir", required=True)
    batch.add_argument("--format", choices=("blend", "glb"), default="blend")
    batch.add_argument("--timeout", type=float, default=None,
                       help="seconds to wait for the whole batch at most")
    batch.add_argument("--max-cost", type=max_cost, default=None, metavar="N|SERVICE=N,...",
                       help="stop sending rows before the estimates would pass N in each "
                            "service's own unit (credits, Cubes, dollars, tokens), or per "
                            "service: TRIPO=200,PIXAL3D=2; a re-run sends what was left")
    batch.add_argument("--library", action="store_true",
                       help="also file every result in the Conjure asset library, in a "
                            "catalog named after the CSV file")

    jobs = sub.add_parser("jobs", help="list the jobs in the journal")
    jobs.add_argument("--cost", action="store_true",
                      help="what the services charged, per service and day")

    imp = sub.add_parser("import", help="import a finished job (from the local copy)")
    imp.add_argument("job_id")
    imp.add_argument("--output", default="", help="a .blend or .glb file to write")

    library = sub.add_parser("library", help="the Conjure asset library: where it is, what "
                                             "is missing; file jobs in it")
    library.add_argument("--rebuild", action="store_true",
                         help="write every missing asset again from the jobs' result folders")
    library.add_argument("--add", nargs="+", default=[], metavar="JOB_ID",
                         help="file these finished jobs in the library")

    parts = sub.add_parser("parts", help="a Thrixel model's parts, with their face counts")
    parts.add_argument("job_id")

    edit = sub.add_parser("edit", help="change a Thrixel model in words, only the named "
                                       "parts (the others stay identical)")
    edit.add_argument("job_id", help="the model's job")
    edit.add_argument("--request", required=True, help="what to change")
    edit.add_argument("--parts", default="", help="comma-separated part names; none: the "
                                                  "whole model")
    edit.add_argument("--output", default="", help="a .blend or .glb file to write")
    edit.add_argument("--timeout", type=float, default=None, help="seconds to wait at most")
    return top


def parse(argv: list[str]) -> argparse.Namespace:
    """Parsed arguments; ``UsageError`` (with argparse's text) on a bad command line."""
    ns = parser().parse_args(argv)
    if getattr(ns, "concurrency", None) is not None and ns.concurrency < 1:
        raise UsageError(f"{PROG} batch: error: --concurrency must be at least 1")
    output = getattr(ns, "output", "")
    if (ns.command == "generate" or (ns.command == "edit" and output)) and \
            not output.lower().endswith((".blend", ".glb")):
        raise UsageError(f"{PROG} {ns.command}: error: --output must end in .blend or .glb")
    if ns.command == "edit" and not ns.request.strip():
        raise UsageError(f"{PROG} edit: error: --request must say what to change")
    if ns.command == "generate" and not (ns.prompt or ns.image or ns.image_url):
        raise UsageError(f"{PROG} generate: error: give --prompt, --image or --image-url")
    return ns
