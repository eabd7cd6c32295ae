#!/bin/sh
# scripts/deps.sh - install the Debian packages wdmsim needs, if missing.
# Used by `make run` / `make deps` and by .ci/run. Idempotent and quiet when
# everything is present; needs root (or sudo) only when something is missing.
# docs/dependencies.md says why each package is here.
set -e

PACKAGES="build-essential cmake ninja-build pkg-config clang clang-format
libcmocka-dev libinih-dev libhivex-dev libhivex-bin libdw-dev libelf-dev
libunwind-dev libzydis-dev libreadline-dev libjemalloc-dev libmimalloc-dev
python3 chromium"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "wdmsim: installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
