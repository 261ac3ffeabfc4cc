#!/usr/bin/env bash
# Copyright 2026 The hydranet_perception Authors
# SPDX-License-Identifier: Apache-2.0
#
# Build the whole environment from nothing, idempotently: a venv with the pinned ROS 2
# Jazzy wheels, torch and the rest; the wheels' CMake files repaired; the interface
# package built with CMake and installed into the venv; the main package installed.
# Each step keeps a stamp (a hash of its inputs) in the venv and is skipped when the
# stamp matches, so a second run installs nothing and takes a few seconds.
#
# Usage: tools/setup.sh [VENV]    (default: $HYDRANET_VENV or .venv)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${1:-${HYDRANET_VENV:-$ROOT/.venv}}"
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
PY_BOOT="${PYTHON:-python3}"
STAMPS="$VENV/.hydranet-stamps"

log() { printf '[setup] %s\n' "$*"; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_set() { mkdir -p "$STAMPS"; echo "$2" > "$STAMPS/$1"; }

# 1. The venv (Python 3.11: the ROS wheels are built for CPython 3.11).
if [ ! -x "$VENV/bin/python" ]; then
  ver="$("$PY_BOOT" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if [ "$ver" != "3.11" ]; then
    echo "[setup] error: $PY_BOOT is Python $ver; the ROS 2 Jazzy wheels need CPython 3.11." \
      "Set PYTHON=/path/to/python3.11." >&2
    exit 1
  fi
  log "creating venv $VENV"
  "$PY_BOOT" -m venv "$VENV"
fi
PY="$VENV/bin/python"

# 2. Pinned requirements.
req_hash="$(hash_of "$ROOT/requirements/base.txt" "$ROOT/requirements/constraints.txt")"
if ! stamp_ok requirements "$req_hash"; then
  log "installing pinned requirements (first time: a few minutes; torch comes from local disk)"
  "$PY" -m pip install -q --disable-pip-version-check \
    -r "$ROOT/requirements/base.txt" -c "$ROOT/requirements/constraints.txt"
  stamp_set requirements "$req_hash"
  rm -f "$STAMPS/cmake-paths"
fi

# 2b. Test and benchmark extras (never dependencies of the package): Ultralytics (AGPL-3.0)
#     for the import-parity test and the peer benches, ByteTrack and the tracking scorers.
#     --no-deps: they would pull opencv-python beside the headless build already installed.
#     HYDRANET_NO_BENCH_EXTRAS=1 skips them (the tests that need them then skip, saying why).
bench_hash="$(hash_of "$ROOT/requirements/bench.txt")"
if [ -z "${HYDRANET_NO_BENCH_EXTRAS:-}" ] && ! stamp_ok bench-extras "$bench_hash"; then
  log "installing test/bench extras (requirements/bench.txt, --no-deps)"
  "$PY" -m pip install -q --disable-pip-version-check --no-deps -r "$ROOT/requirements/bench.txt"
  stamp_set bench-extras "$bench_hash"
fi

# 3. The wheels' exported CMake files point at the wheel builder's Python; repoint them.
if [ ! -f "$STAMPS/cmake-paths" ]; then
  log "repairing the ROS wheels' CMake paths"
  "$PY" - "$VENV" <<'EOF'
import pathlib
import sys
import sysconfig

venv = pathlib.Path(sys.argv[1])
paths = sysconfig.get_paths()
subst = {
    '/opt/python/cp311-cp311/include/python3.11': paths['include'],
    '/opt/python/cp311-cp311/lib/python3.11/site-packages': paths['purelib'],
}
fixed = 0
for f in (venv / 'share').rglob('*.cmake'):
    text = f.read_text()
    new = text
    for old, rep in subst.items():
        new = new.replace(old, rep)
    if new != text:
        f.write_text(new)
        fixed += 1
print(f'[setup] repaired {fixed} CMake files')
EOF
  stamp_set cmake-paths done
fi

# 4. The interface package, built with CMake into the venv.
msgs="$ROOT/hydranet_perception_msgs"
msgs_hash="$(hash_of "$msgs/CMakeLists.txt" "$msgs/package.xml" "$msgs"/msg/*.msg)"
if ! stamp_ok msgs "$msgs_hash"; then
  log "building hydranet_perception_msgs with CMake into the venv"
  build="$VENV/.hydranet-build/hydranet_perception_msgs"
  rm -rf "$build"; mkdir -p "$build"
  export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV"
  cmake -S "$msgs" -B "$build" -DCMAKE_INSTALL_PREFIX="$VENV" \
    -DPython3_EXECUTABLE="$PY" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release \
    > "$build.log" 2>&1 || { cat "$build.log"; exit 1; }
  cmake --build "$build" -j "$(nproc)" >> "$build.log" 2>&1 || { tail -50 "$build.log"; exit 1; }
  cmake --install "$build" >> "$build.log" 2>&1 || { tail -50 "$build.log"; exit 1; }
  stamp_set msgs "$msgs_hash"
fi

# 5. The main package, installed (not editable) so that share/ holds launch/, config/,
#    package.xml and the ament resource marker as users get them.
pkg="$ROOT/hydranet_perception"
pkg_hash="$(cd "$pkg" && find . -path ./build -prune -o -type f \
  ! -path '*/__pycache__/*' ! -path '*.egg-info*' ! -path './test/*' -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
if ! stamp_ok package "$pkg_hash"; then
  log "installing hydranet_perception into the venv"
  tmp="$(mktemp -d)"
  cp -r "$pkg" "$tmp/src"
  "$PY" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation \
    --force-reinstall "$tmp/src"
  rm -rf "$tmp"
  stamp_set package "$pkg_hash"
fi
log "ready: $VENV"
