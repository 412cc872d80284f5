#!/usr/bin/env bash
# Pre-fetch the jars of the local Apache Kafka broker that the tests and the demo start
# (streamer/testing/_jars.py), so that Maven's download happens once, here, and not inside a test's
# timeout. Idempotent: a complete cache (~/.cache/streamer/kafka-<version>/.complete, or under
# $STREAMER_KAFKA_CACHE) returns at once.
#
# Usage: bash .ci/kafka-jars.sh            (after the venv has streamer installed)
#        PYTHON=/path/to/python bash .ci/kafka-jars.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}

# The broker needs Java 17+ and the fetch needs Maven; the project's machines have both, but a
# fresh machine of another kind may not.
if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
  echo "kafka-jars: installing Java and Maven from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
fi

# A registry hiccup should not fail CI: try the fetch up to three times.
for attempt in 1 2 3; do
  if "$python" -m streamer.testing fetch; then
    exit 0
  fi
  echo "kafka-jars: fetch attempt $attempt failed" >&2
  sleep $((attempt * 5))
done
exit 1
