"""Money, before and after: what a request will cost (the declared prices, a live figure where
the service lists one), what to say and ask before sending it, a batch's spending cap, and the
ledger of what the services charged, per service and day.

bpy-free: the panels, the operators, ``blender -c conjure`` and the batch read the same words.
Amounts stay in each service's own unit (Tripo3D credits, Thrixel Cubes, Pixazo dollars,
Voxel-AI tokens); nothing converts between them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..jobs.model import FINISHED, Job
from ..providers import registry
from ..providers.base import Funds
from ..providers.errors import InvalidRequestError
from ..providers.prices import Estimate, amount_words
from ..providers.services import BY_ID, SERVICES
from .requests import Request, candidate_operation

Live = Mapping[str, float]


def service_label(service_id: str) -> str:
    service = BY_ID.get(service_id)
    return service.label if service else service_id


# -- before sending --------------------------------------------------------------------------

def request_estimate(request: Request, live: Live | None = None) -> Estimate:
    """What ``request`` will cost. A free preview (Voxel-AI's candidate pictures) counts the
    model job its chosen picture becomes, with the options kept for it."""
    op = registry.operation(request.service, request.operation)
    estimate = op.estimate(request.params, live)
    step = candidate_operation(request.service, op.name) if not op.paid else None
    if step is not None:
        estimate = estimate.plus(step.estimate(request.later, live))
    return estimate


def source_words(estimate: Estimate) -> str:
    """Where the figure comes from, for a second line or a tooltip."""
    if estimate.live:
        return "The service's own price list, read just now"
    if not estimate.source:
        return estimate.note
    dated = "" if estimate.dated in ("", "undated") else f" of {estimate.dated}"
    return f"Figure{dated}: {estimate.source}" + (" (undated)" if estimate.dated == "undated"
                                                   else "")


@dataclass(frozen=True)
class BeforeSending:
    """What to say before a job is sent: the estimate and the balance it leaves (``text``),
    whether the balance is known to be short, and the question to ask (None: send at once)."""

    text: str
    short: bool = False
    question: str | None = None
    #: The estimate the words are about.
    estimate: Estimate | None = None


def before_sending(estimate: Estimate, funds: Funds | None,
                   ask_above: float | None = None) -> BeforeSending:
    """``ask_above``: the amount (in the estimate's unit) above which to ask; None never asks
    for the amount alone. A balance known to be short is always said, and asked about."""
    amount = estimate.amount
    if amount is None:
        text = "Price unknown" + (f": {estimate.note}" if estimate.note else "")
    elif amount == 0:
        text = "Free"
    else:
        words = estimate.words()
        text = words[:1].upper() + words[1:]
    left = None if funds is None or funds.amount is None or amount is None else \
        funds.amount - amount
    short = left is not None and left < 0
    if short and funds is not None and funds.amount is not None:
        assert amount is not None
        text += (f", but the balance is {amount_words(funds.amount, estimate.unit)}: "
                 f"{amount_words(amount - funds.amount, estimate.unit)} short")
        return BeforeSending(text, True, f"{text}. The service will most likely refuse it. "
                                         "Send anyway?", estimate)
    if left is not None and amount:
        text += f"; leaves {amount_words(left, estimate.unit)}"
    elif funds is not None and amount is None:
        text += f". Balance: {funds.line}"
    question = None
    if ask_above is not None and amount is not None and amount > ask_above:
        question = (f"This costs {estimate.words()}, above the "
                    f"{amount_words(ask_above, estimate.unit)} from which Conjure asks first "
                    "(see its preferences). Send it?")
    return BeforeSending(text, False, question, estimate)


# -- a batch's cap ---------------------------------------------------------------------------

#: The key of a cap that applies to every service (each in its own unit).
EVERY_SERVICE = "*"


@dataclass
class Budget:
    """A batch's spending cap per service, in each service's own unit (``EVERY_SERVICE`` for
    one figure that applies to each). It counts the estimates of the rows sent in this run."""

    caps: Mapping[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def cap(self, service_id: str) -> float | None:
        return self.caps.get(service_id, self.caps.get(EVERY_SERVICE))

    def refusal(self, service_id: str, estimate: Estimate) -> str | None:
        """Why a row costing ``estimate`` may not be sent under the cap, or None."""
        cap = self.cap(service_id)
        if cap is None or estimate.amount == 0:
            return None
        unit = estimate.unit or registry.unit(service_id)
        if estimate.amount is None:
            return (f"its price is unknown ({estimate.note or 'no figure'}), so the "
                    f"{amount_words(cap, unit)} cap for {service_label(service_id)} cannot be "
                    "kept")
        spent = self.spent.get(service_id, 0.0)
        if spent + estimate.amount > cap + 1e-9:
            return (f"{estimate.words()} more would pass the {amount_words(cap, unit)} cap for "
                    f"{service_label(service_id)} ({amount_words(spent, unit)} sent so far)")
        return None

    def take(self, service_id: str, estimate: Estimate) -> None:
        self.spent[service_id] = self.spent.get(service_id, 0.0) + (estimate.amount or 0.0)


def totals_words(estimates: Iterable[tuple[str, Estimate]]) -> str:
    """``about 90 credits (Tripo3D), about $0.84 (Pixal3D (Pixazo)); price unknown: 1 row
    (Thrixel)`` for a batch's rows (service id, estimate)."""
    sums: dict[str, float] = {}
    unknown: dict[str, int] = {}
    free = 0
    for service_id, estimate in estimates:
        if estimate.amount is None:
            unknown[service_id] = unknown.get(service_id, 0) + 1
        elif estimate.amount == 0:
            free += 1
        else:
            sums[service_id] = sums.get(service_id, 0.0) + estimate.amount
    parts = [f"about {amount_words(total, registry.unit(s))} ({service_label(s)})"
             for s, total in _in_service_order(sums)]
    text = ", ".join(parts) or "nothing paid"
    if free:
        text += f"; free: {free} row" + ("s" if free > 1 else "")
    if unknown:
        text += "; price unknown: " + ", ".join(
            f"{n} row{'s' if n > 1 else ''} ({service_label(s)})"
            for s, n in _in_service_order(unknown))
    return text


def _in_service_order(values: Mapping[str, float]) -> list[tuple[str, float]]:
    order = [s.id for s in SERVICES]
    return sorted(values.items(), key=lambda item: (order.index(item[0])
                                                    if item[0] in order else len(order), item[0]))


# -- after: the ledger -----------------------------------------------------------------------

def charge_words(job: Job) -> str:
    """What the job cost, for its details: ``Charged 30 credits``, ``Refunded: nothing
    spent``; empty while nothing is known (or it never reached the service)."""
    if job.refunded:
        return "Refunded: nothing spent"
    if job.charged is not None:
        if job.charged == 0:
            return "Nothing charged"
        return f"Charged {amount_words(job.charged, job.charge_unit)}"
    if _paid(job) and job.remote_id and job.state in FINISHED:
        return "The service did not say what it charged"
    return ""


@dataclass
class LedgerLine:
    """One service's spending on one day (the day its jobs were asked for, local time)."""

    day: str
    service: str
    unit: str
    spent: float = 0.0
    #: Jobs with a charge above nothing, refunded jobs, and finished paid jobs whose charge
    #: the service never said.
    charged_jobs: int = 0
    refunded: int = 0
    unreported: int = 0

    @property
    def spent_words(self) -> str:
        return amount_words(self.spent, self.unit)


def ledger(jobs: Iterable[Job]) -> list[LedgerLine]:
    """What the services charged, per day (newest first) and service (in their order)."""
    lines: dict[tuple[str, str], LedgerLine] = {}
    for job in jobs:
        paid = _paid(job)
        unreported = paid and job.charged is None and bool(job.remote_id) and \
            job.state in FINISHED
        if job.charged is None and not job.refunded and not unreported:
            continue
        day = time.strftime("%Y-%m-%d", time.localtime(job.created_at))
        unit = job.charge_unit or _unit(job.service)
        line = lines.setdefault((day, job.service), LedgerLine(day, job.service, unit))
        line.spent += job.charged or 0.0
        line.charged_jobs += int(bool(job.charged))
        line.refunded += int(job.refunded)
        line.unreported += int(unreported)
    order = [s.id for s in SERVICES]
    return sorted(lines.values(), key=lambda line: (
        _reverse_day(line.day), order.index(line.service) if line.service in order else 99))


def ledger_rows(lines: Iterable[LedgerLine]) -> list[str]:
    """The ledger as text lines (``blender -c conjure jobs --cost``)."""
    rows = [f"{'DAY':10}  {'SERVICE':16}  {'SPENT':>14}  {'JOBS':>4}  {'REFUNDED':>8}  "
            "NOT REPORTED"]
    totals: dict[str, LedgerLine] = {}
    for line in lines:
        rows.append(f"{line.day:10}  {service_label(line.service):16}  "
                    f"{line.spent_words:>14}  {line.charged_jobs:>4}  {line.refunded:>8}  "
                    f"{line.unreported}")
        total = totals.setdefault(line.service, LedgerLine("", line.service, line.unit))
        total.spent += line.spent
    if totals:
        rows.append("in all: " + ", ".join(
            f"{t.spent_words} ({service_label(s)})" for s, t in totals.items()))
    return rows


def _paid(job: Job) -> bool:
    try:
        return registry.operation(job.service, job.operation).paid
    except InvalidRequestError:  # a service or operation this version does not know
        return True


def _unit(service_id: str) -> str:
    try:
        return registry.unit(service_id)
    except KeyError:
        return ""


def _reverse_day(day: str) -> tuple[int, ...]:
    return tuple(-int(part) for part in day.split("-"))
