#!/usr/bin/env bash
# Airlock on a fresh Debian 12 machine: installs what it needs (apt), builds
# it, and runs the demo, the whole test suite or the benchmarks.
#
#   sudo ./setup.sh demo    install, build, run a demo agent in a sandbox
#   sudo ./setup.sh test    install, build, run every test (ends "N passed, N failed")
#   sudo ./setup.sh bench   install, build, run the benchmarks
#   sudo ./setup.sh deps    only install the packages
#
# Airlock runs as the person who uses it, never as root. Under sudo the build
# and runs happen as $SUDO_USER; as plain root (CI) they happen as a dedicated
# unprivileged user, airlock-user, created when missing.
set -euo pipefail

command=${1:-}
case "$command" in
  demo|test|bench|deps) ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

source_dir=$(cd "$(dirname "$0")" && pwd)

# Build, run and test dependencies, all from Debian 12.
packages=(
  meson ninja-build pkg-config g++ gcc gcc-multilib
  libglib2.0-dev libglib2.0-bin libseccomp-dev libsqlite3-dev
  libsecret-1-dev libgcrypt20-dev libgnutls28-dev
  gnome-keyring  # a real Secret Service for the secret tests, on their private bus
  glib-networking  # GIO's TLS backend: the proxy's credential injection intercepts TLS with it
  googletest libgtest-dev libgmock-dev
  bubblewrap dbus-daemon util-linux procps passwd bash coreutils python3 curl git ca-certificates
  socat ripgrep  # for bench-proxy's run of sandbox-runtime, which needs them
  # airlock-gui: Qt 6, its translations, desktop-file and AppStream checks,
  # a terminal for "New Session…", and Xvfb for gui/screenshots.sh
  qt6-base-dev qt6-base-dev-tools libgl-dev gettext desktop-file-utils appstream xterm xvfb
)
# The agents' runtime, from Debian unless a node with npm is there already
# (a newer nodejs package bundles its own npm and conflicts with Debian's).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

log() { printf '\n==> %s\n' "$*" >&2; }

install_packages() {
  local missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: installing ${missing[*]} needs root: run 'sudo ./setup.sh $command'" >&2
    exit 1
  fi
  log "Installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Who builds and runs: the person behind sudo, else a dedicated user.
choose_user() {
  if [ "$(id -u)" -ne 0 ]; then
    run_user=$(id -un)
  elif [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    run_user=$SUDO_USER
  else
    run_user=airlock-user
    if ! id "$run_user" >/dev/null 2>&1; then
      log "Creating the unprivileged user $run_user to build and run Airlock"
      useradd --create-home --shell /bin/bash "$run_user"
    fi
  fi
}

as_user() {
  if [ "$(id -un)" = "$run_user" ]; then
    "$@"
  else
    runuser -u "$run_user" -- "$@"
  fi
}

# The build happens where the user can write: the source tree itself, or a
# copy of it that the user owns.
prepare_tree() {
  if as_user test -w "$source_dir"; then
    work_dir=$source_dir
  else
    work_dir=$(as_user sh -c 'echo "${TMPDIR:-/var/tmp}"')/airlock-src-$run_user
    log "Copying the sources to $work_dir for $run_user"
    rm -rf "$work_dir"
    mkdir -p "$work_dir"
    (cd "$source_dir" && tar --exclude=./build --exclude=./build-asan -cf - .) | tar -C "$work_dir" -xf -
    chown -R "$run_user:" "$work_dir"
  fi
}

build() {
  local dir=$1; shift
  if [ ! -f "$work_dir/$dir/build.ninja" ]; then
    as_user meson setup "$work_dir/$dir" "$work_dir" "$@" >/dev/null
  fi
  log "Building in $work_dir/$dir"
  as_user meson compile -C "$work_dir/$dir"
}

# Every test case of a meson test run, from its JUnit log.
count_results() {
  python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        failed += 1
        continue
    for case in root.iter('testcase'):
        if case.find('failure') is not None or case.find('error') is not None:
            failed += 1
        elif case.find('skipped') is not None:
            skipped += 1
        else:
            passed += 1
print(f"{passed} {failed} {skipped}")
PY
}

run_tests() {
  install_agents
  build build
  # Only the unit suite runs under the sanitizers: the GUI is not built there.
  build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug -Dgui=false
  local status=0
  log "Unit and integration tests (as $run_user)"
  as_user meson test -C "$work_dir/build" --print-errorlogs --num-processes 2 || status=1
  log "Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
  as_user env ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C "$work_dir/build-asan" --suite unit --print-errorlogs || status=1
  read -r passed failed skipped < <(count_results "$work_dir/build/meson-logs/testlog.junit.xml" \
                                                  "$work_dir/build-asan/meson-logs/testlog.junit.xml")
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  echo
  echo "$passed passed, $failed failed, $skipped skipped"
  return "$status"
}

# The real agents the shipped profiles are for, installed the way their users
# install them: npm global installs into the user's own prefix.
install_agents() {
  local prefix
  prefix=$(as_user sh -c 'echo "$HOME/.npm-global"')
  if [ -x "$prefix/bin/claude" ] && [ -x "$prefix/bin/codex" ] && [ -x "$prefix/bin/gemini" ] &&
     [ -x "$prefix/bin/opencode" ]; then
    return 0
  fi
  log "Installing Claude Code, Codex CLI, Gemini CLI and opencode from the npm registry into $prefix"
  as_user npm install --global --prefix "$prefix" --no-audit --no-fund --loglevel=error \
    @anthropic-ai/claude-code @openai/codex @google/gemini-cli opencode-ai ||
    echo "setup.sh: the npm install of the agents failed; their tests will say so" >&2
}

run_demo() {
  build build
  local workspace services
  workspace=$(as_user mktemp -d "${TMPDIR:-/tmp}/airlock-demo-XXXXXX")
  # A private session bus that starts the portal of this build on demand,
  # as the installed D-Bus service file does on a desktop.
  services=$(as_user mktemp -d "${TMPDIR:-/tmp}/airlock-demo-bus-XXXXXX")
  as_user mkdir -p "$services/dbus-1/services"
  printf '[D-BUS Service]\nName=org.airlock.Portal\nExec=%s\n' "$work_dir/build/portal/airlock-portal" |
    as_user tee "$services/dbus-1/services/org.airlock.Portal.service" >/dev/null
  log "Running the demo agent in a sandbox (as $run_user)"
  echo "   airlock prompt --answer=allow --scope=once --kind=folder --resource=$work_dir/policies &" >&2
  echo "   airlock run --task 'demo' --ro $work_dir/README.md --rw $workspace -- examples/demo-agent.sh" >&2
  as_user env XDG_DATA_DIRS="$services:/usr/share" dbus-run-session -- \
    meson devenv -C "$work_dir/build" --workdir "$workspace" sh -c '
      airlock prompt --answer=allow --scope=once --kind=folder --resource="$1/policies" > "$3/prompt.out" &
      prompter=$!
      tries=0
      until grep -q ready "$3/prompt.out" 2>/dev/null || [ $tries -ge 200 ]; do sleep 0.05; tries=$((tries + 1)); done
      airlock run --task "demo: show what an agent can see" --ro "$1/README.md" --rw "$2" -- \
        "$1/examples/demo-agent.sh" "$1/README.md" "$1/policies"
      status=$?
      kill $prompter 2>/dev/null
      exit $status' demo "$work_dir" "$workspace" "$services" 2>&1 | grep -v '^dbus-daemon\['
  rm -rf "$services"
  echo
  echo "The agent wrote $(ls "$workspace" | tr '\n' ' ')into $workspace on the host."
}

install_packages
[ "$command" = deps ] && exit 0
choose_user
prepare_tree
case "$command" in
  demo) run_demo ;;
  test) run_tests ;;
  bench) build build; as_user "$work_dir/bench/run.sh" "$work_dir/build" ;;
esac
