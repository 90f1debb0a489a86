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
    #: The service's name in code, in the journal and in results/<id>/.
    id: str
    label: str
    #: What the service calls its credential, for the preferences field.
    key_label: str
    #: Environment variables holding the key, in order of precedence.
    key_env: tuple[str, ...]
    url_env: str
    default_url: str
    #: Where a user gets a key.
    key_help: str
    #: The id Conjure 0.1 used, where it differs: it names the preference fields (which keep
    #: users' keys) and is still understood in journals and imported objects of 0.1.
    saved_id: str = ""

    @property
    def public_name(self) -> str:
        """The name scripts and the command line use (``provider='TRIPO'``)."""
        return self.id.upper()

    @property
    def key_words(self) -> str:
        """``key_label`` inside a sentence: "API key" stays, "Access token" becomes
        "access token"."""
        label = self.key_label
        return label if label[:2].isupper() else label[:1].lower() + label[1:]

    @property
    def prefs_name(self) -> str:
        """The prefix of the service's preference fields (``<prefs_name>_key``)."""
        return self.saved_id or self.id


SERVICES: tuple[Service, ...] = (
    Service("thrixel", "Thrixel", "API key", ("CONJURE_THRIXEL_KEY", "THRIXEL_API_KEY"),
            "CONJURE_THRIXEL_URL", "https://api.thrixel.com",
            "thrixel.com/create/#settings/api-keys"),
    Service("tripo", "Tripo3D", "API key", ("CONJURE_TRIPO_KEY", "TRIPO_API_KEY"),
            "CONJURE_TRIPO_URL", "https://api.tripo3d.ai",
            "platform.tripo3d.ai > API keys"),
    Service("pixal3d", "Pixal3D (Pixazo)", "Subscription key",
            ("CONJURE_PIXAZO_KEY", "PIXAZO_API_KEY"), "CONJURE_PIXAZO_URL",
            "https://gateway.pixazo.ai", "pixazo.ai > API keys", saved_id="pixazo"),
    Service("voxelai", "Voxel-AI", "Access token", ("CONJURE_VOXELAI_TOKEN",),
            "CONJURE_VOXELAI_URL", "https://voxelai.studio",
            "voxelai.studio (sign in; tokens expire and must be pasted again)"),
)
BY_ID: dict[str, Service] = {s.id: s for s in SERVICES}
#: 0.1's ids → today's.
SAVED_IDS: dict[str, str] = {s.saved_id: s.id for s in SERVICES if s.saved_id}


def find(name: str) -> Service | None:
    """A service by any spelling users and files have for it: ``tripo``, ``TRIPO`` (scripts,
    the command line) or an id 0.1 saved (``pixazo``)."""
    key = name.strip().lower()
    return BY_ID.get(SAVED_IDS.get(key, key))


def current_id(saved: str) -> str:
    """Today's id for a service id read from a journal or an object (unchanged when unknown)."""
    return SAVED_IDS.get(saved, saved)


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
