"""A Conjure job runner in its own process, for the crash tests.

    python crash_child.py JOURNAL RESULTS URL [--submit] [--kill-at POINT --nth N]

With ``--submit`` it sends one new job; it then resumes whatever the journal holds and exits 0
once no job is active. With ``--kill-at`` it SIGKILLs itself the N-th time the runner passes
that checkpoint, so the parent can restart it and check that nothing was lost or sent twice.
"""

import argparse
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support import package

package.install()

from conjure.jobs.journal import Journal  # noqa: E402
from conjure.jobs.model import ACTIVE  # noqa: E402
from conjure.jobs.polling import PollPolicy  # noqa: E402
from conjure.jobs.runner import Runner  # noqa: E402
from support.fake_service import FakeClient  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("journal")
    parser.add_argument("results")
    parser.add_argument("url")
    parser.add_argument("--submit", action="store_true")
    parser.add_argument("--kill-at")
    parser.add_argument("--nth", type=int, default=1)
    args = parser.parse_args()

    passed = 0

    def checkpoint(point: str) -> None:
        nonlocal passed
        if point == args.kill_at:
            passed += 1
            if passed == args.nth:
                os.kill(os.getpid(), signal.SIGKILL)

    journal = Journal(args.journal)
    runner = Runner(journal, {"fake": FakeClient(args.url)}, args.results,
                    policy=PollPolicy(scale=0.01), checkpoint=checkpoint)
    if args.submit:
        runner.submit("fake", "create", {"prompt": "crash test"})
    runner.start()
    deadline = time.monotonic() + 30
    while journal.jobs(ACTIVE) and time.monotonic() < deadline:
        time.sleep(0.02)
    runner.stop()
    sys.exit(0 if not journal.jobs(ACTIVE) else 3)


if __name__ == "__main__":
    main()
