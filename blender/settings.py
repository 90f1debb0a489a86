"""Reading Conjure's add-on preferences: the key and base URL of each service, network settings and
download limits, how results are imported. The preferences window itself is ``preferences.py``;
this module is what the rest of the Blender layer reads, so reading settings never imports the
window's code.

Keys come from the preferences field first, then the service's environment variables (see
``providers.services``); they are handed to clients and never stored anywhere else.
"""

from __future__ import annotations

from typing import Any

import bpy

from ..jobs.results import MB, SizeLimits
from ..providers.http import NetworkSettings
from ..providers.services import Service, resolve_key, resolve_url
from . import EXTENSION
from .scene_import import ImportSettings


def get(context: bpy.types.Context | None = None) -> Any:
    """The add-on preferences (``preferences.ConjurePreferences``)."""
    context = context or bpy.context
    return context.preferences.addons[EXTENSION].preferences


def key(service: Service) -> tuple[str, str]:
    """The service's key and where it came from (``preferences`` or a variable's name)."""
    return resolve_key(service, getattr(get(), f"{service.prefs_name}_key"))


def base_url(service: Service) -> str:
    return resolve_url(service, getattr(get(), f"{service.prefs_name}_url"))


def network() -> NetworkSettings:
    prefs = get()
    return NetworkSettings(connect_timeout=prefs.connect_timeout,
                           read_timeout=prefs.read_timeout, proxy=prefs.proxy,
                           ca_bundle=bpy.path.abspath(prefs.ca_bundle) if prefs.ca_bundle else "",
                           verify_tls=prefs.verify_tls,
                           download_stall_s=prefs.download_stall_timeout,
                           download_time_s=prefs.download_time_limit)


def size_limits() -> SizeLimits:
    """How large a result file may be, per kind (the Downloads preferences)."""
    prefs = get()
    return SizeLimits(models=prefs.download_max_model_mb * MB,
                      pictures=prefs.download_max_picture_mb * MB)


def client_options(service: Service) -> dict[str, str]:
    """Settings that belong to one service's client (see ``ClientConfig.options``)."""
    if service.id == "tripo" and get().tripo_api != "AUTO":
        return {"api": get().tripo_api}
    if service.id == "thrixel":
        return {"lite_first": "1" if get().lite_first else "0"}
    return {}


def import_settings() -> ImportSettings:
    prefs = get()
    return ImportSettings(at_cursor=prefs.import_at_cursor,
                          collection_per_job=prefs.import_collection_per_job,
                          merge_vertices=prefs.import_merge_vertices,
                          target_size=prefs.import_target_size,
                          max_faces=prefs.import_max_faces,
                          keep_history=prefs.keep_versions,
                          remove_gone=prefs.gone_parts == "REMOVE")


def auto_import() -> bool:
    return bool(get().auto_import)


def workers() -> int:
    return int(get().workers)


def asks_before_spending() -> bool:
    return bool(get().ask_before_spending)


def ask_above(service: Service) -> float | None:
    """The estimate (in the service's unit) above which the interactive path asks before
    sending; None when asking is turned off."""
    prefs = get()
    if not prefs.ask_before_spending:
        return None
    return float(getattr(prefs, f"{service.prefs_name}_ask_above"))


def library_enabled() -> bool:
    """Whether the Conjure asset library is used at all (the Asset Library preferences)."""
    return bool(get().library_enabled)


def library_folder() -> str:
    """The folder the preferences move the library to; empty: the default in the user
    folder."""
    folder = str(get().library_folder).strip()
    return bpy.path.abspath(folder) if folder else ""


def file_results() -> bool:
    """Whether every result imported is also filed in the asset library."""
    return bool(get().library_enabled and get().library_file_results)
