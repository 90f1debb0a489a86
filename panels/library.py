"""The asset library's buttons in other panels: "Show in Asset Browser" on a finished job (the
Jobs panel's details, the Selected Model panel). Kept here so those panels call one function."""

from __future__ import annotations

from typing import Any

from ..blender import settings
from ..jobs.model import Job, State
from . import widgets
from .candidates import is_candidates_item

_FINISHED = (State.READY, State.IMPORTED)


def _button(layout: Any, job_id: str) -> None:
    widgets.button(layout, "conjure.show_in_asset_browser", "Show in Asset Browser",
                   "ASSET_MANAGER", job_id=job_id)


def draw_job(layout: Any, item: Any) -> None:
    """For a job-list row: the button, when the job delivered a model (not pictures)."""
    if item.state in _FINISHED and not is_candidates_item(item) and settings.library_enabled():
        _button(layout, item.job_id)


def draw_selected(layout: Any, job: Job | None) -> None:
    """For the active object's job, when this computer's journal has it."""
    if job is not None and job.state in _FINISHED and settings.library_enabled():
        _button(layout, job.id)
