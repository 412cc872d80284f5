"""Segment's own Ortto destination engine on a file of events: the anchor of the benchmark.

Run: ``python bench/segment_engine/run.py EVENTS.ndjson [--batch-size 500] [--passes 3]``
(``--install`` only fills the cache; ``--json`` prints the whole document).

``EVENTS.ndjson`` holds Segment events, one JSON object a line. ``engine.js`` (beside this
file) runs them through Segment's published packages, pinned in ``package.json`` and
``package-lock.json``: ``@segment/destination-subscriptions`` (the FQL trigger), the ``ortto``
destination of ``@segment/action-destinations`` on ``@segment/actions-core`` (mapping-kit's
transform, the schema validation, ``performBatch`` building the request), with the presets'
routing (identify -> ``upsertContactProfile``, track -> ``trackActivity``) or a list of
subscriptions, in batches of ``batch_size`` per subscription. The requests go over real HTTP to
a loopback server in a child process that answers 200 ``{"errors": []}`` as Ortto does; the
engine's CPU (``process.cpuUsage()``) excludes that server's. Each pass reads the file again;
JSON decoding is timed apart (``decode_*``, ``with_decode_*``); a warm-up pass over the first
``warmup`` events comes first and the figures are those of the median pass.

The packages are installed once, with ``npm ci --omit=dev --ignore-scripts``, into::

    $STREAMER_SEGMENT_ENGINE_CACHE
      (default: $XDG_CACHE_HOME/streamer/segment-engine or ~/.cache/streamer/segment-engine)
    └── <action-destinations version>-<hash of package-lock.json>/node_modules/

never into the repository; a ``.complete`` marker is written last and an exclusive ``flock``
on ``<dir>.lock`` makes two runs install once. Two overrides keep the pinned engine working:
``@aws-sdk/client-kinesis`` 3.974.0 (which action-destinations 3.497.0 pins, for a destination
the benchmark never loads) is not served by the registry here, so 3.970.0 stands in; and
``fast-uri`` from 3.1.6 on refuses ajv schema keys such as ``Ortto (Actions):...``, which makes
actions-core reject every payload, so 3.1.5 (the last before, as when 3.497.0 was published)
is used. The lock file pins everything else, so the figures do not drift with the registry.

:func:`measure` returns None (and prints one line to stderr saying why) where ``node`` or
``npm`` is missing or the install or the run fails; otherwise the figures as a dict.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "ensure_engine", "installed_engine", "measure"]

HERE = Path(__file__).resolve().parent
ENGINE_JS = HERE / "engine.js"
_PACKAGE_FILES = ("package.json", "package-lock.json")
_COMPLETE_MARKER = ".complete"
_INSTALL_TIMEOUT_S = 900.0  # about 40 s here: 182 packages, 118 MB
_RUN_TIMEOUT_S = 3600.0
_OUTPUT_TAIL_CHARS = 2000


class EngineUnavailable(Exception):
    """Segment's engine cannot run here; the message says why, on one line."""


def cache_dir() -> Path:
    """Where this version of the engine is (or would be) installed."""
    override = os.environ.get("STREAMER_SEGMENT_ENGINE_CACHE")
    if override:
        root = Path(override).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "streamer" / "segment-engine"
    package = json.loads((HERE / "package.json").read_text())
    version = package["dependencies"]["@segment/action-destinations"]
    lock = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()[:12]
    return root / f"{version}-{lock}"


def installed_engine() -> Path | None:
    """The installed ``node_modules``, or None when it is not (completely) installed."""
    directory = cache_dir()
    if (directory / _COMPLETE_MARKER).is_file():
        return directory / "node_modules"
    return None


def ensure_engine() -> Path:
    """The installed ``node_modules``, installing it first where needed (about a minute, once).

    Raises :class:`EngineUnavailable` when ``node`` or ``npm`` is missing or ``npm ci`` fails.
    """
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise EngineUnavailable(f"{tool} is not on PATH")
    directory = cache_dir()
    if (directory / _COMPLETE_MARKER).is_file():
        return directory / "node_modules"
    directory.parent.mkdir(parents=True, exist_ok=True)
    with directory.with_name(directory.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Another process may have finished the install while this one waited for the lock.
        if not (directory / _COMPLETE_MARKER).is_file():
            _install(directory)
    return directory / "node_modules"


def _install(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)  # a half-done install is redone whole
    directory.mkdir()
    for name in _PACKAGE_FILES:
        shutil.copyfile(HERE / name, directory / name)
    command = ["npm", "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund",
               "--loglevel=error"]
    try:
        done = subprocess.run(command, cwd=directory, capture_output=True, text=True,
                              timeout=_INSTALL_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise EngineUnavailable(f"npm ci timed out after {exc.timeout:.0f} s") from exc
    except OSError as exc:
        raise EngineUnavailable(f"npm could not be started: {exc}") from exc
    if done.returncode != 0:
        tail = " ".join((done.stderr or done.stdout).split())[-_OUTPUT_TAIL_CHARS:]
        raise EngineUnavailable(f"npm ci failed ({done.returncode}): {tail}")
    (directory / _COMPLETE_MARKER).write_text(directory.name + "\n")


def run_engine(
    events_path: Path,
    batch_size: int = 500,
    *,
    subscriptions: str = "presets",
    passes: int = 3,
    warmup: int = 20_000,
    limit: int | None = None,
    dump: Path | None = None,
) -> dict[str, Any]:
    """Run ``engine.js`` on ``events_path``; raises :class:`EngineUnavailable` on any failure.

    ``subscriptions`` is ``"presets"`` or the path of a JSON list of
    ``{name, subscribe, partnerAction, mapping}``. With ``dump``, the loopback server writes
    every request it receives (``method``, ``path``, ``auth``, ``body``) to that file, one JSON
    object a line, and a single pass runs without warm-up. ``limit`` measures only the first
    ``limit`` events of the file: a pass costs about 60 us of CPU per 1 KB event (100,000
    events: about 6 s of CPU, more in wall-clock time on a loaded machine).
    """
    node_modules = ensure_engine()
    if not events_path.is_file():
        raise EngineUnavailable(f"{events_path}: no such file")
    command = ["node", str(ENGINE_JS), "--events", str(events_path),
               "--batch-size", str(batch_size), "--passes", str(passes),
               "--warmup", str(warmup), "--subscriptions", subscriptions]
    if limit is not None:
        command += ["--limit", str(limit)]
    if dump is not None:
        command += ["--dump", str(dump)]
    env = {**os.environ, "NODE_PATH": str(node_modules)}
    # The destination reads these: a key from the environment would change nothing measured,
    # but keep the run's settings the ones this driver sets.
    env.pop("ORTTO_API_KEY", None)
    env.pop("ORTTO_LOCAL_ENDPOINT", None)
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env,
                              timeout=_RUN_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise EngineUnavailable(f"engine.js timed out after {exc.timeout:.0f} s") from exc
    except OSError as exc:
        raise EngineUnavailable(f"node could not be started: {exc}") from exc
    if done.returncode != 0:
        tail = " ".join(done.stderr.split())[-_OUTPUT_TAIL_CHARS:]
        raise EngineUnavailable(f"engine.js failed ({done.returncode}): {tail}")
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except ValueError as exc:
        raise EngineUnavailable(f"engine.js printed no JSON document: {exc}") from exc
    return result


def measure(
    events_path: Path,
    batch_size: int = 500,
    *,
    subscriptions: str = "presets",
    passes: int = 3,
    warmup: int = 20_000,
    limit: int | None = None,
    dump: Path | None = None,
) -> dict[str, Any] | None:
    """Segment's engine's figures on ``events_path``, or None (the reason on stderr).

    Keys: ``events``, ``routed`` (events some subscription matched), ``accepted``,
    ``rejected`` (+ ``rejections`` by message), ``requests``, ``items`` and ``bytes`` (what the
    loopback server received), ``seconds``, ``events_per_s``, ``cpu_s``, ``cpu_us_per_event``
    (the engine without JSON decoding), ``decode_seconds``, ``decode_cpu_us_per_event``,
    ``with_decode_events_per_s``, ``with_decode_cpu_us_per_event``, ``server_cpu_s``,
    ``passes`` (each pass's figures), ``intercept`` and ``versions`` (node and the packages).
    """
    try:
        return run_engine(events_path, batch_size, subscriptions=subscriptions, passes=passes,
                          warmup=warmup, limit=limit, dump=dump)
    except EngineUnavailable as exc:
        print(f"segment engine: not measured: {exc}", file=sys.stderr)
        return None


def _print_figures(result: dict[str, Any]) -> None:
    versions = ", ".join(f"{name} {version}" for name, version in result["versions"].items())
    print(f"Segment's engine ({versions})")
    print(f"  {result['events']:,} events, {result['routed']:,} routed, "
          f"{result['accepted']:,} accepted, {result['rejected']:,} rejected; "
          f"{result['requests']:,} requests, {result['items']:,} items, "
          f"{result['bytes'] / 1e6:.1f} MB (batch size {result['batch_size']})")
    for reason, count in result["rejections"].items():
        print(f"  rejected {count:,}: {reason}")
    print(f"  engine:        {result['events_per_s']:>10,.0f} events/s  "
          f"{result['cpu_us_per_event']:>6.1f} us CPU/event  (median of "
          f"{len(result['passes'])} passes, {result['seconds']:.2f} s)")
    print(f"  JSON decoding:                   {result['decode_cpu_us_per_event']:>6.1f} us "
          "CPU/event")
    print(f"  with decoding: {result['with_decode_events_per_s']:>10,.0f} events/s  "
          f"{result['with_decode_cpu_us_per_event']:>6.1f} us CPU/event")
    print(f"  loopback sink: {result['server_cpu_s']:.2f} s CPU (not counted); "
          f"{result['intercept']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", type=Path, nargs="?", help="Segment events, one JSON a line")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20_000, help="events of the warm-up pass")
    parser.add_argument("--limit", type=int, help="measure only the first N events")
    parser.add_argument("--subscriptions", default="presets",
                        help="'presets' or a JSON file: a list of {name, subscribe, "
                             "partnerAction, mapping}")
    parser.add_argument("--install", action="store_true", help="only install the engine")
    parser.add_argument("--json", action="store_true", help="print the whole JSON document")
    args = parser.parse_args(argv)
    if args.install:
        try:
            print(ensure_engine())
        except EngineUnavailable as exc:
            print(f"segment engine: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.events is None:
        parser.error("the events file is required (or --install)")
    result = measure(args.events, args.batch_size, subscriptions=args.subscriptions,
                     passes=args.passes, warmup=args.warmup, limit=args.limit)
    if result is None:
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_figures(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
