"""Where result models come from, and the derived files (FBX, STL, OBJ, thumbnails) of each."""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import struct
import threading
import zipfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

from .fbx import write_fbx
from .glb import Glb, build_model
from .images import render_triangles

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

    def file_for(self, prompt: str) -> Path | None:
        """The fixture a prompt picks (None when models are built here or served in turn)."""
        if not self.files or self.rotating:
            return None
        return self.files[_digest(prompt) % len(self.files)]

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


def glb_to_3mf(glb_bytes: bytes) -> bytes:
    """3MF package (geometry only, as the format carries no textures here), in metres."""
    objects = []
    items = []
    for number, (name, positions, triangles) in enumerate(Glb.parse(glb_bytes).world_meshes(), 1):
        # 3MF's build plate is Z-up; glTF is Y-up.
        vertices = "".join(
            f'<vertex x="{x:.6f}" y="{-z:.6f}" z="{y:.6f}"/>' for x, y, z in positions
        )
        faces = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in triangles)
        objects.append(
            f'<object id="{number}" name={quoteattr(name)} type="model"><mesh>'
            f"<vertices>{vertices}</vertices><triangles>{faces}</triangles></mesh></object>"
        )
        items.append(f'<item objectid="{number}"/>')
    model = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<model unit="meter" xml:lang="en-US" '
        'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
        f"<resources>{''.join(objects)}</resources><build>{''.join(items)}</build></model>"
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="model" '
        'ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Target="/3D/3dmodel.model" '
        'Id="rel0" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/>'
        "</Relationships>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("3D/3dmodel.model", model)
    return buffer.getvalue()


def _usd_name(name: str, taken: set[str]) -> str:
    safe = re.sub(r"[^A-Za-z0-9_]", "_", name) or "mesh"
    if safe[0].isdigit():
        safe = "_" + safe
    unique, n = safe, 1
    while unique in taken:
        n += 1
        unique = f"{safe}_{n}"
    taken.add(unique)
    return unique


def glb_to_usdz(glb_bytes: bytes) -> bytes:
    """USDZ: an uncompressed zip whose first file is a text USD layer, data 64-byte aligned."""
    taken: set[str] = set()
    prims = []
    for name, positions, triangles in Glb.parse(glb_bytes).world_meshes():
        points = ", ".join(f"({x:.6f}, {y:.6f}, {z:.6f})" for x, y, z in positions)
        indices = ", ".join(str(i) for tri in triangles for i in tri)
        counts = ", ".join("3" for _ in triangles)
        prims.append(
            f'    def Mesh "{_usd_name(name, taken)}"\n    {{\n'
            f"        int[] faceVertexCounts = [{counts}]\n"
            f"        int[] faceVertexIndices = [{indices}]\n"
            f"        point3f[] points = [{points}]\n"
            '        uniform token subdivisionScheme = "none"\n    }\n'
        )
    layer = (
        '#usda 1.0\n(\n    defaultPrim = "Model"\n    metersPerUnit = 1\n    upAxis = "Y"\n)\n\n'
        'def Xform "Model"\n{\n' + "\n".join(prims) + "}\n"
    ).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo("model.usda", date_time=(2020, 1, 1, 0, 0, 0))
        # Pad the local header's extra field so the file data starts on a 64-byte boundary,
        # as the USDZ format requires.
        header = 30 + len(info.filename) + 4
        padding = (-(buffer.tell() + header)) % 64
        info.extra = struct.pack("<HH", 0x1986, padding) + b"\0" * padding
        archive.writestr(info, layer)
    return buffer.getvalue()


#: Thumbnails already drawn, by the model's digest and side: the same models come back again
#: and again, and drawing one in Python holds the interpreter (the tests share it) a while.
_THUMBNAILS: dict[tuple[str, bool], bytes] = {}
_THUMBNAILS_KEPT = 64
_thumbnails_lock = threading.Lock()


def thumbnail(glb_bytes: bytes, back: bool = False) -> bytes:
    """The model's surface seen from the front (or back), shaded, as a 256-pixel PNG."""
    key = (hashlib.sha256(glb_bytes).hexdigest(), back)
    with _thumbnails_lock:
        kept = _THUMBNAILS.get(key)
    if kept is None:
        kept = _draw_thumbnail(glb_bytes, back)
        with _thumbnails_lock:
            if len(_THUMBNAILS) >= _THUMBNAILS_KEPT:
                _THUMBNAILS.pop(next(iter(_THUMBNAILS)))
            _THUMBNAILS[key] = kept
    return kept


def _draw_thumbnail(glb_bytes: bytes, back: bool) -> bytes:
    points: list[tuple[float, float, float]] = []
    triangles: list[tuple[int, int, int]] = []
    for _, positions, faces in Glb.parse(glb_bytes).world_meshes():
        start = len(points)
        points += positions
        triangles += [(a + start, b + start, c + start) for a, b, c in faces]
    return render_triangles(points, triangles, back=back)
