"""The container image's recipe (Dockerfile, .dockerignore), tested without a container engine.

What can be checked here: the image's contract (base, user, entrypoint, default command, the
build context) read from the Dockerfile itself, and, the slow part, that the wheel the build
stage makes installs into a clean virtualenv with only its runtime dependencies and runs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_DEV_ONLY = {"pytest", "pytest-timeout", "hypothesis", "mypy", "ruff", "types-pyyaml", "gcc"}


def _stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions (continuations joined), one list per stage."""
    # As Docker reads it: comment lines go first (also inside a continued instruction).
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines()
             if not line.lstrip().startswith("#")]
    text = "\n".join(lines).replace("\\\n", " ")
    stages: list[list[tuple[str, str]]] = [[]]
    for line in text.splitlines():
        if not line.strip():
            continue
        keyword, _, rest = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), rest.strip()))
    return stages


def test_the_image_runs_streamer_unprivileged_on_python_311_slim() -> None:
    preamble, build, runtime = _stages()
    args = dict(a.split("=", 1) for k, a in preamble if k == "ARG")
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    assert build[0] == ("FROM", "${PYTHON_IMAGE} AS build")
    assert runtime[0] == ("FROM", "${PYTHON_IMAGE} AS runtime")
    final = dict(runtime)
    assert json.loads(final["ENTRYPOINT"]) == ["streamer"]
    assert json.loads(final["CMD"]) == ["run", "--config", "/etc/streamer/streamer.yaml"]
    user = final["USER"].split(":")[0]
    assert user not in {"root", "0"}
    # No compiler and no development extra in the image; the build stage has gcc for mypyc.
    runtime_runs = " ".join(r for k, r in runtime if k == "RUN")
    assert "gcc" not in runtime_runs and "[dev]" not in runtime_runs
    assert "--no-index" in shlex.split(runtime_runs)
    assert "gcc" in " ".join(r for k, r in build if k == "RUN")


def test_the_build_context_holds_what_the_build_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line for line in ignore if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", "the context excludes everything it does not name"
    included = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    _, build, _ = _stages()
    for keyword, rest in build:
        if keyword == "COPY":
            *sources, _target = rest.split()
            for source in sources:
                assert source.rstrip("/") in included, f"{source} is excluded from the context"
                assert (ROOT / source).exists()


# What a fresh clone does not hold: a build that only works beside them is not a build.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".bench", "build",
    "__pycache__", "*.egg-info", "*.so",
)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # an isolated build (setuptools, mypy, mypyc) and a fresh install
def test_the_wheel_installs_and_runs_with_only_runtime_dependencies(tmp_path: Path) -> None:
    # Built as on a fresh machine: from a copy of the source alone, by an interpreter that has
    # none of streamer's dependencies. A mypy cache in the tree, or orjson installed beside
    # the build, once hid that the isolated build could not compile the hot path.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    # Outside the repository, so that the source tree cannot shadow the installed package.
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    wheels = tmp_path / "wheels"
    subprocess.run([bin_dir / "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels),
                    str(source)], check=True, timeout=600, cwd=tmp_path, env=clean)
    (wheel,) = wheels.glob("streamer-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert not any(n.startswith("tests/") for n in names)
    listed = re.findall(r'^    "(streamer/[\w/]+)\.py",$', (ROOT / "setup.py").read_text(), re.M)
    assert "streamer/actions/_scan" in listed
    built = {m for m in listed if any(n.startswith(f"{m}.") and n.endswith(".so") for n in names)}
    compiled = bool(built)
    if shutil.which("gcc") or shutil.which("cc"):
        assert built == set(listed), (
            "a C compiler is here: the wheel must carry every module setup.py compiles "
            f"({sorted(set(listed) - built)} missing)")

    subprocess.run([bin_dir / "pip", "install", "--quiet", str(wheel)], check=True, timeout=600,
                   cwd=tmp_path, env=clean)
    versions = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(
        subprocess.run([bin_dir / "pip", "list", "--format", "json"], capture_output=True,
                       text=True, check=True, cwd=tmp_path, env=clean).stdout)}
    installed = set(versions)
    assert {"streamer", "confluent-kafka", "prometheus-client"} <= installed
    assert not installed & _DEV_ONLY

    def streamer(*args: str) -> str:
        answer = subprocess.run([bin_dir / "streamer", *args], capture_output=True, text=True,
                                timeout=60, cwd=tmp_path, env=clean, check=False)
        assert answer.returncode == 0, answer.stderr
        return answer.stdout

    assert streamer("--version").strip() == f"streamer {versions['streamer']}"
    assert "run" in streamer("--help")
    assert "--config" in streamer("run", "--help")
    # aiohttp is the sender's HTTP client: installed with streamer, so the sandbox runs too.
    assert "aiohttp" in installed
    sandbox = subprocess.run([bin_dir / "streamer", "sandbox", "--help"], capture_output=True,
                             text=True, timeout=60, cwd=tmp_path, env=clean, check=False)
    assert sandbox.returncode == 0, sandbox.stderr
    flavour = subprocess.run(
        [bin_dir / "python", "-c", "from streamer.actions import _scan; print(_scan.COMPILED)"],
        capture_output=True, text=True, check=True, cwd=tmp_path, env=clean).stdout.strip()
    assert flavour == str(compiled)
