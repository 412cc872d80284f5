"""Helpers of the chart's checks: where the chart is, and running the cached tools on it."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from streamer.testing import KUBERNETES_VERSION, ChartTools

CHART = Path(__file__).resolve().parents[2] / "helm" / "streamer"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
HERE = Path(__file__).resolve().parent
RELEASE, NAMESPACE = "streamer", "default"
CUSTOM_KINDS = ("ServiceMonitor", "PrometheusRule", "ScaledObject", "TriggerAuthentication")


def run(command: Sequence[str | Path], *, stdin: str | None = None, cwd: Path | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [str(c) for c in command], input=stdin, capture_output=True, text=True, timeout=180,
        cwd=cwd, check=False,
    )
    if check and completed.returncode != 0:
        pytest.fail(f"{Path(command[0]).name} exited {completed.returncode}:\n"
                    f"{completed.stdout}\n{completed.stderr}")
    return completed


def helm_template(tools: ChartTools, *args: str | Path,
                  check: bool = True) -> subprocess.CompletedProcess[str]:
    # A helm built with `go install` assumes Kubernetes 1.20 unless told: say which.
    return run([tools.helm, "template", RELEASE, CHART, "--namespace", NAMESPACE,
                "--kube-version", KUBERNETES_VERSION, *args], check=check)


def render(tools: ChartTools, *args: str | Path) -> list[dict[str, Any]]:
    """The manifests ``helm template`` prints, parsed."""
    return [doc for doc in yaml.safe_load_all(helm_template(tools, *args).stdout) if doc]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind} rendered"
    return found[0]
