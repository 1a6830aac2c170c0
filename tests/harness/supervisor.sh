#!/usr/bin/env bash
# The harness's watchdog: started by the process that owns a harness run, with a pipe on stdin
# that only the owner holds. When the pipe reaches EOF the owner is gone, however it went (Ctrl-C,
# SIGHUP from a closed terminal, SIGTERM, SIGKILL, a crash): kill every process group the run
# recorded in its pids file, then remove the run's directories. After a clean stop there is
# nothing left to do and it simply exits. It runs in a session of its own (spawned detached), so
# the signal that ends the owner's terminal does not end it too.
# usage: supervisor.sh PIDS_FILE [--teardown RUN_DIR] [DIR_TO_REMOVE...]
# --teardown: a real-cluster run's directory whose host changes to undo even when the directory
# itself is kept (KUIK_KEEP_HARNESS=1).
set -u
while read -r _; do :; done
pids=()
if [ -f "$1" ]; then
  while read -r pid _; do
    [ -n "$pid" ] && [ "$pid" -gt 1 ] && pids+=("$pid")
  done <"$1"
fi
shift
teardown=()
while [ "${1:-}" = --teardown ]; do teardown+=("$2"); shift 2; done
for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
# A grace period for a clean exit (etcd, the apiserver), then SIGKILL whatever is left.
for _ in $(seq 50); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && break
  sleep 0.1
done
for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
# A real-cluster run (tests/cluster/) also changed the host: network namespace, mounts, cgroups,
# sysctls. Its teardown script undoes them from what the run recorded.
for d in "${teardown[@]}" "$@"; do
  if [ -f "$d/cluster.env" ]; then bash "$(dirname "$0")/../cluster/teardown.sh" "$d"; fi
done
rm -rf -- "$@"
