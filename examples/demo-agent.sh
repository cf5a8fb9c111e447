#!/bin/sh
# A stand-in for an AI agent: it looks around the sandbox it was started in
# and reports what it can and cannot reach, then asks the portal for a
# folder it was not given. `./setup.sh demo` runs it as
#   airlock run --ro README.md --rw WORKSPACE -- examples/demo-agent.sh README.md FOLDER
# while `airlock prompt` answers its request for FOLDER from a script.
readme=${1:?usage: demo-agent.sh GRANTED-FILE [FOLDER-TO-ASK-FOR]}
folder=${2:-}

check() {  # check "what" expected-outcome command...
  what=$1; expected=$2; shift 2
  if "$@" >/dev/null 2>&1; then got=yes; else got=no; fi
  if [ "$got" = "$expected" ]; then mark="ok  "; else mark="FAIL"; fi
  printf '  [%s] %-52s %s\n' "$mark" "$what" "$([ "$got" = yes ] && echo reachable || echo blocked)"
}

echo "demo agent: running as $(id -un) in $(pwd), task: ${AIRLOCK_TASK:-none}"
echo "What the person granted:"
check "read the granted file $(basename "$readme")" yes head -n 1 "$readme"
check "write into the read-only grant" no sh -c "echo x >> '$readme'"
check "write into the workspace (read-write grant)" yes sh -c 'echo "written by the demo agent" > demo-output.txt'
echo "What it must never see:"
check "list the real home directory" no sh -c 'ls -A "$HOME" | grep -q .'
check "read ~/.ssh" no ls "$HOME/.ssh"
check "read /etc/shadow" no cat /etc/shadow
check "reach the session bus" no test -S "/run/user/$(id -u)/bus"
check "open a TCP connection (no network)" no bash -c 'exec 3<>/dev/tcp/127.0.0.1/22'
check "see host processes" no sh -c '[ "$(ls /proc | grep -c "^[0-9]")" -gt 6 ]'
check "write outside home, /tmp and grants" no mkdir /etc/planted
check "create a user namespace" no unshare --user true
if [ -n "$folder" ]; then
  echo "What it asks for while it runs:"
  check "see $(basename "$folder") before asking" no ls "$folder"
  check "ask the portal for $(basename "$folder") (read-only)" yes \
    airlock-request folder "$folder" --reason "the demo wants to read the shipped policies"
  check "read $(basename "$folder") once granted" yes ls "$folder"
  check "write into it (granted read-only)" no touch "$folder/planted"
fi
echo "Done: the agent had exactly what it was given."
