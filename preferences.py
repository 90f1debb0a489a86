"""Add-on preferences: keys, base-URL overrides and network settings.

Keys are masked password fields stored only in Blender's user preferences; when a field is empty
the service's environment variable is used (see ``providers.services``). Nothing here is ever
written to a .blend file, the journal or a log.
"""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, FloatProperty, IntProperty, StringProperty

from .providers.http import NetworkSettings
from .providers.services import SERVICES, Service, resolve_key, resolve_url


def _changed(self: bpy.types.AddonPreferences, context: bpy.types.Context) -> None:
    from . import engine

    engine.settings_changed()


def _service_props() -> dict[str, object]:
    props: dict[str, object] = {}
    for s in SERVICES:
        props[f"{s.id}_key"] = StringProperty(
            name=f"{s.label} {s.key_label}", subtype="PASSWORD",
            description=f"Your {s.label} {s.key_label.lower()} ({s.key_help}). Leave empty "
                        f"to use the environment variable {s.key_env[0]}",
            update=_changed)
        props[f"{s.id}_url"] = StringProperty(
            name="Base URL", description=f"Replaces {s.default_url} (e.g. a local sandbox); "
                                         f"empty uses {s.url_env} or the real service",
            update=_changed)
    return props


class ConjurePreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    # Per-service fields come from the SERVICES table, so they are added to the annotations
    # Blender reads; the shared ones are declared plainly.
    __annotations__ = _service_props()
    connect_timeout: FloatProperty(name="Connect Timeout", default=10.0, min=1.0, max=120.0,
                                   unit="TIME_ABSOLUTE", update=_changed)
    read_timeout: FloatProperty(name="Read Timeout", default=60.0, min=5.0, max=600.0,
                                unit="TIME_ABSOLUTE", update=_changed)
    proxy: StringProperty(name="Proxy", update=_changed,
                          description="e.g. http://proxy.example:3128; empty uses the "
                                      "system's HTTP(S)_PROXY")
    ca_bundle: StringProperty(name="CA Bundle", subtype="FILE_PATH", update=_changed,
                              description="PEM file of extra certificate authorities")
    verify_tls: BoolProperty(name="Verify TLS Certificates", default=True, update=_changed)
    workers: IntProperty(name="Network Threads", default=4, min=1, max=16,
                         description="Requests in flight at once (takes effect on restart)")

    def network(self) -> NetworkSettings:
        return NetworkSettings(connect_timeout=self.connect_timeout,
                               read_timeout=self.read_timeout, proxy=self.proxy,
                               ca_bundle=bpy.path.abspath(self.ca_bundle) if self.ca_bundle else "",
                               verify_tls=self.verify_tls)

    def key(self, service: Service) -> tuple[str, str]:
        return resolve_key(service, getattr(self, f"{service.id}_key"))

    def base_url(self, service: Service) -> str:
        return resolve_url(service, getattr(self, f"{service.id}_url"))

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.use_property_split = True
        for s in SERVICES:
            box = layout.box()
            box.label(text=s.label)
            box.prop(self, f"{s.id}_key")
            _, source = self.key(s)
            if source and source != "preferences":
                box.label(text=f"Using the key from ${source}", icon="INFO")
            elif not source:
                box.label(text=f"No key: get one at {s.key_help}", icon="ERROR")
            box.prop(self, f"{s.id}_url")
        box = layout.box()
        box.label(text="Network")
        for name in ("connect_timeout", "read_timeout", "proxy", "ca_bundle", "verify_tls",
                     "workers"):
            box.prop(self, name)
        if not bpy.app.online_access:
            box.label(text="Online access is off: Preferences > System > Network", icon="ERROR")


def get(context: bpy.types.Context | None = None) -> ConjurePreferences:
    context = context or bpy.context
    return context.preferences.addons[__package__].preferences  # type: ignore[return-value]


classes = (ConjurePreferences,)
