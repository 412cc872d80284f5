from __future__ import annotations

from streamer.deadletter import Rejection, build_headers


def test_headers_keep_the_source_and_say_why() -> None:
    rejection = Rejection(
        "deliver", "rejected", "email is invalid", 400, action="upsertContactProfile",
        subscription="Upsert Contact", config_hash="abc123", message_id="m-1", attempts=2,
        first_failure=0.0, last_failure=1.5,
    )
    headers = build_headers(
        rejection, topic="events", partition=3, offset=42, timestamp_ms=1700000000000,
        source_headers=[("trace", b"t-1")],
    )
    as_dict = dict(headers)
    assert headers[0] == ("trace", b"t-1")
    assert as_dict["streamer.stage"] == b"deliver"
    assert as_dict["streamer.status"] == b"400"
    assert as_dict["streamer.message"] == b"email is invalid"
    assert as_dict["streamer.subscription"] == b"Upsert Contact"
    assert as_dict["streamer.source.partition"] == b"3"
    assert as_dict["streamer.source.offset"] == b"42"
    assert as_dict["streamer.attempts"] == b"2"
    assert as_dict["streamer.first_failure"] == b"1970-01-01T00:00:00.000+00:00"
    assert all(isinstance(v, bytes) for _, v in headers)
