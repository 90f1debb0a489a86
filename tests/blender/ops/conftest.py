"""Operator tests: the sandbox runs at fast speed, so the engine polls at a tenth of its real
cadence here (a real user's job polls every 2 s; waiting that long per test would make the tier
slow without testing anything more)."""

import dataclasses
import importlib

import pytest


@pytest.fixture(autouse=True)
def quick_polling(conjure):
    engine = importlib.import_module(f"{conjure.__name__}.engine")
    runner = engine.get().runner
    runner.policy = dataclasses.replace(runner.policy, scale=0.1)
    yield
