"""The redactor: a registered key is masked whole, in pieces, encoded, and across cuts."""

from __future__ import annotations

import json
import secrets

import pytest

from conjure.providers.redaction import FRAGMENT, MASK, excerpt, redact, register_secret
from support.keyleaks import across_cuts, echoes, fragments


@pytest.fixture
def key():
    key = "pk" + secrets.token_urlsafe(30)
    register_secret(key)
    return key


@pytest.mark.parametrize("echo", ["plain", "percent", "basic", "base64", "json", "headers"])
def test_every_echo_of_a_key_is_masked(key, echo):
    text = f"the service said: {echoes(key)[echo]} (request 42)"
    out = redact(text)
    assert not fragments(out, key)
    assert out.startswith("the service said: ") and out.endswith(" (request 42)")


def test_a_key_inside_base64_of_a_longer_json_body_is_masked(key):
    for prefix in ("", "a", "ab", '{"user": "me", "key": "'):
        assert not fragments(redact(echoes(prefix + key)["base64"]), key)


def test_a_piece_of_a_key_is_masked_and_ordinary_text_is_not(key):
    piece = key[7:7 + FRAGMENT + 3]
    assert redact(f"left {piece} right") == f"left {MASK} right"
    ordinary = "HTTP 500: Internal Server Error... try again (dXNlcjpvdGhlcg== is not a key)"
    assert redact(ordinary) == ordinary


def test_the_start_of_a_key_left_at_a_cut_is_masked(key):
    for cut in (FRAGMENT - 1, 5):
        assert not redact(f"echoed: {key[:cut]}").endswith(key[:4])
        assert key[:4] not in redact(f"echoed: {key[:cut]}… more")


@pytest.mark.parametrize("limit", [200, 300])
def test_excerpt_redacts_before_it_cuts(key, limit):
    for echo in echoes(key).values():
        out = excerpt(across_cuts(echo), limit)
        assert not fragments(out, key)
        assert len(out) <= limit + len("…")


def test_excerpt_keeps_short_text_whole(key):
    assert excerpt(f"short {key}", 300) == f"short {MASK}"
    assert excerpt(json.dumps({"ok": True}), 300) == '{"ok": true}'
