"""Generated events for the routing tests: the fields the presets read, with awkward values."""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["events"]

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 600), st.sampled_from([1.5, 2.0]),
    st.sampled_from(["", " ", "u1", "10.0.0.1", "::1", "2026-11-28T10:07:00Z",
                     "2026-02-30T10:07:00.123Z", "add", "remove", "ortto.com", "Signed Up",
                     " Signed Up", "Signed Up\u3000", "\u00a0"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=2)
    | st.dictionaries(st.sampled_from(["", "a", "country", "city", "email"]), inner, max_size=3),
    max_leaves=6,
)
_addresses = st.dictionaries(
    st.sampled_from(["country", "state", "city", "postal_code", ""]), _scalars, max_size=4
)
_traits = st.one_of(
    _values,
    st.fixed_dictionaries({}, optional={"address": st.one_of(_addresses, _scalars),
                                        "email": _scalars, "": _scalars, "nested": _values}),
)
events = st.fixed_dictionaries(
    {"type": st.sampled_from(["track", "identify"])},
    optional={
        "event": _scalars, "userId": _scalars, "anonymousId": _scalars, "messageId": _scalars,
        "timestamp": _scalars, "traits": _traits, "properties": _values,
        "context": st.one_of(_scalars, st.fixed_dictionaries({}, optional={
            "ip": _scalars, "traits": _traits,
            "app": st.one_of(_scalars, st.fixed_dictionaries({}, optional={
                "namespace": _scalars})),
        })),
    },
)
