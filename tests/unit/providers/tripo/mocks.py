"""The Tripo3D client under test against ``responses`` mocks: its URLs and key."""

import json

from conjure.providers.http import NetworkSettings
from conjure.providers.registry import ClientConfig
from conjure.providers.tripo.client import TripoClient

KEY = "tsk_unit_SECRET_123"
V2 = "https://api.tripo3d.ai/v2/openapi"
V3 = "https://openapi.tripo3d.ai/v3"
TASK_ID = "1ec04ced-4b87-44f6-a296-beee80777941"
CDN = "https://cdn.tripo.example/t/model.glb"


def service(api="v3", **network):
    settings = NetworkSettings(max_retries=2, backoff_base=0.0, backoff_cap=0.0, **network)
    return TripoClient(ClientConfig("https://api.tripo3d.ai", key=KEY, network=settings),
                               api)


def ok(data):
    return {"code": 0, "data": data}


def sent_json(call):
    return json.loads(call.request.body)
