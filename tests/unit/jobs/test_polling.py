import pytest

from conjure.jobs.polling import PollPolicy

EXACT = PollPolicy(jitter=0.0)


@pytest.mark.parametrize(("elapsed", "delay"), [(0, 2.0), (29, 2.0), (30, 5.0), (119, 5.0),
                                                (120, 10.0), (3600, 10.0)])
def test_cadence_without_hints_is_2_then_5_then_10_seconds(elapsed, delay):
    assert EXACT.delay(elapsed) == delay


def test_server_eta_is_followed_within_bounds():
    assert EXACT.delay(0, eta_s=3.5) == 3.5
    assert EXACT.delay(0, eta_s=0.2) == 1.0
    assert EXACT.delay(0, eta_s=400) == 10.0


def test_retry_after_wins_over_everything():
    assert EXACT.delay(500, eta_s=3, poll_after=42) == 42


def test_jitter_spreads_delays():
    policy = PollPolicy(jitter=0.1)
    delays = {policy.delay(0) for _ in range(50)}
    assert len(delays) > 10 and all(1.8 <= d <= 2.2 for d in delays)


def test_scale_shrinks_every_delay():
    assert PollPolicy(jitter=0.0, scale=0.01).delay(200) == pytest.approx(0.1)
