"""Result files on disk: streamed, checked by their first bytes, then renamed into place.

A result lives at ``<root>/results/<service>/<job id>/<name>``. It is written as a ``.part``
file in chunks (memory does not grow with the file), synced, checked by magic bytes (so an error
page or JSON body is never saved as a model), and only then renamed atomically to its final name.
A file under its final name is therefore always whole. Names that come from a service are reduced
to a plain file name that cannot leave the job's folder and that every platform can open, and a
file never replaces a different one already saved under the same name.

A file is no larger than the user's limit for its kind (``SizeLimits``): one that announces more
is refused before a byte is written, and one that sends more is stopped at the limit. Until its
first bytes tell its kind, the largest limit of the kinds it may be applies.
"""

from __future__ import annotations

import contextlib
import filecmp
import os
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..providers.base import PICTURE_KINDS
from ..providers.errors import DownloadLimitError, UnexpectedResponseError
from ..providers.http import DOWNLOAD_SETTINGS, Body
from ..providers.services import SAVED_IDS

PART_SUFFIX = ".part"

#: Magic bytes of every kind of file a service may deliver, and the extension it gets.
_MAGIC: list[tuple[bytes, str]] = [
    (b"glTF", "glb"),
    (b"Kaydara FBX Binary", "fbx"),
    (b"VOX ", "vox"),
    (b"PK\x03\x04", "zip"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
]
#: Extensions that are the same kind as the sniffed one, so a service's own name is kept.
_SAME_KIND = {"jpg": {"jpeg"}, "zip": {"usdz", "3mf"}, "glb": set(), "fbx": set(),
              "vox": set(), "png": set(), "webp": set(), "stl": set()}
#: Enough for the magic table and for a binary STL's 80-byte header plus triangle count.
_HEAD_BYTES = 84
#: Device names Windows reserves in any case and with any extension ("nul.glb" is NUL too).
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{port}{n}" for port in ("COM", "LPT") for n in range(10)}
)


#: Kinds that are pictures; every other kind is a model (glTF, FBX, STL, MagicaVoxel, or a zip
#: archive holding a model with its textures).
_PICTURES = frozenset({"png", "jpg", "webp"})
#: Every kind ``sniff_whole`` recognises.
ALL_KINDS = frozenset({kind for _, kind in _MAGIC} | {"webp", "stl"})
MB = 1_000_000


class Limit(NamedTuple):
    """How large a result file may be, and what it is as the limit's setting names it."""

    size: int
    #: "model" or "picture": the setting is "Largest Model" or "Largest Picture".
    what: str


@dataclass(frozen=True)
class SizeLimits:
    """The largest result file saved, in bytes, per kind of file (set in the preferences)."""

    models: int = 2000 * MB
    pictures: int = 200 * MB

    def of(self, kinds: Iterable[str]) -> Limit:
        """The limit for a file of one of ``kinds``: the largest, when they differ."""
        found = {Limit(self.pictures, "picture") if kind in _PICTURES
                 else Limit(self.models, "model") for kind in kinds}
        return max(found or {Limit(self.models, "model")})


def _megabytes(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size >= 10 * MB else f"{size / MB:,.2g} MB"


def _too_large(name: str, limit: Limit, announced: int | None) -> DownloadLimitError:
    said = (f"is {_megabytes(announced)}, more than" if announced is not None
            else "was stopped at")
    return DownloadLimitError(
        f"{name} {said} the {_megabytes(limit.size)} a {limit.what} may be; raise Largest "
        f"{limit.what.title()} ({DOWNLOAD_SETTINGS}) to download it")


def sniff(head: bytes) -> str | None:
    """The kind of file ``head`` starts, or None when it is none Conjure accepts."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def sniff_whole(head: bytes, size: int) -> str | None:
    """The kind of a whole file of ``size`` bytes that starts with ``head``: the magic table,
    else STL, which has no magic. A binary STL is recognised by its triangle count matching
    its length exactly (84 + 50 per triangle), which no error page or JSON body does by
    chance; an ASCII STL starts with ``solid`` and a name, then ``facet`` or ``endsolid``."""
    kind = sniff(head)
    if kind is not None:
        return kind
    if len(head) >= 84 and size >= 84:
        count = int.from_bytes(head[80:84], "little")
        if size == 84 + 50 * count:
            return "stl"
    text = head.lstrip()
    if text.startswith(b"solid") and (b"facet" in text or b"endsolid" in text):
        return "stl"
    return None


def safe_name(name: str, kind: str) -> str:
    """A plain file name for ``name`` with an extension matching ``kind``.

    Directory parts, drive letters, control and shell-special characters and leading dots are
    dropped, so the result cannot point outside the folder it is joined to; a name Windows
    reserves for a device (``CON``, ``nul.glb``) gets a leading underscore.
    """
    base = re.split(r"[/\\]", name)[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    if ext.lower() != kind and ext.lower() not in _SAME_KIND.get(kind, set()):
        stem, ext = base, kind
    stem = stem.strip(" .")[:80] or "result"
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    return f"{stem}.{ext.lower()}"


def _free_name(folder: Path, name: str, part: Path) -> Path:
    """``name`` in ``folder``, or ``<stem>-2.<ext>``, ``-3`` ... when a different file already
    has it: the first that is free or holds exactly the bytes of ``part`` (the same result
    downloaded again, which is then replaced by its equal)."""
    stem, _, ext = name.rpartition(".")
    candidate, number = folder / name, 1
    while candidate.exists() and not filecmp.cmp(candidate, part, shallow=False):
        number += 1
        candidate = folder / f"{stem}-{number}.{ext}"
    return candidate


def job_folder(root: Path, service: str, job_id: str) -> Path:
    """``<root>/results/<service>/<job id>``; both parts are reduced to safe characters."""
    parts = [re.sub(r"[^A-Za-z0-9_-]+", "_", p) or "_" for p in (service, job_id)]
    return Path(root) / "results" / parts[0] / parts[1]


#: A finished job's picture of its result, in its folder beside the result files (the
#: service's own render, or one drawn from the imported model); the asset library reads it too.
PREVIEW_FILE = "preview.png"


def preview_path(root: Path, service: str, job_id: str) -> Path:
    """Where the job's preview picture is (whether or not it exists yet)."""
    return job_folder(root, service, job_id) / PREVIEW_FILE


def write_preview(chunks: Iterable[bytes], folder: Path, *, limits: SizeLimits = SizeLimits(),
                  should_stop: Callable[[], bool] = lambda: False) -> Path:
    """Save a service's picture of the result (checked like any result file) as the job's
    preview: a PNG replaces ``PREVIEW_FILE`` (the service's own render wins over one drawn
    here); a JPEG or WebP waits as ``preview.<kind>`` until the main thread turns it into
    ``PREVIEW_FILE`` (``waiting_preview``)."""
    saved = write_result(chunks, folder, PREVIEW_FILE, kinds=PICTURE_KINDS, limits=limits,
                         should_stop=should_stop)
    kind = saved.suffix.lstrip(".")
    target = folder / (PREVIEW_FILE if kind == "png" else f"preview.{kind}")
    os.replace(saved, target)
    if target.name != PREVIEW_FILE:
        (folder / PREVIEW_FILE).unlink(missing_ok=True)
    _fsync_dir(folder)
    return target


def waiting_preview(folder: Path) -> Path | None:
    """A service's picture saved in another kind than PNG that is not the preview yet."""
    for kind in sorted(PICTURE_KINDS - {"png"}):
        path = folder / f"preview.{kind}"
        if path.is_file():
            return path
    return None


def adopt_saved_folders(root: Path) -> None:
    """Results that Conjure 0.1 filed under a service id since renamed move to today's folder
    (``results/pixazo/<job>`` → ``results/pixal3d/<job>``); a job folder already there stays."""
    for old, new in SAVED_IDS.items():
        source = Path(root) / "results" / old
        if not source.is_dir():
            continue
        target = Path(root) / "results" / new
        target.mkdir(parents=True, exist_ok=True)
        for folder in source.iterdir():
            if not (target / folder.name).exists():
                folder.rename(target / folder.name)
        with contextlib.suppress(OSError):
            source.rmdir()


def remove_partials(folder: Path) -> None:
    """Delete ``.part`` files a killed process left behind (they are never results)."""
    if folder.is_dir():
        for part in folder.glob(f"*{PART_SUFFIX}"):
            part.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every platform; the rename is still atomic
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StopRequested(Exception):
    """The job was cancelled while its result was being written."""


def write_result(
    chunks: Iterable[bytes],
    folder: Path,
    name: str,
    *,
    kinds: Iterable[str] | None = None,
    limits: SizeLimits = SizeLimits(),
    should_stop: Callable[[], bool] = lambda: False,
    checkpoint: Callable[[str], None] = lambda point: None,
) -> Path:
    """Stream ``chunks`` (a ``Body``, or any chunks) into ``folder`` and return the final path
    of the checked file.

    ``kinds`` limits the accepted file kinds (default: any in the magic table), and with
    ``limits`` how large the file may be: a body that announces more is refused before anything
    is written, one that sends more is stopped at the limit (``DownloadLimitError``). A
    different file already saved under the same name (another result of the job that the
    service named alike) is kept, and this one is numbered (``model-2.glb``). Raises
    ``UnexpectedResponseError`` when the bytes are not such a file and ``StopRequested`` when
    ``should_stop`` turns true. Whatever happens, the body is closed and no ``.part`` file is
    left; on failure nothing is left under a final name.
    """
    allowed = set(kinds) if kinds is not None else None
    limit = limits.of(allowed or ALL_KINDS)
    part = folder / f".{uuid.uuid4().hex[:8]}{PART_SUFFIX}"
    try:
        announced = chunks.size if isinstance(chunks, Body) else None
        if announced is not None and announced > limit.size:
            raise _too_large(name, limit, announced)
        folder.mkdir(parents=True, exist_ok=True)
        head, size = _write_part(part, chunks, name, limit, limits, should_stop, checkpoint)
        kind = sniff_whole(head, size)
        if kind is None or (allowed is not None and kind not in allowed):
            shown = head[:16].decode("latin-1").encode("unicode_escape").decode("ascii")
            expected = ", ".join(sorted(allowed)) if allowed else "a model or image file"
            raise UnexpectedResponseError(
                f"downloaded {size} bytes for {name!r} are not {expected} (starts with {shown!r})"
            )
        final = _free_name(folder, safe_name(name, kind), part)
        checkpoint("before-rename")
        os.replace(part, final)
        _fsync_dir(folder)
        return final
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        part.unlink(missing_ok=True)


def _write_part(part: Path, chunks: Iterable[bytes], name: str, limit: Limit,
                limits: SizeLimits, should_stop: Callable[[], bool],
                checkpoint: Callable[[str], None]) -> tuple[bytes, int]:
    """Write ``chunks`` to ``part`` and sync it; returns the file's first bytes and its size.
    ``limit`` holds until the first bytes tell the kind, then the kind's own limit does."""
    head = b""
    size = 0
    with open(part, "wb") as out:
        for chunk in chunks:
            if should_stop():
                raise StopRequested()
            if len(head) < _HEAD_BYTES:
                head += chunk[: _HEAD_BYTES - len(head)]
                kind = sniff(head)
                if kind is not None:
                    limit = limits.of([kind])
            if size + len(chunk) > limit.size:
                raise _too_large(name, limit, None)
            out.write(chunk)
            size += len(chunk)
            checkpoint("download-chunk")
        out.flush()
        os.fsync(out.fileno())
    return head, size
