"""Blender killed while a paid job runs: the next start, with the file that asked for the job,
resumes the job from the journal and imports it, and the service saw exactly one submission."""

import os
import signal
import time

from app import harness

#: The service keeps the job queued this long, so it is still unfinished when Blender dies.
QUEUE_S = 8


def _kill_mid_job(user, display, sandbox, key, *, pid_namespace):
    """First start: the user's preferences are saved (as a user's are), the job is submitted,
    and Blender is SIGKILLed once the service has it — no chance to save or clean up."""
    sandbox.add_key("thrixel", key, faults=f"cold_start={QUEUE_S}")
    proc, record_path, log = user.gui_start(display, "restart-submit", {
        "scenario": "restart-submit", "task": "a cast-iron garden bench", "hold": True,
        "save_prefs": True, "prefs": {"thrixel_url": sandbox.service_url("thrixel")},
        "keys": {"restart": key}, "blend": user.blend("restart")}, pid_namespace=pid_namespace)
    try:
        harness.wait_for_file(record_path, proc, harness.GUI_TIMEOUT_S)
        first = harness.collect(proc, record_path, log, 0)
        assert proc.poll() is None and not first.record.get("error"), first.explain()
        remote = harness.submissions(sandbox, key)
        # Killed while the service still works on it: the second start has a job to resume.
        assert len(remote) == 1 and remote[0]["status"] in ("queued", "processing"), remote
    finally:
        harness.stop(proc)
    assert proc.returncode == -signal.SIGKILL
    if not pid_namespace:
        # Blender dies a moment after its runner (the kernel tears a big process down); a user
        # starts it again seconds later, not while the old one is still exiting.
        gone = f"/proc/{first.record['pid']}"
        deadline = time.monotonic() + 15
        while os.path.exists(gone) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(gone), f"Blender {first.record['pid']} outlived SIGKILL"
    job = first.record["job"]
    assert job["remote_id"] == remote[0]["submission_id"], (job, remote)
    return first, job


def _resumed(user, display, sandbox, key, first, job, *, pid_namespace, resume_timeout=90):
    """Second start: nothing is submitted; the pump brings the journal's job home."""
    second = user.gui(display, "restart-resume", {
        "scenario": "restart-resume", "job_id": job["id"], "resume_timeout": resume_timeout},
        pid_namespace=pid_namespace, open_file=user.blend("restart"))
    harness.record_timing(f"{user.target.name}: restart: first run killed after "
                          f"{first.record['seconds']:.1f} s, second run {second.seconds:.1f} s")
    assert second.returncode == 0 and not second.record.get("error"), second.explain()
    assert second.record["job"]["remote_id"] == job["remote_id"]
    assert second.record["job"]["imported"] > 0
    # Conjure imports a job it resumed by itself; the user did not have to ask again.
    assert second.record["job"]["imported_by"] == "conjure", second.record["job"]
    assert [j["id"] for j in second.record["journal"]] == [job["id"]], second.record["journal"]
    ours = [ob for ob in second.record["objects"]
            if ob["props"].get("conjure_job_id") == job["id"]]
    assert len(ours) == second.record["job"]["imported"]
    assert {ob["props"]["conjure_remote_id"] for ob in ours} == {job["remote_id"]}
    assert second.record["pump"]["alive"] and second.record["pump"]["ticks"] > 0
    after = harness.submissions(sandbox, key)
    assert len(after) == 1, f"the service saw {len(after)} submissions: {after}"


def test_killed_blender_resumes_the_job_without_submitting_twice(user, display, sandbox):
    # Each start gets a new process id, as a Blender started from a desktop does.
    key = f"sk-thrixel-app-restart-{user.target.name}"
    first, job = _kill_mid_job(user, display, sandbox, key, pid_namespace=False)
    _resumed(user, display, sandbox, key, first, job, pid_namespace=False)


def test_restart_with_the_same_process_id_resumes_the_job(user, display, sandbox):
    key = f"sk-thrixel-app-restart-pidns-{user.target.name}"
    first, job = _kill_mid_job(user, display, sandbox, key, pid_namespace=True)
    # In a PID namespace the restarted Blender has the dead one's process id; the lease's
    # process start time tells them apart, so the job resumes at once.
    _resumed(user, display, sandbox, key, first, job, pid_namespace=True)
