"""Which texts of Conjure's panels Blender has to shorten with "…" at the sidebar's width.

``gui.RecordingLayout`` notes the layout each panel's ``draw()`` builds as a tree of
``container`` and ``item`` nodes. ``cuts`` lays that tree out the way Blender's layout engine
does (a column gives each child its width; a row shares its width among its children in
proportion to what each needs, fixed ``ui_units_x`` first; ``split`` by its factor; a
property in a ``use_property_split`` layout puts its label in the left 40 % and its value in
the rest) and measures every label, button text, property label, menu value and progress
bar text in the UI font at the UI style's size (``blf``, as ``panels.widgets.lines`` does to
wrap), against the width it gets.

Runs inside Blender (bpy, blf and the standard library only).
"""

import blf
import bpy

#: Sidebar pixels that are not a panel's content (tabs, the panel's frame and margins), at
#: UI scale 1: a panel in a 292 px sidebar lays out 236 px (Blender 4.3 and 5.2).
SIDEBAR_INSET = 56
#: A box's inner margins, both sides together.
BOX_INSET = 10
#: What a list's rows do not get of the panel's width: the list's frame and its scroll bar.
LIST_INSET = 30
#: Space between the buttons of a row that is not aligned.
ROW_GAP = 4
#: Blender's UI unit at scale 1 (an icon, a menu's arrow, a checkbox).
UNIT = 20
#: The text margin of a label or button, in units (Blender's UI_TEXT_MARGIN_X).
MARGIN = 0.4
#: The margins of a property's label in a ``use_property_split`` layout, where it is
#: right-aligned against the value column, in units.
SPLIT_MARGIN = 0.8
#: A separator's width in a row, in units, times its factor.
SEPARATOR = 0.3
#: The label's share of a property in a ``use_property_split`` layout.
SPLIT = 0.4


def _scale():
    return bpy.context.preferences.system.ui_scale or 1.0


def text_px(text):
    prefs = bpy.context.preferences
    blf.size(0, prefs.ui_styles[0].widget.points * _scale())
    return blf.dimensions(0, text)[0] if text else 0.0


def needed(text, icon=False, margin=MARGIN):
    """The width a label or button needs to show ``text`` whole (after an icon)."""
    unit = UNIT * _scale()
    if not text:
        return unit if icon else 0.0
    return text_px(text) + (margin + (1 if icon else 0)) * unit


def label_needed(text):
    """The width a property's label needs in the left column of a property split."""
    return needed(text, margin=SPLIT_MARGIN)


# -- the tree ------------------------------------------------------------------------------

def container(kind, children=None, **kwargs):
    return {"kind": kind, "align": bool(kwargs.get("align")), "heading": kwargs.get("heading", ""),
            "factor": kwargs.get("factor", 0.0), "split": None, "units_x": 0.0,
            "children": children if children is not None else []}


def _operator_label(idname):
    try:
        module, name = idname.split(".")
        return getattr(getattr(bpy.ops, module), name).get_rna_type().name
    except (AttributeError, KeyError, ValueError):
        return idname


def _has_icon(kwargs):
    return kwargs.get("icon", "NONE") not in ("NONE", "") or bool(kwargs.get("icon_value"))


def item(name, args, kwargs):
    """One thing a layout call put in: what text it shows, where."""
    if name == "label":
        return {"kind": "text", "text": kwargs.get("text", ""), "icon": _has_icon(kwargs)}
    if name == "operator":
        idname = args[0] if args else kwargs.get("operator", "")
        text = kwargs.get("text")
        return {"kind": "text", "text": _operator_label(idname) if text is None else text,
                "icon": _has_icon(kwargs)}
    if name == "progress":
        return {"kind": "text", "text": kwargs.get("text", ""), "icon": False}
    if name == "separator":
        return {"kind": "space", "text": "", "factor": kwargs.get("factor", args[0] if args
                                                                  else 1.0)}
    if name in ("prop", "prop_search"):
        return _prop(args, kwargs)
    return {"kind": "other", "text": ""}


def _prop(args, kwargs):
    data, attr = [*args, None, None][:2]
    data, attr = kwargs.get("data", data), kwargs.get("property", attr)
    try:
        rna = data.bl_rna.properties[attr]
    except (AttributeError, KeyError, TypeError):
        return {"kind": "other", "text": ""}
    label = kwargs.get("text", rna.name)
    value, kind = "", rna.type.lower()
    if rna.type == "ENUM" and not kwargs.get("expand"):
        current = getattr(data, attr, "")
        value = next((i.name for i in rna.enum_items if i.identifier == current), "")
    if kwargs.get("icon_only") or (rna.type == "BOOLEAN" and not label):
        return {"kind": "other", "text": ""}
    return {"kind": "prop", "text": label, "value": value, "type": kind,
            "icon": _has_icon(kwargs)}


# -- laying it out -------------------------------------------------------------------------

def _prop_natural(node, split):
    unit = UNIT * _scale()
    label, value = node["text"], node["value"]
    if node["type"] == "boolean":
        return needed(label, icon=True) / ((1 - SPLIT) if split else 1)
    value_px = needed(value, node["icon"]) + unit if value else 2 * unit
    if split:
        return max(label_needed(label) / SPLIT if label else 0, value_px / (1 - SPLIT))
    return (needed(label + ":") if label else 0) + value_px


def natural(node, split):
    kind = node["kind"]
    if kind == "text":
        return needed(node["text"], node["icon"])
    if kind == "prop":
        return _prop_natural(node, split)
    if kind == "other":
        return UNIT * _scale()
    if kind == "space":
        return SEPARATOR * node["factor"] * UNIT * _scale()
    split = node["split"] if node["split"] is not None else split
    if node["units_x"]:
        return node["units_x"] * UNIT * _scale()
    widths = [natural(c, split) for c in node["children"]] or [0.0]
    if kind == "row":
        gap = 0 if node["align"] else ROW_GAP * _scale() * (len(widths) - 1)
        return sum(widths) + gap
    if kind == "box":
        return max(widths) + BOX_INSET * _scale()
    return max(widths)


def _check(node, width, split, where, found):
    """Note in ``found`` each text of ``node`` that does not fit ``width``."""
    text = node["text"]
    if node["kind"] == "text":
        if text and needed(text, node["icon"]) > width + 0.5:
            found.append([where, text, round(needed(text, node["icon"])), round(width)])
        return
    if node["kind"] != "prop":
        return
    unit = UNIT * _scale()
    if node["type"] == "boolean":
        room = width * ((1 - SPLIT) if split else 1)
        if needed(text, icon=True) > room + 0.5:
            found.append([where, text, round(needed(text, icon=True)), round(room)])
        return
    if split:
        if text and label_needed(text) > width * SPLIT + 0.5:
            found.append([where, text, round(label_needed(text)), round(width * SPLIT)])
        room = width * (1 - SPLIT) if text else width
    else:
        room = width - (needed(text + ":") if text else 0)
    value = node["value"]
    if value and needed(value, node["icon"]) + unit > room + 0.5:
        found.append([where, value, round(needed(value, node["icon"]) + unit), round(room)])


def _shares(node, width, split):
    """Each child's width in ``node`` laid out ``width`` wide."""
    children = node["children"]
    kind = node["kind"]
    if kind == "box":
        return [width - BOX_INSET * _scale()] * len(children)
    if kind == "fold":  # its header (after the arrow) and its body
        return [width - UNIT * _scale(), width][:len(children)]
    if kind == "split" and children:
        factor = node["factor"] or 1 / len(children)
        rest = (1 - factor) * width / max(1, len(children) - 1)
        return [factor * width] + [rest] * (len(children) - 1)
    if kind != "row" or not children:
        return [width] * len(children)
    gap = 0 if node["align"] else ROW_GAP * _scale() * (len(children) - 1)
    fixed = [natural(c, split) if c["kind"] == "space" else
             c.get("units_x", 0) * UNIT * _scale() for c in children]
    free = width - gap - sum(fixed)
    wants = [natural(c, split) if not f else 0 for c, f in zip(children, fixed, strict=True)]
    total = sum(wants) or 1
    return [f or free * w / total for f, w in zip(fixed, wants, strict=True)]


def _walk(node, width, split, where, found):
    if node["kind"] in ("text", "prop", "other", "space"):
        _check(node, width, split, where, found)
        return
    split = node["split"] if node["split"] is not None else split
    heading = node["heading"]
    if heading and node["kind"] == "row" and split:
        # A row's heading takes the label column; the row's buttons share the rest.
        if label_needed(heading) > width * SPLIT + 0.5:
            found.append([where, heading, round(label_needed(heading)), round(width * SPLIT)])
        width *= 1 - SPLIT
        split = False
    for child, share in zip(node["children"], _shares(node, width, split), strict=True):
        _walk(child, share, split, where, found)


def cuts(trees, region_width):
    """``[where, text, needed px, given px]`` for each text that Blender shortens in the
    panels and list rows of ``trees`` (name → tree), in a sidebar ``region_width`` wide."""
    content = region_width - SIDEBAR_INSET * _scale()
    found = []
    for where, tree in trees.items():
        width = content - LIST_INSET * _scale() if "[" in where else content
        _walk(tree, width, False, where, found)
    return found


def planted(region_width):
    """A label one word longer than the sidebar, measured the same way: the check can fail."""
    words = "a label planted to be too long for the sidebar".split()
    while needed(" ".join(words)) <= region_width - SIDEBAR_INSET * _scale():
        words.append("longer")
    tree = container("column", children=[{"kind": "text", "text": " ".join(words),
                                          "icon": False}])
    return cuts({"planted": tree}, region_width)
