"""The interface every service client offers the job engine.

A client turns a job into requests: send it, ask how it is going, name its result files and,
where the service allows, cancel it. It holds no job state of its own; everything it needs to
resume after a restart is in the job (``operation``, ``params``, ``remote_id``), which the engine
passes as any object with those attributes (its journal record), so this layer never imports it.
Each client is built from a ``ClientConfig`` (``registry.make_client``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from .http import Body, NetworkSettings
from .params import Operation, operation_named
from .prices import Charge


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs, captured on the main thread; workers never read bpy."""

    base_url: str
    key: str = field(default="", repr=False)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    #: Raises ``OfflineError`` when requests are not allowed right now.
    guard: Callable[[], None] = lambda: None
    #: Service-specific settings as text, e.g. ``{"api": "v2"}`` for Tripo3D's API family;
    #: each client documents the ones it reads (and its environment fallbacks) in ``make``.
    options: Mapping[str, str] = field(default_factory=dict)


class Job(Protocol):
    """What a client may read of a job."""

    id: str
    operation: str
    params: dict[str, Any]
    remote_id: str | None


class Phase(StrEnum):
    """Where the service says the job is, in the engine's words."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class ResultFile:
    """One file of a finished job. ``open`` starts its download and returns its ``Body``
    (its bytes in chunks, from the start, and the size the sender announced).

    ``open`` may raise ``ResultNotReadyError`` (ask again after ``retry_after``) or
    ``ResultExpiredError`` (poll the job again for fresh locations).
    """

    name: str
    open: Callable[[], Body]
    #: Accepted kinds by magic bytes (``jobs.results.sniff``); None accepts any known kind.
    kinds: frozenset[str] | None = None


@dataclass
class RemoteStatus:
    phase: Phase
    progress: float | None = None
    eta_s: float | None = None
    message: str = ""
    error_code: str | None = None
    #: Seconds the service asked us to wait before asking again.
    poll_after: float | None = None
    #: A finished job: how long it took the service by its own clock, from accepting it to
    #: finishing it (the engine times later jobs of the kind by it); None when not told.
    took_s: float | None = None
    results: list[ResultFile] = field(default_factory=list)
    #: A finished job whose answer is ``message`` and that has no file (e.g. Tripo's free rig
    #: check: "Riggable as biped"); without it, a success with no files is an error.
    no_files: bool = False
    #: What the service says the job cost (or that it refunded it), when it says so; the
    #: engine records it in the job's ledger fields.
    charge: Charge | None = None
    #: A job not finished yet whose result can already be shown in a quicker form (Thrixel's
    #: lite GLB while the full one bakes): fetched once, then replaced by ``results``.
    lite: list[ResultFile] = field(default_factory=list)


@dataclass(frozen=True)
class Funds:
    """An account's balance as the service tells it: ``line`` for people (``1200 credits (30
    held by running tasks)``), ``amount`` what can be spent in ``unit``, or None when that is
    not one number (e.g. an unlimited plan)."""

    line: str
    amount: float | None = None
    unit: str = ""

    def __str__(self) -> str:
        return self.line


class Feed(ABC):
    """A held-open channel on which a service reports one job's news as it happens (e.g.
    server-sent events). Iterating it yields a ``RemoteStatus`` for each piece of news, or None
    for a sign of life with no news, until the channel closes; ``ended`` then says whether it
    closed because the job ended (read the job's status to learn how). ``close`` may be called
    from any thread and ends the iteration soon."""

    ended: bool = False

    @abstractmethod
    def __iter__(self) -> Iterator[RemoteStatus | None]: ...

    @abstractmethod
    def close(self) -> None: ...


@dataclass(frozen=True)
class SlotGroup:
    """Jobs an account may run at once at a service and that count together (one of the
    service's task groups, or all its jobs): ``limit`` of them at a time."""

    name: str
    limit: int


@dataclass
class Submitted:
    remote_id: str
    status: RemoteStatus | None = None


class Client(ABC):
    """A service client as the job engine sees it. Implementations never import bpy."""

    #: Short identifier stored in the journal, e.g. "thrixel".
    name: str = ""
    #: The service as messages name it, e.g. "Tripo3D".
    label: str = ""
    #: The operations this client carries out (its package's ``OPERATIONS``).
    operations: tuple[Operation, ...] = ()
    #: Jobs this client keeps at the service at once (across its task groups, see
    #: ``slot_group``); more wait as ``pending``.
    max_active: int = 3
    #: The service's recommended interval between status requests, shortest and longest;
    #: None: the engine's own cadence (``jobs.polling``).
    poll_every: tuple[float, float] | None = None
    #: Hears how far a long submit (an upload) has got: (job id, bytes sent, bytes in all).
    #: The engine sets it; clients that upload call it when it is set.
    on_upload: Callable[[str, int, int], None] | None = None

    @abstractmethod
    def submit(self, job: Job) -> Submitted:
        """Send the job. Must not retry a request that may have created a paid job."""

    def operation(self, name: str) -> Operation:
        """The declared operation ``name``. A job naming one this client does not offer (e.g.
        journaled by a newer version) is refused before anything is sent."""
        return operation_named(self.operations, name, self.label, service=self.label)

    def validated(self, job: Job) -> tuple[Operation, dict[str, Any]]:
        """The job's operation and its parameters checked again as the request is built (a
        picture or file may have changed while the job waited)."""
        op = self.operation(job.operation)
        return op, op.validate(job.params)

    def slot_group(self, operation: str, params: Mapping[str, Any]) -> SlotGroup:
        """The jobs at the service a job of ``operation`` counts against, and how many of them
        the account may run at once (a 429 still says so when it is fewer). By default all of
        the service's jobs, ``max_active``. May ask the service once (an account's own limit)."""
        return SlotGroup(self.name, self.max_active)

    @abstractmethod
    def poll(self, job: Job) -> RemoteStatus:
        """Ask the service about ``job.remote_id``. Safe to call any number of times."""

    def feeds(self, job: Job) -> bool:
        """Whether the service pushes this job's news on a channel ``feed`` opens; the engine
        then holds that open instead of polling, and reads the status once it ends."""
        return False

    def feed(self, job: Job) -> Feed:
        """Open the push channel of a job ``feeds`` accepts (the answer has arrived when this
        returns). Raises ``ServiceError`` when it could not be opened."""
        raise NotImplementedError(f"{self.label or self.name} pushes no news")

    def cancel(self, job: Job) -> bool:
        """Ask the service to stop the job; False when it refused (e.g. already running)."""
        return False

    def funds(self) -> Funds | None:
        """The account's balance where the service tells it; None when it does not. May send
        a cheap authenticated read."""
        return None

    def balance(self) -> str | None:
        """A short line about the account's credits or balance (e.g. "1200 credits"), or
        None."""
        funds = self.funds()
        return funds.line if funds is not None else None

    def live_prices(self) -> dict[str, float]:
        """Prices the service publishes itself right now, by the names its operations' prices
        give them (``prices.Price.live_key``); empty when it publishes none. May send a
        request."""
        return {}

    def check_key(self) -> str:
        """Make the cheapest authenticated call the service offers and describe the account;
        raises ``AuthenticationError`` (or another ``ServiceError``) when the key is refused."""
        raise NotImplementedError

    @property
    def can_cancel(self) -> bool:
        return type(self).cancel is not Client.cancel

    @property
    def lists_prices(self) -> bool:
        """Whether the service publishes prices live (``live_prices`` asks it)."""
        return type(self).live_prices is not Client.live_prices
