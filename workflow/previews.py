"""Where a finished job's preview picture comes from, decided without Blender.

Each finished job has one picture of its result, ``jobs.results.PREVIEW_FILE`` in its result
folder, made once and kept with the result (so it outlives restarts, and the asset library can
use it). In order of preference it is:

1. the service's own picture of the result (Thrixel's thumbnail, Tripo3D's rendered image),
   fetched by the job engine on a worker thread after the job is ready;
2. a picture already on disk that shows it (``source_picture``): the candidate a Voxel-AI model
   was made from, or the job's own first picture when its result is pictures;
3. else one rendered in Blender from the imported objects (``blender.previews``).
"""

from __future__ import annotations

from pathlib import Path

from ..jobs.model import Job
from . import requests


def source_picture(job: Job, paths: list[Path], parent: Job | None,
                   parent_paths: list[Path]) -> Path | None:
    """A picture already on disk that shows ``job``'s result: its first picture when its
    results are pictures (candidates, a generated image), or the picture among its parent's
    results that it was made from (the candidate the user picked). ``paths`` and
    ``parent_paths`` are the two jobs' result files."""
    if requests.is_candidates(job.result_files):
        pictures = requests.candidate_files(paths)
        return pictures[0] if pictures else None
    if parent is None or not requests.is_candidates(parent.result_files):
        return None
    offered = {str(path) for path in requests.candidate_files(parent_paths)}
    for value in job.params.values():
        if isinstance(value, str) and value in offered:
            return Path(value)
    return None
