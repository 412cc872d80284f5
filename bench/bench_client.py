"""CPU per batch POST of the sender's HTTP client: ``OrttoClient.post`` against httpx.

Starts the Ortto sandbox in a child process (``intake="lean"``: items counted, not validated),
builds a realistic 500-item identify body (about 230 KB of JSON), then, alternating, for each
run and each path, sends ``--requests`` POSTs of it with ``--concurrency`` in flight and takes
this process's CPU time (``time.process_time``) per request:

* ``httpx``: an ``httpx.AsyncHTTPTransport`` (the connection pool) given the request directly,
  the sender's fast path before it moved to aiohttp;
* ``client``: ``OrttoClient.post``, what the sender calls (rate token included; no budget):
  aiohttp's session, unless the environment names a proxy;
* ``aiohttp``: a bare ``aiohttp.ClientSession`` (what the client adds to it).

Prints each run and the median of each path; CPU per request holds on a shared machine where
wall time swings with the neighbours' load.

    python bench/bench_client.py [--requests 300] [--runs 5] [--concurrency 4] [--items 500]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
import httpx
import orjson

from streamer.sandbox import SandboxProcess
from streamer.sender import OrttoClient

API_KEY = "pau-bench"

Post = Callable[[bytes], Awaitable[int]]


def identify_body(items: int) -> bytes:
    """A body shaped like the identify preset's: contact fields, location, attributes."""
    now = datetime.now(UTC).isoformat()
    people = []
    for i in range(items):
        user = uuid.UUID(int=i + 1)
        people.append({
            "user_id": f"user-{user}",
            "anonymous_id": str(uuid.UUID(int=i + 10_000_000)),
            "email": f"person.{i}@example.com",
            "first_name": "Ada", "last_name": f"Lovelace-{i}",
            "phone": f"+6140000{i:04d}",
            "ip": f"203.0.113.{i % 250}",
            "timestamp": now,
            "location": {"city": "Melbourne", "country": "Australia", "region": "VIC",
                         "post_code": "3000"},
            "custom_attributes": {"plan": "pro", "seats": i % 50, "beta": i % 2 == 0,
                                  "company": "Example Pty Ltd", "industry": "software"},
            "language": "en-AU",
        })
    return orjson.dumps(people)


async def _httpx_path(url: str) -> tuple[Post, Callable[[], Awaitable[None]]]:
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    transport = httpx.AsyncHTTPTransport(limits=limits)
    headers = httpx.Headers({"Authorization": f"Bearer {API_KEY}",
                             "Content-Type": "application/json", "User-Agent": "streamer"})
    extensions = {"timeout": httpx.Timeout(30.0, connect=5.0).as_dict()}
    target = httpx.URL(url + "/identify")

    async def post(body: bytes) -> int:
        response = await transport.handle_async_request(httpx.Request(
            "POST", target, headers=headers, content=body, extensions=extensions))
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response.status_code

    return post, transport.aclose


async def _client_path(url: str) -> tuple[Post, Callable[[], Awaitable[None]]]:
    client = OrttoClient(API_KEY, endpoint=url, max_connections=16)

    async def post(body: bytes) -> int:
        return (await client.post("/identify", body)).status

    return post, client.aclose


async def _aiohttp_path(url: str) -> tuple[Post, Callable[[], Awaitable[None]]]:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=16), cookie_jar=aiohttp.DummyCookieJar(),
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json",
                 "User-Agent": "streamer"},
        timeout=aiohttp.ClientTimeout(connect=5.0, sock_read=30.0))
    target = url + "/identify"

    async def post(body: bytes) -> int:
        async with session.post(target, data=body) as response:
            await response.read()
            return response.status

    return post, session.close


PATHS = {"httpx": _httpx_path, "client": _client_path, "aiohttp": _aiohttp_path}


async def measure(path: str, url: str, body: bytes, requests: int, concurrency: int) -> float:
    """CPU seconds of this process per request (after a warm-up that opens the connections)."""
    post, close = await PATHS[path](url)
    try:
        await asyncio.gather(*(post(body) for _ in range(concurrency)))
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                status = await post(body)
                if status != 200:
                    raise RuntimeError(f"{path}: HTTP {status}")

        started = time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return (time.process_time() - started) / requests
    finally:
        await close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--items", type=int, default=500)
    args = parser.parse_args()
    body = identify_body(args.items)
    print(f"{args.items} items, {len(body):,} bytes a request; {args.requests} requests a run, "
          f"{args.concurrency} in flight; CPU of this process per request")
    results: dict[str, list[float]] = {path: [] for path in PATHS}
    with SandboxProcess(api_keys=None, ban=False, retain="keys", intake="lean") as sandbox:
        for run in range(args.runs):
            order = list(PATHS) if run % 2 == 0 else list(reversed(PATHS))
            for path in order:
                cpu = asyncio.run(measure(path, sandbox.url, body, args.requests,
                                          args.concurrency))
                results[path].append(cpu)
                print(f"run {run + 1} {path:>7}: {cpu * 1e3:.3f} ms")
    medians = {path: statistics.median(values) for path, values in results.items()}
    for path, value in medians.items():
        print(f"median {path:>7}: {value * 1e3:.3f} ms per request ({args.runs} runs)")
    print(f"client / httpx: {medians['client'] / medians['httpx']:.2f}")


if __name__ == "__main__":
    main()
