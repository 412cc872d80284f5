"""Events shaped as Segment's libraries send them (about 1 KB of JSON each), for the benchmarks.

What analytics.js / analytics-node put on every event: ``context.library``, ``userAgent``,
``page``, ``campaign``, ``ip``, ``locale``, ``timezone``, ``originalTimestamp``, ``sentAt``,
``receivedAt``, ``timestamp``, ``integrations``, ``version``, UUID ``messageId`` and
``anonymousId``; identify carries traits with an address, track an event name and properties.
Half identify, half track, in turn; deterministic for one seed.

    from _sdk_events import sdk_events
    values = [orjson.dumps(e) for e in sdk_events(100_000)]
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["sdk_events"]

_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"]
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Perlman"]
_CITIES = [("Sydney", "NSW", "AU", "2000"), ("Paris", None, "FR", "75001"),
           ("Austin", "TX", "US", "73301"), ("Berlin", None, "DE", "10115"),
           ("Auckland", None, "NZ", "1010")]
_EVENTS = ["Order Completed", "Product Viewed", "Signed Up", "Checkout Started", "Cart Viewed"]
_PAGES = [("/", "Home"), ("/pricing", "Pricing"), ("/checkout", "Checkout"),
          ("/products/mug", "Mug"), ("/blog/streaming", "Streaming events")]
_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
]
_LOCALES = ["en-US", "en-AU", "fr-FR", "de-DE", "en-GB"]
_ZONES = ["Australia/Sydney", "Europe/Paris", "America/Chicago", "Europe/Berlin"]


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _common(rng: random.Random, at: datetime) -> dict[str, Any]:
    path, title = rng.choice(_PAGES)
    sent = at + timedelta(milliseconds=rng.randint(5, 400))
    event: dict[str, Any] = {
        "anonymousId": _uuid(rng),
        "context": {
            "campaign": {"name": rng.choice(["winter", "launch", "retarget"]),
                         "source": rng.choice(["newsletter", "google", "facebook"]),
                         "medium": rng.choice(["email", "cpc", "social"])},
            "ip": f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
                  f"{rng.randint(1, 254)}",
            "library": {"name": "analytics.js", "version": "next-1.64.0"},
            "locale": rng.choice(_LOCALES),
            "page": {"path": path, "referrer": "https://www.google.com/", "search": "",
                     "title": title, "url": f"https://www.example.com{path}"},
            "timezone": rng.choice(_ZONES),
            "userAgent": rng.choice(_AGENTS),
        },
        "integrations": {},
        "messageId": _uuid(rng),
        "originalTimestamp": _stamp(at),
        "receivedAt": _stamp(sent + timedelta(milliseconds=rng.randint(20, 200))),
        "sentAt": _stamp(sent),
        "timestamp": _stamp(at),
        "version": 2,
    }
    if rng.random() < 0.8:
        event["userId"] = f"user-{rng.randrange(100_000)}"
    return event


def _identify(rng: random.Random, at: datetime) -> dict[str, Any]:
    event = _common(rng, at)
    city, state, country, post = rng.choice(_CITIES)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    address: dict[str, Any] = {"city": city, "country": country, "postal_code": post,
                               "street": f"{rng.randint(1, 999)} Main St"}
    if state:
        address["state"] = state
    event.update(type="identify", traits={
        "address": address,
        "created_at": _stamp(at - timedelta(days=rng.randint(1, 900))),
        "email": f"{first}.{last}{rng.randrange(10**6)}@example.com".lower(),
        "first_name": first,
        "last_name": last,
        "phone": f"+61 4{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
        "plan": rng.choice(["free", "pro", "enterprise"]),
        "logins": rng.randint(0, 500),
    })
    return event


def _track(rng: random.Random, at: datetime) -> dict[str, Any]:
    event = _common(rng, at)
    event.update(type="track", event=rng.choice(_EVENTS), properties={
        "order_id": f"ord-{rng.randrange(10**7)}",
        "total": round(rng.uniform(5, 500), 2),
        "revenue": round(rng.uniform(5, 400), 2),
        "currency": rng.choice(["AUD", "USD", "EUR"]),
        "coupon": rng.choice([None, "WINTER10"]),
        "products": [
            {"product_id": f"p-{rng.randint(1, 999)}", "sku": f"SKU-{rng.randint(1, 99)}",
             "name": rng.choice(["Mug", "Tea", "Shirt"]), "price": 12.5,
             "quantity": rng.randint(1, 3), "category": "Kitchen"},
        ],
    })
    return event


def sdk_events(
    n: int, *, seed: int = 1, start: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """``n`` events, identify and track in turn, 37 ms apart from ``start``."""
    rng = random.Random(seed)
    base = start or datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    for i in range(n):
        at = base + timedelta(milliseconds=i * 37)
        yield (_identify if i % 2 == 0 else _track)(rng, at)
