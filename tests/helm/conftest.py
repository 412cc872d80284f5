"""Fixtures of the chart's checks (tests/helm): the cached tools.

The tools (helm, kubeconform, promtool, promql-names, the Kubernetes schemas, the custom
resources' models) are built or fetched once into ~/.cache/streamer/tools by ``python -m
streamer.testing tools``, which ``./dev test`` runs before pytest; here they are looked up (or
fetched, on a first run by hand). Every test of this directory gets the ``chart`` marker, so
``pytest -m "not chart"`` runs the rest without Go or Node.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streamer.testing import ChartTools, ensure_chart_tools


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.chart)


@pytest.fixture(scope="session")
def tools() -> ChartTools:
    return ensure_chart_tools()
