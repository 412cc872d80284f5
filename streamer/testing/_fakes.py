"""Realistic Segment events, deterministic by seed, for the demo, the tests and the benchmarks.

``sample_events(n)`` gives a mix close to a product's event bus: identify and track (the
presets' triggers), page and screen (filtered by the presets), with the context a Segment
library adds (ip, userAgent, library, app namespace, traits with an address).
``poison_values()`` gives the values a pipeline must dead-letter without stopping.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

__all__ = ["poison_values", "sample_events"]

_EVENTS = ["Product Viewed", "Product Added", "Order Completed", "Signed Up", "Checkout Started"]
_CITIES = [
    ("Sydney", "NSW", "AU", "2000"),
    ("London", None, "GB", "EC1A"),
    ("Berlin", "BE", "DE", "10115"),
    ("Austin", "TX", "US", "73301"),
]
_AGENT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari"


def _context(rng: random.Random, with_traits: bool) -> dict[str, Any]:
    context: dict[str, Any] = {
        "ip": f"203.0.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "userAgent": _AGENT,
        "library": {"name": "analytics.js", "version": "2.11.1"},
        "locale": "en-AU",
        "app": {"name": "shop", "version": "4.2.0", "namespace": "com.example.shop"},
        "page": {"path": "/products", "url": "https://shop.example.com/products"},
    }
    if with_traits:
        city, state, country, post = rng.choice(_CITIES)
        context["traits"] = {
            "email": f"user{rng.randrange(10_000)}@example.com",
            "address": {"city": city, "state": state, "country": country, "postal_code": post},
        }
    return context


def sample_events(
    n: int, *, seed: int = 7, start: datetime | None = None, page_share: float = 0.1
) -> Iterator[dict[str, Any]]:
    """``n`` events: identify and track in equal parts, plus ``page_share`` pages."""
    rng = random.Random(seed)
    base = start or datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    for i in range(n):
        user = rng.randrange(5_000)
        stamp = (base + timedelta(milliseconds=i * 37)).isoformat(timespec="milliseconds")
        event: dict[str, Any] = {
            "messageId": f"msg-{seed}-{i}",
            "timestamp": stamp.replace("+00:00", "Z"),
            "anonymousId": f"anon-{user}",
            "sentAt": stamp.replace("+00:00", "Z"),
        }
        if rng.random() < 0.8:
            event["userId"] = f"user-{user}"
        roll = rng.random()
        if roll < page_share:
            event.update(
                type="page",
                name="Products",
                properties={"path": "/products"},
                context=_context(rng, False),
            )
        elif roll < page_share + (1 - page_share) / 2:
            city, state, country, post = rng.choice(_CITIES)
            event.update(
                type="identify",
                context=_context(rng, False),
                traits={
                    "email": f"user{user}@example.com",
                    "first_name": "Ada",
                    "last_name": "Lee",
                    "phone": "+61 400 000 000",
                    "plan": rng.choice(["free", "pro", "team"]),
                    "logins": rng.randrange(1, 500),
                    "address": {
                        "city": city,
                        "state": state,
                        "country": country,
                        "postal_code": post,
                    },
                },
            )
        else:
            event.update(
                type="track",
                event=rng.choice(_EVENTS),
                context=_context(rng, True),
                properties={
                    "sku": f"SKU-{rng.randrange(900)}",
                    "price": round(rng.uniform(5, 400), 2),
                    "currency": "AUD",
                    "quantity": rng.randrange(1, 4),
                    "category": "shoes",
                },
            )
        yield event


def poison_values() -> dict[str, bytes]:
    """Values that are not usable events, by the reason they must be dead-lettered with."""
    return {
        "invalid_json": b'{"type": "track", "event": ',
        "invalid_utf8": b'{"type": "track", "event": "\xff\xfe"}',
        "too_deep": b"[" * 10_000 + b"]" * 10_000,
        "not_object": b'["type", "track"]',
        "identify_without_ids": orjson.dumps(
            {"type": "identify", "messageId": "poison-1", "traits": {"email": "x@example.com"}}
        ),
        "track_bad_ip": orjson.dumps(
            {
                "type": "track",
                "event": "Bought",
                "userId": "u-1",
                "messageId": "poison-2",
                "context": {"ip": "not-an-ip"},
            }
        ),
    }


class FakeMessage:
    """A stand-in for ``confluent_kafka.Message`` (benchmarks and unit tests of the hot path)."""

    __slots__ = ("_headers", "_key", "_offset", "_partition", "_timestamp", "_topic", "_value")

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        value: bytes | None,
        *,
        key: bytes | None = None,
        headers: list[tuple[str, bytes | None]] | None = None,
        timestamp_ms: int = 1_795_000_000_000,
    ) -> None:
        self._topic, self._partition, self._offset = topic, partition, offset
        self._value, self._key, self._headers = value, key, headers
        self._timestamp = timestamp_ms

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes | None:
        return self._value

    def key(self) -> bytes | None:
        return self._key

    def headers(self) -> list[tuple[str, bytes | None]] | None:
        return self._headers

    def timestamp(self) -> tuple[int, int]:
        return (1, self._timestamp)  # TIMESTAMP_CREATE_TIME

    def error(self) -> None:
        return None
