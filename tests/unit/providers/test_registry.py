"""The registry: every service's operations and client, found by service id."""

import pytest
import responses

from conjure.providers import registry
from conjure.providers.errors import InvalidRequestError
from conjure.providers.services import SERVICES


def test_registry_finds_declared_operations():
    assert registry.operation("thrixel", "create").mode == "text"
    with pytest.raises(InvalidRequestError, match="Thrixel has no operation 'fly'"):
        registry.operation("thrixel", "fly")
    with pytest.raises(InvalidRequestError, match="unknown service"):
        registry.operations("nope")


def test_every_service_has_operations_and_all_come_in_service_order():
    each = [registry.operations(service.id) for service in SERVICES]
    assert all(each)
    assert registry.operations() == [op for ops in each for op in ops]
    assert all(op.service == service.id
               for service, ops in zip(SERVICES, each, strict=True) for op in ops)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.id)
def test_make_client_builds_the_services_own_client(service):
    client = registry.make_client(service.id, registry.ClientConfig(service.default_url, "k"))
    assert client.name == service.id
    assert client.operations == tuple(registry.operations(service.id))


def test_make_client_refuses_an_unknown_service():
    with pytest.raises(ValueError, match="unknown service 'nope'"):
        registry.make_client("nope", registry.ClientConfig("https://example.com"))


class _Job:
    id = "j"
    operation = "fly"
    params: dict = {}
    remote_id = None


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.id)
def test_every_client_refuses_an_operation_it_does_not_offer_before_sending(service):
    client = registry.make_client(service.id, registry.ClientConfig(service.default_url, "k"))
    refused = "has no operation 'fly'; it offers"
    with responses.RequestsMock() as mocked:  # no route registered: nothing may be sent
        with pytest.raises(InvalidRequestError, match=refused) as caught:
            client.submit(_Job())
        assert len(mocked.calls) == 0
    assert caught.value.field == "operation" and caught.value.status is None
