import threading
import time

from conjure.jobs.background import Background


def test_background_never_waits_and_reports_errors():
    gate = threading.Event()

    def slow():
        gate.wait(5)
        return "1200 credits"

    bg = Background()
    start = time.monotonic()
    assert bg.get("k", slow).pending and time.monotonic() - start < 0.5
    gate.set()
    while bg.peek("k").pending:
        time.sleep(0.01)
    assert (bg.peek("k").text, bg.peek("k").ok) == ("1200 credits", True)

    def boom():
        raise RuntimeError("key refused")
    bg.get("k", boom, refresh=True)
    while bg.peek("k").pending:
        time.sleep(0.01)
    assert (bg.peek("k").text, bg.peek("k").ok) == ("key refused", False)


def test_a_blocking_caller_waits_for_the_answer_and_one_put_needs_no_fetch():
    gate = threading.Event()

    def slow():
        gate.wait(5)
        return '{"name": "Scene"}'

    bg = Background()
    assert bg.wait("k", timeout=0.01) is None  # nothing asked
    bg.get("k", slow)
    assert bg.wait("k", timeout=0.05).pending  # still running: the wait gives up
    threading.Timer(0.05, gate.set).start()
    answer = bg.wait("k", timeout=5)
    assert (answer.text, answer.ok, answer.pending) == ('{"name": "Scene"}', True, False)

    bg.put("kept", "read back")
    fetched = []
    assert bg.get("kept", lambda: fetched.append(1) or "new").text == "read back"
    assert not fetched


def test_an_answer_keeps_the_value_behind_its_words():
    class Funds:
        amount = 1200.0

        def __str__(self):
            return "1200 credits"

    bg = Background()
    bg.get("k", Funds)
    while bg.peek("k").pending:
        time.sleep(0.01)
    answer = bg.get("k", Funds)
    assert (answer.text, answer.value.amount) == ("1200 credits", 1200.0)
    assert bg.get("k", Funds, refresh=True).value.amount == 1200.0  # kept while asking again
