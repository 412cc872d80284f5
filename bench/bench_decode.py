"""Decoding throughput: JSON next to Avro (schemaless and the Confluent wire format), same events.

The events are the sample Segment events the tests use (identify and track, ~1 KB of JSON each
with their context). Avro values are written with ``schemas/segment-event.avsc``: schemaless
(``kafka.avro_schema``) and through a real schema registry (Apicurio, started here, cached like
the tests' one) with confluent-kafka's framing, measured through the gate and the decoder as the
pipeline calls them. Each value is decoded into the event the mapping gets; the three results are
checked equal. Prints each format's median events per CPU-second and CPU µs per event;
``--json PATH`` writes them.

    python bench/bench_decode.py [--events 20000] [--runs 5] [--no-registry] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from streamer.source import AvroReader, decode_json, load_schema
from streamer.source._registry import RegistryDecoding
from streamer.testing import (
    SEGMENT_EVENT_SCHEMA,
    FakeMessage,
    SchemaRegistry,
    sample_events,
    schemaless_avro,
    segment_avro_datum,
)


def _timed(decode: Callable[[list[bytes]], list[Any]], values: list[bytes],
           runs: int) -> tuple[float, list[Any]]:
    rates, result = [], []
    for _ in range(runs):
        gc.collect()
        # CPU time of this process: the neighbours' load on a shared machine inflates wall time.
        started = time.process_time()
        result = decode(values)
        rates.append(len(values) / (time.process_time() - started))
    return statistics.median(rates), result


def _registry_values(url: str, text: str, events: list[dict[str, Any]],
                     schema: dict[str, Any]) -> tuple[RegistryDecoding, list[bytes]]:
    with SchemaRegistryClient({"url": url}) as client:
        schema_id = client.register_schema("bench-segment-value", Schema(text, "AVRO"))
    header = b"\x00" + schema_id.to_bytes(4, "big")
    values = [header + schemaless_avro(segment_avro_datum(e, schema), schema) for e in events]
    gate = RegistryDecoding(SchemaRegistryClient({"url": url}))

    async def warm() -> None:  # the one fetch, as the pipeline's first poll would start it
        gate.admit([FakeMessage("bench", 0, 0, values[0])])
        while gate.held:
            await asyncio.sleep(0.01)
            gate.admit([])

    asyncio.run(warm())
    return gate, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-registry", action="store_true",
                        help="skip the wire format (no schema registry started)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    events = list(sample_events(args.events, seed=5, page_share=0.0))
    text = SEGMENT_EVENT_SCHEMA.read_text()
    schema = json.loads(text)
    json_values = [orjson.dumps(e) for e in events]
    avro_values = [schemaless_avro(segment_avro_datum(e, schema), schema) for e in events]
    reader = AvroReader(load_schema(SEGMENT_EVENT_SCHEMA))
    figures: dict[str, Any] = {
        "events": len(events),
        "json_bytes_per_event": sum(map(len, json_values)) / len(events),
        "avro_bytes_per_event": sum(map(len, avro_values)) / len(events),
    }
    print(f"{len(events):,} events: {figures['json_bytes_per_event']:,.0f} bytes of JSON, "
          f"{figures['avro_bytes_per_event']:,.0f} bytes of Avro each")

    rate, from_json = _timed(lambda vs: [decode_json(v) for v in vs], json_values, args.runs)
    figures["json_events_per_s"] = rate
    rate, from_avro = _timed(lambda vs: [reader(v) for v in vs], avro_values, args.runs)
    figures["avro_schemaless_events_per_s"] = rate
    assert from_avro == from_json, "schemaless Avro does not give the JSON events"

    if not args.no_registry:
        with SchemaRegistry() as registry:
            gate, wire_values = _registry_values(registry.url, text, events, schema)
            messages = [FakeMessage("bench", 0, i, v) for i, v in enumerate(wire_values)]

            def through_gate(_: list[bytes]) -> list[Any]:
                return [gate.decode(m.value()) for m in gate.admit(messages)]

            try:
                rate, from_wire = _timed(through_gate, wire_values, args.runs)
            finally:
                gate.close()
        figures["avro_wire_events_per_s"] = rate
        assert from_wire == from_json, "wire-format Avro does not give the JSON events"

    for name in ("json", "avro_schemaless", "avro_wire"):
        rate = figures.get(f"{name}_events_per_s")
        if rate is not None:
            print(f"{name:>16}: {rate:>9,.0f} events/s  {1e6 / rate:6.2f} CPU us/event "
                  f"({rate / figures['json_events_per_s']:.0%} of JSON)")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
