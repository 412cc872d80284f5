"""Poison input: each bad value is dead-lettered with its reason; the rest flows; memory is low."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from streamer.testing import KafkaCluster, poison_values

from ._harness import scenario

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(300)]

BIG = 8 * 1024 * 1024

EXPECTED = {
    "invalid_json": ("decode", "invalid_json"),
    "invalid_utf8": ("decode", "invalid_utf8"),
    "too_deep": ("decode", "too_deep"),
    "not_object": ("decode", "not_object"),
    "identify_without_ids": ("validate", "validation"),
    "track_bad_ip": ("validate", "validation"),
    "five_megabytes": ("decode", "too_large"),
    "hundred_thousand_properties": ("decode", "too_large"),
    "wrong_types_track": ("validate", "validation"),
    "wrong_types_identify": ("validate", "validation"),
    "tombstone": ("decode", "empty"),
}

MEMORY_LIMIT = 400 * 1024 * 1024


def _poison() -> dict[str, bytes | None]:
    values: dict[str, bytes | None] = dict(poison_values())
    values["five_megabytes"] = orjson.dumps({
        "type": "track", "event": "Huge", "userId": "u-big", "messageId": "poison-big",
        "properties": {"blob": "x" * (5 * 1024 * 1024)},
    })
    values["hundred_thousand_properties"] = orjson.dumps({
        "type": "track", "event": "Wide", "userId": "u-wide", "messageId": "poison-wide",
        "properties": {f"p{i}": i for i in range(100_000)},
    })
    values["wrong_types_track"] = orjson.dumps({
        "type": "track", "event": "Bought", "userId": "u-1", "messageId": "poison-types-1",
        "properties": "not an object",
    })
    values["wrong_types_identify"] = orjson.dumps({
        "type": "identify", "userId": {"id": 1}, "messageId": "poison-types-2", "traits": "x",
    })
    values["tombstone"] = None
    return values


def test_poison_is_dead_lettered_and_the_stream_goes_on(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic_config = {"max.message.bytes": str(BIG), "segment.bytes": str(4 * BIG)}
    with scenario(kafka_broker, new_topic, tmp_path, partitions=2,
                  topic_config=topic_config) as run:
        first = run.produce_events(1_000, seed=5)
        poison = _poison()
        run.produce_values(poison, producer_config={"message.max.bytes": BIG})
        events = first + run.produce_events(1_000, seed=6)
        with run.process("streamer") as streamer:
            streamer.start()
            run.wait(run.all_committed, 120, alive=[streamer], what="every offset committed")
            peak = streamer.peak_rss_bytes()
            assert streamer.terminate() == 0

        records = run.dead_letters(min_count=len(poison))
        by_label: dict[str, tuple[str, str]] = {}
        for record in records:
            position = (int(record.header("streamer.source.partition") or b"-1"),
                        int(record.header("streamer.source.offset") or b"-1"))
            label = run.ids_at[position]
            by_label[label] = (
                (record.header("streamer.stage") or b"").decode(),
                (record.header("streamer.reason") or b"").decode(),
            )
            original = poison[label]
            truncated = record.header("streamer.value_truncated")
            if original is None:
                assert record.value is None
            elif truncated is not None:
                # Too big for the dead-letter topic: cut, and the original length said.
                assert int(truncated) == len(original) > 900_000
                assert record.value == original[:900_000]
            else:
                assert record.value == original, "the original bytes are kept"
        assert by_label == EXPECTED
        assert len(records) == len(poison)
        assert run.delivered_ids() == {e["messageId"] for e in events}
        assert run.violations == []
        assert peak < MEMORY_LIMIT, f"peak RSS {peak / 2**20:.0f} MiB"
        print(f"\npoison: {len(records)} dead letters, peak RSS {peak / 2**20:.0f} MiB")
