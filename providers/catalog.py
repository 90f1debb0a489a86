"""Every operation Conjure offers, per service: the one place the UI, the command line and the
engine look them up. Each service module declares its own ``OPERATIONS``."""

from __future__ import annotations

import importlib

from .errors import InvalidRequestError
from .params import Operation
from .services import BY_ID, SERVICES


def operations(provider: str | None = None) -> list[Operation]:
    """The declared operations of one service (or of all), in declaration order."""
    ids = [provider] if provider else [s.id for s in SERVICES]
    found: list[Operation] = []
    for service_id in ids:
        if service_id not in BY_ID:
            raise InvalidRequestError(f"unknown service {service_id!r}; choose one of "
                                      + ", ".join(BY_ID), field="provider")
        try:
            module = importlib.import_module(f"{__package__}.{service_id}")
        except ModuleNotFoundError:
            continue
        found.extend(getattr(module, "OPERATIONS", ()))
    return found


def operation(provider: str, name: str) -> Operation:
    for op in operations(provider):
        if op.name == name:
            return op
    known = ", ".join(op.name for op in operations(provider)) or "none yet"
    raise InvalidRequestError(f"{BY_ID[provider].label} has no operation {name!r}; it offers "
                              f"{known}", field="operation")
