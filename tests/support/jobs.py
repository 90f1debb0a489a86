"""A job as a service client reads it (``providers.base.Job``), without a journal."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any


def job(operation: str, params: dict[str, Any], remote_id: str | None = None, *,
        id: str = "job1") -> Any:
    return SimpleNamespace(id=id, operation=operation, params=params, remote_id=remote_id)
