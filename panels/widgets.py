"""What the sidebar's panels draw alike: operator buttons, text that wraps to the sidebar's
width, a Details section of ids, progress bars, a job's preview picture, why nothing can be
sent (offline, no key), an
account's balance and what a job will cost."""

from __future__ import annotations

from typing import Any

import blf
import bpy

from ..blender import EXTENSION, forms, previews, session, settings, textfit
from ..providers.params import Operation
from ..providers.services import BY_ID
from ..workflow import cost, formspec, status
from ..workflow.requests import Request

CATEGORY = "Conjure"


def button(layout: Any, idname: str, text: str = "", icon: str = "NONE", /,
            **props: Any) -> Any:
    """An operator button with its properties set; tolerant of an operator that is not
    registered yet or lacks one of the properties (it belongs to another part of Conjure)."""
    op = layout.operator(idname, text=text, icon=icon) if text else \
        layout.operator(idname, icon=icon)
    if op is not None:
        for name, value in props.items():
            try:
                setattr(op, name, value)
            except (AttributeError, TypeError):
                pass
    return op


#: Sidebar pixels a label line does not get: panel and box margins and the icon column.
LABEL_MARGIN_PX = 80


def _wrap_width(text: str, default: int = 40) -> int:
    """Characters per label line so that ``text`` fits the sidebar as wide as it is now
    (Blender cuts a label that is too long with "…"); ``default`` outside a drawn region."""
    region = getattr(bpy.context, "region", None)
    if region is None or region.type != "UI" or region.width <= 1:
        return default
    return chars_per_line(text, region.width, bpy.context.preferences.system.ui_scale, default)


def chars_per_line(text: str, region_px: int, scale: float, default: int = 40) -> int:
    """How many characters of ``text``, at its average letter width in the UI font, fit on a
    label of a sidebar ``region_px`` wide."""
    if not text.strip():
        return default
    scale = scale or 1.0  # 0 where Blender has no display (background)
    blf.size(0, bpy.context.preferences.ui_styles[0].widget.points * scale)
    width: Any = blf.dimensions(0, text)  # typed as None by the stubs; a (width, height) pair
    average = float(width[0]) / len(text)
    if average <= 0:
        return default
    # A tenth to spare: a line of wide letters is wider than the text's average.
    return max(12, int((region_px - LABEL_MARGIN_PX * scale) / (average * 1.1)))


def _text_room() -> float | None:
    """Pixels a label's text has in the tightest place the panels draw one (in a box, after
    an icon) in the sidebar as wide as it is now; None outside a drawn sidebar."""
    region = getattr(bpy.context, "region", None)
    if region is None or region.type != "UI" or region.width <= 1:
        return None
    unit = textfit.UNIT_PX * textfit.scale()
    return textfit.content_px(boxes=1) - unit - textfit.LABEL_MARGIN_UNITS * unit


def lines(layout: Any, text: str, icon: str = "NONE", width: int | None = None) -> None:
    wrapped = status.wrap(text, width or _wrap_width(text))
    room = _text_room() if width is None else None
    if room is not None:
        # The width estimate is from the text's average letter: a line of wide letters
        # (capitals, say) may still be too long, so such a text is wrapped shorter.
        chars = max((len(line) for line in wrapped), default=0)
        while chars > 12 and any(textfit.text_px(line) > room for line in wrapped):
            chars -= 2
            wrapped = status.wrap(text, chars)
    for line in wrapped:
        layout.label(text=line, icon=icon)
        icon = "BLANK1" if icon != "NONE" else "NONE"


def details(layout: Any, data: Any, prop: str, found: list[tuple[str, str]]) -> None:
    """A closed-by-default *Details* section (its open state in ``data.prop``) of identifiers
    and codes — what support or a script needs, not what an artist reads — with one button
    that copies them all."""
    if not found:
        return
    header, body = layout.panel_prop(data, prop)
    header.label(text="Details")
    if body is None:
        return
    column = body.column(align=True)
    for name, value in found:
        lines(column, f"{name}: {value}")
    button(body, "conjure.copy_text", "Copy Details", "COPYDOWN",
           text=status.details_text(found))


def note(layout: Any, text: str) -> None:
    """Text to read rather than act on (a description, a long prompt in full): wrapped and
    greyed, across the whole width whatever the layout's property split."""
    column = layout.column(align=True)
    column.use_property_split = False
    column.active = False
    lines(column, text)


def has_progress_bar() -> bool:
    rna: Any = bpy.types.UILayout.bl_rna
    return "progress" in rna.functions


def progress(layout: Any, factor: float, text: str) -> None:
    if has_progress_bar():
        layout.progress(factor=max(0.0, min(1.0, factor)), type="BAR", text=text)
    else:
        layout.label(text=text)


def preview(layout: Any, service: str, job_id: str, scale: float) -> None:
    """A finished job's preview picture, ``scale`` icon sizes across; nothing while it has
    none."""
    icon_id = previews.job_icon(service, job_id)
    if icon_id:
        layout.template_icon(icon_value=icon_id, scale=scale)


def preview_label(layout: Any, service: str, job_id: str, text: str, icon: str) -> None:
    """A label whose icon is the job's preview picture, or ``icon`` while it has none."""
    icon_id = previews.job_icon(service, job_id)
    if icon_id:
        layout.label(text=text, icon_value=icon_id)
    else:
        layout.label(text=text, icon=icon)


def service_ready(layout: Any, service_id: str) -> bool:
    """Say why nothing can be sent (offline, no key); True when both are fine."""
    service = BY_ID[service_id]
    ok = True
    if not bpy.app.online_access:
        lines(layout, session.offline_message(), "ERROR")
        ok = False
    if not settings.key(service)[0]:
        lines(layout, f"No {service.label} {service.key_words}: add it in the "
                       f"preferences or set ${service.key_env[0]}", "ERROR")
        button(layout, "preferences.addon_show", "Open Preferences", "PREFERENCES",
                module=EXTENSION)
        ok = False
    return ok


def balance(layout: Any, service_id: str) -> None:
    answer = session.balance(service_id)
    if answer is None:
        return
    if answer.text:
        # The account's figure: a person's icon (the balance is the account's, not the job's).
        lines(layout, answer.text if answer.ok else f"Balance unavailable: {answer.text}",
              "USER" if answer.ok else "INFO")
    elif answer.pending:
        layout.label(text="Balance: asking…", icon="SORTTIME")


def before_sending(layout: Any, request: Request) -> None:
    """The estimate and the balance it leaves (or that it is short), and where the figure
    comes from; a form the estimate cannot be made for says nothing here (its problem is
    drawn below)."""
    try:
        said = session.before_sending(request)
    except Exception:  # an unfinished form; the panel draws its problem
        return
    column = layout.column(align=True)
    lines(column, said.text, "ERROR" if said.short else "INFO")
    estimate = said.estimate
    source = cost.source_words(estimate) if estimate is not None else ""
    if source and estimate is not None and estimate.amount:
        sub = column.column(align=True)
        sub.scale_y = 0.8
        sub.active = False
        lines(sub, source, "BLANK1")


class Sidebar:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = CATEGORY


class AdvancedOptions(Sidebar):
    """A closed sub-panel of an operation's rarer options; ``operation`` says whose."""

    bl_label = "Advanced"
    bl_options = {"DEFAULT_CLOSED"}

    @classmethod
    def operation(cls, context: Any) -> Operation | None:
        raise NotImplementedError

    @classmethod
    def poll(cls, context: Any) -> bool:
        op = cls.operation(context)
        return op is not None and bool(formspec.advanced(op))

    def draw(self, context: Any) -> None:
        op = self.operation(context)
        if op is not None:
            forms.draw_fields(self.layout.column(), context, op,  # type: ignore[attr-defined]
                              formspec.advanced(op))
