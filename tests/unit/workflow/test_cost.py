"""Money before and after, in plain Python: the estimate of a request, what is said and asked
before sending, a batch's cap, and the ledger per service and day."""

import time

import pytest

from conjure.jobs.model import Job, State
from conjure.providers.base import Funds
from conjure.providers.prices import Estimate
from conjure.workflow import cost, requests


def test_a_request_costs_its_operation_and_a_candidate_preview_its_model_step():
    tripo = requests.generation_request("TRIPO", prompt="a mug", options={"quad": True})
    assert cost.request_estimate(tripo).amount == 25
    voxel = requests.generation_request("VOXELAI", prompt="a barn",
                                        options={"voxel_size": 64})
    assert voxel.later == {"voxel_size": 64}
    both = cost.request_estimate(voxel)
    assert (both.amount, both.unit) == (1, "tokens")
    thrixel = requests.generation_request("THRIXEL", prompt="a lamp")
    assert not cost.request_estimate(thrixel).known
    assert cost.request_estimate(thrixel, {"architect": 4}).amount == 4


def test_said_before_sending_with_the_balance_it_leaves():
    thirty = Estimate(30, "credits")
    said = cost.before_sending(thirty, Funds("100 credits", 100, "credits"))
    assert (said.text, said.short, said.question) == (
        "About 30 credits; leaves 70 credits", False, None)
    assert cost.before_sending(thirty, None).text == "About 30 credits"
    assert cost.before_sending(thirty, Funds("unlimited", None, "credits")).text == \
        "About 30 credits"
    assert cost.before_sending(Estimate(0, ""), None).text == "Free"
    unknown = cost.before_sending(Estimate(None, "Cubes", note="metered by usage"),
                                  Funds("500 Cubes", 500, "Cubes"))
    assert unknown.text == "Price unknown: metered by usage. Balance: 500 Cubes"
    assert cost.before_sending(Estimate(0.42, "USD"), None).text == "About $0.42"
    assert cost.before_sending(Estimate(4, "Cubes"), None).text == "About 4 Cubes"


def test_a_short_balance_is_said_and_asked_about():
    said = cost.before_sending(Estimate(30, "credits"), Funds("20 credits", 20, "credits"))
    assert said.short
    assert said.text == "About 30 credits, but the balance is 20 credits: 10 credits short"
    assert said.question is not None and "Send anyway?" in said.question


@pytest.mark.parametrize(("amount", "ask_above", "asks"), [
    (30, 50, False), (60, 50, True), (50, 50, False), (None, 0, False), (0, 0, False),
    (1, 0, True), (60, None, False),
])
def test_asked_only_above_the_threshold(amount, ask_above, asks):
    said = cost.before_sending(Estimate(amount, "credits"), None, ask_above)
    assert (said.question is not None) == asks
    if asks:
        assert "Send it?" in said.question


def test_where_the_figure_comes_from():
    dated = Estimate(20, "credits", source="Tripo3D's typical prices", dated="2026-08-12")
    assert cost.source_words(dated) == "Figure of 2026-08-12: Tripo3D's typical prices"
    undated = Estimate(1, "tokens", source="Voxel-AI's API docs", dated="undated")
    assert cost.source_words(undated) == "Figure: Voxel-AI's API docs (undated)"
    assert "just now" in cost.source_words(Estimate(4, "Cubes", live=True))


def test_the_cap_counts_what_was_sent_per_service_in_its_unit():
    budget = cost.Budget({"tripo": 50})
    twenty = Estimate(20, "credits")
    for _ in range(2):
        assert budget.refusal("tripo", twenty) is None
        budget.take("tripo", twenty)
    refusal = budget.refusal("tripo", twenty)
    assert refusal == ("about 20 credits more would pass the 50 credits cap for Tripo3D "
                       "(40 credits sent so far)")
    assert budget.refusal("tripo", Estimate(10, "credits")) is None  # exactly the cap is fine
    assert budget.refusal("pixal3d", Estimate(99, "USD")) is None  # no cap for Pixazo
    assert budget.refusal("tripo", Estimate(0, "credits")) is None  # free is always fine
    assert "price is unknown" in budget.refusal("tripo", Estimate(None, "credits"))
    every = cost.Budget({cost.EVERY_SERVICE: 1})
    assert every.refusal("voxelai", Estimate(1, "tokens")) is None
    assert every.refusal("pixal3d", Estimate(0.42, "USD")) is None
    every.take("pixal3d", Estimate(0.42, "USD"))
    assert every.refusal("pixal3d", Estimate(0.42, "USD")) is None
    every.take("pixal3d", Estimate(0.42, "USD"))
    assert every.refusal("pixal3d", Estimate(0.42, "USD")) is not None


def test_a_batch_estimate_in_words():
    rows = [("tripo", Estimate(30, "credits")), ("tripo", Estimate(25, "credits")),
            ("pixal3d", Estimate(0.42, "USD")), ("voxelai", Estimate(0, "")),
            ("thrixel", Estimate(None, "Cubes"))]
    assert cost.totals_words(rows) == ("about 55 credits (Tripo3D), about $0.42 (Pixal3D "
                                       "(Pixazo)); free: 1 row; price unknown: 1 row (Thrixel)")
    assert cost.totals_words([]) == "nothing paid"


def at(day):
    return time.mktime(time.strptime(f"{day} 12:00", "%Y-%m-%d %H:%M"))


def job(service, operation, day, state=State.READY, charged=None, unit="", refunded=False,
        remote_id="r"):
    return Job(service, operation, {}, state=state, charged=charged, charge_unit=unit,
               refunded=refunded, remote_id=remote_id, created_at=at(day))


def test_the_ledger_sums_per_service_and_day():
    jobs = [
        job("tripo", "text_to_model", "2026-12-01", charged=20, unit="credits"),
        job("tripo", "text_to_model", "2026-12-01", charged=35, unit="credits"),
        job("tripo", "text_to_model", "2026-12-01", State.FAILED, charged=0, unit="credits",
            refunded=True),
        job("tripo", "text_to_model", "2026-12-02", charged=10, unit="credits"),
        job("pixal3d", "image_to_3d", "2026-12-01", charged=0.42, unit="USD"),
        # Cancelled here after it reached the service: what it cost was never said.
        job("thrixel", "create", "2026-12-01", State.CANCELLED),
        job("tripo", "text_to_model", "2026-12-01", State.FAILED, remote_id=None),  # never sent
        job("voxelai", "candidates", "2026-12-01"),  # free: not in the ledger
    ]
    lines = cost.ledger(jobs)
    assert [(line.day, line.service, line.spent, line.charged_jobs, line.refunded,
             line.unreported) for line in lines] == [
        ("2026-12-02", "tripo", 10, 1, 0, 0),
        ("2026-12-01", "thrixel", 0, 0, 0, 1),
        ("2026-12-01", "tripo", 55, 2, 1, 0),
        ("2026-12-01", "pixal3d", 0.42, 1, 0, 0),
    ]
    rows = cost.ledger_rows(lines)
    assert rows[0].split() == ["DAY", "SERVICE", "SPENT", "JOBS", "REFUNDED", "NOT", "REPORTED"]
    assert rows[3].split() == ["2026-12-01", "Tripo3D", "55", "credits", "2", "1", "0"]
    assert rows[-1] == "in all: 65 credits (Tripo3D), 0 Cubes (Thrixel), $0.42 (Pixal3D (Pixazo))"


def test_what_a_job_cost_in_its_details():
    assert cost.charge_words(job("tripo", "text_to_model", "2026-12-01", charged=30,
                                 unit="credits")) == "Charged 30 credits"
    assert cost.charge_words(job("voxelai", "voxelize", "2026-12-01", State.FAILED, charged=0,
                                 unit="tokens", refunded=True)) == "Refunded: nothing spent"
    assert cost.charge_words(job("thrixel", "convert", "2026-12-01", charged=0,
                                 unit="Cubes")) == "Nothing charged"
    assert cost.charge_words(job("thrixel", "create", "2026-12-01", State.RUNNING)) == ""
    assert cost.charge_words(job("thrixel", "create", "2026-12-01")) == \
        "The service did not say what it charged"
