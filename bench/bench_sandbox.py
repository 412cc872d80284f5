"""How many items per second the Ortto sandbox takes: it must never be a benchmark's bottleneck.

Starts the sandbox in a child process (``streamer sandbox --port 0``, retaining only the
de-duplication keys, as a long pipeline benchmark would run it), then drives ``/v1/track`` with
several concurrent keep-alive connections, each sending requests of 500 realistic track items
(the shape Segment's Track Activity preset sends: ids, timestamp, ip, location, traits,
properties). Bodies are encoded before the clock starts, every item has a distinct
``message_id``, every answer is checked to be ``200 {"errors": []}``, and each run is checked
against the sandbox's own counters. Prints items/s and the sandbox's CPU per item for each run,
and the medians.

The default client writes prepared HTTP/1.1 requests on plain asyncio streams: it costs about
a microsecond per item, so the number measures the sandbox. ``--client httpx`` uses
``httpx.AsyncClient`` as the pipeline does, which costs the client about five microseconds per
item: on a machine with few cores the client then takes CPU the sandbox would have used. The
sandbox's CPU per item is the figure to compare across machines and clients.

    python bench/bench_sandbox.py [--runs 5] [--requests 200] [--concurrency 8]
        [--retain items] [--client httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from urllib.parse import urlsplit

import httpx
import orjson

from streamer.sandbox import SandboxProcess

API_KEY = "pau-bench"
ITEMS_PER_REQUEST = 500
EVENTS = ("Product Added", "Order Completed", "Page Viewed", "Signed Up", "Checkout Started")


def track_item(run: int, number: int) -> dict[str, object]:
    user = number % 5000
    return {
        "timestamp": f"2026-11-28T10:{number % 60:02d}:{number % 59:02d}.000Z",
        "message_id": f"bench-{run}-{number}",
        "user_id": f"user-{user}",
        "anonymous_id": f"anon-{user}",
        "enable_batching": True,
        "ip": f"10.{number % 250}.{user % 250}.7",
        "location": {"country": "AU", "state": "NSW", "city": "Sydney", "post_code": "2000"},
        "traits": {
            "email": f"user{user}@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "plan": "premium",
            "logins": number % 97,
        },
        "audience_update_mode": "add",
        "batch_size": ITEMS_PER_REQUEST,
        "event": EVENTS[number % len(EVENTS)],
        "namespace": "com.example.app",
        "properties": {
            "sku": f"SKU-{number % 1000}",
            "price": 19.99 + number % 10,
            "quantity": 1 + number % 3,
            "currency": "AUD",
            "tags": ["shoes", "sale"],
            "cart": {"id": f"cart-{user}", "items": 1 + number % 4},
        },
    }


def bodies(run: int, requests: int) -> list[bytes]:
    return [
        orjson.dumps([track_item(run, r * ITEMS_PER_REQUEST + i) for i in range(ITEMS_PER_REQUEST)])
        for r in range(requests)
    ]


async def drive_raw(url: str, payloads: list[bytes], concurrency: int) -> float:
    """Send every payload, ``concurrency`` at a time, on raw keep-alive connections."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    head = (
        f"POST {parts.path}/track HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {API_KEY}\r\nContent-Type: application/json\r\n"
    )
    # Whole requests prepared before the clock starts, as the bodies are.
    requests = [f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body for body in payloads]
    requests.reverse()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while requests:
                writer.write(requests.pop())
                answer = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in answer.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                if not answer.startswith(b"HTTP/1.1 200 ") or orjson.loads(body)["errors"]:
                    raise RuntimeError(f"unexpected answer {answer!r}: {body[:500]!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def drive(url: str, payloads: list[bytes], concurrency: int) -> float:
    """Send every payload, ``concurrency`` at a time, with httpx; the seconds it took."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for payload in payloads:
        queue.put_nowait(payload)
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            payload = queue.get_nowait()
            response = await client.post(f"{url}/track", content=payload, headers=headers)
            if response.status_code != 200 or orjson.loads(response.content)["errors"]:
                raise RuntimeError(f"unexpected answer {response.status_code}: {response.text}")

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="requests of 500 items a run")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--retain", choices=("items", "keys"), default="keys")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    args = parser.parse_args()
    driver = drive_raw if args.client == "raw" else drive

    rates: list[float] = []
    capacities: list[float] = []
    per_item: list[float] = []
    with SandboxProcess(api_keys=[API_KEY], ban=False, retain=args.retain) as sandbox:
        print(
            f"sandbox {sandbox.url} (pid {sandbox.pid}, retain {args.retain}, client {args.client})"
        )
        stored = 0
        for run in range(args.runs):
            payloads = bodies(run, args.requests)
            size = sum(map(len, payloads)) / len(payloads)
            assert sandbox.pid is not None
            cpu_before = cpu_seconds(sandbox.pid)
            client_before = time.process_time()
            seconds = asyncio.run(driver(sandbox.url, payloads, args.concurrency))
            client_cpu = time.process_time() - client_before
            cpu = cpu_seconds(sandbox.pid) - cpu_before
            items = len(payloads) * ITEMS_PER_REQUEST
            stored += items
            stats = sandbox.control.stats()
            if stats["activities"] != stored:
                raise RuntimeError(f"sandbox stored {stats['activities']}, expected {stored}")
            rates.append(items / seconds)
            capacities.append(items / cpu if cpu else float("inf"))
            per_item.append(cpu / items * 1e6)
            print(
                f"run {run + 1}: {items:,} items in {seconds:.2f}s = {items / seconds:,.0f} "
                f"items/s ({len(payloads)} requests of {size / 1024:.0f} KiB, "
                f"concurrency {args.concurrency}); sandbox CPU {cpu:.2f}s = "
                f"{cpu / items * 1e6:.1f} us/item, client CPU {client_cpu:.2f}s"
            )
    print(f"median: {statistics.median(rates):,.0f} items/s end to end (client on the same host)")
    print(
        f"median sandbox capacity: {statistics.median(capacities):,.0f} items per CPU-second "
        f"(what one core given to the sandbox takes) = {statistics.median(per_item):.2f} "
        "us of sandbox CPU per item"
    )


if __name__ == "__main__":
    main()
