"""The actions as data: registry, presets, the track rules and the per-item processor."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from streamer.actions import (
    ACTIONS,
    TRACK_ACTIVITY,
    UPSERT_CONTACT,
    Action,
    Field,
    FieldType,
    Refusal,
    Skip,
    clean_item,
    compile_processor,
    get_action,
    presets,
)
from streamer.actions._values import JS_WHITESPACE

PRESETS_FILE = Path(__file__).parents[1] / "conformance" / "ortto-presets-mapping.json"


def _contact(**extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "timestamp": "2026-11-28T10:07:00.000Z",
        "message_id": "m-1",
        "user_id": "u1",
        "enable_batching": True,
        "ip": "1.2.3.4",
        "location": {"country": "AU", "city": "Sydney"},
        "traits": {"email": "a@example.com", "nested": {"x": 1}},
        "audience_update_mode": "add",
        "batch_size": 500,
    }
    item.update(extra)
    return item


def _activity(**extra: Any) -> dict[str, Any]:
    item = _contact(event="Signed Up", namespace="com.example.app", properties={"plan": "pro"})
    item.update(extra)
    return item


def test_registry_names_paths_and_lookup() -> None:
    assert set(ACTIONS) == {"upsertContactProfile", "trackActivity"}
    assert ACTIONS["upsertContactProfile"] is UPSERT_CONTACT
    assert UPSERT_CONTACT.path == "/identify"
    assert TRACK_ACTIVITY.path == "/track"
    assert get_action("trackActivity") is TRACK_ACTIVITY
    assert get_action("enterAudience") is None


def test_presets_equal_segment_defaults_exactly() -> None:
    reference = json.loads(PRESETS_FILE.read_text())
    mine = [p.as_subscription() for p in presets()]
    assert mine == reference
    # key order too: the preset mapping lists the fields in Segment's order
    assert json.dumps(mine) == json.dumps(reference)


def test_presets_are_copies() -> None:
    first = presets()[0].as_subscription()
    first["mapping"]["location"]["country"] = "mutated"
    assert presets()[0].as_subscription()["mapping"]["location"]["country"] != "mutated"


def test_field_lookup_and_json_types() -> None:
    ip = TRACK_ACTIVITY.field("ip")
    assert ip is not None and ip.json_types == ("string", "null") and ip.format == "ipv4"
    assert TRACK_ACTIVITY.field("event") is not None
    assert UPSERT_CONTACT.field("event") is None


def test_duplicate_field_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Action("x", "X", "/x", (Field("a", "A", FieldType.STRING),) * 2, "X", 'type = "x"')


@pytest.mark.parametrize("name", ["", "   ", "\u00a0\t"])
def test_blank_event_name_is_refused(name: str) -> None:
    process = compile_processor(TRACK_ACTIVITY)
    assert process(_activity(event=name)) == Refusal(400, "Missing event name")


def test_activity_from_ortto_is_skipped_after_the_event_name_check() -> None:
    process = compile_processor(TRACK_ACTIVITY)
    skipped = process(_activity(namespace="ortto.com"))
    assert type(skipped) is Skip and "ortto.com" in skipped.reason
    # a blank name is refused even when the activity came from Ortto
    assert process(_activity(namespace="ortto.com", event=" ")) == Refusal(
        400, "Missing event name"
    )


_NAMES = ["", " ", "Signed Up", " Signed Up", "Signed Up\n", "\u3000", "a", "a\u00a0b",
          "\ufeffx", "x\u2028", "\u200b", 0, None]
_NAMESPACES = ["ortto.com", "Ortto.com", "ortto.com ", "", "com.example.app", None, 1]


@pytest.mark.parametrize("event", [*_NAMES, "absent"])
@pytest.mark.parametrize("namespace", [*_NAMESPACES, "absent"])
def test_the_written_out_rules_doubt_every_item_prepare_does_not_accept(
    event: Any, namespace: Any
) -> None:
    # The router's generated code tests prepare_doubt's expression instead of calling prepare:
    # where it is false, prepare must accept the item (where it is true, prepare decides).
    missing = object()
    item = _activity()
    values = {"event": event, "namespace": namespace}
    for key, value in values.items():
        if value == "absent":
            del item[key]
            values[key] = missing
    assert TRACK_ACTIVITY.prepare is not None and TRACK_ACTIVITY.prepare_doubt is not None
    source = TRACK_ACTIVITY.prepare_doubt(lambda key: f"values[{key!r}]")
    doubt = eval(source, {"MISSING": missing}, {"values": values})
    if not doubt:
        assert TRACK_ACTIVITY.prepare(item) is None
    # Only what trimming would change is doubted (a zero-width space is not blank to JavaScript).
    name = values["event"]
    if type(name) is str and name and name.strip(JS_WHITESPACE) == name:
        assert doubt is (values["namespace"] == "ortto.com")


def test_contacts_from_ortto_namespace_are_sent() -> None:
    process = compile_processor(UPSERT_CONTACT)
    item = _contact()
    assert process(item) == item


def test_audience_is_attached_for_add_and_remove_only() -> None:
    process = compile_processor(TRACK_ACTIVITY, "aud-1")
    added = process(_activity())
    assert isinstance(added, dict)
    assert added["audience"] == {"mode": "add", "id": "aud-1"}
    assert list(added)[-1] == "audience"
    removed = process(_activity(audience_update_mode="remove"))
    assert isinstance(removed, dict) and removed["audience"] == {"mode": "remove", "id": "aud-1"}
    no_mode = _activity()
    del no_mode["audience_update_mode"]
    result = process(no_mode)
    assert isinstance(result, dict) and "audience" not in result


def test_audience_key_in_a_mapping_is_not_a_field_and_is_dropped() -> None:
    process = compile_processor(UPSERT_CONTACT)
    result = process(_contact(audience={"mode": "add", "id": "forged"}))
    assert isinstance(result, dict) and "audience" not in result


def test_processor_never_modifies_its_input() -> None:
    process = compile_processor(TRACK_ACTIVITY, "aud-1")
    item = _activity(traits={"": 1, "ok": {"": 2, "k": 3}}, extra_key=1, batch_size="250")
    before = copy.deepcopy(item)
    result = process(item)
    assert item == before
    assert isinstance(result, dict)
    assert result["traits"] == {"ok": {"k": 3}}
    assert result["batch_size"] == 250
    assert "extra_key" not in result


def test_clean_item_removes_empty_keys_at_every_object_level_but_not_in_arrays() -> None:
    item = {
        "": "root",
        "traits": {"": 1, "a": {"": 2, "b": {"": 3, "c": 4}}},
        "properties": {"list": [{"": 5, "d": 6}], "e": ""},
    }
    assert clean_item(item) == {
        "traits": {"a": {"b": {"c": 4}}},
        "properties": {"list": [{"": 5, "d": 6}], "e": ""},
    }


def test_clean_item_returns_the_same_object_when_nothing_is_empty() -> None:
    item = {"traits": {"a": {"b": 1}}, "list": [{"": 1}]}
    assert clean_item(item) is item


def test_a_third_action_is_pure_data() -> None:
    def refuse_vip(item: dict[str, Any]) -> Refusal | None:
        return Refusal(400, "no VIPs") if item.get("tier") == "vip" else None

    action = Action(
        name="tagContact", title="Tag Contact", path="/tag",
        fields=(
            Field("user_id", "User ID", FieldType.STRING, required=True,
                  default={"@path": "$.userId"}),
            Field("tier", "Tier", FieldType.STRING, choices=("free", "vip"), default="free"),
        ),
        preset_name="Tag Contact", preset_trigger='type = "identify"', prepare=refuse_vip,
    )
    assert action.preset.mapping == {"user_id": {"@path": "$.userId"}, "tier": "free"}
    process = compile_processor(action)
    assert process({"user_id": "u1", "tier": "free"}) == {"user_id": "u1", "tier": "free"}
    assert process({"user_id": "u1", "tier": "vip"}) == Refusal(400, "no VIPs")
    refused = process({"tier": "gold"})
    assert refused == Refusal(
        400,
        "The root value is missing the required field 'user_id'. "
        'Tier must be one of: "free" or "vip".',
    )
