"""Pixazo's Pixal3D (gateway.pixazo.ai): one picture to a textured GLB.

The key goes in ``Ocp-Apim-Subscription-Key`` (not Bearer). ``image_url`` must be publicly
reachable and Pixazo has no upload route. A local picture is sent inline as a ``data:`` URI only
when the user turns on ``send_local_image``: Pixal3D runs on fal.ai, which usually accepts data
URIs, but Pixazo does not document it, so a refusal is explained rather than retried.
``operations`` declares what Conjure offers, ``errors`` maps refusals, ``client`` talks to it.
"""

from .client import Pixal3dClient, make, parse_time
from .operations import OPERATIONS, UNIT, UNSUPPORTED

__all__ = ["OPERATIONS", "UNIT", "UNSUPPORTED", "Pixal3dClient", "make", "parse_time"]
