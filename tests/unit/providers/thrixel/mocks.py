"""The Thrixel client under test against ``responses`` mocks: its URLs and key."""

from __future__ import annotations

import json

import responses

from conjure.providers.http import NetworkSettings
from conjure.providers.registry import ClientConfig
from conjure.providers.thrixel.client import ThrixelClient

BASE = "https://api.thrixel.com"
API = BASE + "/api/v1"
KEY = "sk-thrixel-UNITKEY"
SID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"


def service(**kwargs):
    settings = NetworkSettings(max_retries=2, backoff_base=0.0, backoff_cap=0.0)
    return ThrixelClient(ClientConfig(BASE, KEY, settings), **kwargs)


def queued(sid=SID):
    return {"submission_id": sid, "status": "queued", "created_at": "2026-04-20T14:32:11Z"}


def sent_json(call=0):
    return json.loads(responses.calls[call].request.body)
