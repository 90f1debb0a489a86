import multiprocessing
import sqlite3

import pytest

from conjure.jobs.journal import SCHEMA_VERSION, Journal, JournalError
from conjure.jobs.model import Job, State
from support import journal_workers


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "jobs.sqlite")
    yield j
    j.close()


def test_round_trip_keeps_every_field(journal):
    job = Job("thrixel", "create", {"task": "a lamp", "images": 2}, parent_id="p1")
    journal.add(job)
    again = journal.require(job.id)
    assert again == job
    assert again.state is State.PENDING


def test_journal_uses_wal(journal):
    mode = sqlite3.connect(journal.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_forbidden_transition_writes_nothing(journal):
    job = journal.add(Job("tripo", "text_to_model"))
    with pytest.raises(JournalError, match="pending → ready"):
        journal.update(job.id, state=State.READY, message="x")
    assert journal.require(job.id).message == ""


def test_params_with_a_secret_are_refused(journal):
    with pytest.raises(JournalError, match="key or token"):
        journal.add(Job("tripo", "t", {"note": "Authorization: Bearer tsk_live_123"}))


def test_messages_are_redacted(journal):
    job = journal.add(Job("tripo", "t"))
    journal.update(job.id, message="server said: bad key tsk_abcdef123")
    assert "tsk_abcdef123" not in journal.require(job.id).message


def test_list_filters_states_newest_first(journal):
    a = journal.add(Job("a", "x", created_at=1.0))
    b = journal.add(Job("b", "x", created_at=2.0))
    journal.update(a.id, state=State.SUBMITTING)
    assert [j.id for j in journal.jobs()] == [b.id, a.id]
    assert [j.id for j in journal.jobs([State.PENDING])] == [b.id]
    assert journal.count("a", [State.SUBMITTING]) == 1


def test_lease_blocks_a_second_live_owner(tmp_path):
    first = Journal(tmp_path / "j.sqlite")
    second = Journal(tmp_path / "j.sqlite")
    job = first.add(Job("a", "x"))
    assert not second.claim(job.id)
    assert second.claim_active() == []
    first.release(job.id)
    assert second.claim(job.id)
    assert [j.id for j in first.claim_active()] == []


def test_lease_of_a_dead_process_is_free_at_once(tmp_path):
    path = tmp_path / "j.sqlite"
    j = Journal(path, lease_s=3600)
    job = j.add(Job("a", "x"), claim=False)
    child = multiprocessing.get_context("spawn").Process(
        target=journal_workers.hold_lease, args=(path, job.id)
    )
    child.start()
    child.join()
    assert child.exitcode == 0
    assert [x.id for x in j.claim_active()] == [job.id]


def test_two_processes_writing_at_once_keep_the_file_whole(tmp_path):
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=journal_workers.write_jobs, args=(path, 60, p)) for p in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0, 0]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM jobs WHERE state='queued'").fetchone()[0] == 120


def test_lease_of_an_earlier_process_with_the_same_id_is_free(tmp_path):
    # A restarted Blender in a container often gets its old process id back; the lease it
    # left must not look like its own live one.
    j = Journal(tmp_path / "j.sqlite", lease_s=3600)
    job = j.add(Job("a", "x"), claim=False)
    host, pid, start, _ = j.owner.split(":")
    if not start:
        pytest.skip("process start times are not readable here")
    stale = f"{host}:{pid}:{int(start) - 1}:0ld0wner"
    db = sqlite3.connect(j.path)
    db.execute("UPDATE jobs SET owner = ?, lease_until = 9e12 WHERE id = ?", (stale, job.id))
    db.commit()
    assert [x.id for x in j.claim_active()] == [job.id]


#: The journal as Conjure 0.1 wrote it (schema version 1: a ``provider`` column holding 0.1's
#: service ids, no ``origin``).
_V1_SCHEMA = """
CREATE TABLE jobs (
    id TEXT PRIMARY KEY, provider TEXT NOT NULL, operation TEXT NOT NULL, params TEXT NOT NULL,
    state TEXT NOT NULL, remote_id TEXT, progress REAL, eta_s REAL,
    message TEXT NOT NULL DEFAULT '', error_code TEXT, result_files TEXT NOT NULL DEFAULT '[]',
    parent_id TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0, owner TEXT, lease_until REAL
);
PRAGMA user_version = 1;
INSERT INTO jobs (id, provider, operation, params, state, remote_id, result_files, created_at,
                  updated_at)
VALUES ('j01', 'tripo', 'text_to_model', '{"prompt": "a mug"}', 'ready', 't-1', '["m.glb"]', 1, 2),
       ('j02', 'pixazo', 'image_to_3d', '{"image": "a.png"}', 'queued', 'p-1', '[]', 3, 4);
"""


def test_a_journal_from_version_0_1_is_brought_up_to_date_and_keeps_its_jobs(tmp_path):
    path = tmp_path / "jobs.sqlite"
    old = sqlite3.connect(path)
    old.executescript(_V1_SCHEMA)
    old.close()
    journal = Journal(path)
    try:
        job = journal.require("j01")
        assert (job.service, job.state, job.remote_id, job.result_files, job.origin) == (
            "tripo", State.READY, "t-1", ["m.glb"], "")
        assert journal.require("j02").service == "pixal3d"
        assert journal.find_remote("pixal3d", "p-1").id == "j02"
        journal.add(Job("thrixel", "create", {"task": "a lamp"}, origin="/work/lamp.blend"))
        assert journal.jobs(limit=1)[0].origin == "/work/lamp.blend"
        assert (job.charged, job.charge_unit, job.refunded) == (None, "", False)
        version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
        assert version == SCHEMA_VERSION == 3
    finally:
        journal.close()
    Journal(path).close()  # opening an up-to-date journal again changes nothing


#: The journal as Conjure wrote it before the ledger (schema version 2).
_V2_SCHEMA = """
CREATE TABLE jobs (
    id TEXT PRIMARY KEY, service TEXT NOT NULL, operation TEXT NOT NULL, params TEXT NOT NULL,
    state TEXT NOT NULL, remote_id TEXT, progress REAL, eta_s REAL,
    message TEXT NOT NULL DEFAULT '', error_code TEXT, result_files TEXT NOT NULL DEFAULT '[]',
    parent_id TEXT, origin TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL,
    updated_at REAL NOT NULL, cancel_requested INTEGER NOT NULL DEFAULT 0, owner TEXT,
    lease_until REAL
);
PRAGMA user_version = 2;
INSERT INTO jobs (id, service, operation, params, state, remote_id, origin, created_at,
                  updated_at)
VALUES ('j03', 'voxelai', 'voxelize', '{"image": "c.png"}', 'imported', 'v-1', '/a.blend', 5, 6);
"""


def test_a_journal_of_version_2_gains_the_ledger_and_keeps_its_jobs(tmp_path):
    path = tmp_path / "jobs.sqlite"
    old = sqlite3.connect(path)
    old.executescript(_V2_SCHEMA)
    old.close()
    journal = Journal(path)
    try:
        job = journal.require("j03")
        assert (job.service, job.state, job.origin, job.charged, job.refunded) == (
            "voxelai", State.IMPORTED, "/a.blend", None, False)
        journal.update("j03", charged=1.0, charge_unit="tokens")
        assert (journal.require("j03").charged, journal.require("j03").charge_unit) == (
            1.0, "tokens")
        assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 3
    finally:
        journal.close()


def test_the_ledger_fields_round_trip(tmp_path):
    journal = Journal(tmp_path / "jobs.sqlite")
    try:
        job = journal.add(Job("tripo", "text_to_model", {"prompt": "a mug"}))
        journal.update(job.id, charged=0.0, charge_unit="credits", refunded=True)
        stored = journal.require(job.id)
        assert (stored.charged, stored.charge_unit, stored.refunded) == (0.0, "credits", True)
    finally:
        journal.close()
