"""Thrixel's jobs at once: the key's own cap from ``/usage``, the documented default until it
is known."""

import responses
from unit.providers.thrixel.mocks import API, service


@responses.activate
def test_the_cap_is_read_from_the_account_once():
    responses.get(f"{API}/usage", json={"concurrent_job_cap": 10, "concurrent_in_flight": 0})
    client = service()
    assert client.slot_group("create", {}).limit == 10
    assert client.slot_group("edit", {}).limit == 10
    assert client.max_active == 10
    assert len(responses.calls) == 1


@responses.activate
def test_an_account_without_a_cap_runs_up_to_ten():
    responses.get(f"{API}/usage", json={"concurrent_job_cap": None})
    assert service().slot_group("create", {}).limit == 10


@responses.activate
def test_the_documented_default_stands_while_the_cap_cannot_be_read():
    responses.get(f"{API}/usage", status=503)
    client = service()
    assert client.slot_group("create", {}).limit == 3
    assert client.slot_group("create", {}).limit == 3
    assert len(responses.calls) == 1  # asked again only after CAP_RETRY_S
    client.CAP_RETRY_S = 0.0
    responses.replace(responses.GET, f"{API}/usage", json={"concurrent_job_cap": 5})
    assert client.slot_group("create", {}).limit == 5


@responses.activate
def test_a_balance_answer_tells_the_cap_too():
    responses.get(f"{API}/usage", json={"cubes_balance": 40, "concurrent_job_cap": 6})
    client = service()
    client.balance()
    assert client.slot_group("create", {}).limit == 6
    assert len(responses.calls) == 1
