"""When to poll: the usual cadence, polls timed by an estimate of the job's end, and never more
polls than the usual cadence would have made."""

from itertools import pairwise

import pytest

from conjure.jobs.polling import Durations, PollPolicy

EXACT = PollPolicy(jitter=0.0)
PIXAZO = (5.0, 10.0)


@pytest.mark.parametrize(("elapsed", "delay"), [(0, 2.0), (29, 2.0), (30, 5.0), (119, 5.0),
                                                (120, 10.0), (3600, 10.0)])
def test_cadence_without_an_estimate_is_2_then_5_then_10_seconds(elapsed, delay):
    assert EXACT.delay(elapsed) == delay


def test_a_services_own_interval_replaces_the_steps():
    assert EXACT.delay(0, every=PIXAZO) == 5.0
    assert EXACT.delay(600, every=PIXAZO) == 5.0


def test_retry_after_wins_over_everything():
    assert EXACT.delay(500, expected=501, polls=0, poll_after=42) == 42


def test_jitter_spreads_delays():
    policy = PollPolicy(jitter=0.1)
    delays = {policy.delay(0) for _ in range(50)}
    assert len(delays) > 10 and all(1.8 <= d <= 2.2 for d in delays)


def test_scale_shrinks_every_delay():
    assert PollPolicy(jitter=0.0, scale=0.01).delay(200) == pytest.approx(0.1)


@pytest.mark.parametrize("elapsed", [0, 12.5, 30, 77, 120, 400])
def test_usual_time_is_the_inverse_of_usual_count(elapsed):
    assert EXACT.usual_time(EXACT.usual_count(elapsed)) == pytest.approx(elapsed)
    assert EXACT.usual_count(EXACT.usual_time(elapsed)) == pytest.approx(elapsed)


def test_the_usual_cadence_counts_its_polls():
    assert EXACT.usual_count(30) == 15 and EXACT.usual_count(120) == 33
    assert EXACT.usual_count(65, every=5.0) == 13


def run(policy, end, *, every=None, estimate=None, start=0.0, limit=2000):
    """Poll a job that ends at ``end`` (seconds after it was written) the way the runner does;
    ``estimate(elapsed)`` gives the expected end known at each poll. Returns the poll times."""
    times, elapsed = [], start
    while True:
        expected = estimate(elapsed) if estimate else None
        elapsed += policy.delay(elapsed, expected=expected, polls=len(times), every=every)
        times.append(elapsed)
        if elapsed >= end or len(times) > limit:
            return times


@pytest.mark.parametrize(("end", "every"), [(33.0, None), (65.0, PIXAZO), (23.0, None),
                                            (98.0, None), (700.0, None)])
def test_an_estimate_finds_the_end_at_once_with_no_more_polls(end, every):
    usual = run(EXACT, end, every=every)
    timed = run(EXACT, end, every=every, estimate=lambda _elapsed: end)
    assert timed[-1] - end <= EXACT.near_every + 1e-9
    assert len(timed) <= len(usual)


@pytest.mark.parametrize("error", [-30.0, -5.0, -1.0, 1.0, 2.5, 10.0, 60.0])
def test_a_wrong_estimate_costs_no_more_polls_and_at_most_one_sparse_interval(error):
    end = 65.0
    usual = run(EXACT, end)
    timed = run(EXACT, end, estimate=lambda _elapsed: end + error)
    assert len(timed) <= len(usual)
    assert timed[-1] <= end + EXACT.slowest + 1e-9


def test_polls_far_from_the_end_are_sparser_than_usual():
    timed = run(EXACT, 65.0, every=PIXAZO, estimate=lambda _elapsed: 65.0)
    early = [t for t in timed if t < 60]
    assert [round(b - a, 6) for a, b in pairwise(early)] == [10.0] * (len(early) - 1)
    assert len([t for t in timed if t >= 64]) >= 2


def test_without_an_estimate_no_poll_comes_before_the_usual_cadence_either():
    jittery = PollPolicy(jitter=0.3)
    for end in (13.0, 65.0):
        for every in (None, (5.0, 10.0)):
            timed = run(jittery, end, every=every)
            for n, at in enumerate(timed, 1):
                assert jittery.usual_count(at, every[0] if every else None) >= n - 1e-9


def test_a_late_estimate_spreads_the_few_polls_left_around_the_end():
    # The estimate arrives when most of the usual polls are spent: what is left is spread
    # over the window instead of being spent at once before the end.
    timed = run(EXACT, 65.5, every=PIXAZO, estimate=lambda e: 65.0 if e >= 50 else None)
    around = [t for t in timed if t >= 64.0]
    assert len(around) >= 2 and around[-1] - 65.5 < 2.0


def test_polls_around_the_end_are_never_further_apart_than_usual():
    # A job expected to end at once with no poll saved: asked at the usual 2 s, not later.
    assert EXACT.delay(0.05, expected=0.3, polls=0) == pytest.approx(2.0)
    assert EXACT.delay(2.05, expected=0.3, polls=1) == pytest.approx(1.95)  # at 4 s, as usual


def test_no_poll_comes_before_the_usual_cadence_has_made_as_many():
    # Expected at once: the polls around the end wait for the budget the cadence allows.
    timed = run(EXACT, 10.0, estimate=lambda _elapsed: 0.5)
    for n, at in enumerate(timed, 1):
        assert EXACT.usual_count(at) >= n - 1e-9


def test_durations_give_the_median_of_the_last_few():
    durations = Durations(keep=3)
    assert durations.typical("tripo", "text_to_model") is None
    for seconds in (100.0, 30.0, 31.0, 29.0):
        durations.add("tripo", "text_to_model", seconds)
    durations.add("tripo", "text_to_model", float("nan"))
    assert durations.typical("tripo", "text_to_model") == 30.0
    assert durations.typical("tripo", "animate_rig") is None
