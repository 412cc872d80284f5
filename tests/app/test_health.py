from __future__ import annotations

import asyncio

import httpx
from prometheus_client import CollectorRegistry

from streamer.observability import HealthServer, Metrics


def test_metrics_health_and_readiness_endpoints() -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.delivered.labels("trackActivity", "Orders").inc(3)
    readiness = {"value": (False, "no partitions assigned")}

    async def scenario() -> list[httpx.Response]:
        server = HealthServer(metrics.registry, ready=lambda: readiness["value"],
                              host="127.0.0.1", port=0)
        await server.start()
        try:
            base = f"http://127.0.0.1:{server.port}"
            async with httpx.AsyncClient(base_url=base) as client:
                answers = [await client.get(p) for p in ("/metrics", "/healthz", "/readyz")]
                readiness["value"] = (True, "delivering")
                answers.append(await client.get("/readyz"))
                return answers
        finally:
            await server.stop()

    metrics_answer, health, unready, ready = asyncio.run(scenario())
    assert ('streamer_delivered_items_total{action="trackActivity",subscription="Orders"} 3.0'
            in metrics_answer.text)
    assert health.status_code == 200
    assert unready.status_code == 503 and unready.json()["reason"] == "no partitions assigned"
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(CollectorRegistry()), Metrics(CollectorRegistry())
    first.filtered.labels("no_subscription").inc()
    labels = {"reason": "no_subscription"}
    assert second.registry.get_sample_value("streamer_filtered_messages_total", labels) == 0.0
    assert first.registry.get_sample_value("streamer_filtered_messages_total", labels) == 1.0


def _scrape(metrics: Metrics, headers: dict[str, str], query: str = "") -> httpx.Response:
    async def scenario() -> httpx.Response:
        server = HealthServer(metrics.registry, ready=lambda: (True, "delivering"),
                              host="127.0.0.1", port=0)
        await server.start()
        try:
            # httpx would ask for gzip on its own: every header here is the test's choice.
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
                request = client.build_request("GET", "/metrics" + query)
                request.headers.clear()
                request.headers.update({"Host": "127.0.0.1", **headers})
                return await client.send(request)
        finally:
            await server.stop()

    return asyncio.run(scenario())


def test_metrics_negotiate_openmetrics_and_gzip() -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.consumed.labels("events").inc(7)
    plain = _scrape(metrics, {})
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "content-encoding" not in plain.headers
    assert 'streamer_consumed_messages_total{topic="events"} 7.0' in plain.text

    openmetrics = _scrape(metrics, {"Accept": "application/openmetrics-text; version=1.0.0"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.rstrip().endswith("# EOF")
    assert "# TYPE streamer_consumed_messages counter" in openmetrics.text

    zipped = _scrape(metrics, {"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    # httpx inflates it; the process' own figures move between two scrapes, streamer's do not.
    def streamer_lines(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("streamer_")]

    assert streamer_lines(zipped.text) == streamer_lines(plain.text) != []


def test_metrics_name_filter_and_process_collector() -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.key_refused.set(1)
    only = _scrape(metrics, {}, "?name[]=streamer_key_refused")
    samples = [line for line in only.text.splitlines() if not line.startswith("#")]
    assert samples == ["streamer_key_refused 1.0"]
    # The process collector lives in the pipeline's own registry (Linux: /proc).
    everything = _scrape(metrics, {}).text
    assert "process_resident_memory_bytes " in everything
    assert "process_open_fds " in everything
