"""The hot path's scans: the compiled module (when the build made one) answers as the source does.

``streamer.actions._scan`` is imported compiled (mypyc) where the build could compile it. The
source file is also loaded here as plain Python, so every test below runs on both flavours and
compares them; the two IPv4 algorithms (one per flavour) are compared with each other too.
"""

from __future__ import annotations

import copy
import importlib.util
import ipaddress
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer.actions import _scan

SOURCE = Path(_scan.__file__).with_name("_scan.py")


def _load_source() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("_scan_as_python", str(SOURCE))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


PURE = _load_source()
FLAVOURS = [pytest.param(PURE, id="python")] + (
    [pytest.param(_scan, id="compiled")] if _scan.COMPILED else []
)


def test_the_source_flavour_knows_it_is_interpreted() -> None:
    assert PURE.COMPILED is False
    compiled = not _scan.__file__.endswith(".py")
    assert compiled is _scan.COMPILED


_IPS = ["0.0.0.0", "255.255.255.255", "1.2.3.4", "10.0.0.10", "192.168.001.1", "256.1.1.1",
        "01.2.3.4", "1.2.3", "1.2.3.4.", ".1.2.3", "1..2.3", "1.2.3.04", "::1", "1.2.3.4\n",
        " 1.2.3.4", "\u0661.2.3.4", "1.2.3.4.5", "1234.1.1.1", "", "1.2.3.a", "00.1.1.1",
        "100.200.250.255", "9.99.199.249", "001.2.3.4", "010.010.010.010", "000.000.000.000",
        "0001.2.3.4", "1.02.3.4", "199.099.9.9", "1.2.3.4 ", "255.255.255.256", "1.2.3.٤"]

# ajv-formats 2.1.1's pattern, as JavaScript reads it: `\d` is an ASCII digit and, without the
# `m` flag, `^` and `$` are the start and the end of the whole text (`\A`, `\Z` in Python).
_AJV_IPV4 = re.compile(
    r"\A(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\Z"
)


@pytest.mark.parametrize("scan", FLAVOURS)
def test_ipv4_table(scan: ModuleType) -> None:
    for text in _IPS:
        expected = text.count(".") == 3 and all(
            p.isascii() and p.isdigit() and len(p) <= 3 and int(p) <= 255
            for p in text.split(".")
        )
        assert scan.is_ipv4(text) is expected, text
        assert expected is (_AJV_IPV4.match(text) is not None), text


@pytest.mark.parametrize("scan", FLAVOURS)
def test_ipv4_as_segment_accepts_it(scan: ModuleType) -> None:
    # Leading zeros are fine up to three digits an octet; a fourth digit, 256 or three octets
    # are not.
    for text in ("01.2.3.4", "1.02.3.4", "001.2.3.4", "010.010.010.010", "000.000.000.000"):
        assert scan.is_ipv4(text), text
    for text in ("0001.2.3.4", "256.1.1.1", "1.2.3", " 1.2.3.4", "1.2.3.4\n"):
        assert not scan.is_ipv4(text), text


@settings(max_examples=800, deadline=None)
@given(st.text(alphabet="0123456789.\u0661 a\n", max_size=17))
def test_ipv4_is_ajv_formats_pattern(text: str) -> None:
    expected = _AJV_IPV4.match(text) is not None
    assert PURE.is_ipv4(text) is expected, text
    assert _scan.is_ipv4(text) is expected, text


@settings(max_examples=800, deadline=None)
@given(st.text(alphabet="0123456789.\u0661 a", max_size=17))
def test_both_ipv4_algorithms_agree(text: str) -> None:
    by_parts = PURE._ipv4_by_parts(text)
    assert PURE._ipv4_by_chars(text) == by_parts, text
    if _scan.COMPILED:
        assert _scan.is_ipv4(text) == by_parts, text


@settings(deadline=None)
@given(st.ip_addresses(v=4))
def test_every_ipv4_address_is_accepted(address: ipaddress.IPv4Address) -> None:
    assert PURE._ipv4_by_chars(str(address)) and PURE._ipv4_by_parts(str(address))
    assert _scan.is_ipv4(str(address))


_noise = st.sampled_from("0123456789 .:+-Zzt\u0661x")


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(st.sampled_from("0123456789"), _noise), min_size=19, max_size=30),
       st.booleans())
def test_date_time_flavours_agree_with_the_rules(chars: list[str], shaped: bool) -> None:
    if shaped:  # pin the separators so the fast path is taken as often as possible
        for index, sep in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")):
            chars[index] = sep
        chars[-1] = "Z"
    text = "".join(chars)
    expected = PURE.complete_date_time_check(text)
    assert PURE.is_date_time(text) == expected, text
    assert _scan.is_date_time(text) == expected, text
    assert _scan.complete_date_time_check(text) == expected, text


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["", "a", "b", " "]), inner, max_size=3),
    max_leaves=12,
)


def _reference_clean(value: Any) -> Any:
    if type(value) is dict:
        return {k: _reference_clean(v) for k, v in value.items() if k != ""}
    return value


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from(["", "a", "b"]), _json, max_size=4))
def test_empty_key_scans_agree_with_a_reference(item: dict[str, Any]) -> None:
    before = copy.deepcopy(item)
    expected = _reference_clean(item)
    for scan in (PURE, _scan):
        assert scan.has_empty_key(item) == (expected != item)
        assert scan.without_empty_keys(item) == expected
    assert item == before


def test_arrays_are_not_entered() -> None:
    item = {"a": [{"": 1}], "b": {"c": {"": 2, "d": 3}}}
    for scan in (PURE, _scan):
        assert scan.has_empty_key({"a": [{"": 1}]}) is False
        assert scan.without_empty_keys(item) == {"a": [{"": 1}], "b": {"c": {"d": 3}}}


_NAMES = ("Ortto (Actions)", "Ortto")
_INTEGRATIONS: list[tuple[Any, bool]] = [
    (None, False), ({}, False), ([], False), ("Ortto", False), (False, False),
    ({"All": False}, True), ({"All": True}, False), ({"All": 0}, False), ({"all": False}, False),
    ({"Ortto (Actions)": False}, True), ({"Ortto": False}, True), ({"ortto": False}, False),
    ({"All": False, "Ortto": True}, False), ({"All": False, "Ortto (Actions)": {}}, False),
    ({"All": True, "Ortto": False}, True), ({"Ortto (Actions)": None, "All": False}, False),
    ({"Ortto (Actions)": True, "Ortto": False}, False), ({"Ortto (Actions)": "false"}, False),
]


@pytest.mark.parametrize("scan", FLAVOURS)
def test_turns_off(scan: ModuleType) -> None:
    for integrations, off in _INTEGRATIONS:
        assert scan.turns_off(integrations, _NAMES) is off, integrations
    assert scan.turns_off({"Mine": False}, ("Mine",)) is True
    assert scan.turns_off({"Ortto": False}, ("Mine",)) is False
    assert scan.turns_off({"All": False}, ()) is True


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["All", "Ortto", "Ortto (Actions)", "x"]),
                       st.one_of(st.booleans(), st.none(), st.integers(0, 1), st.just({}))))
def test_both_flavours_agree_on_integrations(integrations: dict[str, Any]) -> None:
    assert PURE.turns_off(integrations, _NAMES) is _scan.turns_off(integrations, _NAMES)
