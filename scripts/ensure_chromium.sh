#!/usr/bin/env bash
# The browser journeys run in Debian's chromium. When it is missing, install it (as root, or through
# sudo when sudo needs no password), or stop with one line saying what to run. `make test` calls this
# before anything else, so a machine without a browser never runs half the suite first.
set -euo pipefail

command -v chromium >/dev/null 2>&1 && exit 0

fail() {
  echo "make test needs Chromium for the browser tests: $1, then run make test again." >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "install it with your package manager (Debian and Ubuntu: apt-get install chromium)"

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  fail "run 'sudo apt-get install -y chromium'"
fi

echo "Chromium is missing: installing Debian's chromium package for the browser tests."
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
  || fail "apt-get could not install the chromium package; install Chromium so that 'chromium' is on the PATH"
command -v chromium >/dev/null 2>&1 \
  || fail "the chromium package is installed but no 'chromium' command is on the PATH; put one there"
