#!/bin/sh
# Runs every benchmark against the build in BUILD_DIR.
set -eu
build=${1:?usage: bench/run.sh BUILD_DIR}
"$build/bench/bench-launch" "$build/launcher/airlock" "${RUNS:-40}"
