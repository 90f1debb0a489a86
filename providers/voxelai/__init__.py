"""Voxel-AI (voxelai.studio): a prompt → three candidate pictures (free, one request per 15 s
per user), and a picture → a MagicaVoxel ``.vox`` (1 token, refunded by the service if it fails).

The bearer is most likely a short-lived session token, so a 401 asks for a fresh one.
``operations`` declares what Conjure offers, ``errors`` maps refusals, ``client`` talks to it.
"""

from .client import VoxelAiClient, make
from .operations import OPERATIONS, UNIT, UNSUPPORTED

__all__ = ["OPERATIONS", "UNIT", "UNSUPPORTED", "VoxelAiClient", "make"]
