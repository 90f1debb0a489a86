"""Functions run in child processes by the journal tests (importable after a spawn)."""

from support import package

package.install()

from conjure.jobs.journal import Journal  # noqa: E402
from conjure.jobs.model import Job, State  # noqa: E402


def hold_lease(path, job_id):
    assert Journal(path).claim(job_id)


def write_jobs(path, n, prefix):
    journal = Journal(path)
    for i in range(n):
        job = journal.add(Job(prefix, "x", {"i": i}), claim=False)
        journal.update(job.id, state=State.SUBMITTING)
        journal.update(job.id, state=State.QUEUED, remote_id=f"{prefix}{i}")
    journal.close()
