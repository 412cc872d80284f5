"""The batch fast path: it may only say "all valid" when the per-item checks agree, and a
state fed through it must end up exactly as one fed item by item."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer.sandbox import SandboxState, check_activity, check_contact
from streamer.sandbox._batch import verdict

_FIELDS = [
    "timestamp", "message_id", "user_id", "anonymous_id", "enable_batching", "ip", "location",
    "traits", "audience_update_mode", "batch_size", "audience", "event", "namespace",
    "properties", "other",
]  # fmt: skip
_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 600),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", " ", "\u00a0", "add", "1.2.3.4", "300.1.1.1", "x"]),
    st.lists(st.integers(-9, 9), max_size=1),
    st.dictionaries(st.sampled_from(["country", "zip", "a"]), st.none(), max_size=1),
)
# Mostly valid values, so that whole batches are valid often enough to take the fast path.
_VALID: dict[str, st.SearchStrategy[Any]] = {
    "timestamp": st.sampled_from(["2026-11-28T10:00:00.000Z", "2026-11-28T10:00:01.000Z"]),
    "message_id": st.sampled_from(["m-1", "m-2", "m-3"]),
    "user_id": st.sampled_from(["u1", "u2", ""]),
    "anonymous_id": st.sampled_from(["a1", "a2"]),
    "enable_batching": st.booleans(),
    "ip": st.sampled_from([None, "1.2.3.4", "10.0.0.255"]),
    "location": st.dictionaries(
        st.sampled_from(["country", "state", "city", "post_code"]),
        st.one_of(st.none(), st.sampled_from(["AU", ""])),
        max_size=4,
    ),
    "traits": st.dictionaries(st.sampled_from(["email", "plan"]), st.text(max_size=2)),
    "audience_update_mode": st.sampled_from(["add", "remove"]),
    "batch_size": st.one_of(st.integers(0, 500), st.floats(0, 500)),
    "audience": st.fixed_dictionaries({"mode": st.just("add"), "id": st.just("x")}),
    "event": st.sampled_from(["Product Added", "E", "注文"]),
    "namespace": st.just("com.example.app"),
    "properties": st.dictionaries(st.sampled_from(["sku", "n"]), st.integers(-9, 9), max_size=2),
    "other": st.integers(-9, 9),
}


@st.composite
def _batches(draw: st.DrawFn) -> list[Any]:
    """Items sharing one key set (the fast path's case), now and then missing a field or
    mixed with an odd item."""
    keys = draw(st.lists(st.sampled_from(_FIELDS), unique=True, max_size=len(_FIELDS)))
    if draw(st.integers(0, 3)):  # the fields that make an item valid, most of the time
        keys += [key for key in ("user_id", "event") if key not in keys]
    size = draw(st.integers(1, 6))
    items: list[Any] = []
    for _ in range(size):
        item = {}
        # Now and then a field left out, as a mapping does when the event lacks it.
        dropped = draw(st.sampled_from(keys)) if keys and not draw(st.integers(0, 3)) else None
        for key in draw(st.permutations(keys)):
            if key == dropped:
                continue
            bad = draw(st.integers(0, 59)) == 0
            item[key] = draw(_junk if bad else _VALID[key])
        items.append(item)
    if draw(st.integers(0, 9)) == 0:
        odd = draw(st.sampled_from([[], "x", None, {"user_id": "u9", "event": "E"}]))
        items.insert(draw(st.integers(0, len(items))), odd)
    return items


@settings(max_examples=500, deadline=None)
@given(items=_batches(), activity=st.booleans())
def test_the_fast_path_says_valid_exactly_when_every_item_is(
    items: list[Any], activity: bool
) -> None:
    check = check_activity if activity else check_contact
    all_valid = all(check(item) is None for item in items)
    no_audience = all(type(item) is dict and "audience" not in item for item in items)
    one_key_set = len({frozenset(item) if type(item) is dict else None for item in items}) == 1
    batch = verdict(items, activity=activity)
    if batch is not None:
        assert all_valid and no_audience
        assert batch.size == len(items)
    elif all_valid and no_audience and one_key_set:
        raise AssertionError("a valid uniform batch missed the fast path")


@settings(max_examples=150, deadline=None)
@given(
    batches=st.lists(_batches(), min_size=1, max_size=4),
    track=st.booleans(),
    retain=st.sampled_from(["items", "keys"]),
)
def test_a_state_fed_in_batches_ends_as_one_fed_item_by_item(
    batches: list[list[Any]], track: bool, retain: Any
) -> None:
    endpoint = "track" if track else "identify"
    slow, fast = SandboxState(retain=retain), SandboxState(retain=retain)
    for items in batches:
        raw = orjson.dumps(items)
        assert fast.ingest(endpoint, orjson.loads(raw), raw) == slow.ingest(endpoint, items)
    assert fast.activities == slow.activities
    assert fast.contacts == slow.contacts
    assert fast.profiles == slow.profiles
    fast_stats, slow_stats = fast.stats(), slow.stats()
    del fast_stats["uptime"], slow_stats["uptime"]  # type: ignore[misc]
    assert fast_stats == slow_stats


def test_reads_in_between_keep_the_arrival_order() -> None:
    state = SandboxState()
    first = [{"user_id": "u1", "traits": {"a": 1}, "message_id": "m1", "timestamp": "t"}]
    second = [{"user_id": "u1", "traits": {"b": 2}, "message_id": "m2", "timestamp": "t"}]
    raw = orjson.dumps(first)
    state.ingest("identify", orjson.loads(raw), raw)
    assert state.profiles["user_id:u1"]["traits"] == {"a": 1}
    state.ingest("identify", second)  # the per-item path (no raw body)
    raw = orjson.dumps(first)
    state.ingest("identify", orjson.loads(raw), raw)
    assert [item["message_id"] for item in state.contacts] == ["m1", "m2", "m1"]
    assert state.profiles["user_id:u1"]["traits"] == {"a": 1, "b": 2}
    assert state.stats()["contact_duplicates"] == 1
