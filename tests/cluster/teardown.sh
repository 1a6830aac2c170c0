#!/usr/bin/env bash
# Undoes everything a real-cluster run (tests/cluster/) did to this machine, from what the run
# recorded in RUN_DIR/cluster.env when it started. Idempotent: run by the harness at stop, by the
# watchdog when the run's owner died, and by the next run for a crashed run's leftovers. Every step
# tolerates having been done already.
# usage: teardown.sh RUN_DIR
set -u
RUN=$1
[ -f "$RUN/cluster.env" ] || exit 0
# shellcheck disable=SC1091 # written by tests/cluster/host.ts
source "$RUN/cluster.env"

# 1. The run's own processes (the watchdog did this already when it calls us; harmless again).
if [ -f "$RUN/pids" ]; then
  while read -r pid _; do [ -n "$pid" ] && [ "$pid" -gt 1 ] && kill -KILL -- "-$pid" 2>/dev/null; done <"$RUN/pids"
fi
# 2. The pods' processes: everything in the run's cgroup subtree, in every hierarchy, then the
#    containerd shims of this run's containerd (they run in sessions of their own).
for _ in 1 2 3; do
  for h in /sys/fs/cgroup/*/"$CGROUP_ROOT" /sys/fs/cgroup/unified/"$CGROUP_ROOT"; do
    [ -d "$h" ] || continue
    find "$h" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
  done
  pkill -KILL -f -- "-address $RUN/containerd/" 2>/dev/null
  sleep 0.2
done
# 3. Mounts under the run directory (kubelet's volumes, containerd's overlays and netns files),
#    deepest first.
awk -v r="$RUN/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
  umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
done
# 4. The run's cgroups, leaves first.
for h in /sys/fs/cgroup/*/"$CGROUP_ROOT" /sys/fs/cgroup/unified/"$CGROUP_ROOT"; do
  [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null
done
# 5. The network namespace, and with it every bridge, route and iptables rule inside.
ip netns delete "$NETNS" 2>/dev/null
# 6. Host settings kubelet changes, back to what they were.
for kv in $SYSCTLS; do sysctl -qw "$kv" >/dev/null 2>&1; done
# 7. Host paths kubelet, containerd and libcni create at fixed places, when this run created them.
for p in $CREATED_PATHS; do rm -rf -- "$p"; done
exit 0
