"""helm/streamer renders manifests that Kubernetes 1.34 and the custom resources' models accept.

Real tools only: ``helm lint``, ``helm template`` piped through ``kubeconform -strict`` against
the Kubernetes JSON schemas (kubernetes-validate's strict copy, cached offline), and the
published npm models of KEDA's and the Prometheus operator's resources. Each values file of
``helm/streamer/ci/`` is one case; ``all-on-values.yaml`` turns every option on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from streamer.testing import KUBERNETES_VERSION, ChartTools

from ._chart import CHART, CI_VALUES, CUSTOM_KINDS, HERE, helm_template, one, render, run

CASES = [pytest.param(path, id=path.stem) for path in CI_VALUES]


@pytest.mark.parametrize("values", CASES)
def test_helm_lint_is_clean(tools: ChartTools, values: Path) -> None:
    answer = run([tools.helm, "lint", CHART, "--strict", "--kube-version", KUBERNETES_VERSION,
                  "-f", values])
    assert "1 chart(s) linted, 0 chart(s) failed" in answer.stdout


@pytest.mark.parametrize("values", CASES)
def test_manifests_conform_to_kubernetes_schemas(tools: ChartTools, values: Path) -> None:
    manifests = helm_template(tools, "-f", values).stdout
    answer = run([
        tools.kubeconform, "-strict", "-summary", "-output", "json",
        "-kubernetes-version", KUBERNETES_VERSION,
        "-schema-location", tools.kubeconform_schema_location(),
        # The custom resources are checked by their own models (below).
        "-skip", ",".join(CUSTOM_KINDS),
    ], stdin=manifests)
    summary = json.loads(answer.stdout)["summary"]
    built_in = [d for d in yaml.safe_load_all(manifests) if d and d["kind"] not in CUSTOM_KINDS]
    assert summary["valid"] == len(built_in) and summary["invalid"] == summary["errors"] == 0


def test_kubeconform_refuses_an_unknown_field_offline(tools: ChartTools) -> None:
    # The schemas are the strict ones and resolve locally: a stray field is an error.
    docs = render(tools)
    service = one(docs, "Service")
    service["spec"]["publishNotReadyAdresses"] = True
    answer = run([tools.kubeconform, "-strict", "-kubernetes-version", KUBERNETES_VERSION,
                  "-schema-location", tools.kubeconform_schema_location()],
                 stdin=yaml.safe_dump(service), check=False)
    assert answer.returncode == 1
    assert "additional properties 'publishNotReadyAdresses' not allowed" in answer.stdout


def _validate_custom(tools: ChartTools, docs: list[dict[str, object]]) -> tuple[int, str]:
    answer = run(["node", HERE / "validate_crs.mjs", tools.models],
                 stdin=json.dumps(docs), check=False)
    return answer.returncode, answer.stdout + answer.stderr


@pytest.mark.parametrize("values", CASES)
def test_custom_resources_match_their_models(tools: ChartTools, values: Path) -> None:
    docs = [d for d in render(tools, "-f", values) if d["kind"] in CUSTOM_KINDS]
    status, output = _validate_custom(tools, docs)
    assert status == 0, output
    assert output.count("\nok ") + output.startswith("ok ") == len(docs)


def test_every_custom_resource_renders_with_every_option_on(tools: ChartTools) -> None:
    docs = render(tools, "-f", CHART / "ci" / "all-on-values.yaml")
    kinds = {d["kind"] for d in docs}
    assert set(CUSTOM_KINDS) | {"Deployment", "ConfigMap", "Service", "ServiceAccount",
                                "PodDisruptionBudget", "NetworkPolicy"} <= kinds
    dashboards = [d for d in docs if d["kind"] == "ConfigMap"
                  and d["metadata"]["labels"].get("grafana_dashboard") == "1"]
    assert len(dashboards) == 1 and dashboards[0]["metadata"]["namespace"] == "monitoring"
    json.loads(dashboards[0]["data"]["streamer.json"])


def test_the_models_refuse_a_wrong_custom_resource(tools: ChartTools) -> None:
    # The validator is live: a mistyped field of a rendered ScaledObject is reported.
    docs = render(tools, "-f", CHART / "ci" / "all-on-values.yaml")
    scaled = one(docs, "ScaledObject")
    scaled["spec"]["maxReplicaCount"] = "twelve"
    status, output = _validate_custom(tools, [scaled])
    assert status == 1 and "maxReplicaCount must be integer" in output


def test_defaults_render_a_deployment_that_runs_as_designed(tools: ChartTools) -> None:
    docs = render(tools)
    assert {d["kind"] for d in docs} == {
        "Deployment", "ConfigMap", "Secret", "Service", "ServiceAccount", "PodDisruptionBudget"}
    pod = one(docs, "Deployment")["spec"]["template"]
    spec = pod["spec"]
    (container,) = spec["containers"]
    (check,) = spec["initContainers"]
    assert check["args"] == ["check", "--config", "/etc/streamer/streamer.yaml"]
    assert container["args"] == ["run", "--config", "/etc/streamer/streamer.yaml"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["ports"] == [{"name": "metrics", "containerPort": 9108, "protocol": "TCP"}]
    # delivery.shutdown_grace_s is 10 in the default configuration.
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/etc/streamer", "/tmp"} <= mounts
    (key,) = [e for e in container["env"] if e["name"] == "ORTTO_API_KEY"]
    assert key["valueFrom"]["secretKeyRef"] == {"name": "streamer-api-key", "key": "api-key"}
    config = one(docs, "ConfigMap")["data"]["streamer.yaml"]
    assert config == yaml.safe_load((CHART / "values.yaml").read_text())["config"]
    assert one(docs, "Service")["spec"]["publishNotReadyAddresses"] is True


def test_the_configuration_is_written_verbatim(tools: ChartTools, tmp_path: Path) -> None:
    # helm/helm#11045: structured values would become float64; the text stays as written.
    text = ("kafka:\n  bootstrap_servers: k:9092\n  topics: [t]\n  dead_letter_topic: d\n"
            "  max_event_bytes: 12345678901234567\n"
            "ortto:\n  api_key: ${ORTTO_API_KEY}\nmetrics:\n  port: 9300\n")
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"config": text}))
    docs = render(tools, "-f", values)
    assert one(docs, "ConfigMap")["data"]["streamer.yaml"] == text
    container = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == 9300


def test_a_changed_configuration_rolls_the_pods(tools: ChartTools, tmp_path: Path) -> None:
    def checksum(config: str) -> str:
        path = tmp_path / "streamer.yaml"
        path.write_text(config)
        pod = one(render(tools, "--set-file", f"config={path}"), "Deployment")["spec"]["template"]
        value: str = pod["metadata"]["annotations"]["checksum/config"]
        return value

    config = yaml.safe_load((CHART / "values.yaml").read_text())["config"]
    default = one(render(tools), "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert checksum(config) == default["checksum/config"]
    assert checksum(config + "# changed\n") != default["checksum/config"]


def test_an_existing_secret_replaces_the_charts_own(tools: ChartTools) -> None:
    docs = render(tools, "--set", "apiKey.existingSecret=ortto", "--set", "apiKey.secretKey=k")
    assert "Secret" not in {d["kind"] for d in docs}
    env = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0]["valueFrom"]["secretKeyRef"] == {"name": "ortto", "key": "k"}


def test_keda_owns_the_replica_count(tools: ChartTools) -> None:
    docs = render(tools, "-f", CHART / "ci" / "keda-sasl-values.yaml")
    assert "replicas" not in one(docs, "Deployment")["spec"]
    trigger = one(docs, "ScaledObject")["spec"]["triggers"][0]
    # Taken from the configuration text when the values do not say.
    assert trigger["metadata"]["bootstrapServers"] == "kafka:9092"
    assert trigger["metadata"]["consumerGroup"] == "streamer-ortto"
    assert trigger["metadata"]["topic"] == "segment-events"
    assert trigger["metadata"]["sasl"] == "plaintext"
    auth = one(docs, "TriggerAuthentication")["spec"]["secretTargetRef"]
    assert {(a["parameter"], a["name"], a["key"]) for a in auth} == {
        ("username", "kafka-credentials", "KAFKA_USER"),
        ("password", "kafka-credentials", "KAFKA_PASSWORD")}


@pytest.mark.parametrize(("args", "config", "says"), [
    pytest.param(["--set", "replicaCount=two"], None,
                 "at '/replicaCount': got string, want integer", id="mistyped"),
    pytest.param(["--set", "serviceMonitor.enabeld=true"], None,
                 "additional properties 'enabeld' not allowed", id="misspelt"),
    pytest.param(["--set", "autoscaling.keda.authentication.sasl.mode=gssapi"], None,
                 "/autoscaling/keda/authentication/sasl/mode", id="not-one-of"),
    pytest.param(["--set", "terminationGracePeriodSeconds=10"], None,
                 "terminationGracePeriodSeconds (10) must be above delivery.shutdown_grace_s",
                 id="grace-too-short"),
    pytest.param([], "metrics: {port: null}\n", "config: metrics.port is null",
                 id="no-metrics-port"),
    pytest.param([], "kafka: {bootstrap_servers: k:9092, topics: [t]}\n: [\n",
                 "config: not YAML", id="not-yaml"),
    pytest.param(["--set", "autoscaling.keda.enabled=true"],
                 "kafka: {bootstrap_servers: '${KAFKA}', topics: [t]}\n",
                 "autoscaling.keda.bootstrapServers: the configuration gives no literal value",
                 id="keda-needs-literal-brokers"),
])
def test_wrong_values_fail_at_install(tools: ChartTools, tmp_path: Path, args: list[str],
                                      config: str | None, says: str) -> None:
    if config is not None:
        (tmp_path / "streamer.yaml").write_text(config)
        args = [*args, "--set-file", f"config={tmp_path / 'streamer.yaml'}"]
    answer = helm_template(tools, *args, check=False)
    assert answer.returncode != 0
    assert says in answer.stderr
