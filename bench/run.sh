#!/bin/sh
# Runs every benchmark against the build in BUILD_DIR.
set -eu
build=${1:?usage: bench/run.sh BUILD_DIR}
"$build/bench/bench-launch" "$build/launcher/airlock" "${RUNS:-40}"
echo
"$build/bench/bench-portal" "$build" "${PORTAL_FOLDERS:-200}" "${PORTAL_RUNS:-5}" "${PORTAL_SECONDS:-2}"
echo
"$build/bench/bench-proxy" "$build" "${PROXY_SETUPS:-500}" "${PROXY_MIB:-1024}" "${PROXY_ROUNDS:-3}"
