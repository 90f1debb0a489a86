"""Thrixel (api.thrixel.com): create, refine, edit, detail and upload models; convert them.

Every generation is a *submission* with an id; follow-ups (refine, edit, detail, convert) name
their parent submission. ``operations`` declares what Conjure offers, ``client`` talks to the
service, ``errors`` maps its failures, ``hierarchy`` reads a model's parts, ``upload`` streams a
GLB up and ``stream`` reads the progress feed.
"""

from .client import ThrixelClient, make
from .hierarchy import Bounds, Hierarchy, Part, parse_hierarchy
from .operations import OPERATIONS, UNIT, UNSUPPORTED

__all__ = ["OPERATIONS", "UNIT", "UNSUPPORTED", "Bounds", "Hierarchy", "Part", "ThrixelClient",
           "make", "parse_hierarchy"]
