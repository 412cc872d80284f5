"""Each mapping-kit directive on its own, with the rules Segment applies to it."""

from __future__ import annotations

from typing import Any

import pytest

from streamer.mapping import MappingError, compile_mapping

EVENT: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "userId": "u-1",
    "properties": {
        "name": "Blue Shirt",
        "total": 20,
        "price": 9.5,
        "zero": 0,
        "empty": "",
        "none": None,
        "tags": ["a", "b", None],
        "items": [{"sku": "x", "qty": 1}, {"sku": "y"}],
        "nested": {"a": {"b": 1}, "c": None, "d": [1, {"e": None}]},
        "json": '{"a": [1, 2.5]}',
        "weird key": "w",
    },
    "traits": {"email": "Jane@Example.com"},
    "context": {"ip": "1.2.3.4"},
}


def run(value: Any, event: dict[str, Any] = EVENT) -> Any:
    """Map one field and return its value (``...`` when it is left out)."""
    return compile_mapping({"field": value})(event).get("field", ...)


class TestPath:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("$.userId", "u-1"),
            ("userId", "u-1"),
            ("$.properties.total", 20),
            ("$.properties.tags.1", "b"),
            ("$.properties.tags[0]", "a"),
            ('$.properties["weird key"]', "w"),
            ("$.properties.items.1.sku", "y"),
            ("$.properties.name.length", 10),
            ("$.properties.tags.length", 3),
            ("$.missing", ...),
            ("$.properties.missing.deeper", ...),
            # JavaScript's a && a.b: a falsy value on the way is the answer
            ("$.properties.zero.deeper", 0),
            ("$.properties.none.deeper", None),
            ("$.properties.empty.deeper", ""),
        ],
    )
    def test_look_ups(self, path: str, expected: Any) -> None:
        assert run({"@path": path}) == expected

    def test_the_whole_event(self) -> None:
        assert run({"@path": "$."}) == EVENT

    def test_a_computed_path(self) -> None:
        assert run(
            {"@path": {"@template": "$.properties.{{type}}"}}, {**EVENT, "type": "name"}
        ) == ("Blue Shirt")

    def test_a_computed_path_must_be_a_string(self) -> None:
        with pytest.raises(MappingError, match="@path: expected string, got number"):
            run({"@path": {"@path": "$.properties.total"}})


class TestTemplate:
    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("Hi {{traits.email}}!", "Hi Jane@Example.com!"),
            ("{{ properties.total }}/{{properties.price}}", "20/9.5"),
            ("[{{properties.missing}}][{{properties.none}}]", "[][]"),
            ("{{properties.tags}}", "a,b,"),
            ("{{properties.nested}}", "[object Object]"),
            ("{{{properties.name}}}", "Blue Shirt"),
            ("{{$.userId}}", ""),  # no "$." removal inside templates
            ("no placeholders", "no placeholders"),
        ],
    )
    def test_rendering(self, template: str, expected: str) -> None:
        assert run({"@template": template}) == expected

    def test_triple_braces_are_replaced_first(self) -> None:
        event = {"a": "{{b}}", "b": "B"}
        assert run({"@template": "{{{a}}}"}, event) == "B"


class TestIf:
    def test_exists(self) -> None:
        assert run({"@if": {"exists": {"@path": "$.userId"}, "then": "yes", "else": "no"}}) == "yes"
        assert run({"@if": {"exists": {"@path": "$.nope"}, "then": "yes", "else": "no"}}) == "no"
        assert run({"@if": {"exists": {"@path": "$.properties.none"}, "then": 1, "else": 2}}) == 2
        assert run({"@if": {"exists": {"@path": "$.properties.zero"}, "then": 1, "else": 2}}) == 1

    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("$.properties.name", "filled"),
            ("$.properties.empty", "blank"),
            ("$.properties.zero", "blank"),  # 0 == '' in JavaScript
            ("$.properties.none", "blank"),
            ("$.properties.nested", "filled"),
        ],
    )
    def test_blank(self, path: str, expected: str) -> None:
        mapping = {"@if": {"blank": {"@path": path}, "then": "filled", "else": "blank"}}
        assert run(mapping) == expected

    def test_a_missing_branch_leaves_the_field_out(self) -> None:
        assert run({"@if": {"exists": {"@path": "$.nope"}, "then": 1}}) is ...
        assert run({"@if": {"exists": {"@path": "$.userId"}, "else": 1}}) is ...
        assert run({"@if": {"exists": {"@path": "$.nope"}, "then": 1, "else": 0}}) is ...

    def test_then_may_be_null(self) -> None:
        assert run({"@if": {"exists": {"@path": "$.userId"}, "then": None}}) is None

    @pytest.mark.parametrize(
        "options", [{"then": 1}, {"exists": None, "then": 1}, {"blank": False}]
    )
    def test_without_a_condition_it_fails_when_evaluated(self, options: dict[str, Any]) -> None:
        mapper = compile_mapping({"field": {"@if": options}})
        with pytest.raises(MappingError, match='"exists" key or a "blank" key'):
            mapper(EVENT)

    def test_only_the_chosen_branch_is_evaluated(self) -> None:
        broken = {"@liquid": "{% for x in y %}{% endfor %}"}
        mapper = compile_mapping(
            {"field": {"@if": {"exists": {"@path": "$.nope"}, "then": broken, "else": "safe"}}}
        )
        assert mapper(EVENT) == {"field": "safe"}
        with pytest.raises(MappingError, match='tag "for" is disabled'):
            mapper({"nope": 1})


class TestCaseAndReplace:
    def test_case(self) -> None:
        assert run({"@case": {"operator": "lower", "value": {"@path": "$.traits.email"}}}) == (
            "jane@example.com"
        )
        assert run({"@case": {"operator": "upper", "value": "abc"}}) == "ABC"
        assert run({"@case": {"operator": "upper", "value": {"@path": "$.properties.total"}}}) == 20
        assert run({"@case": {"operator": "upper", "value": ""}}) is ...

    def test_case_with_an_unknown_operator_fails_on_strings(self) -> None:
        with pytest.raises(MappingError, match='"lower" or "upper"'):
            run({"@case": {"operator": "title", "value": "abc"}})

    @pytest.mark.parametrize(
        ("options", "expected"),
        [
            ({"pattern": " ", "replacement": "_", "value": "a b c"}, "a_b_c"),
            ({"pattern": " ", "replacement": "_", "value": "a b c", "global": False}, "a_b c"),
            ({"pattern": "A", "replacement": "x", "value": "aAa", "ignorecase": True}, "xxx"),
            ({"pattern": ".", "value": "a.b.c"}, "abc"),  # the pattern is literal text
            ({"pattern": "b", "replacement": "[$&]", "value": "abc"}, "a[b]c"),
            ({"pattern": "b", "replacement": "$$", "value": "abc"}, "a$c"),
            ({"pattern": "b", "replacement": "$1", "value": "abc"}, "a$1c"),
            ({"pattern": "1", "replacement": "2", "value": {"@path": "$.properties.price"}}, "9.5"),
            ({"pattern": "0", "replacement": "1", "value": {"@path": "$.properties.total"}}, "21"),
            ({"pattern": "x", "value": {"@path": "$.properties.nested"}}, ""),
            ({"pattern": "x", "value": {"@path": "$.missing"}}, ""),
            (
                {
                    "pattern": "a",
                    "replacement": "b",
                    "pattern2": "b",
                    "replacement2": "c",
                    "value": "ab",
                },
                "cc",
            ),
        ],
    )
    def test_replace(self, options: dict[str, Any], expected: str) -> None:
        assert run({"@replace": options}) == expected

    def test_replace_limits_are_checked_when_loading(self) -> None:
        with pytest.raises(
            MappingError, match="/field/@replace/pattern should be a string of length 10 or less"
        ):
            compile_mapping({"field": {"@replace": {"pattern": "x" * 11, "value": "v"}}})
        with pytest.raises(
            MappingError, match="/field/@replace/replacement should be a string of length 10"
        ):
            compile_mapping(
                {"field": {"@replace": {"pattern": "x", "replacement": "y" * 11, "value": "v"}}}
            )

    def test_the_second_pattern_is_limited_when_used(self) -> None:
        mapper = compile_mapping(
            {"field": {"@replace": {"pattern": "a", "pattern2": "b" * 11, "value": "ab"}}}
        )
        with pytest.raises(MappingError, match="less than 10 characters"):
            mapper(EVENT)


class TestArrayPath:
    def test_items_take_the_shape(self) -> None:
        mapping = {
            "@arrayPath": [
                "$.properties.items",
                {"id": {"@path": "$.sku"}, "n": {"@path": "$.qty"}},
            ]
        }
        assert run(mapping) == [{"id": "x", "n": 1}, {"id": "y"}]

    def test_an_object_becomes_a_list_of_one(self) -> None:
        mapping = {"@arrayPath": ["$.context", {"address": {"@path": "$.ip"}}]}
        assert run(mapping) == [{"address": "1.2.3.4"}]

    def test_without_a_shape_the_value_is_returned(self) -> None:
        assert run({"@arrayPath": ["$.properties.tags"]}) == ["a", "b", None]
        assert run({"@arrayPath": ["$.properties.name", {"x": 1}]}) == "Blue Shirt"

    def test_undefined_items_become_null(self) -> None:
        mapping = {"@arrayPath": ["$.properties.items", {"@path": "$.qty"}]}
        assert run(mapping) == [1, None]


class TestFlattenJsonMerge:
    def test_flatten(self) -> None:
        mapping = {"@flatten": {"separator": ".", "value": {"@path": "$.properties.nested"}}}
        assert run(mapping) == {"a.b": 1, "c": None, "d.0": 1, "d.1.e": None}

    def test_flatten_keeping_arrays(self) -> None:
        mapping = {
            "@flatten": {
                "separator": "_",
                "value": {"@path": "$.properties.nested"},
                "omitArrays": True,
            }
        }
        assert run(mapping) == {"a_b": 1, "c": None, "d": [1, {"e": None}]}

    def test_flatten_of_a_plain_value(self) -> None:
        assert run({"@flatten": {"separator": ".", "value": "x"}}) == {"": "x"}

    def test_flatten_needs_a_separator_when_evaluated(self) -> None:
        mapper = compile_mapping({"field": {"@flatten": {"separator": "", "value": 1}}})
        with pytest.raises(MappingError, match='"separator" key'):
            mapper(EVENT)

    def test_json_encode_like_javascript(self) -> None:
        value = {"b": 1.0, "1": [2.5, None], "a": "é\n"}
        assert run({"@json": {"mode": "encode", "value": {"@literal": value}}}) == (
            '{"1":[2.5,null],"b":1,"a":"é\\n"}'
        )

    def test_json_decode(self) -> None:
        assert run({"@json": {"mode": "decode", "value": {"@path": "$.properties.json"}}}) == {
            "a": [1, 2.5]
        }
        assert run({"@json": {"mode": "decode", "value": "not json"}}) == "not json"
        assert run({"@json": {"mode": "decode", "value": "NaN"}}) == "NaN"

    def test_json_needs_a_truthy_value_when_evaluated(self) -> None:
        mapper = compile_mapping({"field": {"@json": {"mode": "encode", "value": 0}}})
        with pytest.raises(MappingError, match='"value" key'):
            mapper(EVENT)

    def test_merge_directions(self) -> None:
        objects = [{"a": 1, "b": 1}, {"b": 2, "c": {"@path": "$.userId"}}]
        assert run({"@merge": {"direction": "right", "objects": objects}}) == {
            "a": 1,
            "b": 2,
            "c": "u-1",
        }
        assert run({"@merge": {"direction": "left", "objects": objects}}) == {
            "a": 1,
            "b": 1,
            "c": "u-1",
        }

    def test_merge_copies_undefined_over_a_value(self) -> None:
        # Object.assign copies the key even when its value is undefined; it is removed later
        objects = [{"a": 1}, {"a": {"@path": "$.missing"}}]
        assert run({"@merge": {"direction": "right", "objects": objects}}) == {}

    def test_merge_spreads_strings_by_index(self) -> None:
        objects = [{"@path": "$.userId"}]
        assert run({"@merge": {"direction": "right", "objects": objects}}) == {
            "0": "u",
            "1": "-",
            "2": "1",
        }


class TestLiteralExcludeTransform:
    def test_literal_resolves_what_it_holds(self) -> None:
        assert run({"@literal": {"a": {"@path": "$.userId"}, "b": [1]}}) == {"a": "u-1", "b": [1]}
        assert run({"@literal": ""}) == ""

    def test_exclude_when_null(self) -> None:
        assert run({"@excludeWhenNull": {"@path": "$.properties.none"}}) is ...
        assert run({"@excludeWhenNull": {"@path": "$.properties.nested"}}) == {
            "a": {"b": 1},
            "d": [1, {"e": None}],  # arrays are not cleaned
        }
        assert run({"@excludeWhenNull": {"@path": "$.properties.zero"}}) == 0

    def test_transform_maps_a_mapped_payload(self) -> None:
        mapping = {
            "@transform": {
                "apply": {"who": {"@path": "$.userId"}, "gone": {"@path": "$.missing"}},
                "mapping": {"name": {"@template": "user {{who}}"}, "had": {"@path": "$.gone"}},
            }
        }
        assert run(mapping) == {"name": "user u-1"}

    def test_transform_validates_apply_when_evaluated(self) -> None:
        mapper = compile_mapping(
            {
                "field": {
                    "@if": {
                        "exists": {"@path": "$.x"},
                        "then": {
                            "@literal": [
                                {"@transform": {"apply": {"a": {"@nope": 1}}, "mapping": {"b": 1}}}
                            ]
                        },
                    }
                }
            }
        )
        assert mapper(EVENT) == {}
        with pytest.raises(MappingError, match="has an invalid directive: @nope"):
            mapper({"x": 1})


def test_raw_values_objects_and_arrays() -> None:
    mapping = {
        "constant": 500,
        "flag": True,
        "nothing": None,
        "nested": {"a": {"@path": "$.userId"}, "b": {"@path": "$.missing"}},
        "list": [{"@path": "$.userId"}, {"@path": "$.missing"}, 1],
    }
    assert compile_mapping(mapping)(EVENT) == {
        "constant": 500,
        "flag": True,
        "nothing": None,
        "nested": {"a": "u-1"},
        "list": ["u-1", None, 1],
    }


def test_constant_objects_are_fresh_for_every_event() -> None:
    mapper = compile_mapping({"fixed": {"a": [1]}})
    first = mapper(EVENT)
    first["fixed"]["a"].append(2)
    assert mapper(EVENT) == {"fixed": {"a": [1]}}


def test_directives_inside_arrays_are_checked_when_evaluated() -> None:
    # Segment does not validate array items at load time; an unknown directive fails on use
    mapper = compile_mapping({"list": [{"@unknown": 1}]})
    with pytest.raises(MappingError, match="@unknown is not a valid directive"):
        mapper(EVENT)


def test_a_mixed_object_inside_an_array_is_a_plain_object() -> None:
    assert run([{"@path": "$.userId", "other": 1}]) == [{"@path": "$.userId", "other": 1}]


def test_a_non_dict_mapping_event_gives_the_same_item() -> None:
    from types import MappingProxyType

    mapping = {
        "a": {"@path": "$.userId"},
        "b": {"@if": {"exists": {"@path": "$.x"}, "then": 1, "else": 2}},
    }
    mapper = compile_mapping(mapping)
    assert mapper(MappingProxyType(EVENT)) == mapper(EVENT) == {"a": "u-1", "b": 2}
    with pytest.raises(MappingError, match="data must be an object"):
        mapper([1])  # type: ignore[arg-type]
