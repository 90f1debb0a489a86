"""The part trees of Thrixel models (``GET /hierarchy``): asked for once per submission on a
worker thread after the job is done, and kept beside the job's results as ``hierarchy.json``,
since the service parses the whole model to answer (it is not cheap).

The main thread only asks and reads what has arrived (``request``, ``known``); blocking callers
(scripts, the command line, checks before a paid request) may ``wait``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..jobs.background import Answer
from ..jobs.model import Job
from ..jobs.results import job_folder
from ..providers.thrixel.client import ThrixelClient
from ..providers.thrixel.hierarchy import Hierarchy, parse_hierarchy
from ..workflow import lineage, parts
from . import session

FILE_NAME = "hierarchy.json"
#: How long a blocking caller waits for the service's answer.
WAIT_S = 60.0

#: Parsed trees by key, with the text they were parsed from.
_parsed: dict[str, tuple[str, Hierarchy]] = {}


def offers_parts(job: Job) -> bool:
    """Whether the job's result is a Thrixel model the service can list the parts of."""
    return job.service == "thrixel" and bool(lineage.submission_id(job))


def _key(job: Job) -> str:
    return f"{job.service}:{lineage.submission_id(job)}"


def _kept(job: Job) -> Path:
    return job_folder(session.get().root, job.service, job.id) / FILE_NAME


def _fetch(client: ThrixelClient, submission_id: str, kept: Path) -> str:
    """On a worker thread: ask the service, keep the answer beside the job's results."""
    text = json.dumps(client.hierarchy_data(submission_id))
    kept.parent.mkdir(parents=True, exist_ok=True)
    part = kept.with_name(f".{kept.name}.part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, kept)
    return text


def request(job: Job, *, refresh: bool = False) -> Answer | None:
    """The job's part tree as known now; the first ask (or ``refresh``) starts the fetch on a
    worker thread, unless the tree was kept from an earlier one. None for jobs without parts."""
    client = session.client(job.service) if offers_parts(job) else None
    if not isinstance(client, ThrixelClient):
        return None
    key = _key(job)
    kept = _kept(job)
    if not refresh and session.hierarchies.peek(key) is None and kept.is_file():
        try:
            session.hierarchies.put(key, kept.read_text(encoding="utf-8"))
        except OSError:
            pass
    submission_id = lineage.submission_id(job)
    answer = session.hierarchies.get(key, lambda: _fetch(client, submission_id, kept),
                                     refresh=refresh)
    if answer.pending:
        session.watch()
    return answer


def _parse(key: str, answer: Answer | None) -> Hierarchy | None:
    if answer is None or not answer.ok or not answer.text:
        return None
    cached = _parsed.get(key)
    if cached is not None and cached[0] == answer.text:
        return cached[1]
    try:
        tree = parse_hierarchy(json.loads(answer.text))
    except (ValueError, TypeError):  # a kept file damaged on disk: asked for again later
        return None
    _parsed[key] = (answer.text, tree)
    return tree


def known(job: Job) -> Hierarchy | None:
    """The part tree if it has arrived (starting the fetch if it was never asked for)."""
    return _parse(_key(job), request(job))


def wait(job: Job, timeout: float = WAIT_S) -> Hierarchy:
    """The part tree, waiting for the service when it is not known yet (blocking callers
    only); an earlier failed answer is asked for again. ``LookupError`` in words when the
    tree cannot be had."""
    answer = request(job)
    if answer is not None and not answer.pending and not answer.ok:
        answer = request(job, refresh=True)
    if answer is None:
        raise LookupError(f"Job {job.id} is not a Thrixel model with parts")
    if answer.pending:
        answer = session.hierarchies.wait(_key(job), timeout)
    tree = _parse(_key(job), answer)
    if tree is None:
        why = "no answer in time" if answer is None or answer.pending else answer.text
        raise LookupError(f"Could not read the parts of this model from Thrixel ({why})")
    return tree


def check_parts(job: Job, names: list[str], *, blocking: bool) -> None:
    """Refuse part names ``job``'s model does not have, before anything is sent. A blocking
    caller waits for the part tree; an interactive one is asked to try again once it is in."""
    if not names:
        return
    tree: Hierarchy | None
    if blocking:
        tree = wait(job)
    else:
        answer = request(job)
        tree = _parse(_key(job), answer)
        if tree is None and answer is not None and not answer.pending and not answer.ok:
            request(job, refresh=True)
            raise LookupError(f"Could not read the parts of this model from Thrixel to check "
                              f"the names ({answer.text}); asking again, try in a moment")
        if tree is None:
            raise LookupError("Conjure is reading this model's parts from Thrixel to check "
                              "the names; try again in a moment")
    parts.check_names(names, tree)
