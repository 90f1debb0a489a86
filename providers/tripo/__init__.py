"""Tripo3D: text, image and multi-view to 3D, images, texturing, conversion and rigging.

Two API families, chosen per client (``make``): v2 (``https://api.tripo3d.ai/v2/openapi``),
which the docs report shut down on 2026-10-31, and v3 (``https://openapi.tripo3d.ai/v3/...``),
the default. Both share the keys, the error codes and the operations; only routes, envelopes,
uploads and the task object differ, and that difference lives in the client. ``operations``
declares what Conjure offers, ``errors`` maps the service's codes, ``client`` talks to it.
"""

from .client import TripoClient, api_version, make
from .operations import OPERATIONS, UNIT, UNSUPPORTED

__all__ = ["OPERATIONS", "UNIT", "UNSUPPORTED", "TripoClient", "api_version", "make"]
