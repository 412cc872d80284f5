"""SDK-shaped Segment events, about 1 KB each, as analytics.js and the mobile libraries send them.

What a real bus carries beyond the test samples (``streamer.testing.sample_events``): the whole
``context`` (``library``, ``userAgent``, ``page``, ``campaign``, ``ip``, ``locale``,
``timezone``, ``os``, ``device`` or ``screen``), ``originalTimestamp``, ``sentAt``,
``receivedAt``, ``integrations``, ``version``, ``channel`` and UUIDs for ``messageId`` and
``anonymousId``. Identify and track in equal parts by default, deterministic for a seed.

    from sdk_events import sdk_events        # bench/ on sys.path
    values = [orjson.dumps(e) for e in sdk_events(10_000)]
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["sdk_events"]

_EVENTS = ["Product Viewed", "Product Added", "Order Completed", "Signed Up", "Checkout Started"]
_CITIES = [
    ("Sydney", "NSW", "AU", "2000"),
    ("London", None, "GB", "EC1A 1BB"),
    ("München", "BY", "DE", "80331"),
    ("Austin", "TX", "US", "73301"),
    ("São Paulo", "SP", "BR", "01000-000"),
]
_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
]
_PAGES = ["/", "/products", "/products/trail-runner-2", "/cart", "/checkout", "/blog/winter"]
_FIRST = ["Ada", "Grace", "Zoë", "Linus", "Åsa", "Kenji", "Amélie", "Omar"]


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _context(rng: random.Random, path: str) -> dict[str, Any]:
    search = "?utm_source=newsletter&utm_medium=email" if rng.random() < 0.4 else ""
    context: dict[str, Any] = {
        "library": {"name": "analytics.js", "version": f"next-1.{rng.randrange(60, 75)}.0"},
        "userAgent": rng.choice(_AGENTS),
        "userAgentData": {"mobile": False, "platform": "macOS"},
        "page": {
            "path": path,
            "referrer": "https://www.google.com/",
            "search": search,
            "title": "Trail shoes | Example Shop",
            "url": f"https://shop.example.com{path}{search}",
        },
        "ip": f"203.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "locale": rng.choice(["en-AU", "en-GB", "de-DE", "pt-BR"]),
        "timezone": rng.choice(["Australia/Sydney", "Europe/London", "America/Chicago"]),
    }
    if search:
        context["campaign"] = {"name": "winter-sale", "source": "newsletter", "medium": "email"}
    return context


def sdk_events(
    n: int, *, seed: int = 11, track_share: float = 0.5, page_share: float = 0.0
) -> Iterator[dict[str, Any]]:
    """``n`` events: ``page_share`` pages, then track (``track_share`` of the rest) and identify."""
    rng = random.Random(seed)
    base = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    for i in range(n):
        user = rng.randrange(50_000)
        sent = base + timedelta(milliseconds=i * 37)
        path = rng.choice(_PAGES)
        event: dict[str, Any] = {
            "anonymousId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "context": _context(rng, path),
            "integrations": {} if rng.random() < 0.9 else {"Actions Amplitude": False},
            "messageId": f"ajs-next-{uuid.UUID(int=rng.getrandbits(128), version=4).hex}",
            "originalTimestamp": _stamp(sent - timedelta(milliseconds=rng.randrange(5, 900))),
            "receivedAt": _stamp(sent + timedelta(milliseconds=rng.randrange(20, 300))),
            "sentAt": _stamp(sent),
            "timestamp": _stamp(sent - timedelta(milliseconds=rng.randrange(1, 50))),
            "version": 2,
            "channel": "client",
        }
        if rng.random() < 0.85:
            event["userId"] = f"user-{user}"
        roll = rng.random()
        if roll < page_share:
            event.update(type="page", name="Products", properties={
                "path": path, "url": event["context"]["page"]["url"], "title": "Example Shop",
            })
        elif roll < page_share + (1 - page_share) * track_share:
            event.update(type="track", event=rng.choice(_EVENTS), properties={
                "product_id": f"{rng.randrange(10**6):06d}",
                "sku": f"TR-{rng.randrange(900)}",
                "name": "Trail Runner 2",
                "price": round(rng.uniform(5, 400), 2),
                "currency": "AUD",
                "quantity": rng.randrange(1, 4),
                "category": "shoes",
            })
        else:
            city, state, country, post = rng.choice(_CITIES)
            first = rng.choice(_FIRST)
            event.update(type="identify", traits={
                "email": f"{first.lower()}.{user}@example.com",
                "first_name": first,
                "last_name": "Lee",
                "phone": f"+61 4{rng.randrange(10**8):08d}",
                "plan": rng.choice(["free", "pro", "team"]),
                "logins": rng.randrange(1, 500),
                "address": {
                    "city": city, "state": state, "country": country, "postal_code": post,
                },
            })
        yield event
