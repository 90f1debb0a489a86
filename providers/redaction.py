"""Keeps keys and tokens out of every message, log line, exception text and journal row.

Two nets: every secret Conjure itself sends is registered here before use, and text that looks
like a credential (bearer values, the services' key shapes, signed-URL signatures) is masked even
when it was never registered, e.g. a token echoed back by a service in an error body.

A registered secret is recognised not only whole but by any ``FRAGMENT`` characters of it (a
service or a cut may have shortened it), percent-encoded or JSON-escaped (the text is also read
through those decodings, two levels deep), and base64-encoded at any offset (so the
``base64("user:KEY")`` of a Basic header is caught; the whole base64 run is masked). A cut text
that ends in the start of a secret loses that start too. Text is redacted before it is cut:
``excerpt`` does both in that order, and every shortened piece of a service's answer goes
through it.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

MASK = "***"
#: This many characters in a row of a registered secret (or of its base64 form) are masked
#: wherever they appear.
FRAGMENT = 8
#: Where a text was cut (its end, or an ellipsis), a start of a secret this long is masked too.
CUT_TAIL = 4
#: ``excerpt`` redacts at most this much of a text: enough for any encoded secret that starts
#: within the excerpt, without scanning a whole multi-megabyte answer for a 300-character note.
EXCERPT_WINDOW = 1 << 16

_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")
_CUTS = re.compile(r"…|\.\.\.")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_JSON_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|([\"\\/bfnrt]))")
_JSON_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

_PATTERNS = [
    re.compile(r"(?i)((?:bearer|basic)\s+)[^\s\"',;]+"),
    re.compile(r"sk-thrixel-[A-Za-z0-9_\-]+"),
    re.compile(r"\btsk_[A-Za-z0-9_\-]+"),
    re.compile(
        r"(?i)((?:ocp-apim-subscription-key|api[_-]?key|token|authorization|signature|"
        r"x-amz-signature|x-amz-credential|x-goog-signature|sig)[\"']?\s*[:=]\s*[\"']?)"
        r"[^\s\"'&,;]+"
    ),
]


@dataclass(frozen=True)
class _Forms:
    """What the registered secrets look like in text, precomputed once per registration."""

    #: Each secret and each base64 form of it, longest first.
    whole: tuple[str, ...] = ()
    #: The forms (and their pieces) that are base64: a match widens to the whole base64 run.
    base64: frozenset[str] = frozenset()
    #: Every FRAGMENT-long piece of every form.
    pieces: frozenset[str] = frozenset()
    #: Every 4-long piece of those: a cheap test that lets the scan skip most positions.
    grams: frozenset[str] = frozenset()
    #: For cut tails: the last CUT_TAIL characters of each start of a form, to the forms and
    #: lengths of those starts, longest first.
    starts: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)


_lock = threading.Lock()
_secrets: set[str] = set()
_forms = _Forms()


def _base64_cores(secret: str) -> set[str]:
    """The characters of ``base64(prefix + secret)`` that depend on the secret alone, for each
    of the three alignments a prefix can give it and both alphabets (so ``user:KEY`` matches)."""
    raw = secret.encode()
    cores = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for shift in range(3):
            text = encode(b"\0" * shift + raw).decode("ascii")
            first = -(-8 * shift // 6)  # the first character with no bit of the prefix
            end = 8 * (shift + len(raw)) // 6  # past the last character with no bit after it
            cores.add(text[first:end])
    return {core for core in cores if len(core) >= FRAGMENT}


def _build(secrets: Iterable[str]) -> _Forms:
    plain = set(secrets)
    encoded = set().union(*(_base64_cores(s) for s in plain)) - plain
    whole = tuple(sorted(plain | encoded, key=len, reverse=True))
    pieces: set[str] = set()
    base64_pieces: set[str] = set(encoded)
    for form in whole:
        here = {form[i:i + FRAGMENT] for i in range(len(form) - FRAGMENT + 1)}
        pieces |= here
        if form in encoded:
            base64_pieces |= here
    starts: dict[str, list[tuple[str, int]]] = {}
    for form in whole:
        for end in range(CUT_TAIL, len(form) + 1):
            starts.setdefault(form[end - CUT_TAIL:end], []).append((form, end))
    return _Forms(
        whole=whole,
        base64=frozenset(base64_pieces),
        pieces=frozenset(pieces),
        grams=frozenset(p[i:i + 4] for p in pieces for i in range(FRAGMENT - 3)),
        starts={gram: tuple(sorted(found, key=lambda start: -start[1]))
                for gram, found in starts.items()},
    )


def register_secret(secret: str | None) -> None:
    """Remember a secret so that ``redact`` masks it wherever it appears."""
    global _forms
    if not secret or len(secret) < 4:
        return
    with _lock:
        if secret not in _secrets:
            _secrets.add(secret)
            _forms = _build(_secrets)


# -- finding secrets ----------------------------------------------------------------------------

Span = tuple[int, int]


def _widen(text: str, start: int, end: int) -> Span:
    """The base64 run around [start, end), padding included."""
    while start > 0 and text[start - 1] in _B64_CHARS:
        start -= 1
    while end < len(text) and (text[end] in _B64_CHARS or text[end] == "="):
        end += 1
    return start, end


def _found(text: str, forms: _Forms) -> list[Span]:
    """Spans of ``text`` that are a whole form or a FRAGMENT-long piece of one."""
    spans = []
    for form in forms.whole:
        at = text.find(form)
        while at >= 0:
            span = (at, at + len(form))
            spans.append(_widen(text, *span) if form in forms.base64 else span)
            at = text.find(form, at + 1)
    if not forms.pieces:
        return spans
    # A FRAGMENT-long piece holds a 4-gram starting at a multiple of 4, so only those positions
    # are looked up; the pieces around a hit are checked in full.
    for gram_at in range(0, len(text) - 3, 4):
        if text[gram_at:gram_at + 4] not in forms.grams:
            continue
        for at in range(max(0, gram_at - 3), gram_at + 1):
            piece = text[at:at + FRAGMENT]
            if piece in forms.pieces:
                span = (at, at + FRAGMENT)
                spans.append(_widen(text, *span) if piece in forms.base64 else span)
    return spans


def _cut_tails(text: str, forms: _Forms) -> list[Span]:
    """Starts of a form left just before a cut: the end of ``text`` or an ellipsis."""
    spans = []
    for cut in [m.start() for m in _CUTS.finditer(text)] + [len(text)]:
        for form, length in forms.starts.get(text[max(0, cut - CUT_TAIL):cut], ()):
            if text.endswith(form[:length], 0, cut):
                spans.append((cut - length, cut))
                break
    return spans


def _decoded(text: str, pattern: re.Pattern[str], char: Callable[[re.Match[str]], str]
             ) -> tuple[str, list[int]] | None:
    """``text`` with each ``pattern`` match replaced by ``char(match)``, and for each character
    of the result (plus its end) the index in ``text`` where it starts; None if nothing
    matched."""
    pieces: list[str] = []
    origin: list[int] = []
    done = 0
    for match in pattern.finditer(text):
        pieces.append(text[done:match.start()])
        origin.extend(range(done, match.start()))
        pieces.append(char(match))
        origin.append(match.start())
        done = match.end()
    if not done:
        return None
    pieces.append(text[done:])
    origin.extend(range(done, len(text) + 1))
    return "".join(pieces), origin


def _unpercent(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


def _unescape_json(match: re.Match[str]) -> str:
    if match.group(1):
        return chr(int(match.group(1), 16))
    return _JSON_SIMPLE.get(match.group(2), match.group(2))


def _views(text: str) -> list[tuple[str, list[int] | None]]:
    """``text`` itself and as read through JSON escapes and percent-encoding, twice over (a JSON
    string inside a JSON string, a percent-encoded value in JSON), each with the map back to
    ``text``'s indices."""
    views: list[tuple[str, list[int] | None]] = [(text, None)]
    last = views
    for _depth in range(2):
        decoded_views: list[tuple[str, list[int] | None]] = []
        for view, origin in last:
            for pattern, char in ((_JSON_ESCAPE, _unescape_json), (_PERCENT, _unpercent)):
                decoded = _decoded(view, pattern, char)
                if decoded is not None:
                    inner, inner_origin = decoded
                    decoded_views.append((inner, inner_origin if origin is None
                                          else [origin[i] for i in inner_origin]))
        views += decoded_views
        last = decoded_views
    return views


def _masked(text: str, spans: list[Span]) -> str:
    """``text`` with each run of overlapping or touching spans replaced by one MASK."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out = []
    done = 0
    for start, end in merged:
        out += [text[done:start], MASK]
        done = end
    out.append(text[done:])
    return "".join(out)


def redact(text: object) -> str:
    """``text`` as a string with every registered secret and credential-like value masked."""
    out = str(text)
    forms = _forms
    if forms.whole:
        spans = _cut_tails(out, forms)
        for view, origin in _views(out):
            found = _found(view, forms)
            spans += found if origin is None else [(origin[a], origin[b]) for a, b in found]
        out = _masked(out, spans)
    for pattern in _PATTERNS:
        out = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, out)
    return out


def excerpt(text: object, limit: int) -> str:
    """At most ``limit`` characters of ``text`` (and an ellipsis), redacted before it is cut so
    that no secret is made unrecognisable by the cut."""
    whole = str(text)
    out = redact(whole[:EXCERPT_WINDOW])
    if len(out) <= limit and len(whole) <= EXCERPT_WINDOW:
        return out
    return redact(out[:limit] + "…")


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
