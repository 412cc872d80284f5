from __future__ import annotations

import pytest

from streamer import DecodeError
from streamer.source import decode_json


def test_object_decodes() -> None:
    assert decode_json(b'{"type":"track","event":"A"}') == {"type": "track", "event": "A"}


@pytest.mark.parametrize(("value", "reason"), [
    (None, "empty"),
    (b"{not json", "invalid_json"),
    (b"\xff\xfe{}", "invalid_utf8"),
    (b"[" * 10_000 + b"]" * 10_000, "too_deep"),
    (b'"a string"', "not_object"),
    (b"[1,2]", "not_object"),
    (b"null", "not_object"),
])
def test_bad_values_are_decode_errors_with_a_reason(value: bytes | None, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_json(value)
    assert caught.value.reason == reason
    assert str(caught.value)
