"""``/cdn/...``: result files, optionally behind short-lived signed URLs, and presigned uploads."""

from __future__ import annotations

from .http import Request, Response, file_response, json_response
from .service import Service


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    return Response(status, body, content_type="application/xml")


class CdnService(Service):
    """Serves the sandbox's ``ResultFiles`` the way an S3 bucket answers."""

    name = "cdn"

    def credential(self, req: Request) -> str | None:
        # Result URLs are fetched without any key (signed or public URLs).
        return None

    def handle(self, req: Request) -> Response:
        if req.method == "PUT":
            receiver = self.host.cdn.take_upload(req.path)
            if receiver is None:
                return _s3_error(403, "AccessDenied", "Upload URL unknown or already used")
            receiver(req.body)
            return Response(200, b"", content_type="application/xml")
        if req.method != "GET":
            return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed")
        item = self.host.cdn.file(req.path)
        if item is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        if item.signed:
            try:
                expires = int(req.query.get("Expires", ""))
            except ValueError:
                return _s3_error(403, "AccessDenied", "Query-string authentication required")
            signature = req.query.get("Signature", "")
            if not self.state.check_signature(req.path, expires, signature):
                return _s3_error(403, "SignatureDoesNotMatch", "Signature does not match")
            if self.state.wall() > expires:
                return _s3_error(403, "AccessDenied", "Request has expired")
        return file_response(item.data(), item.content_type, faults=item.faults)

    def not_found(self) -> Response:
        return json_response(404, {"error": "not found"})
