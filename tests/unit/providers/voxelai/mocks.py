"""The Voxel-AI client under test against ``responses`` mocks: its URLs and a fresh token
per client."""

from __future__ import annotations

import itertools
import json

import responses

from conjure.providers.http import NetworkSettings
from conjure.providers.registry import ClientConfig
from conjure.providers.voxelai.client import VoxelAiClient

BASE = "https://voxelai.studio"
GEN = BASE + "/api/generate"
_tokens = itertools.count()


def service(token=None, **kwargs):
    # A fresh token per client: the rate limit and balance are remembered per token.
    token = token or f"eyJ-test-token-{next(_tokens)}"
    settings = NetworkSettings(max_retries=2, backoff_base=0.0, backoff_cap=0.0)
    return VoxelAiClient(ClientConfig(BASE, token, settings), **kwargs)


def sent_json(call=0):
    return json.loads(responses.calls[call].request.body)
