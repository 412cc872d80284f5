from __future__ import annotations

import asyncio

import httpx
from prometheus_client import CollectorRegistry

from streamer.observability import HealthServer, Metrics


def test_metrics_health_and_readiness_endpoints() -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.delivered.labels("trackActivity").inc(3)
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
    assert 'streamer_delivered_total{action="trackActivity"} 3.0' in metrics_answer.text
    assert health.status_code == 200
    assert unready.status_code == 503 and unready.json()["reason"] == "no partitions assigned"
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(CollectorRegistry()), Metrics(CollectorRegistry())
    first.filtered.labels("no_subscription").inc()
    labels = {"reason": "no_subscription"}
    assert second.registry.get_sample_value("streamer_filtered_total", labels) == 0.0
    assert first.registry.get_sample_value("streamer_filtered_total", labels) == 1.0
