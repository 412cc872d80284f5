"""The stages alone, on the same SDK-shaped events: decoding (JSON, and schemaless Avro next to
it), mapping (``bench_mapping``'s ``Router.route`` + ``orjson.dumps``), and Segment's own engine
when ``bench/segment_engine`` and npm are there.

CPU time of this process, the median of a few runs; nothing here touches Kafka or HTTP.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

_BENCH = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_BENCH))

from bench_mapping import route_and_serialise  # noqa: E402  (bench/ is no package)

from streamer.routing import compile_router  # noqa: E402
from streamer.source import AvroReader, decode_json, load_schema  # noqa: E402
from streamer.testing import SEGMENT_EVENT_SCHEMA, schemaless_avro, segment_avro_datum  # noqa: E402

__all__ = ["decoding", "mapping", "segment_engine"]


def _cpu_us(work: Callable[[], object], count: int, runs: int = 5) -> float:
    """Median CPU microseconds per item of ``work`` over ``count`` items."""
    timings = []
    work()  # a first run warms the allocator's arenas: the first stage measured paid for them
    for _ in range(runs):
        gc.collect()
        started = time.process_time()
        work()
        timings.append(time.process_time() - started)
    return statistics.median(timings) / count * 1e6


def mapping(values: list[bytes]) -> dict[str, float]:
    """The presets' route + serialisation per event (decoding excluded), as bench_mapping."""
    # A few hundred distinct events routed over and over, as bench_mapping does: a decoded
    # event's objects are in the CPU caches when the pipeline routes it.
    distinct = [orjson.loads(v) for v in values[:256]]
    events = (distinct * (10_000 // len(distinct) + 1))[:10_000]
    route = compile_router(None).route
    return {"route_and_serialise_cpu_us": _cpu_us(lambda: route_and_serialise(route, events),
                                                  len(events))}


def decoding(values: list[bytes]) -> dict[str, float]:
    """JSON (``decode_json``, the pipeline's) next to schemaless Avro of the same events."""
    sample = values[:5_000]
    figures = {
        "json_bytes_per_event": sum(map(len, sample)) / len(sample),
        "orjson_loads_cpu_us": _cpu_us(lambda: [orjson.loads(v) for v in sample], len(sample)),
        "json_cpu_us": _cpu_us(lambda: [decode_json(v) for v in sample], len(sample)),
    }
    schema = json.loads(SEGMENT_EVENT_SCHEMA.read_text())
    avro = [schemaless_avro(segment_avro_datum(orjson.loads(v), schema), schema) for v in sample]
    reader = AvroReader(load_schema(SEGMENT_EVENT_SCHEMA))
    figures["avro_bytes_per_event"] = sum(map(len, avro)) / len(avro)
    figures["avro_schemaless_cpu_us"] = _cpu_us(lambda: [reader(v) for v in avro], len(avro))
    return figures


def segment_engine(values: list[bytes], workdir: Path, passes: int = 3) -> dict[str, Any] | None:
    """Segment's engine on the same events (``bench/segment_engine/run.py``'s ``measure``,
    ``passes`` passes after its warm-up); None when that module is not there or npm is missing
    (it says so itself). The events are written to ``workdir`` once."""
    path = _BENCH / "segment_engine" / "run.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("bench_segment_engine_run", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    events_path = workdir / f"segment-engine-events-{len(values)}.ndjson"
    if not events_path.exists():
        with events_path.open("wb") as file:
            for value in values:
                file.write(value + b"\n")
    result: dict[str, Any] | None = module.measure(events_path, batch_size=500, passes=passes)
    return result
