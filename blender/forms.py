"""The panels' forms: Blender properties generated at register time from the operation
declarations (``providers.registry``), one PropertyGroup per operation, stored on the Scene as
``scene.conjure`` so prompts and options persist with the .blend. Keys never live here.

What operators read:
- ``selected(context)`` → (service id, operation name) chosen in the Generate panel;
- ``values(context, service_id, operation_name)`` → only the values the user set, images saved
  to PNG files, ready for ``Operation.validate``.
"""

from __future__ import annotations

from typing import Any

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from ..providers import registry
from ..providers.errors import InvalidRequestError
from ..providers.params import Operation
from ..providers.services import SERVICES
from ..workflow import formspec, status
from ..workflow.formspec import Field
from . import paths, textfit
from .pictures import image_path

#: Stands in for a picture during draw-time validation: the rules skip URLs, so checking the
#: form on every redraw never writes or reads an image file.
_PLACEHOLDER = "https://conjure.invalid/picture.png"


class ConjureImageSlot(bpy.types.PropertyGroup):
    image: PointerProperty(type=bpy.types.Image, name="Image")


def group_attr(op: Operation) -> str:
    return f"op_{op.service}_{op.name}"


def creation_ops(service_id: str) -> list[Operation]:
    return [op for op in registry.operations(service_id) if not op.needs_parent]


def follow_up_ops(service_id: str) -> list[Operation]:
    return [op for op in registry.operations(service_id) if op.needs_parent]


def _bpy_prop(field: Field) -> Any:
    p = field.param
    common: dict[str, Any] = {"name": p.title, "description": field.description}
    widget = field.widget
    if widget in ("enum", "tristate"):
        return EnumProperty(items=list(field.items), default=field.default, **common)
    if widget == "bool":
        return BoolProperty(default=field.default, **common)
    if widget == "int":
        low, high = field.minimum, field.maximum
        assert low is not None and high is not None  # set for every int field
        return IntProperty(default=field.default, min=int(low), max=int(high), **common)
    if widget == "float":
        limits: dict[str, Any] = {k: v for k, v in (("min", field.minimum),
                                                     ("max", field.maximum)) if v is not None}
        return FloatProperty(default=field.default, **limits, **common)
    if widget == "image":
        return PointerProperty(type=bpy.types.Image, **common)
    if widget == "images":
        return CollectionProperty(type=ConjureImageSlot, **common)
    if widget == "file":
        return StringProperty(default=field.default, subtype="FILE_PATH",
                              options=paths.RELATIVE, **common)
    return StringProperty(default=field.default, **common)


def _group_class(op: Operation) -> type:
    annotations: dict[str, Any] = {}
    for field in formspec.fields(op):
        if field.shared:
            continue
        annotations[field.attr] = _bpy_prop(field)
        if field.toggle:
            annotations[field.toggle_attr] = BoolProperty(
                name=f"Set {field.param.title}",
                description=f"Send {field.param.title}; off leaves it to the service")
    return type(f"CONJURE_PG_{op.service}_{op.name}", (bpy.types.PropertyGroup,),
                {"__annotations__": annotations, "__doc__": op.description or op.label})


def _op_items(ops: list[Operation]) -> list[tuple[str, str, str]]:
    return [(op.name, op.label, op.description) for op in ops]


def _forms_class(groups: dict[str, type]) -> type:
    annotations: dict[str, Any] = {
        "service": EnumProperty(
            name="Service", description="The service that makes the model",
            items=[(s.id, s.label, f"Generate with {s.label}", status.SERVICE_ICONS[s.id], n)
                   for n, s in enumerate(SERVICES)]),
        "prompt": StringProperty(name="Prompt", description="What to make"),
        "negative_prompt": StringProperty(name="Negative Prompt", description="What to avoid"),
        "image": PointerProperty(type=bpy.types.Image, name="Image",
                                 description="Reference picture"),
        "images": CollectionProperty(type=ConjureImageSlot, name="Images"),
    }
    for s in SERVICES:
        if creation_ops(s.id):
            annotations[f"mode_{s.id}"] = EnumProperty(
                name="Mode", description=f"What {s.label} starts from",
                items=_op_items(creation_ops(s.id)))
        if follow_up_ops(s.id):
            annotations[f"follow_up_{s.id}"] = EnumProperty(
                name="Action", description=f"What {s.label} does with the selected model",
                items=_op_items(follow_up_ops(s.id)))
    for attr, cls in groups.items():
        annotations[attr] = PointerProperty(type=cls)
    return type("CONJURE_PG_forms", (bpy.types.PropertyGroup,), {"__annotations__": annotations})


_registered: list[type] = []


def register() -> None:
    groups = {group_attr(op): _group_class(op) for op in registry.operations()}
    forms_cls = _forms_class(groups)
    for cls in (ConjureImageSlot, *groups.values(), forms_cls):
        bpy.utils.register_class(cls)
        _registered.append(cls)
    bpy.types.Scene.conjure = PointerProperty(type=forms_cls)  # type: ignore[attr-defined]


def unregister() -> None:
    if hasattr(bpy.types.Scene, "conjure"):
        del bpy.types.Scene.conjure
    while _registered:
        bpy.utils.unregister_class(_registered.pop())


# -- reading the forms ---------------------------------------------------------------------------

def state(context: bpy.types.Context) -> Any:
    return context.scene.conjure


def group(context: bpy.types.Context, op: Operation) -> Any:
    return getattr(state(context), group_attr(op))


def owner(context: bpy.types.Context, op: Operation, field: Field) -> Any:
    """The property group holding ``field``: the shared inputs or the operation's own."""
    return state(context) if field.shared else group(context, op)


def selected(context: bpy.types.Context) -> tuple[str, str]:
    """The (service id, operation name) chosen in the Generate panel."""
    forms = state(context)
    return forms.service, getattr(forms, f"mode_{forms.service}")


def takes_one_or_several(op: Operation | None) -> bool:
    """True when the form's one picture box feeds both a one-picture and a several-pictures
    parameter (Thrixel's create): one picture is sent as the first, more as the second."""
    return op is not None and not op.needs_parent and op.param_for("image") is not None \
        and op.param_for("images") is not None


def _raw(context: bpy.types.Context, op: Operation, image: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    both = takes_one_or_several(op)
    single = state(context).image
    for field in formspec.fields(op):
        holder = owner(context, op, field)
        attr = field.shared or field.attr
        value = getattr(holder, attr)
        if field.widget == "image":
            listed = both and any(slot.image is not None for slot in state(context).images)
            value = image(value) if value is not None and not listed else None
        elif field.widget == "images":
            pictures = [slot.image for slot in value if slot.image is not None]
            if field.shared and both and pictures and single is not None:
                pictures.insert(0, single)
            value = [image(picture) for picture in pictures]
        elif field.widget == "file" and value:
            # "//" is the open .blend's folder, as in Blender's own file fields.
            value = bpy.path.abspath(value)
        raw[field.attr] = value
        if field.toggle:
            raw[field.toggle_attr] = getattr(holder, field.toggle_attr)
    return raw


def values(context: bpy.types.Context, service_id: str, operation_name: str) -> dict[str, Any]:
    """Only the values the user set for this operation, ready for ``Operation.validate``;
    pictures are saved as PNG files (Image datablocks that are already files on disk are used
    where they are). The parent is not included: the follow-up fills it from the source job."""
    op = registry.operation(service_id, operation_name)
    return formspec.collect(op, _raw(context, op, image_path))


def draft_values(context: bpy.types.Context, service_id: str,
                 operation_name: str) -> dict[str, Any]:
    """``values`` as the form stands, with stand-ins for pictures: cheap enough for every
    redraw (nothing is written), e.g. to price what Generate would send."""
    op = registry.operation(service_id, operation_name)
    return formspec.collect(op, _raw(context, op, lambda image: _PLACEHOLDER))


def picture_box_title(op: Operation) -> str:
    """The title of the form's one box of shared pictures ("" when the operation takes
    none): the several-pictures parameter's where there is one."""
    if op.needs_parent:
        return ""
    param = op.param_for("images") or op.param_for("image")
    return param.title if param is not None else ""


def words(op: Operation) -> dict[str, str]:
    """What the form calls each of ``op``'s parameters (its labels), so that a refusal names
    the field the user typed into rather than the service's parameter."""
    said = {p.name: p.title for p in op.params}
    box = picture_box_title(op)
    for role in ("image", "images"):
        param = op.param_for(role)
        if param is not None and box:
            said[param.name] = box
    return said


def _validate(op: Operation, request: dict[str, Any]) -> None:
    """``op.validate`` in the form's words; a follow-up's parent (filled from the source job
    when it is sent) stands in."""
    request = dict(request)
    parent = op.param_for("parent") if op.needs_parent else None
    if parent is not None:
        request[parent.name] = "parent"
    op.validate(request, words(op))


def problem(context: bpy.types.Context, service_id: str, operation_name: str) -> str | None:
    """Why the form would be refused, in the form's words, or None; cheap enough for every
    redraw (pictures stand in as links: nothing is written or read)."""
    try:
        _validate(registry.operation(service_id, operation_name),
                  draft_values(context, service_id, operation_name))
    except InvalidRequestError as exc:
        return str(exc)
    return None


def checked_values(context: bpy.types.Context, service_id: str,
                   operation_name: str) -> dict[str, Any]:
    """``values``, refused in the form's words: first what ``problem`` sees, before any
    picture is written, then what only the written pictures show (a size, a local file
    where a link is needed)."""
    said = problem(context, service_id, operation_name)
    if said:
        raise InvalidRequestError(said)
    sent = values(context, service_id, operation_name)
    _validate(registry.operation(service_id, operation_name), sent)
    return sent


# -- drawing -------------------------------------------------------------------------------------

def target(op: Operation | None, field: Field) -> str:
    """The address image operators write to: ``shared:<role>`` or ``<group>:<attr>``."""
    if field.shared or op is None:
        return f"shared:{field.shared or field.attr}"
    return f"{group_attr(op)}:{field.attr}"


def resolve_target(context: bpy.types.Context, address: str) -> tuple[Any, str]:
    """The property group and attribute an image operator's ``target`` names."""
    holder_name, _, attr = address.partition(":")
    forms = state(context)
    holder = forms if holder_name == "shared" else getattr(forms, holder_name, None)
    if holder is None or not attr or attr not in holder.bl_rna.properties:
        raise KeyError(f"no image input {address!r}")
    return holder, attr


def assign_image(context: bpy.types.Context, address: str, image: bpy.types.Image) -> None:
    """Put ``image`` in the input ``address`` names (appended when it is a list)."""
    holder, attr = resolve_target(context, address)
    prop = holder.bl_rna.properties[attr]
    if prop.type == "COLLECTION":
        slots = getattr(holder, attr)
        empty = next((s for s in slots if s.image is None), None)
        (empty or slots.add()).image = image
    else:
        setattr(holder, attr, image)


def draw_field(layout: bpy.types.UILayout, context: bpy.types.Context, op: Operation | None,
               field: Field, boxes: int = 0) -> None:
    """One field, label left and value right (``use_property_split``) where the label fits
    the left column, else the label above its value; ``boxes``: how many boxes it is in."""
    holder = state(context) if (field.shared or op is None) else group(context, op)
    attr = field.shared or field.attr
    title = field.param.title
    if field.widget in ("image", "images"):
        draw_image_input(layout, holder, attr, title, target(op, field))
    elif field.toggle:
        fits = textfit.fits_label_column(title, boxes)
        column = layout.column(align=True)
        if not fits:
            column.use_property_split = False
            column.label(text=title)
        row = column.row(align=True, heading=title if fits else "")
        row.prop(holder, field.toggle_attr, text="")
        sub = row.row(align=True)
        sub.active = getattr(holder, field.toggle_attr)
        sub.prop(holder, attr, text="")
    else:
        draw_prop(layout, holder, attr, title, boxes, checkbox=field.widget == "bool")


def draw_prop(layout: Any, holder: Any, attr: str, title: str, boxes: int = 0, *,
              checkbox: bool = False) -> None:
    """``layout.prop`` in a ``use_property_split`` layout, drawn so that ``title`` is never
    cut: a label too long for the left column goes above the value, a checkbox's text too
    long for the right column takes the whole row."""
    width = textfit.content_px(boxes)
    if checkbox:
        fits = textfit.fits(title, width * (1 - textfit.SPLIT_FACTOR), icon=True)
    else:
        fits = textfit.fits_label_column(title, boxes)
    if fits:
        layout.prop(holder, attr, text=title)
        return
    column = layout.column(align=True)
    column.use_property_split = False
    if checkbox:
        column.prop(holder, attr, text=title)
    else:
        column.label(text=title)
        column.prop(holder, attr, text="")


def draw_fields(layout: bpy.types.UILayout, context: bpy.types.Context, op: Operation,
                fields: list[Field], boxes: int = 0) -> None:
    for field in fields:
        draw_field(layout, context, op, field, boxes)


def draw_pictures(layout: Any, context: bpy.types.Context, op: Operation) -> None:
    """The form's one box of shared pictures: each picture with its preview and a button to
    take it out, then Render, Viewport and File to add one (or to replace the one picture of
    an operation that takes only one)."""
    title = picture_box_title(op)
    if not title:
        return
    holder = state(context)
    box = layout.box()
    box.use_property_split = False  # pickers and buttons across the box
    box.label(text=title, icon="IMAGE_DATA")
    if op.param_for("images") is None:
        row = box.row(align=True)
        row.prop(holder, "image", text="")
        _preview(box, holder.image)
        _add_buttons(box, "shared:image")
        return
    if takes_one_or_several(op) and holder.image is not None:
        _picture_row(box, holder, "image", "shared:image", 0)
    for index, slot in enumerate(holder.images):
        _picture_row(box, slot, "image", "shared:images", index)
    _add_buttons(box, "shared:images")


def _picture_row(box: Any, holder: Any, attr: str, address: str, index: int) -> None:
    row = box.row(align=True)
    row.prop(holder, attr, text="")
    op = row.operator("conjure.remove_image", text="", icon="X")
    op.target, op.index = address, index
    _preview(box, getattr(holder, attr))


def _add_buttons(layout: Any, address: str) -> None:
    row = layout.row(align=True)
    for idname, text, icon in (("conjure.use_render_result", "Render", "RENDER_RESULT"),
                               ("conjure.capture_viewport", "Viewport", "RESTRICT_VIEW_OFF"),
                               ("conjure.load_image", "File", "FILEBROWSER")):
        row.operator(idname, text=text, icon=icon).target = address


def draw_image_input(layout: Any, holder: Any, attr: str, title: str,
                     address: str) -> None:
    """A picture input of its own (an operation's other pictures, a follow-up's reference)."""
    box = layout.box()
    box.use_property_split = False  # pickers and buttons across the box
    box.label(text=title, icon="IMAGE_DATA")
    prop = holder.bl_rna.properties[attr]
    if prop.type == "COLLECTION":
        for index, slot in enumerate(getattr(holder, attr)):
            _picture_row(box, slot, "image", address, index)
    else:
        box.prop(holder, attr, text="")
        _preview(box, getattr(holder, attr))
    _add_buttons(box, address)


def _preview(layout: bpy.types.UILayout, image: bpy.types.Image | None) -> None:
    if image is None or image.type == "RENDER_RESULT":
        return
    preview = image.preview_ensure() if hasattr(image, "preview_ensure") else image.preview
    if preview is not None and preview.icon_id:
        layout.template_icon(icon_value=preview.icon_id, scale=6.0)
