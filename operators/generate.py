"""``conjure.generate``: a new model from a prompt and/or pictures, with any service.

``execute()`` blocks (console, ``blender -b``, scripts): it prints progress lines and returns
when the model is in the scene or the job failed. ``invoke()`` in a window submits and returns
at once; the pump imports the result when it is ready.
"""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty

from ..blender import forms, paths, session
from ..providers.services import SERVICES
from ..workflow import requests, sequence
from . import base

PROVIDER_ITEMS = [(s.public_name, s.label, f"Generate with {s.label}") for s in SERVICES]


class CONJURE_OT_generate(bpy.types.Operator):
    """Generate a 3D model with the chosen service and import it into the scene"""

    bl_idname = "conjure.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}

    provider: EnumProperty(name="Service", items=PROVIDER_ITEMS, default="THRIXEL")
    mode: StringProperty(
        name="Mode", description="An operation name or a mode (text, image, multiview, ...); "
                                 "empty: what the inputs imply")
    prompt: StringProperty(name="Prompt")
    negative_prompt: StringProperty(name="Negative Prompt")
    image_path: StringProperty(name="Image File", subtype="FILE_PATH", options=paths.RELATIVE)
    image_url: StringProperty(name="Image URL")
    candidate_index: IntProperty(
        name="Candidate", default=-1, min=-1, max=2,
        description="Voxel-AI: the candidate picture to voxelize without asking (-1: let me "
                    "pick)")
    options: StringProperty(
        name="Options", description='Further parameters as a JSON object, e.g. '
                                    '{"face_limit": 5000}')
    from_panel: BoolProperty(name="From Panel", options={"HIDDEN", "SKIP_SAVE"},
                             description="Read the inputs from the Generate panel's form")
    # Set by invoke() in a window: execute() then submits and returns instead of waiting.
    background_job: BoolProperty(options={"HIDDEN", "SKIP_SAVE"})

    def request(self, context: bpy.types.Context, draft: bool = False) -> requests.Request:
        if self.from_panel:
            service_id, operation = forms.selected(context)
            values = base.panel_values(context, service_id, operation, draft=draft)
            op = requests.resolve_operation(service_id, operation)
            requests.check_option_names(op, values, where="panel")
            return requests.Request(service_id, op.name, values)
        # "//" paths are the open .blend's folder, as in Blender's own file fields.
        return requests.generation_request(
            self.provider, mode=self.mode, prompt=self.prompt,
            negative_prompt=self.negative_prompt, image_path=self.image_path,
            image_url=self.image_url, options=self.options, resolve_path=bpy.path.abspath)

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            request = self.request(context)
            job = session.submit_request(request)
            plan = sequence.Plan(candidate=self.candidate_index,
                                 candidate_options=request.later)
            return base.run(self, context, job, plan, background=self.background_job)
        except Exception as exc:
            return base.fail(self, exc)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        self.background_job = base.interactive(context)
        if self.background_job:
            asked = base.ask_before_spending(self, context, event,
                                             lambda: self.request(context, draft=True))
            if asked is not None:
                return asked
        return self.execute(context)


classes = (CONJURE_OT_generate,)
