"""How fast one core turns Segment events into serialised Ortto items, with the presets.

Run: ``python bench/bench_mapping.py [--events N] [--runs R] [--mix MIX]``.

It builds realistic events (``--shape sdk``, the default: about 1 KB each, as Segment's
libraries send them, ``streamer.testing.sdk_events``; ``--shape rich``: identify and track
events written below, a context with ip, app, library, userAgent, page, device, ...) in one or
both of the mixes of ``streamer.testing.SDK_MIXES`` (``--mix``, default both, one after the
other): ``identify_track``, half of each, every event matching a preset; ``filter``, 95%
page/screen events that no preset matches (every trigger is evaluated, none matches) and 5%
track. Per mix it times, per run, the stages of the hot path on every event:

1. trigger matching (every preset trigger on every event),
2. mapping (the matching preset's mapping, to a dict),
3. processing (validation, cleaning, the action's rules),
4. serialisation of the item to JSON bytes with orjson,

and the whole ``Router.route`` + ``orjson.dumps`` path as the pipeline runs it (decoding is not
counted). It prints each stage's cost and the events/s of the median and of the best run (on a
shared machine, interference only ever adds time). Target: >= 150,000 events/s.

``--instructions`` also counts the CPU instructions per event of that path, and of
``Router.route`` alone, with valgrind's callgrind: figures that do not depend on what else the
machine is doing, for comparing two versions of the code (a minute or two per mix).
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamer.actions import _scan, compile_processor, get_action, presets
from streamer.mapping import compile_mapping, compile_trigger
from streamer.routing import Accepted, compile_router

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamer.testing import SDK_MIXES, sdk_events

TARGET = 150_000

_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken"]
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]
_CITIES = [("Sydney", "NSW", "AU", "2000"), ("Paris", None, "FR", "75001"),
           ("Austin", "TX", "US", "73301"), ("Berlin", None, "DE", "10115")]
_EVENTS = ["Order Completed", "Product Viewed", "Signed Up", "Checkout Started", "Cart Viewed"]
_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
       "Version/17.2 Safari/605.1.15")


def _context(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "ip": f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
              f"{rng.randint(1, 254)}",
        "app": {"name": "Shop", "version": "4.2.1", "build": "4021",
                "namespace": "com.example.shop"},
        "library": {"name": "analytics.js", "version": "5.2.0"},
        "userAgent": _UA,
        "locale": "en-US",
        "timezone": "Australia/Sydney",
        "page": {"path": "/checkout", "referrer": "https://www.example.com/cart",
                 "title": "Checkout", "url": f"https://www.example.com/checkout?session={n}"},
        "device": {"type": "desktop", "manufacturer": "Apple", "model": "MacBookPro18,3"},
        "os": {"name": "macOS", "version": "14.2"},
        "campaign": {"name": "winter", "source": "newsletter", "medium": "email"},
    }


def _identify(rng: random.Random, n: int) -> dict[str, Any]:
    city, state, country, post = rng.choice(_CITIES)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    address: dict[str, Any] = {"city": city, "country": country, "postal_code": post,
                               "street": f"{n} Main St"}
    if state:
        address["state"] = state
    return {
        "type": "identify",
        "messageId": f"ajs-next-{n:012d}-{rng.getrandbits(64):016x}",
        "timestamp": f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
                     f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
                     f"{rng.randint(0, 999):03d}Z",
        "userId": f"user-{rng.randint(1, 10**6)}",
        "anonymousId": f"anon-{rng.getrandbits(48):012x}",
        "traits": {
            "email": f"{first}.{last}{n}@example.com".lower(),
            "first_name": first, "last_name": last,
            "phone": f"+61 4{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
            "plan": rng.choice(["free", "pro", "enterprise"]),
            "logins": rng.randint(0, 500),
            "created_at": "2024-03-01T09:30:00Z",
            "address": address,
            "company": {"name": "Example Pty Ltd", "employees": 42},
            "newsletter": rng.random() < 0.5,
        },
        "context": _context(rng, n),
        "integrations": {"All": True},
        "sentAt": "2026-11-28T10:07:01.000Z",
        "receivedAt": "2026-11-28T10:07:01.200Z",
        "version": 2,
    }


def _track(rng: random.Random, n: int) -> dict[str, Any]:
    event = _identify(rng, n)
    traits = event.pop("traits")
    event["type"] = "track"
    event["event"] = rng.choice(_EVENTS)
    event["context"]["traits"] = {"email": traits["email"], "address": traits["address"]}
    event["properties"] = {
        "order_id": f"ord-{n}", "total": round(rng.uniform(5, 500), 2), "revenue": 27.5,
        "currency": "AUD", "coupon": rng.choice([None, "WINTER10"]), "discount": 2.5,
        "products": [
            {"product_id": f"p-{rng.randint(1, 999)}", "sku": "SKU-1", "name": "Mug",
             "price": 12.5, "quantity": rng.randint(1, 3), "category": "Kitchen"},
            {"product_id": f"p-{rng.randint(1, 999)}", "sku": "SKU-2", "name": "Tea",
             "price": 7.25, "quantity": 1, "category": "Food"},
        ],
        "checkout_id": f"chk-{n}", "step": 2, "shipping_method": "express",
    }
    return event


def build_events(
    count: int, seed: int = 7, shape: str = "sdk", mix: str = "identify_track"
) -> list[dict[str, Any]]:
    if shape == "sdk":
        return [e for _key, e in sdk_events(count, seed=seed, mix=mix)]
    rng = random.Random(seed)
    if mix == "identify_track":
        return [(_identify if n % 2 == 0 else _track)(rng, n) for n in range(count)]
    # The filter mix in the rich shape: identify events turned into page events (no preset
    # matches them), one in twenty a track event.
    events = []
    for n in range(count):
        if n % 20 == 0:
            events.append(_track(rng, n))
            continue
        event = _identify(rng, n)
        event["type"] = "page" if n % 2 else "screen"
        event["name"] = "Checkout"
        event["properties"] = event.pop("traits")
        events.append(event)
    return events


def _cpu_time(run: Callable[[], None]) -> float:
    # CPU time of this process: on a shared machine, time spent waiting for a core is not ours.
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        run()
        return time.process_time() - start
    finally:
        gc.enable()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events routed per run")
    parser.add_argument("--distinct", type=int, default=256, help="distinct events among them")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions per event with valgrind (callgrind)")
    parser.add_argument("--shape", choices=("sdk", "rich"), default="sdk")
    parser.add_argument("--mix", choices=(*SDK_MIXES, "both"), default="both",
                        help="the mix of event types (default: both mixes, one after the other)")
    parser.add_argument("--loop-once", type=int, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument("--route-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loop_once is not None:
        return _loop_once(args.loop_once, args.distinct, args.shape, args.mix, args.route_only)
    mixes = list(SDK_MIXES) if args.mix == "both" else [args.mix]
    for n, mix in enumerate(mixes):
        if n:
            print()
        _measure(args, mix)
    return 0


def _measure(args: argparse.Namespace, mix: str) -> None:
    # A few hundred distinct events, routed over and over: their objects stay in the CPU
    # caches, as a just-decoded event's do in the pipeline. (Routing tens of thousands of
    # long-decoded events would mostly measure cache misses.)
    built = build_events(args.distinct, shape=args.shape, mix=mix)
    distinct = [(orjson.dumps(e), e) for e in built]
    kinds = {kind: sum(e.get("type") == kind for e in built) / len(built)
             for kind in dict.fromkeys(e.get("type") for e in built)}
    batch = (distinct * (args.events // len(distinct) + 1))[:args.events]
    size = sum(len(raw) for raw, _ in distinct) / len(distinct)

    compiled = []
    for preset in presets():
        action = get_action(preset.action)
        assert action is not None
        compiled.append((compile_trigger(preset.trigger), compile_mapping(dict(preset.mapping)),
                         compile_processor(action, mapping=preset.mapping)))
    router = compile_router(None)
    dumps = orjson.dumps

    # Each pipeline goes one stage further than the previous; the differences are the stages.
    def match() -> None:
        for _, event in batch:
            for trigger, _, _ in compiled:
                trigger(event)

    def mapping() -> None:
        for _, event in batch:
            for trigger, to_item, _ in compiled:
                if trigger(event):
                    to_item(event)

    def processing() -> None:
        for _, event in batch:
            for trigger, to_item, process in compiled:
                if trigger(event):
                    process(to_item(event))

    def serialise() -> None:
        for _, event in batch:
            for trigger, to_item, process in compiled:
                if trigger(event):
                    result = process(to_item(event))
                    if type(result) is dict:
                        dumps(result)

    events = [event for _, event in batch]

    def pipeline() -> None:
        route_and_serialise(router.route, events)

    steps = {"trigger matching": match, "mapping": mapping,
             "processing (validate, clean, rules)": processing,
             "serialisation (orjson.dumps)": serialise, "pipeline": pipeline}
    timings: dict[str, list[float]] = {name: [] for name in steps}
    # The machine's own speed, just before and just after each pipeline run.
    calibration: list[float] = []
    for _ in range(args.runs):
        for name, step in steps.items():
            if name == "pipeline":
                before = _cpu_time(_calibration_loop)
            timings[name].append(_cpu_time(step))
        calibration.append((before + _cpu_time(_calibration_loop)) / 2)

    count = len(batch)
    best = {name: min(t) for name, t in timings.items()}
    shares = ", ".join(f"{share:.0%} {kind}" for kind, share in kinds.items())
    print(f"mix {mix}: {count} events per run ({len(distinct)} distinct: {shares}; "
          f"{size:.0f} bytes of JSON each on average), {args.runs} runs, CPU time of one core")
    print(f"per-item scans: {'compiled (mypyc)' if _scan.COMPILED else 'plain Python'}")
    print("stages (best run of each cumulative pipeline, differences):")
    previous = 0.0
    stages = list(steps)[:-1]
    for name in stages:
        stage = best[name] - previous
        previous = best[name]
        print(f"  {name:38s} {stage / count * 1e6:6.2f} us/event  {stage / best[stages[-1]]:6.1%}")
    # On a shared machine a neighbour can halve the speed of our core for seconds at a time;
    # CPU time does not see it. Each run is also scaled by how much slower the calibration loop
    # ran around it than in its fastest run: a ratio measured in one run.
    fastest = min(calibration)
    normalised = [t * fastest / c for t, c in zip(timings["pipeline"], calibration, strict=True)]
    print(f"machine: the calibration loop ran {statistics.median(calibration) / fastest:.2f}x "
          f"its fastest time in the median run (1.00 = a quiet core)")
    for label, seconds in (("median", statistics.median(timings["pipeline"])),
                           ("best", best["pipeline"]),
                           ("median, scaled to a quiet core", statistics.median(normalised))):
        rate = count / seconds
        print(f"Router.route + orjson.dumps, {label} run: {seconds / count * 1e6:.2f} us/event, "
              f"{rate:,.0f} events/s (target {TARGET:,}: {'met' if rate >= TARGET else 'NOT met'})")
    if args.instructions:
        _print_instructions(args.distinct, args.shape, mix)


def _calibration_loop() -> None:
    # A fixed piece of interpreted work (dict and str operations, as on the hot path) whose
    # duration only depends on the machine's speed at that moment: about 60 ms on a quiet core.
    table: dict[str, int] = {}
    for n in range(150_000):
        key = "k" + str(n & 1023)
        table[key] = table.get(key, 0) + n


def _loop_once(count: int, distinct: int, shape: str, mix: str, route_only: bool) -> int:
    # What --instructions measures under callgrind: set-up, then `count` events through the path.
    events = build_events(distinct, shape=shape, mix=mix)
    batch = (events * (count // len(events) + 1))[:count]
    route = compile_router(None).route
    if route_only:
        for event in batch:
            route(event)
    else:
        route_and_serialise(route, batch)
    return 0


def route_and_serialise(route: Callable[[Any], list[Any]], events: list[dict[str, Any]]) -> None:
    """What the dispatcher runs: ``Router.route``, then ``orjson.dumps`` of each accepted item."""
    dumps = orjson.dumps
    for event in events:
        for outcome in route(event):
            if type(outcome) is Accepted:
                dumps(outcome.item)


def _print_instructions(distinct: int, shape: str, mix: str) -> None:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("instructions per event: valgrind is not installed")
        return
    for label, extra in (("Router.route + orjson.dumps", []), ("Router.route", ["--route-only"])):
        counts = []
        # Two lengths: the difference leaves out the start-up (imports, compilation).
        for count in (2_000, 12_000):
            done = subprocess.run(
                [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                 __file__, "--loop-once", str(count), "--distinct", str(distinct),
                 "--shape", shape, "--mix", mix, *extra],
                capture_output=True, text=True, check=True,
            )
            found = re.search(r"Collected : (\d+)", done.stderr)
            if found is None:
                print(f"instructions per event: no count in callgrind's output\n{done.stderr}")
                return
            counts.append(int(found.group(1)))
        print(f"{label}: {(counts[1] - counts[0]) / 10_000:,.0f} instructions per event "
              f"(callgrind, mix {mix})")


if __name__ == "__main__":
    sys.exit(main())
