"""The four services: names, where their keys and base URLs come from.

One table read by the preferences panel, the engine and the command line. Base URLs are the
services' origins; a base-URL override replaces the origin and keeps the documented paths, which
is how the sandbox (``http://127.0.0.1:PORT/thrixel`` …) stands in for them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    id: str
    #: The name scripts and the command line use (``provider='TRIPO'``).
    op_id: str
    label: str
    #: What the service calls its credential, for the preferences field.
    key_label: str
    #: Environment variables holding the key, in order of precedence.
    key_env: tuple[str, ...]
    url_env: str
    default_url: str
    #: Where a user gets a key.
    key_help: str


SERVICES: tuple[Service, ...] = (
    Service("thrixel", "THRIXEL", "Thrixel", "API key", ("CONJURE_THRIXEL_KEY", "THRIXEL_API_KEY"),
            "CONJURE_THRIXEL_URL", "https://api.thrixel.com",
            "thrixel.com/create/#settings/api-keys"),
    Service("tripo", "TRIPO", "Tripo3D", "API key", ("CONJURE_TRIPO_KEY", "TRIPO_API_KEY"),
            "CONJURE_TRIPO_URL", "https://api.tripo3d.ai",
            "platform.tripo3d.ai > API keys"),
    Service("pixazo", "PIXAL3D", "Pixal3D (Pixazo)", "Subscription key",
            ("CONJURE_PIXAZO_KEY", "PIXAZO_API_KEY"), "CONJURE_PIXAZO_URL",
            "https://gateway.pixazo.ai", "pixazo.ai > API keys"),
    Service("voxelai", "VOXELAI", "Voxel-AI", "Access token", ("CONJURE_VOXELAI_TOKEN",),
            "CONJURE_VOXELAI_URL", "https://voxelai.studio",
            "voxelai.studio (sign in; tokens expire and must be pasted again)"),
)
BY_ID: dict[str, Service] = {s.id: s for s in SERVICES}
BY_OP_ID: dict[str, Service] = {s.op_id: s for s in SERVICES}


def resolve_key(service: Service, field_value: str,
                environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The key to use and where it came from: the preferences field first, then the
    environment. Returns ``("", "")`` when there is none."""
    environ = os.environ if environ is None else environ
    if field_value.strip():
        return field_value.strip(), "preferences"
    for name in service.key_env:
        if environ.get(name, "").strip():
            return environ[name].strip(), name
    return "", ""


def resolve_url(service: Service, override: str,
                environ: Mapping[str, str] | None = None) -> str:
    """The service's base URL: the preferences override, the environment, else the real one."""
    environ = os.environ if environ is None else environ
    url = override.strip() or environ.get(service.url_env, "").strip() or service.default_url
    return url.rstrip("/")
