"""The user folder's results and cache: how big they are and what Clear may delete. bpy-free."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..jobs.results import job_folder

#: Folders under the user folder that hold only re-creatable files (inputs, previews).
CACHE_DIRS = ("cache",)


def folder_size(root: Path) -> int:
    total = 0
    if not root.is_dir():
        return 0
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


@dataclass
class ClearPlan:
    """What Clear deletes: the re-creatable cache and the results of imported jobs. Results of
    every other job (running, ready, failed with partial files, or no longer in the journal)
    are kept: they may be paid results nobody has brought into a scene yet."""

    delete: list[Path] = field(default_factory=list)
    keep: list[Path] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(folder_size(p) if p.is_dir() else p.stat().st_size for p in self.delete)


def clear_plan(root: Path, imported: Iterable[tuple[str, str]]) -> ClearPlan:
    """``imported``: (service, job id) of every job whose result is in a scene."""
    plan = ClearPlan()
    for name in CACHE_DIRS:
        if (root / name).exists():
            plan.delete.append(root / name)
    allowed = {job_folder(root, service, job_id) for service, job_id in imported}
    results = root / "results"
    if results.is_dir():
        for service in sorted(results.iterdir()):
            if not service.is_dir():
                continue
            for folder in sorted(service.iterdir()):
                (plan.delete if folder in allowed else plan.keep).append(folder)
    return plan


def clear(plan: ClearPlan) -> int:
    """Delete what ``plan`` lists; returns the bytes freed."""
    freed = 0
    for path in plan.delete:
        if path.is_dir():
            freed += folder_size(path)
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            freed += path.stat().st_size
            path.unlink(missing_ok=True)
    return freed
