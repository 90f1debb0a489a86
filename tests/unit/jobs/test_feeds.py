"""A service's push channel held open by the runner: news written as it comes, the status read
once at the end, a dropped channel opened again after a growing wait (the status read once per
try meanwhile), and a cancel that closes it at once."""

import logging
import re
import threading
import time

import pytest

from conjure.jobs.events import EventQueue
from conjure.jobs.journal import Journal
from conjure.jobs.model import State
from conjure.jobs.polling import PollPolicy
from conjure.jobs.runner import Runner
from conjure.providers import errors
from conjure.providers.base import Client, Feed, Phase, RemoteStatus, ResultFile, Submitted

DONE = RemoteStatus(Phase.SUCCEEDED, results=[
    ResultFile("m.glb", lambda: iter([b"glTF", b"\0" * 8]))])


class ScriptFeed(Feed):
    """Yields ``news`` (None: a heartbeat), then ends (``ended``) or drops; with ``hold`` it
    blocks until closed, as a read on a quiet stream does."""

    def __init__(self, news, ended, hold=False):
        self.news, self.will_end, self.hold = list(news), ended, hold
        self.closed = threading.Event()
        self.ended = False

    def __iter__(self):
        for item in self.news:
            if self.closed.is_set():
                return
            yield item
        if self.hold:
            self.closed.wait(10)
            return
        self.ended = self.will_end

    def close(self):
        self.closed.set()


class FeedClient(Client):
    name = "pushy"

    def __init__(self, feeds, polls):
        self.feeds_left = list(feeds)  # ScriptFeed or an exception to raise, in turn
        self.polls_left = list(polls)
        self.opened: list[float] = []
        self.polled: list[float] = []
        self.cancelled = threading.Event()

    def submit(self, job):
        return Submitted("r1", RemoteStatus(Phase.QUEUED))

    def feeds(self, job):
        return True

    def feed(self, job):
        self.opened.append(time.monotonic())
        item = self.feeds_left.pop(0) if len(self.feeds_left) > 1 else self.feeds_left[0]
        if isinstance(item, BaseException):
            raise item
        return item

    def poll(self, job):
        self.polled.append(time.monotonic())
        return self.polls_left.pop(0) if len(self.polls_left) > 1 else self.polls_left[0]

    def cancel(self, job):
        self.cancelled.set()
        return True


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "jobs.sqlite")
    yield j
    j.close()


def run(journal, tmp_path, client, events=None, timeout=10):
    runner = Runner(journal, {"pushy": client}, tmp_path, events=events,
                    policy=PollPolicy(scale=0.05))
    runner.start()
    job = runner.submit("pushy", "make")
    done = runner.wait(job.id, timeout=timeout)
    runner.stop()
    return done


def test_one_feed_is_held_and_the_status_read_once_at_its_end(journal, tmp_path):
    news = [RemoteStatus(Phase.QUEUED), None, RemoteStatus(Phase.RUNNING, progress=0.3),
            RemoteStatus(Phase.RUNNING, progress=0.6, message="Assembling")]
    client = FeedClient([ScriptFeed(news, ended=True)], [DONE])
    events = EventQueue()
    done = run(journal, tmp_path, client, events)
    assert done.state == State.READY, done.message
    assert (len(client.opened), len(client.polled)) == (1, 1)
    seen = []
    while not events.empty():
        seen += [e.job for e in events.drain(max_events=1)]
    assert State.RUNNING in [j.state for j in seen]
    assert any(j.message == "Assembling" for j in seen)


def reconnect_waits(caplog):
    """The waits the runner chose before opening a dropped feed again, as it logged them
    (the figures it sleeps on, not times measured on a loaded machine)."""
    found = (re.search(r"listening again in ([0-9.]+) s", r.getMessage()) for r in caplog.records)
    return [float(m.group(1)) for m in found if m]


def test_a_dropped_feed_is_opened_again_after_a_growing_wait(journal, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    running = RemoteStatus(Phase.RUNNING)
    feeds = [ScriptFeed([running], ended=False), ScriptFeed([], ended=False),
             ScriptFeed([running], ended=True)]
    client = FeedClient(feeds, [running, running, DONE])
    done = run(journal, tmp_path, client)
    assert done.state == State.READY, done.message
    # Each drop: the status once, then the feed again; the end: the status once.
    assert (len(client.opened), len(client.polled)) == (3, 3)
    first, second = reconnect_waits(caplog)
    assert second > first


def test_a_feed_that_never_opens_leaves_status_reads_at_the_pace_of_its_retries(
        journal, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    running = RemoteStatus(Phase.RUNNING)
    client = FeedClient([errors.TransientServiceError("HTTP 503", service="Pushy")],
                        [running, running, running, DONE])
    done = run(journal, tmp_path, client)
    assert done.state == State.READY, done.message
    assert len(client.polled) == len(client.opened) == 4
    waits = reconnect_waits(caplog)  # a status read per try, tries slower and slower
    assert len(waits) == 4 and waits == sorted(waits) and waits[0] < waits[-1]


def test_cancel_closes_a_held_feed_at_once(journal, tmp_path):
    feed = ScriptFeed([RemoteStatus(Phase.RUNNING, progress=0.1)], ended=False, hold=True)
    client = FeedClient([feed], [RemoteStatus(Phase.RUNNING)])
    runner = Runner(journal, {"pushy": client}, tmp_path, policy=PollPolicy(scale=0.05))
    runner.start()
    job = runner.submit("pushy", "make")
    while journal.require(job.id).progress != 0.1:
        time.sleep(0.01)
    began = time.monotonic()
    runner.cancel(job.id)
    done = runner.wait(job.id, timeout=5)
    runner.stop()
    assert done.state == State.CANCELLED and client.cancelled.is_set()
    assert time.monotonic() - began < 2 and feed.closed.is_set()
