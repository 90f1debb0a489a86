"""Every service Conjure talks to, in one place: the operations each declares and the client
each builds. The UI, the command line and the engine look operations up and build clients here;
the services' names, keys and URLs are in ``services``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import pixal3d, thrixel, tripo, voxelai
from .base import Client, ClientConfig
from .errors import InvalidRequestError
from .params import Operation, operation_named
from .services import BY_ID, SERVICES

__all__ = ["ClientConfig", "make_client", "operation", "operations", "unit", "unsupported"]


@dataclass(frozen=True)
class _Package:
    operations: tuple[Operation, ...]
    #: Documented operations Conjure does not offer: name → why.
    unsupported: dict[str, str]
    make: Callable[[ClientConfig], Client]
    #: The unit its prices and charges are in (credits, Cubes, USD, tokens).
    unit: str


#: Each service's package, by ``services.Service.id``.
_PACKAGES: dict[str, _Package] = {
    "thrixel": _Package(thrixel.OPERATIONS, thrixel.UNSUPPORTED, thrixel.make, thrixel.UNIT),
    "tripo": _Package(tripo.OPERATIONS, tripo.UNSUPPORTED, tripo.make, tripo.UNIT),
    "pixal3d": _Package(pixal3d.OPERATIONS, pixal3d.UNSUPPORTED, pixal3d.make, pixal3d.UNIT),
    "voxelai": _Package(voxelai.OPERATIONS, voxelai.UNSUPPORTED, voxelai.make, voxelai.UNIT),
}


def operations(service_id: str | None = None) -> list[Operation]:
    """The declared operations of one service (or of all, in ``SERVICES`` order, when
    ``service_id`` is None or empty), in declaration order."""
    if not service_id:
        return [op for service in SERVICES for op in _PACKAGES[service.id].operations]
    if service_id not in BY_ID:
        raise InvalidRequestError(f"unknown service {service_id!r}; choose one of "
                                  + ", ".join(BY_ID), field="provider")
    return list(_PACKAGES[service_id].operations)


def operation(service_id: str, name: str) -> Operation:
    """The operation ``name`` of ``service_id``; raises ``InvalidRequestError`` naming the ones
    the service offers."""
    return operation_named(operations(service_id), name, BY_ID[service_id].label)


def unsupported(service_id: str) -> dict[str, str]:
    """The service's documented operations Conjure does not offer, with the reason."""
    return dict(_PACKAGES[service_id].unsupported)


def unit(service_id: str) -> str:
    """The unit ``service_id`` prices and charges in, e.g. "credits"."""
    return _PACKAGES[service_id].unit


def make_client(service_id: str, config: ClientConfig) -> Client:
    """The client for ``service_id`` (see ``services.SERVICES``), built from ``config``."""
    if service_id not in BY_ID:
        raise ValueError(f"unknown service {service_id!r}; known: {sorted(BY_ID)}")
    return _PACKAGES[service_id].make(config)
