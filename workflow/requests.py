"""From what a user typed (operator properties, command-line arguments, a CSV row) to a request:
which service, which of its operations, and the operation's parameters.

bpy-free, so the operators, the command line and the batch share one set of rules and they are
tested in plain Python. Every refusal is an ``InvalidRequestError`` naming the field to fix.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..providers import registry
from ..providers.errors import InvalidRequestError
from ..providers.params import Operation
from ..providers.services import BY_ID, SERVICES, Service, find

#: File types a service may deliver as pictures rather than models (Voxel-AI's candidates).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass
class Request:
    """One job to submit (``blender.session.submit_request``)."""

    service: str
    operation: str
    params: dict[str, Any] = field(default_factory=dict)
    parent_id: str | None = None
    #: Options meant for the model job made from a chosen candidate (Voxel-AI's voxelize
    #: settings given to ``generate``), kept until a candidate is picked.
    later: dict[str, Any] = field(default_factory=dict)


def service(name: str) -> Service:
    """A service by its script name (``TRIPO``) or its id (``tripo``), any case."""
    found = find(name)
    if found is None:
        names = ", ".join(s.public_name for s in SERVICES)
        raise InvalidRequestError(f"provider: unknown service {name!r}; choose one of {names}",
                                  field="provider")
    return found


def parse_options(text: str | None, where: str = "options") -> dict[str, Any]:
    """A JSON object of further parameters; empty text means none."""
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"{where}: not valid JSON ({exc.msg} at character {exc.pos}); write an object such "
            'as {"face_limit": 5000}', field=where) from None
    if not isinstance(value, dict):
        raise InvalidRequestError(
            f'{where}: must be a JSON object such as {{"face_limit": 5000}}, got '
            f"{type(value).__name__}", field=where)
    return value


def check_option_names(op: Operation, options: dict[str, Any], where: str = "options") -> None:
    unknown = sorted(set(options) - set(op.by_name))
    if unknown:
        raise InvalidRequestError(
            f"{where}: {op.label} ({BY_ID[op.service].label}) has no parameter "
            f"{unknown[0]!r}; it takes {', '.join(sorted(op.by_name)) or 'none'}",
            field=unknown[0])


def creation_operations(service_id: str) -> list[Operation]:
    return [op for op in registry.operations(service_id) if not op.needs_parent]


def modes(service_id: str) -> list[str]:
    """The mode words a service offers for new models, in declaration order."""
    seen: list[str] = []
    for op in creation_operations(service_id):
        if op.mode not in seen:
            seen.append(op.mode)
    return seen


def resolve_operation(service_id: str, mode: str, *, has_image: bool = False) -> Operation:
    """``mode`` is an operation name or a mode word ("text", "image", ...); empty means what
    the inputs imply (an image: image mode where offered, else text)."""
    label = BY_ID[service_id].label
    ops = registry.operations(service_id)
    if not ops:
        raise InvalidRequestError(f"{label} is not supported by this Conjure version yet",
                                  field="provider")
    mode = mode.strip()
    for op in ops:
        if op.name == mode:
            return op
    words = [mode.lower()] if mode else (["image", "text"] if has_image else ["text"])
    for word in words:
        for op in creation_operations(service_id):
            if op.mode == word:
                return op
    if not mode:
        # A service without a text mode (e.g. image only): its first creation operation.
        first = creation_operations(service_id)
        if first:
            return first[0]
    raise InvalidRequestError(
        f"mode: {label} has no mode or operation {mode!r}; modes: {', '.join(modes(service_id))}"
        f"; operations: {', '.join(op.name for op in ops)}", field="mode")


def _put(op: Operation, role: str, value: Any, params: dict[str, Any], what: str) -> None:
    param = op.param_for(role)
    if param is None:
        raise InvalidRequestError(
            f"{what}: {BY_ID[op.service].label} {op.label} takes no {role.replace('_', ' ')}",
            field=what)
    params[param.name] = value


def _put_image(op: Operation, value: str, params: dict[str, Any], what: str) -> None:
    single, several = op.param_for("image"), op.param_for("images")
    if single is not None:
        params[single.name] = value
    elif several is not None:
        params.setdefault(several.name, []).append(value)
    else:
        raise InvalidRequestError(
            f"{what}: {BY_ID[op.service].label} {op.label} takes no image; choose an image "
            f"mode ({', '.join(modes(op.service))})", field=what)


def _picture_given(op: Operation, given: bool, options: dict[str, Any]) -> None:
    """A mode that needs a picture and got none is refused for that first, before anything
    said about the other inputs (a prompt it does not take, say)."""
    param = op.param_for("image")
    if param is None or not param.required or given or options.get(param.name):
        return
    raise InvalidRequestError(
        f"image_path: {BY_ID[op.service].label} {op.label} makes a model from a picture; "
        "give image_path (a file) or image_url", field="image_path")


def _same(path: str) -> str:
    return path


def resolve_paths(op: Operation, options: dict[str, Any],
                  resolve: Callable[[str], str]) -> dict[str, Any]:
    """``options`` with the local paths of its file and picture parameters passed through
    ``resolve`` (in Blender: "//" is the open .blend's folder); links are left alone."""
    def one(value: Any) -> Any:
        return resolve(value) if isinstance(value, str) and "://" not in value \
            and not value.startswith("data:") else value

    resolved = dict(options)
    for name, value in options.items():
        param = op.by_name.get(name)
        if param is None or param.kind not in ("image", "image_list", "file"):
            continue
        resolved[name] = [one(v) for v in value] if isinstance(value, list) else one(value)
    return resolved


def generation_request(service_name: str, *, mode: str = "", prompt: str = "",
                       negative_prompt: str = "", image_path: str = "", image_url: str = "",
                       options: str | dict[str, Any] | None = None,
                       resolve_path: Callable[[str], str] = _same) -> Request:
    """A new model's request from the generic inputs every service shares, plus ``options``
    (a JSON object, or a dict) for any further documented parameter of the operation.
    ``resolve_path`` turns the local paths given into the ones to read (Blender's "//")."""
    svc = service(service_name)
    image_path = resolve_path(image_path) if image_path else ""
    if image_path and not os.path.isfile(image_path):
        raise InvalidRequestError(f"image_path: no file at {image_path}", field="image_path")
    op = resolve_operation(svc.id, mode, has_image=bool(image_path or image_url))
    extra = dict(options) if isinstance(options, dict) else parse_options(options)
    extra = resolve_paths(op, extra, resolve_path)
    later: dict[str, Any] = {}
    step = candidate_operation(svc.id, op.name) if not op.paid else None
    if step is not None:
        # A free preview step (candidate pictures): options it does not know are the model
        # step's, e.g. Voxel-AI's voxel_size given to generate.
        later = {k: v for k, v in extra.items() if k not in op.by_name and k in step.by_name}
        extra = {k: v for k, v in extra.items() if k not in later}
    check_option_names(op, extra)
    _picture_given(op, bool(image_path or image_url.strip()), extra)
    params: dict[str, Any] = {}
    if prompt.strip():
        _put(op, "prompt", prompt.strip(), params, "prompt")
    if negative_prompt.strip():
        _put(op, "negative_prompt", negative_prompt.strip(), params, "negative_prompt")
    for what, value in (("image_path", str(Path(image_path).resolve()) if image_path else ""),
                        ("image_url", image_url.strip())):
        if value:
            _put_image(op, value, params, what)
    params.update(extra)
    return Request(svc.id, op.name, params, later=later)


def follow_up_request(service_id: str, operation: str, *, parent_remote_id: str,
                      parent_job_id: str | None = None, prompt: str = "",
                      parts: str | list[str] = "",
                      options: str | dict[str, Any] | None = None,
                      resolve_path: Callable[[str], str] = _same) -> Request:
    """A follow-up on an earlier result: the operation's parent parameter gets that result's
    remote id; ``prompt`` goes to the prompt role, ``parts`` to ``focus_on_node_names``;
    ``resolve_path`` as for ``generation_request``."""
    svc = service(service_id)
    op = registry.operation(svc.id, operation)
    if not op.needs_parent:
        raise InvalidRequestError(
            f"operation: {svc.label} {op.label} makes a new model; use conjure.generate",
            field="operation")
    extra = options if isinstance(options, dict) else parse_options(options)
    check_option_names(op, extra)
    extra = resolve_paths(op, extra, resolve_path)
    if not parent_remote_id:
        raise InvalidRequestError(
            f"job_id: the source job has no {svc.label} id yet (it never reached the service), "
            "so there is nothing to work on", field="job_id")
    params: dict[str, Any] = {}
    _put(op, "parent", parent_remote_id, params, "job_id")
    if prompt.strip():
        _put(op, "prompt", prompt.strip(), params, "request")
    names = split_parts(parts) if isinstance(parts, str) else list(parts)
    if names:
        if "focus_on_node_names" not in op.by_name:
            raise InvalidRequestError(f"parts: {svc.label} {op.label} cannot be limited to "
                                      "parts", field="parts")
        params["focus_on_node_names"] = names
    params.update(extra)
    return Request(svc.id, op.name, params, parent_id=parent_job_id)


def split_parts(text: str) -> list[str]:
    """``"door_panel, lock_wheel"`` → ``["door_panel", "lock_wheel"]`` (order kept, no
    duplicates, blanks dropped)."""
    names: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if part and part not in names:
            names.append(part)
    return names


def is_candidates(result_files: list[str]) -> bool:
    """True when a finished job delivered pictures to choose from rather than a model."""
    return bool(result_files) and all(
        Path(name).suffix.lower() in IMAGE_SUFFIXES for name in result_files)


def candidate_request(service_id: str, source_operation: str, candidate: Path, *,
                      parent_job_id: str,
                      options: str | dict[str, Any] | None = None) -> Request:
    """Turn a chosen candidate picture into the service's model job: the first other
    operation that takes one image (Voxel-AI: voxelize)."""
    svc = service(service_id)
    op = candidate_operation(svc.id, source_operation)
    if op is None:
        raise InvalidRequestError(f"{svc.label} offers no operation that turns a picture into "
                                  "a model", field="operation")
    extra = options if isinstance(options, dict) else parse_options(options)
    check_option_names(op, extra)
    params: dict[str, Any] = {}
    _put_image(op, str(candidate), params, "index")
    params.update(extra)
    return Request(svc.id, op.name, params, parent_id=parent_job_id)


def candidate_operation(service_id: str, source_operation: str) -> Operation | None:
    """The operation that makes a model from one picture, other than ``source_operation``."""
    return next((op for op in creation_operations(service_id)
                 if op.name != source_operation and op.param_for("image") is not None), None)


def candidate_files(paths: list[Path]) -> list[Path]:
    """A candidates job's pictures in a stable order (by name: the service's index order)."""
    return sorted((p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES), key=lambda p: p.name)
