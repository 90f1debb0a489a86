"""Phase 5 uploads: the multipart body streamed from disk with progress."""

from __future__ import annotations

import responses
from unit.providers.thrixel.mocks import API, SID, service

from conjure.providers.base import Phase
from conjure.providers.thrixel.upload import MultipartFile
from support.jobs import job


@responses.activate
def test_upload_streams_a_multipart_glb_with_progress(tmp_path):
    glb = b"glTF" + b"\x02\x00\x00\x00" + b"x" * 3000
    path = tmp_path / "my model.glb"
    path.write_bytes(glb)
    responses.post(API + "/phase5/submit", json={
        "submission_id": SID, "status": "completed", "original_filename": "my model.glb",
        "file_size_bytes": len(glb), "created_at": "2026-04-20T14:40:15Z"})
    seen = []
    submitted = service(on_upload=lambda job_id, sent, total: seen.append((job_id, sent,
                                                                            total))).submit(
        job("upload", {"glb_file": str(path), "task": "hand-sculpted base mesh"}))
    request = responses.calls[0].request
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    body = b"".join(request.body) if not isinstance(request.body, bytes) else request.body
    assert int(request.headers["Content-Length"]) == len(body)
    assert b'name="task"\r\n\r\nhand-sculpted base mesh\r\n' in body
    assert (b'name="glb_file"; filename="my model.glb"\r\nContent-Type: model/gltf-binary'
            b"\r\n\r\n" + glb + b"\r\n") in body
    assert "Authorization" in request.headers
    assert seen[-1] == ("job1", len(body), len(body))
    # Phase 5 is complete at once: the result is ready to download.
    assert submitted.status.phase == Phase.SUCCEEDED
    assert submitted.status.results[0].name.endswith(".glb")


def test_multipart_body_can_be_read_twice(tmp_path):
    path = tmp_path / "m.glb"
    path.write_bytes(b"glTF1234")
    body = MultipartFile({"task": "t"}, "glb_file", str(path))
    first, second = b"".join(body), b"".join(body)
    assert first == second and len(first) == len(body)
