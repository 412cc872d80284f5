"""The chart's alerts and dashboard: valid PromQL, on metrics streamer exports, firing when due.

``promtool check rules`` checks the rendered PrometheusRule's groups and, as recording rules,
every expression of the Grafana dashboard; ``promtool test rules`` runs ``rules-test.yaml``,
which makes each alert fire and stay silent. ``promql-names`` (Prometheus' own parser) lists the
metrics each expression selects, and each must be one that ``streamer.observability.Metrics``
registers (with the suffixes its exposition adds) or the process collector's; the other way
round, every metric registered has a panel unless ``_NO_PANEL`` says why it needs none.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from streamer.observability import Metrics
from streamer.testing import ChartTools

from ._chart import CHART, HERE, one, render, run

# Grafana's variables, replaced by what a query would carry, so that PromQL parses them.
_GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$namespace": "default", "$job": "streamer"}


def _rule_groups(tools: ChartTools, *args: str | Path) -> list[dict[str, Any]]:
    rule = one(render(tools, "--set", "prometheusRule.enabled=true", *args), "PrometheusRule")
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    return groups


def _dashboard_expressions() -> list[str]:
    dashboard = json.loads((CHART / "dashboards" / "streamer.json").read_text())
    expressions = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expression = target["expr"]
            for variable, value in _GRAFANA_VARIABLES.items():
                expression = expression.replace(variable, value)
            expressions.append(expression)
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            # label_values(SELECTOR, label) is Grafana's; its selector is PromQL.
            inner = re.fullmatch(r"label_values\((.+), *\w+\)", variable["definition"])
            assert inner, variable["definition"]
            expressions.append(inner.group(1).replace("$namespace", "default"))
    return expressions


def _exported_families() -> dict[str, set[str]]:
    """Each family ``Metrics`` registers, with the series names its exposition has."""
    families = {}
    for family in Metrics(CollectorRegistry()).registry.collect():
        if family.type == "counter":
            names = {family.name + "_total", family.name + "_created"}
        elif family.type == "histogram":
            names = {family.name + s for s in ("_bucket", "_sum", "_count", "_created")}
        else:
            names = {family.name}
        families[family.name] = names
    return families


def _exported_names() -> set[str]:
    return set().union(*_exported_families().values())


def test_rules_pass_promtool_check(tools: ChartTools, tmp_path: Path) -> None:
    for values in ([], ["-f", str(CHART / "ci" / "all-on-values.yaml")]):
        rules = tmp_path / "rules.yaml"
        rules.write_text(yaml.safe_dump({"groups": _rule_groups(tools, *values)}))
        answer = run([tools.promtool, "check", "rules", rules])
        assert "SUCCESS: 7 rules found" in answer.stdout


def test_each_alert_fires_when_due_and_not_otherwise(tools: ChartTools, tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": _rule_groups(tools)}))
    shutil.copy(HERE / "rules-test.yaml", tmp_path)
    answer = run([tools.promtool, "test", "rules", "rules-test.yaml"], cwd=tmp_path)
    assert "SUCCESS" in answer.stdout
    # Every alert of the chart has a test.
    tested = set(re.findall(r"alertname: (\w+)", (HERE / "rules-test.yaml").read_text()))
    alerts = {r["alert"] for g in _rule_groups(tools) for r in g["rules"]}
    assert tested == alerts and len(alerts) == 7


def test_dashboard_expressions_pass_promtool_check(tools: ChartTools, tmp_path: Path) -> None:
    expressions = _dashboard_expressions()
    rules = tmp_path / "dashboard-rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:expression_{n}", "expr": e} for n, e in enumerate(expressions)
    ]}]}))
    answer = run([tools.promtool, "check", "rules", rules])
    assert f"SUCCESS: {len(expressions)} rules found" in answer.stdout


def _selected_names(tools: ChartTools, expressions: list[str]) -> dict[str, list[str]]:
    answer = run([tools.promql_names], stdin="".join(json.dumps(e) + "\n" for e in expressions))
    parsed = [json.loads(line) for line in answer.stdout.splitlines()]
    assert [p.get("error") for p in parsed] == [None] * len(expressions)
    return {p["expr"]: p["names"] for p in parsed}


def test_every_expression_names_only_exported_metrics(tools: ChartTools) -> None:
    expressions = _dashboard_expressions() + [
        r["expr"] for values in ([], ["-f", str(CHART / "ci" / "all-on-values.yaml")])
        for g in _rule_groups(tools, *values) for r in g["rules"]
    ]
    selected = _selected_names(tools, expressions)
    exported = _exported_names()
    unknown = {e: sorted(set(n) - exported) for e, n in selected.items() if set(n) - exported}
    assert not unknown
    used = {n for names in selected.values() for n in names}
    # What the issue asks the dashboard and alerts to show is there.
    assert {
        "streamer_delivered_items_total", "streamer_filtered_messages_total",
        "streamer_dead_letters_total", "streamer_consumer_lag_messages",
        "streamer_commit_holdback_seconds", "streamer_request_duration_seconds_bucket",
        "streamer_requests_total", "streamer_concurrency_limit_requests",
        "streamer_retried_items_total", "process_resident_memory_bytes",
        "streamer_key_refused", "streamer_ready", "streamer_consumer_lag_seconds",
        "streamer_rate_share_ratio", "streamer_rate_limit_requests_per_second",
        "streamer_batch_size_items_count",
    } <= used


# Metrics exported and knowingly without a panel, each with the reason.
_NO_PANEL = {
    "streamer_committed_offset": "an absolute position: lag, holdback and commits show progress",
    "streamer_commit_holdback_offset": "an absolute position: the holdback's age is on a panel",
    "process_virtual_memory_bytes": "resident memory is what a container's limit counts",
    "process_open_fds": "streamer holds a fixed few sockets and files",
    "process_max_fds": "a limit, constant for the process's life",
    "process_start_time_seconds": "restarts show in Kubernetes' own metrics",
}


def test_every_exported_metric_has_a_panel_or_a_reason_not_to(tools: ChartTools) -> None:
    selected = {n for names in _selected_names(tools, _dashboard_expressions()).values()
                for n in names}
    without_panel = {f for f, names in _exported_families().items() if not names & selected}
    assert without_panel == set(_NO_PANEL)


def test_the_name_check_sees_an_unknown_metric(tools: ChartTools) -> None:
    # The parser reports what an expression selects, a misspelt name included.
    selected = _selected_names(tools, ['sum(rate(streamer_delivered_total{job="x"}[5m]))'])
    assert set(next(iter(selected.values()))) - _exported_names() == {"streamer_delivered_total"}


@pytest.mark.parametrize("name", ["process_resident_memory_bytes", "process_cpu_seconds_total",
                                  "streamer_request_duration_seconds_bucket"])
def test_exported_names_include_collector_and_suffixes(name: str) -> None:
    assert name in _exported_names()
