"""Local emulator of Conjure's four generation services, for tests, the demo and offline use.

Run it with ``python -m sandbox``; in tests, ``with start_sandbox() as sb: ...`` serves Thrixel
under ``sb.url + "/thrixel"``, Tripo3D under ``/tripo``, Pixazo under ``/pixazo``, Voxel-AI under
``/voxelai`` and result files under ``/cdn``. Not shipped in the extension.
"""

from .faults import FAULT_HEADER, FAULT_QUERY, FAULTS, FaultSpecError
from .server import Sandbox, start_sandbox
from .state import DEFAULT_BALANCES, DEFAULT_KEYS, SERVICES

__all__ = [
    "DEFAULT_BALANCES",
    "DEFAULT_KEYS",
    "FAULTS",
    "FAULT_HEADER",
    "FAULT_QUERY",
    "SERVICES",
    "FaultSpecError",
    "Sandbox",
    "start_sandbox",
]
