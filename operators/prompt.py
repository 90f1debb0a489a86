"""``conjure.edit_prompt``: the Generate panel's prompt in a dialog wide enough to read and
write a long one, or taken from a text block of the open file (written in the Text Editor)."""

from __future__ import annotations

from typing import Any

import bpy
from bpy.props import StringProperty

from ..blender import forms

#: The dialog's width at UI scale 1: room for a sentence or two on one line.
DIALOG_PX = 640


class CONJURE_OT_edit_prompt(bpy.types.Operator):
    """Edit the prompt in a wide dialog, or take it from a text block"""

    bl_idname = "conjure.edit_prompt"
    bl_label = "Edit Prompt"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    role: StringProperty(name="Input", default="prompt", options={"HIDDEN", "SKIP_SAVE"},
                         description="The form's text to edit: prompt or negative_prompt")
    text_block: StringProperty(
        name="From Text", options={"SKIP_SAVE"},
        description="Replace the prompt with the contents of this text block (Text Editor); "
                    "empty: keep what is typed above")

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if self.role not in ("prompt", "negative_prompt"):
            return {"CANCELLED"}
        wm: Any = context.window_manager
        return set(wm.invoke_props_dialog(self, width=DIALOG_PX))

    def draw(self, context: bpy.types.Context) -> None:
        layout: Any = self.layout
        form = forms.state(context)
        layout.prop(form, self.role, text="")
        if bpy.data.texts:
            layout.prop_search(self, "text_block", bpy.data, "texts", icon="TEXT")

    def execute(self, context: bpy.types.Context) -> set[str]:
        if self.role not in ("prompt", "negative_prompt"):
            return {"CANCELLED"}
        text = bpy.data.texts.get(self.text_block) if self.text_block else None
        if self.text_block and text is None:
            self.report({"ERROR"}, f"No text block named {self.text_block!r}")
            return {"CANCELLED"}
        if text is not None:
            # One line: the services take a prompt as a sentence, not as lines.
            setattr(forms.state(context), self.role, " ".join(text.as_string().split()))
        return {"FINISHED"}


classes = (CONJURE_OT_edit_prompt,)
