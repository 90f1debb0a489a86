"""Writes docs/operations.md: every operation of every service and whether Conjure supports it,
from the services' own declarations (``OPERATIONS`` and ``UNSUPPORTED`` in
providers/<service>/operations.py).

    python tools/operations_doc.py          # rewrite the file
    python tools/operations_doc.py --check  # exit 1 when the file is out of date
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import package  # noqa: E402

package.install()

from conjure.providers import registry  # noqa: E402
from conjure.providers.services import SERVICES  # noqa: E402

TARGET = ROOT / "docs" / "operations.md"


def _param(p) -> str:
    text = f"`{p.name}`"
    if p.required:
        text += " (required)"
    return text


def render() -> str:
    lines = [
        "# Operations",
        "",
        "Every operation of the four services and whether Conjure supports it. This page is",
        "generated from the services' declarations in `providers/<service>/operations.py`",
        "by `tools/operations_doc.py`; a unit test fails when it is out of date.",
        "",
    ]
    for service in SERVICES:
        lines += [f"## {service.label}", ""]
        ops = registry.operations(service.id)
        unsupported = registry.unsupported(service.id)
        lines += ["| operation | starts from | status | parameters |", "|---|---|---|---|"]
        for op in ops:
            params = ", ".join(_param(p) for p in op.params) or "—"
            status = "supported" + ("" if op.paid else " (free)")
            lines.append(f"| `{op.name}` — {op.label} | {op.mode} | {status} | {params} |")
        for name, reason in unsupported.items():
            lines.append(f"| `{name}` | — | not supported: {reason} | — |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run python tools/operations_doc.py")
            return 1
        return 0
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
