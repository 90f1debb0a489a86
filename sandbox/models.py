"""Where result models come from, and the derived files (FBX, STL, OBJ, thumbnails) of each."""

from __future__ import annotations

import hashlib
import io
import itertools
import struct
import threading
import zipfile
from pathlib import Path

from .fbx import write_fbx
from .glb import Glb, build_model
from .images import render_points

# Thrixel's own generations, shared beside the project (see the fixtures README).
FIXTURE_DIR = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "glb" / "thrixel"
)


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


class ModelLibrary:
    """Chooses a GLB for a generation.

    ``--models DIR`` files are served in turn; otherwise the Thrixel fixtures (chosen from the
    prompt, so the same prompt gives the same model); otherwise models written here.
    """

    def __init__(self, models_dir: str | Path | None = None, seed: int = 0) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._cache: dict[Path, bytes] = {}
        self.rotating = models_dir is not None
        source = Path(models_dir) if models_dir is not None else FIXTURE_DIR
        if models_dir is not None and not source.is_dir():
            raise ValueError(f"--models {source} is not a folder")
        self.files = sorted(source.glob("*.glb")) if source.is_dir() else []
        if models_dir is not None and not self.files:
            raise ValueError(f"--models {source} holds no .glb files")
        self._turn = itertools.count()

    @property
    def source(self) -> str:
        return str(self.files[0].parent) if self.files else "built-in models"

    def choose(self, prompt: str) -> bytes:
        if not self.files:
            return build_model(_digest(f"{self.seed}|{prompt}"))
        if self.rotating:
            with self._lock:
                path = self.files[next(self._turn) % len(self.files)]
        else:
            path = self.files[_digest(prompt) % len(self.files)]
        with self._lock:
            if path not in self._cache:
                self._cache[path] = path.read_bytes()
            return self._cache[path]


def glb_to_fbx(glb_bytes: bytes) -> bytes:
    return write_fbx(Glb.parse(glb_bytes).world_meshes())


def glb_to_stl(glb_bytes: bytes) -> bytes:
    """Binary STL of all meshes (Y-up as in the GLB; STL has no units, metres assumed)."""
    meshes = Glb.parse(glb_bytes).world_meshes()
    triangles = [(p[a], p[b], p[c]) for _, p, tris in meshes for a, b, c in tris]
    out = bytearray(b"Conjure sandbox STL".ljust(80, b" "))
    out += struct.pack("<I", len(triangles))
    for a, b, c in triangles:
        u = [b[i] - a[i] for i in range(3)]
        v = [c[i] - a[i] for i in range(3)]
        n = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
        length = (n[0] ** 2 + n[1] ** 2 + n[2] ** 2) ** 0.5 or 1.0
        out += struct.pack("<12fH", *(x / length for x in n), *a, *b, *c, 0)
    return bytes(out)


def glb_to_obj_zip(glb_bytes: bytes, stem: str = "model") -> bytes:
    meshes = Glb.parse(glb_bytes).world_meshes()
    lines = ["# Conjure sandbox"]
    base = 1
    for name, positions, triangles in meshes:
        lines.append(f"o {name}")
        lines.extend(f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in positions)
        lines.extend(f"f {a + base} {b + base} {c + base}" for a, b, c in triangles)
        base += len(positions)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.obj", "\n".join(lines) + "\n")
    return buffer.getvalue()


def thumbnail(glb_bytes: bytes, back: bool = False) -> bytes:
    points = [p for _, positions, _ in Glb.parse(glb_bytes).world_meshes() for p in positions]
    # Every vertex is not needed for a 256-pixel preview; an even sample keeps it quick.
    step = max(1, len(points) // 60000)
    return render_points(points[::step], back=back)
