"""How each declared parameter becomes a form field, and how a form's raw values become a
request. bpy-free: ``forms.py`` turns these specs into Blender properties and reads them back.

A Blender property always has a value, but many parameters have none until the user gives one
(``Param.default is None``: the service decides). Those get an explicit "unset" state: an enum
item "Default", a three-state choice for booleans, a ``use_`` toggle beside numbers, and an
empty text or image. ``collect`` sends only what the user set; a value equal to the service's
own documented default is not sent either, because some rules (e.g. "target applies to FBX
only") and some bills (Tripo's advanced conversion) react to a parameter's mere presence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..providers import registry
from ..providers.params import Operation, Param

#: Enum identifier of "leave it to the service".
UNSET = "__default__"
TRISTATE = ((UNSET, "Default", "Leave it to the service"), ("ON", "On", ""),
            ("OFF", "Off", ""))
#: Roles whose inputs the Generate panel shares across creation operations, so switching the
#: service or mode keeps the prompt and pictures.
SHARED_ROLES = ("prompt", "negative_prompt", "image", "images")
#: PropertyGroup members a parameter must not shadow.
_RESERVED = frozenset({"name", "rna_type", "bl_rna", "id_data"})
_INT_LIMIT = 2**31 - 1


@dataclass(frozen=True)
class Field:
    param: Param
    #: string, text_list, int, float, bool, tristate, enum, image, images, file
    widget: str
    attr: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    items: tuple[tuple[str, str, str], ...] = ()
    #: A ``use_<attr>`` boolean says whether the number is sent at all.
    toggle: bool = False
    #: The shared input (one of SHARED_ROLES) this field is read from, or "".
    shared: str = ""

    @property
    def toggle_attr(self) -> str:
        return f"use_{self.attr}"

    @property
    def description(self) -> str:
        text = self.param.description or self.param.title
        if self.param.default is not None:
            text += f". Service default: {self.param.default}"
        elif self.widget not in ("image", "images", "file", "string", "text_list"):
            text += ". Unset: the service decides"
        return text


def attr_name(param: Param) -> str:
    return f"p_{param.name}" if param.name in _RESERVED else param.name


def _clamp(value: float, low: float | None, high: float | None) -> float:
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


def field_for(param: Param, op: Operation) -> Field:
    attr = attr_name(param)
    shared = param.role if (param.role in SHARED_ROLES and not op.needs_parent) else ""
    kind = param.kind
    if param.choices:
        items = tuple((str(c), str(c), "") for c in param.choices)
        if param.default is None:
            items = ((UNSET, "Default", "Leave it to the service"), *items)
            default = UNSET
        else:
            default = str(param.default)
        return Field(param, "enum", attr, default=default, items=items, shared=shared)
    if kind == "bool":
        if param.default is None:
            return Field(param, "tristate", attr, default=UNSET, items=TRISTATE)
        return Field(param, "bool", attr, default=bool(param.default))
    if kind in ("int", "float"):
        limit = _INT_LIMIT if kind == "int" else None
        low = param.minimum if param.minimum is not None else (-limit if limit else None)
        high = param.maximum if param.maximum is not None else limit
        start = param.default if param.default is not None else _clamp(0, low, high)
        if kind == "int":
            start = int(start)
        return Field(param, kind, attr, default=start, minimum=low, maximum=high,
                     toggle=param.default is None)
    if kind in ("image", "image_list"):
        return Field(param, "image" if kind == "image" else "images", attr, shared=shared)
    if kind == "file":
        return Field(param, "file", attr, default=param.default or "")
    if kind == "str_list":
        default = ", ".join(param.default) if param.default else ""
        return Field(param, "text_list", attr, default=default)
    return Field(param, "string", attr, default=param.default or "", shared=shared)


def fields(op: Operation) -> list[Field]:
    """The form of ``op``; the parent parameter is never a field (the source job fills it)."""
    return [field_for(p, op) for p in op.params if p.role != "parent"]


def _from_item(param: Param, ident: str) -> Any:
    for choice in param.choices:
        if str(choice) == ident:
            return choice
    return ident


def raw_value(field: Field, raw: Mapping[str, Any]) -> Any:
    """The request value of one field, or None when the user left it unset."""
    value = raw.get(field.attr)
    widget = field.widget
    if widget in ("int", "float"):
        if field.toggle and not raw.get(field.toggle_attr, False):
            return None
        if widget == "float" and value is not None:
            # Blender stores floats in 32 bits: 0.01 reads back as 0.009999999776. Seven
            # significant digits is what the property really holds.
            return float(f"{float(value):.7g}")
        return value
    if widget == "tristate":
        return None if value in (None, UNSET) else value == "ON"
    if widget == "enum":
        return None if value in (None, UNSET, "") else _from_item(field.param, value)
    if widget == "bool":
        return None if value is None else bool(value)
    if widget == "text_list":
        parts = [p.strip() for p in str(value or "").split(",")]
        return [p for p in parts if p] or None
    if widget == "images":
        paths = [p for p in value or () if p]
        return paths or None
    if widget in ("string", "file"):
        text = str(value or "").strip()
        return text or None
    return value or None  # image: a path, or None


def collect(op: Operation, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The values to send for ``op`` from the form's raw values (keyed by ``Field.attr`` and
    ``Field.toggle_attr``; images already resolved to paths): only what the user set."""
    values: dict[str, Any] = {}
    for field in fields(op):
        value = raw_value(field, raw)
        if value is None:
            continue
        param = field.param
        if param.default is not None and value == param.default and not param.required:
            continue
        values[param.name] = value
    return values


def common(op: Operation) -> list[Field]:
    """Fields drawn with the operation's common options (not advanced, not shared inputs)."""
    return [f for f in fields(op) if not f.param.advanced and not f.shared]


def advanced(op: Operation) -> list[Field]:
    return [f for f in fields(op) if f.param.advanced and not f.shared]


def job_prompt(service: str, operation: str, params: Mapping[str, Any]) -> str:
    """The text a job was asked for (its prompt-role parameter), for lists and lineage."""
    try:
        param = registry.operation(service, operation).param_for("prompt")
    except Exception:  # an operation this version no longer declares: fall back to a guess
        param = None
    names = [param.name] if param else ["prompt", "task"]
    for name in names:
        if isinstance(params.get(name), str) and params[name].strip():
            return str(params[name])
    return ""
