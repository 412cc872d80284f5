"""Loading the configuration: YAML, then ``${VAR}`` expansion, then environment overrides.

Order of precedence, lowest first: the file, then ``STREAMER__SECTION__KEY=value`` variables
(double underscores separate levels; the value is read as a YAML scalar, so ``true`` and ``5``
keep their types). ``${VAR}`` and ``${VAR:-default}`` inside string values are replaced from the
environment; an unset variable without a default is an error that names the key using it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .._exceptions import ConfigError
from ._model import Config

__all__ = ["ENV_PREFIX", "load_config", "parse_config"]

ENV_PREFIX = "STREAMER__"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def load_config(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    require_kafka: bool = True,
) -> Config:
    """Read, expand and validate the configuration file at ``path``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {file}: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of sections")
    return parse_config(raw, environ=environ, require_kafka=require_kafka)


def parse_config(
    raw: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    require_kafka: bool = True,
) -> Config:
    """Validate an already-parsed configuration mapping (expansion and overrides included)."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    data = _expand(dict(raw), env, "", problems)
    _apply_overrides(data, env, problems)
    if problems:
        raise ConfigError(_summary(problems), problems=problems)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(err) for err in exc.errors()]
        raise ConfigError(_summary(problems), problems=problems) from None
    if require_kafka and config.kafka is None:
        raise ConfigError(_summary(["kafka: section required"]), problems=["kafka: required"])
    return config


def _summary(problems: list[str]) -> str:
    return "invalid configuration:\n  " + "\n  ".join(problems)


def _describe(err: Any) -> str:
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return f"{key}: {err['msg']}"


def _expand(value: Any, env: Mapping[str, str], key: str, problems: list[str]) -> Any:
    if isinstance(value, str):
        return _expand_string(value, env, key, problems)
    if isinstance(value, dict):
        return {k: _expand(v, env, f"{key}.{k}" if key else str(k), problems)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, f"{key}.{i}", problems) for i, v in enumerate(value)]
    return value


def _expand_string(text: str, env: Mapping[str, str], key: str, problems: list[str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(f"{key}: environment variable {name} is not set")
        return ""

    return _VAR.sub(substitute, text) if "${" in text else text


def _apply_overrides(data: dict[str, Any], env: Mapping[str, str], problems: list[str]) -> None:
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX):
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX):].split("__") if p]
        if not path:
            continue
        try:
            value = yaml.safe_load(env[name]) if env[name] else ""
        except yaml.YAMLError:
            value = env[name]
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                problems.append(f"{'.'.join(path)}: {name} overrides inside a non-mapping value")
                break
            node = child
        else:
            node[path[-1]] = value
