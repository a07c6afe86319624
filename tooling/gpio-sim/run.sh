#!/bin/bash
# run.sh [--wire OUT:IN]... -- command [args...]
# Runs the command where /sys/class/gpio is a gpio-sim: in a private mount namespace (a user
# namespace maps us to root there), over a tmpfs that hides the real /sys/class from this
# command only. Nothing outside the namespace sees a change.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wires=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do wires+=("$1"); shift; done
[ $# -gt 0 ] && shift
exec unshare --map-root-user --mount --propagation private bash -c '
  set -euo pipefail
  sim="$1"; shift
  nwires="$1"; shift
  wires=("${@:1:$nwires}"); shift "$nwires"
  mount -t tmpfs gpio-sim-class /sys/class
  mkdir /sys/class/gpio
  "$sim" /sys/class/gpio -f -s "${wires[@]}" &
  simpid=$!
  for _ in $(seq 100); do [ -e /sys/class/gpio/export ] && break; sleep 0.05; done
  if ! [ -e /sys/class/gpio/export ]; then echo "gpio-sim did not mount (it needs /dev/fuse)" >&2; exit 1; fi
  rc=0
  "$@" || rc=$?
  umount -l /sys/class/gpio
  wait "$simpid" || true
  exit "$rc"
' run.sh "$here/build/gpio-sim" "${#wires[@]}" "${wires[@]}" "$@"
