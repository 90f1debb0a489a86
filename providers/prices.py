"""What operations cost, declared beside each operation (``Operation.price``), and what a job
was charged.

A ``Price`` turns the chosen options into an ``Estimate`` in the service's own unit (Tripo3D
credits, Thrixel Cubes, Pixazo US dollars, Voxel-AI tokens): a base figure and the surcharges
the options add, with where the figures come from and when they were published. Where no
figure is published the estimate is unknown, never a guess. A service that tells its prices
live (Thrixel ``/tiers``) names its figures, and a live figure wins over the declared one.

A ``Charge`` is what the service says a finished job cost (or that it gave the money back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Singular words for the units, for "1 token".
_SINGULAR = {"credits": "credit", "Cubes": "Cube", "tokens": "token"}
#: Units written before the amount, as money.
_MONEY = {"USD": "$"}

Values = Mapping[str, Any]


def amount_words(amount: float, unit: str) -> str:
    """``30 credits``, ``1 token``, ``$0.42``."""
    if unit in _MONEY:
        return f"{_MONEY[unit]}{amount:.2f}"
    word = _SINGULAR.get(unit, unit) if amount == 1 else unit
    return f"{amount:g} {word}".strip()


@dataclass(frozen=True)
class Estimate:
    """A typical cost. ``amount`` None: no figure is published for these options."""

    amount: float | None
    unit: str
    #: Where the figure comes from and when it was published (or read).
    source: str = ""
    dated: str = ""
    #: True when the service told the figure itself just now (it wins over declared ones).
    live: bool = False
    #: The terms it adds up from, e.g. ("image_to_model 30", "quad +5").
    terms: tuple[str, ...] = ()
    #: Why there is no figure, or what to know about it.
    note: str = ""

    @property
    def known(self) -> bool:
        return self.amount is not None

    @property
    def free(self) -> bool:
        return self.amount == 0

    def words(self) -> str:
        """``about 30 credits``, ``free`` or ``price unknown``."""
        if self.amount is None:
            return "price unknown"
        if self.amount == 0:
            return "free"
        return f"about {amount_words(self.amount, self.unit)}"

    def plus(self, other: Estimate) -> Estimate:
        """Both together (same service, e.g. a candidate pick after its free pictures)."""
        unit = self.unit or other.unit
        if self.amount is None or other.amount is None:
            return Estimate(None, unit, self.source or other.source, self.dated or other.dated,
                            note=self.note or other.note)
        return Estimate(self.amount + other.amount, unit, self.source or other.source,
                        self.dated or other.dated, self.live or other.live,
                        self.terms + other.terms, self.note or other.note)


@dataclass(frozen=True)
class Surcharge:
    """An amount the options add (or, with ``amount`` None, make unknown)."""

    label: str
    amount: float | None
    applies: Callable[[Values], bool]
    #: The name the service's live price list gives this figure, where it has one.
    live_key: str = ""


@dataclass(frozen=True)
class Price:
    """How an operation is priced. ``base`` gives the figure for the options (None: no
    published figure); ``live_key`` the name the service's live list gives it."""

    unit: str
    source: str
    dated: str
    base: Callable[[Values], float | None]
    surcharges: tuple[Surcharge, ...] = ()
    live_key: Callable[[Values], str] | None = None
    #: Said with every estimate (e.g. "metered by actual usage").
    note: str = ""

    def estimate(self, values: Values, label: str,
                 live: Mapping[str, float] | None = None) -> Estimate:
        """The figure for ``values`` (defaults filled in); a figure in ``live`` wins."""
        live = live or {}
        used_live = False
        key = self.live_key(values) if self.live_key else ""
        if key and key in live:
            total: float | None = float(live[key])
            used_live = True
        else:
            total = self.base(values)
        terms = [f"{label} {_figure(total)}"]
        for extra in self.surcharges:
            if not extra.applies(values):
                continue
            amount = extra.amount
            if extra.live_key and extra.live_key in live:
                amount, used_live = float(live[extra.live_key]), True
            terms.append(f"{extra.label} +{_figure(amount)}")
            total = None if total is None or amount is None else total + amount
        note = self.note
        if total is None and not note:
            note = "no figure is published for these options"
        source = "the service's own price list, just now" if used_live else self.source
        return Estimate(total, self.unit, source, "" if used_live else self.dated, used_live,
                        tuple(terms), note)


def _figure(amount: float | None) -> str:
    return "?" if amount is None else f"{amount:g}"


def flat(amount: float | None) -> Callable[[Values], float | None]:
    return lambda values: amount


def when(name: str, value: Any = True) -> Callable[[Values], bool]:
    """True when option ``name`` is ``value`` (with the declared default filled in)."""
    return lambda values: values.get(name) == value


def free_estimate(unit: str) -> Estimate:
    return Estimate(0.0, unit, "the service documents it as free")


@dataclass(frozen=True)
class Charge:
    """What the service says a job cost, in its unit. ``refunded``: it gave the money back
    (a failure it does not charge for), so nothing was spent."""

    amount: float
    unit: str
    refunded: bool = False
