"""Answers to slow questions (an account's balance, a key test, a model's parts) computed on
daemon threads, so a panel's draw never waits on the network. The UI asks; the answer arrives on
a later redraw. A blocking caller (a script, the command line) may wait for one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Answer:
    text: str = ""
    ok: bool = False
    pending: bool = False
    at: float = 0.0
    #: What the question's function returned (``text`` is it in words).
    value: Any = None


class Background:
    """Answers to slow questions (a balance, a key test) computed on daemon threads.

    The main thread asks ``get``; the first ask (or one older than ``max_age``) starts a worker
    and returns what is known so far, so a draw never waits on the network. Workers touch only
    this object."""

    def __init__(self, max_age: float = 120.0) -> None:
        self.max_age = max_age
        self._answers: dict[str, Answer] = {}
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._generation = 0

    def get(self, key: str, fetch: Callable[[], object], *, refresh: bool = False) -> Answer:
        with self._lock:
            answer = self._answers.get(key)
            stale = answer is None or (not answer.pending and (
                refresh or time.monotonic() - answer.at > self.max_age))
            if not stale:
                assert answer is not None
                return Answer(answer.text, answer.ok, answer.pending, answer.at, answer.value)
            previous = answer or Answer()
            self._answers[key] = Answer(previous.text, previous.ok, True, previous.at,
                                        previous.value)
            generation = self._generation
        threading.Thread(target=self._work, args=(key, fetch, generation),
                         name=f"conjure-ui-{key}", daemon=True).start()
        return Answer(previous.text, previous.ok, True, previous.at, previous.value)

    def peek(self, key: str) -> Answer | None:
        with self._lock:
            return self._answers.get(key)

    def put(self, key: str, text: str, ok: bool = True) -> None:
        """An answer known without asking (read back from where an earlier one was kept);
        a fetch still running for ``key`` is not waited for and its answer replaces this."""
        with self._lock:
            self._answers[key] = Answer(text, ok, False, time.monotonic())
            self._arrived.notify_all()

    def wait(self, key: str, timeout: float) -> Answer | None:
        """The answer for ``key`` once no fetch is running for it (at most ``timeout`` s);
        None when nothing was asked. For blocking callers only: never from a draw."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                answer = self._answers.get(key)
                left = deadline - time.monotonic()
                if answer is None or not answer.pending or left <= 0:
                    return answer
                self._arrived.wait(left)

    def pending(self) -> bool:
        with self._lock:
            return any(a.pending for a in self._answers.values())

    def forget(self, key: str | None = None) -> None:
        """Drop answers (all when ``key`` is None); workers still running report into the void."""
        with self._lock:
            if key is None:
                self._answers.clear()
                self._generation += 1
            else:
                self._answers.pop(key, None)

    def _work(self, key: str, fetch: Callable[[], object], generation: int) -> None:
        value: object = None
        try:
            value, ok = fetch(), True
            text = value if isinstance(value, str) else str(value)
        except Exception as exc:  # shown to the user; every error type says what to do
            text, ok = str(exc) or type(exc).__name__, False
        with self._lock:
            if generation == self._generation and key in self._answers:
                self._answers[key] = Answer(text, ok, False, time.monotonic(), value)
            self._arrived.notify_all()
