"""Loading the configuration: YAML 1.2, ``${VAR}`` expansion, overrides, then validation.

Order of precedence, lowest first: the file, then ``STREAMER__SECTION__KEY=value`` variables
(double underscores separate levels; the value is read as a YAML 1.2 scalar like the file, so
``true`` and ``5`` keep their types and ``on``, ``012`` stay the string and the integer 12).

``${VAR}`` and ``${VAR:-default}`` in string values are replaced from the environment, except
under ``subscriptions``: a mapping is Segment's text, and ``"home is ${HOME}"`` there must not
send the environment to Ortto. ``$${`` is a literal ``${``. An unset variable without a default
is an error that names the key using it.

Every problem is reported in one run: YAML, expansion, what is not JSON, each schema error, the
key's shape, duplicate subscription names, and (when anything else is wrong, so that the user
sees everything at once) each trigger and mapping that could be compiled. When the schema is
valid the router is compiled once, by the caller (``app.build_pipeline``, ``streamer check``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .._exceptions import ConfigError
from ._json import json_problems
from ._model import MAX_SUBSCRIPTIONS, Config, SubscriptionConfig
from ._yaml import load_yaml, load_yaml_scalar

__all__ = ["ENV_PREFIX", "load_config", "parse_config"]

log = logging.getLogger("streamer.config")

ENV_PREFIX = "STREAMER__"
# `$${` first (an escaped literal), then a reference, then a `${` that is neither (a mistake).
_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")
_VERBATIM = "subscriptions"
"""The top-level key whose strings are never expanded."""


def load_config(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    require_kafka: bool = True,
    warnings: list[str] | None = None,
) -> Config:
    """Read, expand and validate the configuration file at ``path``.

    Warnings (an unnamed subscription) go to ``warnings`` when given, else to the log.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {file}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        problem = f"{file}: not valid YAML: {exc}"
        raise ConfigError(problem, problems=[problem]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problem = f"{file}: the top level must be a mapping of sections"
        raise ConfigError(problem, problems=[problem])
    return parse_config(raw, environ=environ, require_kafka=require_kafka, warnings=warnings)


def parse_config(
    raw: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    require_kafka: bool = True,
    warnings: list[str] | None = None,
) -> Config:
    """Validate an already-parsed configuration mapping (expansion and overrides included)."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    data = {
        key: value if key == _VERBATIM else _expand(value, env, str(key), problems)
        for key, value in raw.items()
    }
    _apply_overrides(data, env, problems)
    json_problems(data, "", problems)
    # A value already refused (unset variable, not JSON) is not reported again by the schema.
    reported = [p.split(": ", 1)[0] for p in problems]
    found = _name_subscriptions(data.get(_VERBATIM))
    for text in found.warnings:
        if warnings is None:
            log.warning("%s", text)
        else:
            warnings.append(text)
    problems += found.problems
    problems += _key_problems(data.get("ortto"))
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            for problem in _describe(err):
                if problem not in problems and not _under(problem.split(": ", 1)[0], reported):
                    problems.append(problem)
    if require_kafka and data.get("kafka") is None:
        problems.append("kafka: section required")
    if problems:
        problems += _subscription_problems(data.get(_VERBATIM), problems)
        raise ConfigError(_summary(problems), problems=problems)
    assert config is not None
    return config


def _summary(problems: list[str]) -> str:
    return "invalid configuration:\n  " + "\n  ".join(problems)


def _describe(err: Any) -> list[str]:
    key = ".".join(str(p) for p in err["loc"])
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, ConfigError):  # the model's own validators: keys relative to ``key``
        return [f"{key}.{problem}" if key else problem for problem in error.problems]
    message = str(err["msg"]).removeprefix("Value error, ")
    return [f"{key or '(top level)'}: {message}"]


def _under(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(f"{root}.") for root in roots)


def _expand(value: Any, env: Mapping[str, str], key: str, problems: list[str]) -> Any:
    if isinstance(value, str):
        return _expand_string(value, env, key, problems) if "${" in value else value
    if isinstance(value, dict):
        return {k: _expand(v, env, f"{key}.{k}", problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, f"{key}.{i}", problems) for i, v in enumerate(value)]
    return value


def _expand_string(text: str, env: Mapping[str, str], key: str, problems: list[str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        whole, name, default = match.group(0), match.group(1), match.group(2)
        if whole == "$${":
            return "${"
        if name is None:
            problems.append(
                f"{key}: '${{' starts no ${{VAR}} or ${{VAR:-default}} (write $${{ for a "
                "literal '${')"
            )
            return whole
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(f"{key}: environment variable {name} is not set")
        return ""

    return _VAR.sub(substitute, text)


def _apply_overrides(data: dict[str, Any], env: Mapping[str, str], problems: list[str]) -> None:
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX):
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX):].split("__") if p]
        if not path:
            continue
        value = load_yaml_scalar(env[name])
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                problems.append(f"{'.'.join(path)}: {name} overrides inside a non-mapping value")
                break
            node = child
        else:
            node[path[-1]] = value


class _Naming:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []


def _name_subscriptions(subscriptions: Any) -> _Naming:
    """Give each unnamed subscription a name (in place); names must be unique."""
    found = _Naming()
    if not isinstance(subscriptions, list):
        return found
    owners: dict[str, int] = {}
    for index, sub in enumerate(subscriptions):
        if not isinstance(sub, dict):
            continue
        name = sub.get("name")
        if name is None or (isinstance(name, str) and not name.strip()):
            action = sub.get("action", sub.get("partnerAction"))
            name = f"{action if isinstance(action, str) and action else 'subscription'}-{index}"
            sub["name"] = name
            found.warnings.append(
                f"subscriptions.{index}: no name; it is called {name!r} (in metrics and dead "
                "letters): give it a name of its own"
            )
        if not isinstance(name, str):
            continue  # the schema says so
        first = owners.setdefault(name, index)
        if first != index:
            found.problems.append(
                f"subscriptions.{index}.name: {name!r} is already the name of "
                f"subscriptions.{first} (names must be unique)"
            )
    return found


def _key_problems(ortto: Any) -> list[str]:
    key = ortto.get("api_key") if isinstance(ortto, dict) else None
    if not isinstance(key, str) or not key:
        return []  # missing or not text: the schema says so
    # Imported here: the sender package is heavy and the check is needed only once.
    from .._exceptions import InvalidApiKeyError
    from ..sender._region import check_api_key

    try:
        check_api_key(key)
    except InvalidApiKeyError as exc:
        return [str(exc)]
    return []


def _subscription_problems(subscriptions: Any, problems: list[str]) -> list[str]:
    """The triggers' and mappings' problems too, when the configuration is refused anyway.

    Subscriptions with a problem of their own already are left out (kept in place, disabled,
    so the router's messages name the same positions).
    """
    if not isinstance(subscriptions, list) or not subscriptions:
        return []
    broken = {
        int(p.split(".", 2)[1].split(":", 1)[0])
        for p in problems
        if p.startswith(f"{_VERBATIM}.") and p.split(".", 2)[1].split(":", 1)[0].isdigit()
    }
    placeholder = SubscriptionConfig(trigger="", action="", enabled=False)
    checked: list[SubscriptionConfig] = []
    for index, sub in enumerate(subscriptions):
        if index in broken:
            checked.append(placeholder)
            continue
        try:
            checked.append(SubscriptionConfig.model_validate(sub))
        except ValidationError:
            checked.append(placeholder)
    if all(not sub.enabled for sub in checked):
        return []
    # Imported here: routing imports this package (it compiles SubscriptionConfig).
    from ..routing import compile_router

    try:
        # Past the limit the schema has said so already; the router judges the first ones.
        compile_router(checked[:MAX_SUBSCRIPTIONS])
    except ConfigError as exc:
        return exc.problems
    return []
