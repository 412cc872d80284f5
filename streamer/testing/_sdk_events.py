"""Events shaped like those Segment's libraries send, about 1 KB each, for the benchmarks.

A real event bus carries more than the few fields a mapping reads: every event from
``analytics.js`` has ``context.library``, ``userAgent``, ``page``, often ``campaign``, an ``ip``,
``locale`` and ``timezone``, four timestamps, ``integrations`` and ``version``; mobile libraries
add ``app``, ``device``, ``os``, ``network`` and ``screen``; server libraries send little context.
:func:`sdk_events` reproduces that variety, deterministically from a seed:

* a pool of users, each with a fixed library (web, mobile or server), address, company and
  device, so that one user's events look alike and keys repeat as on a real topic;
* ``identify`` with the traits products send (email, names, phone, address, company,
  ``created_at``, plan...), ``track`` with realistic event names and their properties (orders
  with products, sign-ups, clicks, searches), ``page`` and ``screen`` with their names;
* a UUID ``messageId`` and ``anonymousId`` on every event, a ``userId`` on most.

The mix of types is a mapping of type to share: :data:`SDK_MIXES` names the two the benchmarks
use (``identify_track``: 50/50, the presets' two triggers; ``filter``: 95% page/screen, which no
preset matches, and 5% track). :func:`sdk_records` renders ``(key, value)`` pairs ready to
produce, the key being the user (``userId``, else ``anonymousId``): Kafka's partitioning by key.
Rendering costs a few microseconds an event: a million take seconds, not minutes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson

__all__ = ["SDK_MIXES", "sdk_events", "sdk_records"]

_T = TypeVar("_T")

SDK_MIXES: Mapping[str, Mapping[str, float]] = {
    "identify_track": {"identify": 0.5, "track": 0.5},
    "filter": {"page": 0.475, "screen": 0.475, "track": 0.05},
}
"""The type mixes the benchmarks use, by name: shares of each event type (summing to 1)."""

_WEB = [("analytics.js", "next-1.53.0"), ("analytics.js", "next-1.62.1"),
        ("analytics.js", "4.1.0"), ("analytics-next", "1.70.0")]
_MOBILE = [("analytics-ios", "4.1.8"), ("analytics-android", "4.11.3"),
           ("analytics-kotlin", "1.15.0"), ("analytics-swift", "1.5.11"),
           ("analytics-react-native", "2.19.1")]
_SERVER = [("analytics-node", "2.1.0"), ("analytics-python", "2.3.2"),
           ("analytics-ruby", "2.4.3"), ("analytics-go", "3.3.0"), ("analytics-java", "3.5.1")]
_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.39 Mobile Safari/537.36",
]
_DEVICES = [("Apple", "iPhone15,2", "ios", "iOS", "18.1"), ("Apple", "iPad13,4", "ios", "iPadOS",
            "17.6"), ("Google", "Pixel 8", "android", "Android", "14"),
            ("samsung", "SM-S918B", "android", "Android", "14")]
_PLACES = [("Sydney", "NSW", "AU", "2000", "en-AU", "Australia/Sydney"),
           ("Melbourne", "VIC", "AU", "3000", "en-AU", "Australia/Melbourne"),
           ("London", "England", "GB", "EC1A 1BB", "en-GB", "Europe/London"),
           ("Berlin", "Berlin", "DE", "10115", "de-DE", "Europe/Berlin"),
           ("Austin", "TX", "US", "73301", "en-US", "America/Chicago"),
           ("New York", "NY", "US", "10001", "en-US", "America/New_York"),
           ("Toronto", "ON", "CA", "M5H 2N2", "en-CA", "America/Toronto"),
           ("Paris", "Ile-de-France", "FR", "75001", "fr-FR", "Europe/Paris")]
_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret",
          "Linus", "Radia", "Tim", "Hedy", "Dennis", "Katherine", "John"]
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
         "Hamilton", "Torvalds", "Perlman", "Berners-Lee", "Lamarr", "Ritchie", "Johnson"]
_STREETS = ["George St", "Collins St", "Baker St", "Main St", "King St", "Queen St", "High St"]
_COMPANIES = [("Initech", "Software", 120), ("Globex", "Manufacturing", 2400),
              ("Acme Corp", "Retail", 560), ("Hooli", "Internet", 9000),
              ("Vandelay Industries", "Import/Export", 35), ("Stark Industries", "Defense", 15000)]
_PLANS = ["free", "starter", "pro", "business", "enterprise"]
_TITLES = ["Engineer", "Product Manager", "Designer", "Head of Growth", "CTO", "Analyst"]
_PAGES = [("/", "Home | Shop"), ("/pricing", "Pricing | Shop"), ("/products/red-shoes",
          "Red Shoes | Shop"), ("/cart", "Your cart | Shop"), ("/checkout", "Checkout | Shop"),
          ("/blog/how-we-ship", "How we ship | Shop blog"), ("/account/settings", "Settings")]
_SCREENS = ["Home", "Product Detail", "Cart", "Checkout", "Order History", "Settings", "Search"]
_REFERRERS = ["https://www.google.com/", "https://t.co/", "https://news.ycombinator.com/",
              "", "https://www.facebook.com/", "https://shop.example.com/"]
_CAMPAIGNS = [{"name": "black-friday", "source": "newsletter", "medium": "email",
               "content": "hero-banner"},
              {"name": "spring-sale", "source": "google", "medium": "cpc", "term": "red shoes"},
              {"name": "retarget-q4", "source": "facebook", "medium": "social"}]
_PRODUCTS = [("prd-1001", "SKU-RS-42", "Red Shoes", "Footwear", 89.95),
             ("prd-1002", "SKU-BS-40", "Blue Socks", "Accessories", 12.5),
             ("prd-1003", "SKU-TS-M", "Logo T-shirt", "Apparel", 29.0),
             ("prd-1004", "SKU-CAP", "Cap", "Accessories", 19.99),
             ("prd-1005", "SKU-JKT-L", "Rain Jacket", "Apparel", 149.0)]
_INTEGRATIONS: list[dict[str, Any]] = [{}, {"All": True}, {"Intercom": False},
                                       {"All": True, "Mixpanel": False}]


def _uuid(rng: random.Random) -> str:
    text = f"{rng.getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"


class _User:
    """One user of the pool: what stays the same across their events."""

    __slots__ = ("anonymous_id", "context", "key", "traits", "user_id")

    def __init__(self, rng: random.Random, number: int) -> None:
        self.anonymous_id = _uuid(rng)
        self.user_id = f"usr_{number:07d}{rng.getrandbits(20):05x}" if rng.random() < 0.85 else None
        self.key = (self.user_id or self.anonymous_id).encode()
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        city, state, country, post, locale, zone = rng.choice(_PLACES)
        company, industry, size = rng.choice(_COMPANIES)
        self.traits: dict[str, Any] = {
            "email": f"{first}.{last}.{number}@example.com".lower(),
            "first_name": first,
            "last_name": last,
            "phone": f"+61 4{rng.randrange(10, 99)} {rng.randrange(100, 999)} "
                     f"{rng.randrange(100, 999)}",
            "title": rng.choice(_TITLES),
            "plan": rng.choice(_PLANS),
            "created_at": f"20{rng.randrange(19, 26)}-{rng.randrange(1, 13):02d}-"
                          f"{rng.randrange(1, 29):02d}T0{rng.randrange(10)}:15:00.000Z",
            "address": {"street": f"{rng.randrange(1, 400)} {rng.choice(_STREETS)}",
                        "city": city, "state": state, "postal_code": post, "country": country},
            "company": {"name": company, "id": f"cmp_{rng.getrandbits(24):06x}",
                        "industry": industry, "employee_count": size,
                        "plan": rng.choice(_PLANS)},
        }
        ip = (f"{rng.choice((203, 101, 49, 82, 145))}.{rng.randrange(256)}."
              f"{rng.randrange(256)}.{rng.randrange(1, 255)}")
        roll = rng.random()
        if roll < 0.6:
            name, version = rng.choice(_WEB)
            self.context: dict[str, Any] = {
                "library": {"name": name, "version": version},
                "userAgent": rng.choice(_AGENTS), "ip": ip, "locale": locale, "timezone": zone,
            }
        elif roll < 0.85:
            name, version = rng.choice(_MOBILE)
            maker, model, kind, os_name, os_version = rng.choice(_DEVICES)
            self.context = {
                "library": {"name": name, "version": version},
                "app": {"name": "Shop", "version": "5.12.0", "build": "5120",
                        "namespace": "com.example.shop"},
                "device": {"id": _uuid(rng), "manufacturer": maker, "model": model,
                           "type": kind, "adTrackingEnabled": False},
                "os": {"name": os_name, "version": os_version},
                "network": {"wifi": rng.random() < 0.7, "cellular": rng.random() < 0.5,
                            "carrier": "Telstra"},
                "screen": {"width": 390, "height": 844, "density": 3},
                "ip": ip, "locale": locale, "timezone": zone,
            }
        else:
            name, version = rng.choice(_SERVER)
            self.context = {"library": {"name": name, "version": version}, "ip": ip}


def _track_event(rng: random.Random, number: int) -> tuple[str, dict[str, Any]]:
    roll = rng.randrange(8)
    if roll < 3:
        products: list[dict[str, Any]] = [
            {"product_id": pid, "sku": sku, "name": name, "category": category, "price": price,
             "quantity": rng.randrange(1, 4), "position": index + 1}
            for index, (pid, sku, name, category, price) in enumerate(
                rng.sample(_PRODUCTS, rng.randrange(1, 4)))
        ]
        total = round(sum(p["price"] * p["quantity"] for p in products), 2)
        return "Order Completed", {
            "checkout_id": f"chk_{number:08d}", "order_id": f"ord_{number:08d}",
            "affiliation": "Online Store", "total": total, "revenue": round(total * 0.9, 2),
            "shipping": 7.5, "tax": round(total * 0.1, 2), "discount": 0,
            "coupon": rng.choice(("", "WELCOME10", "BF2026")), "currency": "AUD",
            "products": products,
        }
    if roll < 5:
        pid, sku, name, category, price = rng.choice(_PRODUCTS)
        event = rng.choice(("Product Viewed", "Product Added"))
        return event, {"product_id": pid, "sku": sku, "name": name, "category": category,
                       "price": price, "currency": "AUD", "quantity": 1,
                       "url": f"https://shop.example.com/products/{pid}",
                       "image_url": f"https://cdn.example.com/img/{pid}.jpg"}
    if roll == 5:
        return "Signed Up", {"method": rng.choice(("email", "google", "apple")),
                             "plan": rng.choice(_PLANS), "trial": rng.random() < 0.5,
                             "referral_code": f"ref-{rng.getrandbits(16):04x}"}
    if roll == 6:
        return "Button Clicked", {"button_id": f"cta-{rng.randrange(20)}", "label": "Get started",
                                  "location": "hero", "experiment": "home-v3",
                                  "variant": rng.choice("AB")}
    return "Products Searched", {"query": rng.choice(("red shoes", "socks", "rain jacket")),
                                 "results": rng.randrange(0, 120), "page": 1}


class _Stamps:
    """ISO-8601 timestamps with milliseconds, the second's text cached (events are close)."""

    __slots__ = ("_base", "_second", "_text")

    def __init__(self, base: datetime) -> None:
        self._base = base
        self._second = -1
        self._text = ""

    def at(self, millis: int) -> str:
        second, rest = divmod(millis, 1000)
        if second != self._second:
            self._second = second
            moment = self._base + timedelta(seconds=second)
            self._text = moment.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._text}.{rest:03d}Z"


def _bounds(mix: Mapping[str, float]) -> list[tuple[float, str]]:
    unknown = set(mix) - {"identify", "track", "page", "screen"}
    if unknown or not mix:
        raise ValueError(f"mix: event types are identify, track, page, screen (got {sorted(mix)})")
    total = sum(mix.values())
    if total <= 0 or any(share < 0 for share in mix.values()):
        raise ValueError("mix: shares must be non-negative and not all zero")
    cumulative, bounds = 0.0, []
    for kind, share in mix.items():
        cumulative += share / total
        bounds.append((cumulative, kind))
    return bounds


def sdk_events(
    n: int,
    *,
    seed: int = 1,
    mix: str | Mapping[str, float] = "identify_track",
    users: int | None = None,
    start: datetime | None = None,
) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """``n`` events ``(key, event)``: the key is the user's id (Kafka's partitioning key).

    ``mix``: a name of :data:`SDK_MIXES` or shares by type. ``users``: size of the user pool
    (default ``max(100, n // 20)``: each user sends about twenty events). Events are 3 ms apart
    from ``start`` (default 2026-12-01T00:00:00Z); ``sentAt`` and ``receivedAt`` follow them.
    """
    bounds = _bounds(SDK_MIXES[mix] if isinstance(mix, str) else mix)
    rng = random.Random(seed)
    pool = [_User(rng, number) for number in range(users or max(100, n // 20))]
    draw = rng.random

    def pick(items: Sequence[_T]) -> _T:  # rng.choice's cost, a third of it
        return items[int(draw() * len(items))]

    stamps = _Stamps(start or datetime(2026, 12, 1, tzinfo=UTC))
    for index in range(n):
        user = pick(pool)
        roll = draw()
        kind = next(k for bound, k in bounds if roll < bound or bound == bounds[-1][0])
        millis = index * 3
        original = stamps.at(millis)
        context = dict(user.context)
        web = "userAgent" in context
        if web:
            path, title = pick(_PAGES)
            search = f"?utm_source=newsletter&ref={index % 97}" if draw() < 0.3 else ""
            context["page"] = {"path": path, "referrer": pick(_REFERRERS),
                               "search": search, "title": title,
                               "url": f"https://shop.example.com{path}{search}"}
            if draw() < 0.3:
                context["campaign"] = pick(_CAMPAIGNS)
        event: dict[str, Any] = {
            "type": kind, "messageId": _uuid(rng), "anonymousId": user.anonymous_id,
        }
        if user.user_id is not None:
            event["userId"] = user.user_id
        if kind == "identify":
            event["traits"] = user.traits
        elif kind == "track":
            event["event"], event["properties"] = _track_event(rng, index)
            if draw() < 0.5:
                context["traits"] = {"email": user.traits["email"], "plan": user.traits["plan"]}
        elif kind == "page":
            page = context.get("page") or {"path": "/", "title": "Home | Shop",
                                           "url": "https://shop.example.com/"}
            event["name"] = page["title"].split(" | ")[0]
            event["properties"] = dict(page)
        else:
            name = pick(_SCREENS)
            event["name"] = name
            event["properties"] = {"name": name, "category": "app", "from": pick(_SCREENS)}
        event["context"] = context
        event["integrations"] = pick(_INTEGRATIONS)
        event["channel"] = "client" if web or "app" in context else "server"
        event["originalTimestamp"] = original
        event["sentAt"] = stamps.at(millis + 40)
        event["receivedAt"] = stamps.at(millis + 95)
        event["timestamp"] = original
        event["version"] = 2
        yield user.key, event


def sdk_records(
    n: int, *, seed: int = 1, mix: str | Mapping[str, float] = "identify_track",
    users: int | None = None,
) -> list[tuple[bytes, bytes]]:
    """``n`` events rendered as Kafka records ``(key, JSON value)``, as :func:`sdk_events`."""
    dumps = orjson.dumps
    # orjson's bytes keep the capacity its writer grew to (about 5 KB for a 1 KB event):
    # a copy holds exactly the value, a fifth of the memory over a million records.
    return [
        (key, memoryview(dumps(event)).tobytes())
        for key, event in sdk_events(n, seed=seed, mix=mix, users=users)
    ]
