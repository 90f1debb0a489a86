"""Keeps keys and tokens out of every message, log line, exception text and journal row.

Two nets: every secret Conjure itself sends is registered here before use, and text that looks
like a credential (bearer values, the services' key shapes, signed-URL signatures) is masked even
when it was never registered, e.g. a token echoed back by a service in an error body.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"

_lock = threading.Lock()
_secrets: set[str] = set()

_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"),
    re.compile(r"sk-thrixel-[A-Za-z0-9_\-]+"),
    re.compile(r"\btsk_[A-Za-z0-9_\-]+"),
    re.compile(
        r"(?i)((?:ocp-apim-subscription-key|api[_-]?key|token|authorization|signature|"
        r"x-amz-signature|x-amz-credential|x-goog-signature|sig)[\"']?\s*[:=]\s*[\"']?)"
        r"[^\s\"'&,;]+"
    ),
]


def register_secret(secret: str | None) -> None:
    """Remember a secret so that ``redact`` masks it wherever it appears."""
    if secret and len(secret) >= 4:
        with _lock:
            _secrets.add(secret)


def redact(text: object) -> str:
    """``text`` as a string with every registered secret and credential-like value masked."""
    out = str(text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in out:
            out = out.replace(secret, MASK)
    for pattern in _PATTERNS:
        out = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, out)
    return out


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through ``redact`` before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


#: The one logger of Conjure's bpy-free layers. A filter on a logger only sees records logged
#: through that very logger, so every module logs here rather than to a child of it.
log = logging.getLogger("conjure")
log.addFilter(RedactingFilter())
