"""Fetch and cache the tools that check the Helm chart (``tests/helm/``), like the Kafka jars.

The chart is checked with the real tools, offline once they are cached: ``helm`` (lint, template),
``kubeconform`` (the manifests against Kubernetes' own schemas), ``promtool`` (the alerting rules
and every PromQL expression), the Kubernetes JSON schemas and the published models of the custom
resources (KEDA, Prometheus operator). Each is built or downloaded once, with the project's usual
registries (the Go module proxy, PyPI, npm), into its own directory of the cache::

    $STREAMER_TOOLS_CACHE (default: $XDG_CACHE_HOME/streamer/tools or ~/.cache/streamer/tools)
    ├── helm-v3.22.0/bin/helm                 go install helm.sh/helm/v3/cmd/helm@v3.22.0
    ├── kubeconform-v0.8.0/bin/kubeconform    go install github.com/yannh/kubeconform/...
    ├── promtool-v0.316.0/bin/promtool        go install github.com/prometheus/prometheus/...
    ├── promql-names-v0.316.0/promql-names    promql-names.go (beside this module), built with
    │                                         Prometheus' PromQL parser: the metrics an
    │                                         expression names
    ├── kubernetes-schemas-v1.34.0/*.json     from the wheel of kubernetes-validate 1.37.0
    └── crd-models-.../node_modules/          npm install @kubernetes-models/{keda,...}

Every directory gets a ``.complete`` marker last, so an interrupted fetch is redone; a fetch holds
an exclusive ``flock`` on ``<dir>.lock`` so that two runs starting together build once.
``python -m streamer.testing tools`` (called by ``./dev test``) fills the cache; the tests call
:func:`ensure_chart_tools`, which returns at once when everything is there.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from streamer._exceptions import ToolError

__all__ = ["KUBERNETES_VERSION", "ChartTools", "ensure_chart_tools", "tools_cache_dir"]

_GO_TOOLS = {
    "helm": ("helm.sh/helm/v3/cmd/helm", "v3.22.0"),
    "kubeconform": ("github.com/yannh/kubeconform/cmd/kubeconform", "v0.8.0"),
    "promtool": ("github.com/prometheus/prometheus/cmd/promtool", "v0.316.0"),
}
#: The Kubernetes version the manifests are validated against, and where its schemas come from.
KUBERNETES_VERSION = "1.34.0"
_SCHEMAS_PACKAGE = "kubernetes-validate==1.37.0"
_SCHEMAS_PREFIX = f"kubernetes_validate/kubernetes-json-schema/v{KUBERNETES_VERSION}-local-strict/"
_MODELS = ("@kubernetes-models/keda@2.0.0", "@kubernetes-models/prometheus-operator@6.0.0")

_COMPLETE_MARKER = ".complete"
_TIMEOUT_SECONDS = 1800.0  # promtool alone takes about 5.5 min on two shared cores
_OUTPUT_TAIL_CHARS = 4000


@dataclass(frozen=True)
class ChartTools:
    """Paths of the cached tools; ``models`` holds ``node_modules/@kubernetes-models/...``."""

    helm: Path
    kubeconform: Path
    promtool: Path
    promql_names: Path
    kubernetes_schemas: Path
    models: Path

    def kubeconform_schema_location(self) -> str:
        """The ``-schema-location`` template that maps a kind to its file in the cache."""
        return str(self.kubernetes_schemas / "{{ .ResourceKind }}{{ .KindSuffix }}.json")


def tools_cache_dir() -> Path:
    override = os.environ.get("STREAMER_TOOLS_CACHE")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "streamer" / "tools"


def ensure_chart_tools() -> ChartTools:
    """Return the cached tools, building or fetching what is missing (minutes, once).

    Raises :class:`ToolError` when ``go``, ``npm`` or a registry fails; the message ends with the
    tool's output.
    """
    root = tools_cache_dir()
    go_bins = {
        name: _cached(root / f"{name}-{version}", partial(_go_install, module=module,
                                                           version=version)) / "bin" / name
        for name, (module, version) in _GO_TOOLS.items()
    }
    promql_names = _cached(root / f"promql-names-{_GO_TOOLS['promtool'][1]}", _build_promql_names)
    schemas = _cached(root / f"kubernetes-schemas-v{KUBERNETES_VERSION}", _fetch_schemas)
    models_name = "crd-models-" + "-".join(m.rsplit("/", 1)[1].replace("@", "-") for m in _MODELS)
    models = _cached(root / models_name, _npm_install)
    return ChartTools(
        helm=go_bins["helm"], kubeconform=go_bins["kubeconform"], promtool=go_bins["promtool"],
        promql_names=promql_names / "promql-names", kubernetes_schemas=schemas, models=models,
    )


def _cached(directory: Path, fill: Callable[[Path], None]) -> Path:
    if (directory / _COMPLETE_MARKER).is_file():
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    lock_path = directory.with_name(directory.name + ".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            # Another process may have completed the fetch while we waited for the lock.
            if not (directory / _COMPLETE_MARKER).is_file():
                directory.mkdir(exist_ok=True)
                fill(directory)
                (directory / _COMPLETE_MARKER).write_text(directory.name + "\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return directory


def _run(command: Sequence[str], what: str, *, env: dict[str, str] | None = None,
         cwd: Path | None = None) -> None:
    try:
        completed = subprocess.run(
            list(command), cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=_TIMEOUT_SECONDS, check=False,
        )
    except FileNotFoundError as exc:
        raise ToolError(f"{what}: {command[0]} is not on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"{what} took more than {_TIMEOUT_SECONDS:.0f}s") from exc
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr)[-_OUTPUT_TAIL_CHARS:]
        raise ToolError(f"{what} failed (exit {completed.returncode}):\n{output}")


def _go_install(directory: Path, module: str, version: str) -> None:
    go = shutil.which("go")
    if go is None:
        raise ToolError(
            f"cannot build {module}: `go` is not on PATH (https://go.dev/dl/, or Debian's golang)"
        )
    # Static binaries: nothing to link against, and no C compiler needed.
    env = {**os.environ, "GOBIN": str(directory / "bin"), "CGO_ENABLED": "0"}
    _run([go, "install", f"{module}@{version}"], f"go install {module}@{version}", env=env)


def _build_promql_names(directory: Path) -> None:
    go = shutil.which("go")
    if go is None:
        raise ToolError("cannot build promql-names: `go` is not on PATH")
    source = resources.files("streamer.testing").joinpath("promql-names.go").read_text()
    (directory / "main.go").write_text(source)
    # The parser of the same Prometheus release as promtool: its modules are cached already.
    (directory / "go.mod").write_text(
        "module streamer.local/promql-names\n\ngo 1.24\n\n"
        f"require github.com/prometheus/prometheus {_GO_TOOLS['promtool'][1]}\n"
    )
    env = {**os.environ, "CGO_ENABLED": "0"}
    _run([go, "mod", "tidy"], "go mod tidy (promql-names)", env=env, cwd=directory)
    _run([go, "build", "-o", "promql-names", "."], "go build promql-names", env=env,
         cwd=directory)


def _fetch_schemas(directory: Path) -> None:
    """Take the strict, self-contained schemas out of kubernetes-validate's wheel.

    kubeconform would fetch each schema's ``$id`` and every absolute ``$ref``
    (``/api/_definitions.json#...``) from the network: both are rewritten to stay in the
    directory.
    """
    with tempfile.TemporaryDirectory(prefix="streamer-schemas-") as scratch:
        _run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", "--dest", scratch, _SCHEMAS_PACKAGE],
            f"pip download {_SCHEMAS_PACKAGE}",
        )
        wheels = list(Path(scratch).glob("*.whl"))
        if len(wheels) != 1:
            raise ToolError(f"pip download {_SCHEMAS_PACKAGE} left {wheels}, not one wheel")
        with zipfile.ZipFile(wheels[0]) as wheel:
            names = [n for n in wheel.namelist()
                     if n.startswith(_SCHEMAS_PREFIX) and n.endswith(".json")]
            if not names:
                raise ToolError(f"{wheels[0].name} has no {_SCHEMAS_PREFIX}")
            for name in names:
                schema = _localise(json.loads(wheel.read(name)))
                target = directory / name.removeprefix(_SCHEMAS_PREFIX)
                target.write_text(json.dumps(schema))


def _localise(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (value.removeprefix("/api/") if key == "$ref" and isinstance(value, str)
                  else _localise(value))
            for key, value in node.items() if key != "$id"
        }
    if isinstance(node, list):
        return [_localise(item) for item in node]
    return node


def _npm_install(directory: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError("cannot fetch the custom resources' models: `npm` is not on PATH")
    _run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(directory), *_MODELS],
        "npm install " + " ".join(_MODELS),
    )
