"""The job journal: one SQLite file, written before anything is acted on.

Write-ahead rules kept by the runner and enforced here where possible:
- a job's row exists before its submit request is sent (state ``pending``, then ``submitting``);
- the remote id is written in the same transaction as the state that follows the submit;
- every state change goes through ``update``, which refuses transitions the model does not allow.

Several processes (two Blender instances, a batch run) may open the same journal. SQLite's WAL
mode and locking keep the file whole; a lease per job (owner + expiry, renewed while the owner
works on it) keeps two runners from driving the same job. A lease held by a process that no
longer exists on this host is free at once, so a restart after a crash resumes without waiting.

A lease can run out under a runner that is still alive (a paused VM, a debugger, a long import
holding the GIL), and another runner may then adopt the job. So the runner does not trust a
claim it checked once: each of its writes is ``update_claimed``, a compare-and-set on the job,
this journal's owner token and the state the runner last wrote, which raises ``ClaimLost``
instead of writing when the job was taken over or moved on.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..providers.redaction import redact
from ..providers.services import SAVED_IDS
from .model import ACTIVE, TRANSITIONS, Job, State

#: 2 added ``origin`` and named the service column ``service`` (with today's service ids); 3
#: added the ledger (``charged``, ``charge_unit``, ``refunded``). Journals of version 1
#: (Conjure 0.1) and 2 are brought up to date on open.
SCHEMA_VERSION = 3

_COLUMNS = (
    "id", "service", "operation", "params", "state", "remote_id", "progress", "eta_s",
    "message", "error_code", "result_files", "parent_id", "origin", "created_at", "updated_at",
    "cancel_requested", "charged", "charge_unit", "refunded",
)
_JSON_COLUMNS = {"params", "result_files"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    operation TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL,
    remote_id TEXT,
    progress REAL,
    eta_s REAL,
    message TEXT NOT NULL DEFAULT '',
    error_code TEXT,
    result_files TEXT NOT NULL DEFAULT '[]',
    parent_id TEXT,
    origin TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    charged REAL,
    charge_unit TEXT NOT NULL DEFAULT '',
    refunded INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    lease_until REAL
);
"""
#: Columns later versions added, with their declarations, for bringing older journals up to date.
_ADDED_COLUMNS = (
    ("origin", "TEXT NOT NULL DEFAULT ''"),
    ("charged", "REAL"),
    ("charge_unit", "TEXT NOT NULL DEFAULT ''"),
    ("refunded", "INTEGER NOT NULL DEFAULT 0"),
)
#: Made after the table is brought up to date (they name its current columns).
_INDEXES = """
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE INDEX IF NOT EXISTS jobs_remote ON jobs(service, remote_id);
"""


class JournalError(Exception):
    """A journal operation was refused (unknown job, forbidden transition, secret in params)."""


class ClaimLost(JournalError):
    """A runner's write found the job taken over by another runner, in another state than the
    runner last wrote, or gone; nothing was written and the runner must leave the job alone."""


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (Linux), or None when unknown
    or when no such process exists. Tells a restarted process from an older one that had the
    same id, as happens in containers and sandboxed Blender builds."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # Field 22; the command name (field 2) may hold spaces, so count from its end.
            return stat.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def _process_alive(pid: int, start: str) -> bool:
    """Whether the process that wrote a lease still runs. Only answered where it is safe:
    on Windows ``os.kill`` would terminate the process, so there the lease's expiry decides."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if start:
        return _process_start(pid) in (start, None)
    return True


class Journal:
    """The jobs of one user folder. Safe to share between threads and between processes."""

    def __init__(self, path: str | os.PathLike[str], *, lease_s: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lease_s = lease_s
        #: Wall-clock seconds for leases (shared by every process on the journal); tests
        #: replace it to make a lease run out without waiting.
        self.clock = clock
        self.host = socket.gethostname()
        #: This journal object's identity in leases: host, process id, process start time and
        #: a token per instance.
        pid = os.getpid()
        self.owner = f"{self.host}:{pid}:{_process_start(pid) or ''}:{uuid.uuid4().hex[:8]}"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        conn = self._conn()
        conn.executescript(_SCHEMA)
        self._migrate(conn)
        conn.executescript(_INDEXES)

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        """Brings a journal made by an earlier Conjure up to date, keeping every job."""
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
                return
            have = {row["name"] for row in conn.execute("PRAGMA table_info(jobs)")}
            if "provider" in have:
                conn.execute("ALTER TABLE jobs RENAME COLUMN provider TO service")
            for name, declaration in _ADDED_COLUMNS:
                if name not in have:
                    conn.execute(f"ALTER TABLE jobs ADD COLUMN {name} {declaration}")
            conn.executemany("UPDATE jobs SET service = ? WHERE service = ?",
                             [(new, old) for old, new in SAVED_IDS.items()])
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- connections ------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed transition survives power loss too, not only a crash.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # -- rows -------------------------------------------------------------------------------

    @staticmethod
    def _to_job(row: sqlite3.Row) -> Job:
        values: dict[str, Any] = {name: row[name] for name in _COLUMNS}
        for name in _JSON_COLUMNS:
            values[name] = json.loads(values[name])
        values["state"] = State(values["state"])
        values["cancel_requested"] = bool(values["cancel_requested"])
        values["refunded"] = bool(values["refunded"])
        return Job(**values)

    @staticmethod
    def _to_row(values: dict[str, Any]) -> dict[str, Any]:
        row = dict(values)
        for name in _JSON_COLUMNS & row.keys():
            row[name] = json.dumps(row[name], sort_keys=True)
        if "params" in row and redact(row["params"]) != row["params"]:
            raise JournalError("job parameters must not contain a key or token")
        if "message" in row:
            row["message"] = redact(row["message"])
        if "state" in row:
            row["state"] = str(row["state"])
        for name in ("cancel_requested", "refunded"):
            if name in row:
                row[name] = int(bool(row[name]))
        return row

    def add(self, job: Job, *, claim: bool = True) -> Job:
        """Write a new job; with ``claim`` the caller holds its lease from the start."""
        row = self._to_row({name: getattr(job, name) for name in _COLUMNS})
        row["owner"] = self.owner if claim else None
        row["lease_until"] = self.clock() + self.lease_s if claim else None
        names = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        with self._transaction() as db:
            db.execute(f"INSERT INTO jobs ({names}) VALUES ({marks})", row)
        return job

    def get(self, job_id: str) -> Job | None:
        row = self._conn().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._to_job(row) if row else None

    def require(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job is None:
            raise JournalError(f"no job {job_id} in the journal")
        return job

    def jobs(self, states: Iterable[State] | None = None, limit: int | None = None) -> list[Job]:
        """Jobs newest first, optionally only those in ``states``."""
        sql, args = "SELECT * FROM jobs", list[Any]()
        if states is not None:
            states = list(states)
            sql += f" WHERE state IN ({', '.join('?' * len(states))})"
            args += [str(s) for s in states]
        sql += " ORDER BY created_at DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [self._to_job(r) for r in self._conn().execute(sql, args)]

    def update(self, job_id: str, **fields: Any) -> Job:
        """Apply ``fields`` in one transaction and return the job as now stored.

        A ``state`` outside the allowed transitions raises ``JournalError`` and writes nothing.
        For requests from anywhere (a cancel, an import); the runner driving a job writes with
        ``update_claimed``.
        """
        with self._transaction() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise JournalError(f"no job {job_id} in the journal")
            return self._write(db, row, fields)

    def update_claimed(self, job_id: str, expected: State, **fields: Any) -> Job:
        """``update`` for the runner holding the job's claim: a compare-and-set on (job, this
        journal's owner token, ``expected`` state) that also renews the lease. Raises
        ``ClaimLost``, having written nothing, when another runner took the job over, its state
        is no longer ``expected``, or it was removed."""
        with self._transaction() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise ClaimLost(f"job {job_id} was removed from the journal")
            if row["owner"] != self.owner:
                raise ClaimLost(f"job {job_id} is driven by another Conjure process now")
            if row["state"] != expected:
                raise ClaimLost(f"job {job_id} is {row['state']}, not {expected} as this "
                                "process last wrote")
            return self._write(db, row, fields, claim=True)

    def take_back(self, job_id: str, **fields: Any) -> Job | None:
        """Record the answer to a submit this process sent before it lost the job.

        Another runner, finding the job ``submitting`` with its lease run out, made it
        ``unknown``: it could not tell whether the request had gone out. The answer settles
        that, so the job takes ``fields`` (its remote id and state) and this journal's claim.
        Returns None, writing nothing, unless the job is still ``unknown`` without a remote id
        and no live runner holds it (the user may have decided about it meanwhile).
        """
        now = self.clock()
        with self._transaction() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if (row is None or row["state"] != State.UNKNOWN or row["remote_id"]
                    or not self._lease_free(row["owner"], row["lease_until"], now)):
                return None
            return self._write(db, row, fields, claim=True)

    def _write(self, db: sqlite3.Connection, row: sqlite3.Row, fields: dict[str, Any],
               *, claim: bool = False) -> Job:
        """Apply ``fields`` to the job in ``row`` inside ``db``'s transaction; with ``claim``,
        the job's lease is (re)taken by this journal too."""
        job_id = row["id"]
        unknown = fields.keys() - set(_COLUMNS)
        if unknown or "id" in fields:
            raise JournalError(f"cannot update {sorted(unknown | ({'id'} & fields.keys()))}")
        job = self._to_job(row)
        new_state = fields.get("state")
        if new_state is not None and new_state != job.state:
            if new_state not in TRANSITIONS[job.state]:
                raise JournalError(f"job {job_id}: {job.state} → {new_state} is not allowed")
        values = self._to_row(dict(fields, updated_at=time.time()))
        if claim:
            values.update(owner=self.owner, lease_until=self.clock() + self.lease_s)
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        db.execute(f"UPDATE jobs SET {assignments} WHERE id = :id", {**values, "id": job_id})
        return self._to_job(db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def remove(self, job_id: str) -> None:
        """Forget a job (its result files stay where they are)."""
        with self._transaction() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def count(self, service: str, states: Iterable[State]) -> int:
        """How many of ``service``'s jobs are in ``states``, across every process."""
        names = [str(s) for s in states]
        sql = (f"SELECT COUNT(*) FROM jobs WHERE service = ? "
               f"AND state IN ({', '.join('?' * len(names))})")
        return int(self._conn().execute(sql, [service, *names]).fetchone()[0])

    def find_remote(self, service: str, remote_id: str) -> Job | None:
        row = self._conn().execute(
            "SELECT * FROM jobs WHERE service = ? AND remote_id = ?", (service, remote_id)
        ).fetchone()
        return self._to_job(row) if row else None

    # -- leases -----------------------------------------------------------------------------

    def _lease_free(self, owner: str | None, lease_until: float | None, now: float) -> bool:
        if not owner or owner == self.owner:
            return True
        if lease_until is None or lease_until < now:
            return True
        host, pid_text, start, _token = [*owner.split(":"), "", "", ""][:4]
        return host == self.host and pid_text.isdigit() and not _process_alive(int(pid_text),
                                                                                 start)

    def claim(self, job_id: str) -> bool:
        """Take or renew the lease on a job; False when another live runner holds it."""
        now = self.clock()
        with self._transaction() as db:
            row = db.execute("SELECT owner, lease_until FROM jobs WHERE id = ?",
                             (job_id,)).fetchone()
            if row is None or not self._lease_free(row["owner"], row["lease_until"], now):
                return False
            db.execute("UPDATE jobs SET owner = ?, lease_until = ? WHERE id = ?",
                       (self.owner, now + self.lease_s, job_id))
        return True

    def claim_active(self) -> list[Job]:
        """Claim every unfinished job whose lease is free; these are the jobs to resume."""
        now = self.clock()
        states = [str(s) for s in ACTIVE]
        claimed = []
        with self._transaction() as db:
            rows = db.execute(
                f"SELECT * FROM jobs WHERE state IN ({', '.join('?' * len(states))}) "
                "ORDER BY created_at", states).fetchall()
            for row in rows:
                if self._lease_free(row["owner"], row["lease_until"], now):
                    db.execute("UPDATE jobs SET owner = ?, lease_until = ? WHERE id = ?",
                               (self.owner, now + self.lease_s, row["id"]))
                    claimed.append(self._to_job(row))
        return claimed

    def renew(self, job_ids: Iterable[str]) -> None:
        ids = list(job_ids)
        if not ids:
            return
        with self._transaction() as db:
            db.executemany("UPDATE jobs SET lease_until = ? WHERE id = ? AND owner = ?",
                           [(self.clock() + self.lease_s, i, self.owner) for i in ids])

    def release(self, job_id: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE jobs SET owner = NULL, lease_until = NULL "
                       "WHERE id = ? AND owner = ?", (job_id, self.owner))

    def data_version(self) -> int:
        """Changes when another connection commits; lets a UI notice other processes' writes."""
        return int(self._conn().execute("PRAGMA data_version").fetchone()[0])
