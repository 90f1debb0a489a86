"""Picture parameters as a service receives them: an https link as it is, a local file or a
data URL checked (``imagefiles.load``) and sent inline as a data URL.

The checks run twice: in an operation's rules (main thread, before the job is written, so the
user hears at once that a picture is too large) and again when the request is built (the file
may have changed while the job waited). Building raises ``InvalidRequestError`` without an HTTP
status, which the engine reads as "refused before anything was sent".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import imagefiles
from .errors import InvalidRequestError
from .params import Rule


def is_https(value: str) -> bool:
    return value[:8].lower() == "https://"


def image_payload(value: str, *, max_bytes: int | None, allow_links: bool, service: str,
                  field: str) -> str:
    """``value`` ready to send: an https URL as it is (when ``allow_links``), anything else
    read, checked and returned as a data URL. Raises ``InvalidRequestError``."""
    image = _checked(value, max_bytes=max_bytes, allow_links=allow_links, service=service,
                     field=field)
    return value if image is None else image.data_url()


def _checked(value: str, *, max_bytes: int | None, allow_links: bool, service: str,
             field: str) -> imagefiles.LocalImage | None:
    """The picture ``value`` names, checked; None for an accepted link."""
    if imagefiles.is_url(value):
        if not allow_links:
            raise InvalidRequestError(
                f"{field}: {service} needs the picture itself, not a link; save it and give "
                "the file", field=field, service=service)
        if not is_https(value):
            raise InvalidRequestError(f"{field}: links must use https://", field=field,
                                      service=service)
        return None
    return imagefiles.load(value, field=field, service=service, max_bytes=max_bytes)


def image_rule(name: str, *, max_bytes: int | None, allow_links: bool = True,
               service: str = "") -> Rule:
    """A rule checking the picture parameter ``name`` (one value or a list) the way
    ``image_payload`` will when the request is built."""
    def check(values: Mapping[str, Any]) -> str | None:
        value = values.get(name)
        items = value if isinstance(value, list) else [value] if value else []
        for i, item in enumerate(items):
            where = f"{name}[{i}]" if isinstance(value, list) else name
            try:
                _checked(item, max_bytes=max_bytes, allow_links=allow_links, service=service,
                         field=where)
            except InvalidRequestError as exc:
                return exc.message
        return None
    return Rule(name, check)
