"""The whole-system benchmark's pieces: the timestamp stamping of the latency scenario, the CPU
sampler, and one small run of the ceiling and of streamer end to end against the session's
broker and a lean sandbox (every event delivered once, nothing dead-lettered). Nothing here
asserts a speed."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.system import scenarios
from bench.system.events import produce, stamped
from bench.system.measure import CpuSampler
from bench.system.pipeline import API_KEY
from bench.system.report import markdown, print_table
from streamer.sandbox import SandboxProcess
from streamer.testing import KafkaCluster, sdk_records


def test_stamped_replaces_only_the_top_level_timestamp() -> None:
    for _, value in sdk_records(50, seed=2):
        before = orjson.loads(value)
        after = orjson.loads(stamped(value, b"2030-01-02T03:04:05.678Z"))
        assert after["timestamp"] == "2030-01-02T03:04:05.678Z"
        assert {**after, "timestamp": before["timestamp"]} == before


def test_the_sampler_cuts_a_child_s_cpu_out_of_a_window() -> None:
    burn = "import time\nwhile time.process_time() < 0.3:\n    pass\n"
    child = subprocess.Popen([sys.executable, "-c", burn])
    with CpuSampler({"child": child.pid}, interval=0.01) as sampler:
        child.wait(60)
    start, end = time.time() - 3600, time.time() + 1
    used = sampler.between("child", start, end)
    assert 0.25 <= used <= 2.0  # interpreter start-up included
    assert sampler.between("child", end, end + 5) == 0
    assert sampler.between("machine", start, end) >= used - 0.05


def test_a_small_run_delivers_every_event_once(
    kafka_broker: KafkaCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    total = produce(kafka_broker, topic, sdk_records(2_000, seed=3), 2)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    with SandboxProcess(api_keys=[API_KEY], ban=False, retain="keys", intake="lean") as sandbox:
        bench = scenarios.Bench(kafka_broker, sandbox, tmp_path, partitions=2, seconds=2)
        ceiling = scenarios.ceiling(bench, topic, total, runs=1)
        run = scenarios.end_to_end(bench, topic, ceiling, ordering=None)
    assert total == 2_000
    assert ceiling["runs"][0]["events"] == total and ceiling["cpu_us_per_event"] > 0
    assert run["events"] == total
    assert run["delivered_items"] == total
    assert run["dead_letters"] == 0 and run["throttled"] == 0
    assert run["cpu_us_per_event"] > 0 and run["rate_vs_ceiling"] > 0
    assert run["peak_rss_mb"][0] > 10
    assert run["ordering"] == "default (key not set)"
    # The table and the README's markdown of these figures.
    results = {"scenarios": {"ceiling": ceiling, "end_to_end": run}}
    print_table(results)
    table = capsys.readouterr().out
    assert "ceiling (bare consumer" in table and "streamer e2e, ordering default" in table
    assert f"{run['delivered_items']:,} items" in table
    assert f"({run['cpu_vs_ceiling']:.2f}x)" in markdown(results)


def test_delivery_ordering_is_set_only_when_asked() -> None:
    from bench.system.pipeline import Setting, config
    from streamer.config import parse_config

    default = config("127.0.0.1:9092", "t", "g", "http://127.0.0.1:1/v1", 0, Setting())
    assert "ordering" not in default["delivery"]
    parse_config(default, environ={})  # the generated configuration is valid as it stands
    chosen = config("127.0.0.1:9092", "t", "g", "http://127.0.0.1:1/v1", 0,
                    Setting(ordering="none", rate_per_s=20))
    assert chosen["delivery"] == {"ordering": "none", "rate_per_s": 20}


def test_runs_are_combined_figure_by_figure() -> None:
    runs = [
        {"events": 100, "cpu_us_per_event": 25.0, "rate_vs_ceiling": 0.50, "peak_rss_mb": [90.0],
         "ordering": "none", "events_per_s": 30_000.0},
        {"events": 100, "cpu_us_per_event": 21.0, "rate_vs_ceiling": 0.61, "peak_rss_mb": [95.0],
         "ordering": "none", "events_per_s": 36_000.0},
        {"events": 100, "cpu_us_per_event": 23.0, "rate_vs_ceiling": 0.55, "peak_rss_mb": [93.0],
         "ordering": "none", "events_per_s": 33_000.0},
    ]
    combined = scenarios.median_of_runs(runs)
    # Each figure is its own median: not the figures of one "median run".
    assert combined["cpu_us_per_event"] == 23.0 and combined["rate_vs_ceiling"] == 0.55
    assert combined["events_per_s"] == 33_000.0 and combined["events"] == 100
    assert combined["peak_rss_mb"] == [95.0]  # the highest peak of the process over its runs
    assert combined["ordering"] == "none"
    assert [r["cpu_us_per_event"] for r in combined["runs"]] == [25.0, 21.0, 23.0]
    assert scenarios.median_of_runs(runs[:1]) is runs[0]  # one run is reported as it is
    passes = [{"vs_budget": v, "throttled": t, "backlog_drained": d}
              for v, t, d in ((0.94, 0, False), (0.99, 2, True), (1.0, 0, False))]
    budget = scenarios.median_of_runs(passes)
    assert budget["vs_budget"] == 0.99
    assert budget["throttled"] == 2  # the worst pass: a 429 anywhere is a 429
    assert budget["backlog_drained"] is True  # a flag holds when any pass set it
    assert [r["throttled"] for r in budget["runs"]] == [0, 2, 0]


def test_ceilings_of_the_rounds_are_combined_run_by_run() -> None:
    rounds = [{"events": 1_000, "runs": [{"events": 1_000, "seconds": s, "cpu_s": c}]}
              for s, c in ((0.020, 0.0070), (0.016, 0.0090), (0.025, 0.0065))]
    combined = scenarios.median_of_ceilings(rounds)
    assert combined["events"] == 1_000
    assert combined["events_per_s"] == pytest.approx(50_000)  # 40,000 / 62,500 / 50,000
    assert combined["cpu_us_per_event"] == pytest.approx(7.0)  # 7.0 / 9.0 / 6.5
    assert combined["runs"] == [r["runs"][0] for r in rounds]  # each round's run is kept


@pytest.mark.parametrize(("before", "after", "rate_ratio", "cpu_ratio"), [
    ((50_000, 8.0), (50_000, 8.0), 0.8, 2.5),  # a steady machine: either ceiling
    ((60_000, 6.0), (40_000, 10.0), 0.8, 2.5),  # a drift across the run: the mean of both
    ((40_000, 10.0), (40_000, 10.0), 1.0, 2.0),
])
def test_a_run_is_compared_with_the_ceilings_around_it(
    before: tuple[float, float], after: tuple[float, float], rate_ratio: float, cpu_ratio: float
) -> None:
    def ceiling(rate: float, cpu: float) -> dict[str, float]:
        return {"events_per_s": rate, "cpu_us_per_event": cpu}

    run = {"events_per_s": 40_000.0, "cpu_us_per_event": 20.0, "ordering": "none"}
    compared = scenarios.against_ceilings(run, ceiling(*before), ceiling(*after))
    assert compared["rate_vs_ceiling"] == pytest.approx(rate_ratio)
    assert compared["cpu_vs_ceiling"] == pytest.approx(cpu_ratio)
    assert compared["ceiling_cpu_us_per_event"] == pytest.approx((before[1] + after[1]) / 2)
    assert {k: compared[k] for k in run} == run  # the run's own figures stay as they were
