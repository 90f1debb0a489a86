"""Building service clients from settings the Blender layer (or a script) collected."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .base import Provider
from .http import NetworkSettings
from .services import BY_ID


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs, captured on the main thread; workers never read bpy."""

    base_url: str
    key: str = field(default="", repr=False)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    #: Raises ``OfflineError`` when requests are not allowed right now.
    guard: Callable[[], None] = lambda: None
    #: Service-specific settings as text, e.g. ``{"api": "v2"}`` for Tripo3D's API family;
    #: each client documents the ones it reads (and its environment fallbacks) in ``make``.
    options: Mapping[str, str] = field(default_factory=dict)


def make_provider(service_id: str, config: ClientConfig) -> Provider:
    """The client for ``service_id`` (see ``services.SERVICES``): its module's ``make``."""
    if service_id not in BY_ID:
        raise ValueError(f"unknown service {service_id!r}; known: {sorted(BY_ID)}")
    try:
        module = importlib.import_module(f"{__package__}.{service_id}")
    except ModuleNotFoundError as exc:
        raise NotImplementedError(f"{BY_ID[service_id].label} is not supported yet") from exc
    make: Callable[[ClientConfig], Provider] = module.make
    return make(config)
