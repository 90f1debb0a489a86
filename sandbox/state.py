"""Shared state: timing profiles, accounts (keys), ids, and the time line every job follows."""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .faults import NO_FAULTS, FaultSet, parse_faults

SERVICES = ("thrixel", "tripo", "pixazo", "voxelai")

# Keys every sandbox accepts out of the box (documented in the README for the demo).
DEFAULT_KEYS = {
    "thrixel": "sk-thrixel-sandbox",
    "tripo": "tsk_sandbox",
    "pixazo": "pixazo-sandbox-key",
    "voxelai": "voxelai-sandbox-token",
}

# Starting balances in each service's own unit: Thrixel Cubes, Tripo credits, Pixazo US dollars,
# Voxel-AI tokens. Large enough for a demo session, small enough that a test can drain one.
DEFAULT_BALANCES = {"thrixel": 500.0, "tripo": 3000.0, "pixazo": 25.0, "voxelai": 100.0}


@dataclass(frozen=True)
class Timing:
    """Seconds a job spends queued and running, per kind of job."""

    queued: float
    running: float


@dataclass(frozen=True)
class SpeedProfile:
    name: str
    jobs: dict[str, Timing]
    # Thrixel: how long the full-quality GLB keeps baking after a job completes.
    thrixel_full_build: float
    # Thrixel format conversions (fbx, obj, stl).
    thrixel_convert: float
    # Interval between server-sent progress events, and between heartbeats.
    sse_tick: float
    sse_heartbeat: float
    # Extra queue time a cold_start fault adds when it carries no value.
    cold_start: float
    # Voxel-AI: one candidate-image request per this many seconds per token.
    voxelai_image_interval: float

    def timing(self, kind: str) -> Timing:
        return self.jobs.get(kind) or self.jobs["default"]


SPEEDS = {
    # Every job finishes well under a second, so tests stay quick.
    "fast": SpeedProfile(
        "fast",
        {"default": Timing(0.05, 0.2)},
        thrixel_full_build=0.15,
        thrixel_convert=0.1,
        sse_tick=0.04,
        sse_heartbeat=0.5,
        cold_start=1.0,
        voxelai_image_interval=2.0,
    ),
    # Typical timings of the real services, shortened only where a demo would feel stuck.
    "real": SpeedProfile(
        "real",
        {
            "default": Timing(3.0, 30.0),
            "thrixel": Timing(4.0, 45.0),
            "thrixel-gpu": Timing(10.0, 90.0),
            "tripo": Timing(3.0, 30.0),
            "tripo-image": Timing(2.0, 8.0),
            "pixazo": Timing(5.0, 60.0),
            "voxelai-images": Timing(3.0, 20.0),
            "voxelai-voxelize": Timing(8.0, 90.0),
        },
        thrixel_full_build=20.0,
        thrixel_convert=8.0,
        sse_tick=1.0,
        sse_heartbeat=30.0,
        cold_start=90.0,
        voxelai_image_interval=15.0,
    ),
}


@dataclass
class Account:
    """One API key of one service."""

    service: str
    key: str
    balance: float
    faults: FaultSet = NO_FAULTS
    # Thrixel: refuse with 403 ("revoked"); Tripo: 1005; Pixazo: 403; Voxel-AI: 403 NO_BALANCE.
    forbidden: bool = False
    # Thrixel: 402 with X-Thrixel-Reason: monthly_runs once the free-plan allowance is used up.
    monthly_runs_left: int | None = None
    frozen: float = 0.0
    # Per-key request timestamps for rate limits (Tripo per-minute quota, Voxel-AI images).
    recent: list[float] = field(default_factory=list)
    last_images_request: float | None = None
    # Burst counters for 5xx_burst / transient faults set on this key.
    counters: dict[str, int] = field(default_factory=dict)


class Timeline:
    """When a job enters each stage; state is derived from the clock, no background threads."""

    def __init__(self, start: float, queued: float, running: float) -> None:
        self.start = start
        self.queued = queued
        self.running = running
        self.stopped_at: float | None = None

    @property
    def run_start(self) -> float:
        return self.start + self.queued

    @property
    def end(self) -> float:
        return self.start + self.queued + self.running

    def stage(self, now: float) -> str:
        if self.stopped_at is not None and now >= self.stopped_at:
            return "stopped"
        if now < self.run_start:
            return "queued"
        if now < self.end:
            return "running"
        return "finished"

    def fraction(self, now: float) -> float:
        """Share of the running stage done, 0..1."""
        if self.running <= 0:
            return 1.0
        return min(1.0, max(0.0, (now - self.run_start) / self.running))

    def finished_at(self) -> float:
        return self.end if self.stopped_at is None else min(self.end, self.stopped_at)


def iso_z(wall: float, millis: bool = False) -> str:
    moment = datetime.fromtimestamp(wall, UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class SandboxState:
    """Everything the services share. One lock guards all mutation; handlers are short."""

    def __init__(self, speed: str = "fast", seed: int = 0) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed must be one of {', '.join(SPEEDS)}")
        self.speed = SPEEDS[speed]
        self.seed = seed
        self.lock = threading.RLock()
        self._rng = random.Random(seed)
        # Per-process secret for signed CDN URLs, derived from the seed so runs are repeatable.
        self.url_secret = hashlib.sha256(f"conjure-sandbox-{seed}".encode()).digest()
        self.accounts: dict[tuple[str, str], Account] = {}
        self.request_counters: dict[str, int] = {}
        # Offset from wall time to the monotonic clock, for timestamps shown to clients.
        self._wall_offset = time.time() - time.monotonic()
        for service, key in DEFAULT_KEYS.items():
            self.add_key(service, key)

    # -- clock -----------------------------------------------------------------------------
    def now(self) -> float:
        return time.monotonic()

    def wall(self, moment: float | None = None) -> float:
        return (self.now() if moment is None else moment) + self._wall_offset

    # -- ids -------------------------------------------------------------------------------
    def uuid(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def uuid7(self) -> str:
        """Time-ordered id (UUID version 7 layout), as Pixazo's request ids are."""
        with self.lock:
            millis = int(self.wall() * 1000) & ((1 << 48) - 1)
            value = (millis << 80) | (0x7 << 76) | (self._rng.getrandbits(12) << 64)
            value |= (0b10 << 62) | self._rng.getrandbits(62)
        return str(uuid.UUID(int=value))

    def random_int(self, low: int, high: int) -> int:
        with self.lock:
            return self._rng.randint(low, high)

    # -- keys ------------------------------------------------------------------------------
    def add_key(
        self,
        service: str,
        key: str,
        *,
        faults: str | FaultSet | None = None,
        balance: float | None = None,
        forbidden: bool = False,
        monthly_runs_left: int | None = None,
    ) -> Account:
        if service not in SERVICES:
            raise ValueError(f"service must be one of {', '.join(SERVICES)}")
        fault_set = faults if isinstance(faults, FaultSet) else parse_faults(faults)
        account = Account(
            service,
            key,
            DEFAULT_BALANCES[service] if balance is None else float(balance),
            fault_set,
            forbidden,
            monthly_runs_left,
        )
        with self.lock:
            self.accounts[(service, key)] = account
        return account

    def account(self, service: str, key: str | None) -> Account | None:
        if not key:
            return None
        with self.lock:
            return self.accounts.get((service, key))

    def set_faults(self, service: str, key: str, faults: str | None) -> None:
        account = self.account(service, key)
        if account is None:
            raise KeyError(f"no {service} key {key!r}")
        with self.lock:
            account.faults = parse_faults(faults)

    def count(self, scope: str) -> int:
        """Increment and return a named counter (used for 5xx bursts)."""
        with self.lock:
            value = self.request_counters.get(scope, 0) + 1
            self.request_counters[scope] = value
            return value

    # -- timing ----------------------------------------------------------------------------
    def timeline(self, kind: str, faults: FaultSet, scale: float = 1.0) -> Timeline:
        timing = self.speed.timing(kind)
        queued = timing.queued
        if "cold_start" in faults:
            queued += faults.number("cold_start", self.speed.cold_start)
        return Timeline(self.now(), queued, timing.running * scale)

    # -- signed URLs -----------------------------------------------------------------------
    def sign(self, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode()
        return hmac.new(self.url_secret, message, hashlib.sha256).hexdigest()[:32]

    def check_signature(self, path: str, expires: int, signature: str) -> bool:
        return hmac.compare_digest(self.sign(path, expires), signature)
