"""``python -m sandbox``: serve the four emulated services on one loopback origin."""

from __future__ import annotations

import argparse
import signal
import sys

from .faults import FAULTS, FaultSpecError
from .server import Sandbox
from .state import DEFAULT_KEYS, SERVICES


def _key_option(text: str) -> tuple[str, str, str | None]:
    """SERVICE:KEY or SERVICE:KEY:FAULTS (faults as in X-Sandbox-Fault)."""
    parts = text.split(":", 2)
    if len(parts) < 2 or parts[0] not in SERVICES or not parts[1]:
        raise argparse.ArgumentTypeError(
            f"expected SERVICE:KEY[:FAULTS] with SERVICE one of {', '.join(SERVICES)}"
        )
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local emulator of Thrixel, Tripo3D, Pixazo Pixal3D and Voxel-AI.",
        epilog="Faults: " + ", ".join(sorted(FAULTS)),
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="port (0 = any free port)")
    parser.add_argument(
        "--speed",
        choices=("fast", "real"),
        default="real",
        help="fast: jobs finish in well under a second; real: typical timings",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for ids and generated content")
    parser.add_argument("--models", metavar="DIR", help="serve the GLB files in DIR in turn")
    parser.add_argument(
        "--key",
        action="append",
        type=_key_option,
        default=[],
        metavar="SERVICE:KEY[:FAULTS]",
        help="accept one more key (repeatable)",
    )
    parser.add_argument(
        "--pixazo-allow-data-uri",
        action="store_true",
        help="let Pixazo accept data: URIs as image_url",
    )
    parser.add_argument(
        "--webhooks-allow-http",
        action="store_true",
        help="let Pixazo deliver webhooks to plain http:// URLs",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def _sandbox(args: argparse.Namespace) -> Sandbox:
    sandbox = Sandbox(
        host=args.host,
        port=args.port,
        speed=args.speed,
        seed=args.seed,
        models_dir=args.models,
        verbose=args.verbose,
        pixazo_allow_data_uri=args.pixazo_allow_data_uri,
        webhooks_allow_http=args.webhooks_allow_http,
    )
    for service, key, faults in args.key:
        sandbox.add_key(service, key, faults=faults)
    return sandbox


def _announce(sandbox: Sandbox, speed: str) -> None:
    # The first line is what scripts read to find the sandbox.
    print(f"SANDBOX_URL={sandbox.url}", flush=True)
    for service in SERVICES:
        print(
            f"  {service:8} {sandbox.service_url(service)}  key: {DEFAULT_KEYS[service]}",
            flush=True,
        )
    print(f"  models   {sandbox.models.source}; speed {speed}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        sandbox = _sandbox(args)
    except (ValueError, OSError, FaultSpecError) as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    _announce(sandbox, args.speed)

    def stop(signum: int, frame: object) -> None:
        sandbox.shutdown_from_signal()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        sandbox.serve_forever()
    finally:
        sandbox.stop()
    print("sandbox: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
