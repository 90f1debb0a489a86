"""One service client driven by the real job engine (``Runner`` + ``Journal``) in a scratch
folder, as the integration tests against the sandbox use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conjure.jobs.journal import Journal
from conjure.jobs.model import Job, State
from conjure.jobs.polling import PollPolicy
from conjure.jobs.runner import Runner
from conjure.providers.base import Client

#: Polls a hundred times sooner than a real session would; the sandbox's fast speed keeps up.
FAST = PollPolicy(scale=0.01)


class EngineEnv:
    def __init__(self, client: Client, root: Path, *, workers: int = 4) -> None:
        self.client = client
        self.service = client.name
        self.root = root
        self.journal = Journal(root / "jobs.sqlite")
        self.runner = Runner(self.journal, {self.service: client}, root, policy=FAST,
                             workers=workers)
        self.runner.start()

    def run(self, operation: str, params: dict[str, Any], state: State | None = State.READY,
            timeout: float = 15) -> Job:
        """Submit one job and wait for its end; with ``state``, check it ended there."""
        job = self.runner.submit(self.service, operation, params)
        done = self.runner.wait(job.id, timeout=timeout)
        if state is not None:
            assert done.state == state, done.message
        return done

    def files(self, job: Job) -> list[Path]:
        folder = self.root / "results" / self.service / job.id
        return [folder / name for name in job.result_files]

    def close(self) -> None:
        self.runner.stop()
        self.journal.close()
