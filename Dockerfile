# syntax=docker/dockerfile:1
# streamer's container image. Two stages:
#   build   python:3.11-slim with gcc: builds the wheel, so setup.py compiles the hot path's
#           scans with mypyc (the compiled module is tied to CPython 3.11, hence the same base
#           below), and the wheels of the runtime dependencies;
#   runtime python:3.11-slim with only the wheels installed: no compiler, no pip cache, no
#           test or development dependency; runs as an unprivileged user.
# Build: docker build -t REGISTRY/streamer:0.1.0 .     (README: "Container image")
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY streamer ./streamer
# The build's isolated environment installs setuptools and mypy (pyproject.toml's
# build-system); the runtime dependencies become wheels next to streamer's own.
RUN pip wheel --no-cache-dir --wheel-dir /wheels . \
    && python -c "import sys, zipfile, glob; \
names = zipfile.ZipFile(glob.glob('/wheels/streamer-*.whl')[0]).namelist(); \
sys.exit(0 if any(n.startswith('streamer/actions/_scan.') and n.endswith('.so') for n in names) \
else 'the scans were not compiled')"

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels streamer \
    # The base image's build tools are not needed to run (pip stays, for inspection).
    && pip uninstall --yes setuptools wheel \
    && groupadd --system --gid 10001 streamer \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin streamer
USER 10001:10001
WORKDIR /tmp
EXPOSE 9108
ENTRYPOINT ["streamer"]
CMD ["run", "--config", "/etc/streamer/streamer.yaml"]
