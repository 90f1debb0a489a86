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
from conjure.providers.prices import amount_words  # noqa: E402
from conjure.providers.services import SERVICES  # noqa: E402

TARGET = ROOT / "docs" / "operations.md"


def _param(p) -> str:
    text = f"`{p.name}`"
    if p.required:
        text += " (required)"
    return text


def _price(op) -> str:
    """The base price at the documented defaults, and what options add on top."""
    if not op.paid:
        return "free"
    if op.price is None:
        return "not declared"
    defaults = {p.name: p.default for p in op.params if p.default is not None}
    base = op.price.base(defaults)
    text = "unknown" if base is None else amount_words(base, op.price.unit) + " at the defaults"
    if op.price.live_key is not None:
        text += " (Thrixel's live figure wins)"
    return "; ".join([text, *(f"{s.label} +{s.amount:g}" for s in op.price.surcharges)])


def _sources(ops) -> list[str]:
    seen = []
    for op in ops:
        if op.price is not None and (op.price.source, op.price.dated) not in seen:
            seen.append((op.price.source, op.price.dated))
    return [f"Prices in {ops[0].price.unit if ops[0].price else 'its unit'}: "
            + "; ".join(f"{source}, {dated}" for source, dated in seen) + "."] if seen else []


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
        lines += [*_sources([op for op in ops if op.price is not None]), ""]
        lines += ["| operation | starts from | status | typical price | parameters |",
                  "|---|---|---|---|---|"]
        for op in ops:
            params = ", ".join(_param(p) for p in op.params) or "—"
            status = "supported" + ("" if op.paid else " (free)")
            lines.append(f"| `{op.name}` — {op.label} | {op.mode} | {status} | {_price(op)} "
                         f"| {params} |")
        for name, reason in unsupported.items():
            lines.append(f"| `{name}` | — | not supported: {reason} | — | — |")
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
