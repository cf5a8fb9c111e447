#!/usr/bin/env bash
# Renders the README's screenshots of airlock-gui into a folder (default
# doc/screenshots): Xvfb, a private session bus that starts this build's
# portal, two real agents in real sandboxes asking, and
# airlock-gui-screenshots grabbing the prompt and the session manager in
# the light and the dark palette. Run it as a normal user, from a build:
#
#   gui/screenshots.sh BUILD_DIR [OUTPUT_DIR]
set -euo pipefail

build=$(cd "${1:?usage: gui/screenshots.sh BUILD_DIR [OUTPUT_DIR]}" && pwd)
source_dir=$(cd "$(dirname "$0")/.." && pwd)
output=$(mkdir -p "${2:-$source_dir/doc/screenshots}" && cd "${2:-$source_dir/doc/screenshots}" && pwd)
[ "$(id -u)" -ne 0 ] || { echo "screenshots.sh: run it as a normal user: agents never run as root" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/airlock-shots-XXXXXX")
cleanup() {
  [ -n "${xvfb:-}" ] && kill "$xvfb" 2>/dev/null
  rm -rf "$scratch"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT

# A home with a project, the kind of thing agents ask for, and a key they should not see.
export HOME=$scratch/home XDG_RUNTIME_DIR=$scratch/run XDG_DATA_HOME=$scratch/data XDG_CONFIG_HOME=$scratch/config
mkdir -p "$HOME/src/timekeeper/tests/fixtures" "$HOME/.ssh" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/airlock" "$scratch/share/dbus-1/services"
chmod 700 "$XDG_RUNTIME_DIR"
echo "2024-02-29T12:00:00Z" > "$HOME/src/timekeeper/tests/fixtures/leap-day.txt"
echo "github.com ssh-ed25519 AAAA" > "$HOME/.ssh/known_hosts"
printf '[Rule known-hosts]\nKind=file\nMatch=~/.ssh/known_hosts;\nDecision=ask\nOverride=deny-list\n' \
  > "$XDG_CONFIG_HOME/airlock/airlock.policy"
printf '[D-BUS Service]\nName=org.airlock.Portal\nExec=%s\n' "$build/portal/airlock-portal" \
  > "$scratch/share/dbus-1/services/org.airlock.Portal.service"
export XDG_DATA_DIRS=$scratch/share:/usr/share
export AIRLOCK_PROFILE_PATH=$source_dir/policies/profiles AIRLOCK_DEFAULT_POLICY=$source_dir/policies/default.policy
# SHOTS_LANGUAGE=de renders them in German.
export AIRLOCK_LOCALEDIR=$build/po LANGUAGE=${SHOTS_LANGUAGE:-en} LC_ALL=C.UTF-8 AIRLOCK_PROMPT_TIMEOUT=120

if command -v Xvfb >/dev/null; then
  display=:$((90 + RANDOM % 100))
  Xvfb "$display" -screen 0 1600x1200x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  sleep 1
  export DISPLAY=$display QT_QPA_PLATFORM=xcb
else
  echo "screenshots.sh: no Xvfb; rendering offscreen" >&2
  export QT_QPA_PLATFORM=offscreen
fi

dbus-run-session -- bash -c '
  set -u
  "$1/gui/airlock-gui-screenshots" "$2" > "$3/gui.out" &
  gui=$!
  for _ in $(seq 100); do grep -q ready "$3/gui.out" 2>/dev/null && break; sleep 0.1; done
  "$1/launcher/airlock" run --profile claude --task "Fix the failing date parser test" -- sh -c \
    "airlock-request folder $HOME/src/timekeeper --rw --reason \"I need the test fixtures to see why parsing 29 February fails\"; sleep 60" \
    > "$3/agent1.log" 2>&1 &
  sleep 1.5
  "$1/launcher/airlock" run --profile codex --task "Set up deploy keys" -- sh -c \
    "airlock-request file $HOME/.ssh/known_hosts --reason \"To add github.com to known hosts.\"; sleep 60" \
    > "$3/agent2.log" 2>&1 &
  wait $gui
  status=$?
  kill %2 %3 2>/dev/null
  exit $status
' screenshots "$build" "$output" "$scratch"
echo "screenshots in $output:"
ls "$output"
