#!/usr/bin/env bash
# Builds everything the real-cluster harness (tests/cluster/) runs that Debian does not package,
# from Go modules, cached under $HOME/.cache by version so that only the first run pays:
#   - the node's Kubernetes commands (kubelet, kube-proxy, kube-controller-manager, kube-scheduler),
#     sharing the Go build cache with kube-apiserver's build (tests/kubebins/build.sh);
#   - CoreDNS, as a small main that links only the plugins a cluster-local Corefile uses (no
#     `forward`: nothing leaves the cluster);
#   - Knative Eventing's and Serving's commands, and Traefik (Serving's networking layer);
#   - containerd 2 and its runc shim (Debian's 1.6 cannot mount image volumes), with ctr;
#   - a pause binary (tests/cluster/pause), for the pod sandbox image;
#   - the YAML those commands are deployed with, copied out of the same modules.
# Images are packed from these binaries by tests/cluster/images.ts, not here.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../go-env.sh
source tests/go-env.sh
ROOT=$PWD
# One build at a time on a machine: the test run starts this beside its first phases, and
# `npm start -- --cluster` or a second run may start it too; the later one waits, then finds the cache.
mkdir -p "$CACHE"
exec 9>"$CACHE/.cluster-build.lock"
flock 9

KUBEBINS_DIR="$CACHE/kubebins-node/v$K8S_VERSION" K8S_VERSION=$K8S_VERSION \
  KUBEBINS_CMDS="kubelet kube-proxy kube-controller-manager kube-scheduler" bash tests/kubebins/build.sh

moddir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }

# A module's own `replace` and `exclude` lines apply only when it is the main module: the wrapper
# copies them (Traefik replaces three forks, whose originals the proxy refuses).
inherit_replaces() {
  local gomod
  gomod=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  awk '
    /^replace \(/ {r=1; next} /^exclude \(/ {e=1; next} /^\)/ {r=0; e=0; next}
    /^replace / {sub(/^replace /, ""); print "r " $0; next}
    /^exclude / {sub(/^exclude /, ""); print "e " $0; next}
    r && NF {print "r " $0} e && NF {print "e " $0}
  ' "$gomod" | while read -r kind a b c d e; do
    case "$kind" in
      # `old => new ver`, or `old oldver => new ver` (a local path has no version).
      r) if [ "$b" = "=>" ]; then go mod edit -replace="$a=$c${d:+@$d}"; else go mod edit -replace="$a@$b=$d${e:+@$e}"; fi ;;
      e) go mod edit -exclude="$a@$b" ;;
    esac
  done
}

# build NAME OUT MODULE@VERSION PKG... : `go build` of PKGs in a throw-away module that requires
# MODULE@VERSION (`go install pkg@version` asks the proxy for version lists, which it refuses).
# BUILD_TAGS and BUILD_LDFLAGS, when set, add build tags and linker flags.
build() {
  local name=$1 out=$2 mod=$3; shift 3
  local missing="" p
  for p in "$@"; do [ -x "$out/$(basename "$p")" ] || missing=1; done
  if [ -z "$missing" ]; then return 0; fi
  echo "cluster-build: building $name ($*)"
  local t0=$SECONDS W; W=$(mktemp -d)
  (cd "$W" && go mod init "build-$name" >/dev/null 2>&1 && inherit_replaces "$mod" && go get "$mod" >/dev/null \
    && go build -trimpath ${BUILD_TAGS:+-tags "$BUILD_TAGS"} -ldflags "-s -w ${BUILD_LDFLAGS:-}" -o "$out.tmp/" "$@")
  rm -rf "$W" "$out"; mv "$out.tmp" "$out"
  echo "cluster-build: $name built in $((SECONDS - t0)) s"
}

# CoreDNS: its plugin chain runs in the order of dnsserver.Directives, so the main sets it.
COREDNS="$CACHE/coredns/$COREDNS_VERSION"
if [ ! -x "$COREDNS/coredns" ]; then
  echo "cluster-build: building coredns $COREDNS_VERSION"
  t0=$SECONDS; W=$(mktemp -d)
  cp tests/cluster/coredns/main.go "$W/"
  (cd "$W" && go mod init build-coredns >/dev/null 2>&1 && go get "github.com/coredns/coredns@$COREDNS_VERSION" >/dev/null \
    && go mod tidy >/dev/null 2>&1 && go build -trimpath -ldflags "-s -w" -o "$COREDNS.tmp/coredns" .)
  rm -rf "$W" "$COREDNS"; mv "$COREDNS.tmp" "$COREDNS"
  echo "cluster-build: coredns built in $((SECONDS - t0)) s"
fi

# pause: the pod sandbox's one process (source in this repository).
PAUSE="$CACHE/pause/2"
if [ ! -x "$PAUSE/pause" ]; then
  mkdir -p "$PAUSE.tmp"
  (cd tests/cluster/pause && go build -trimpath -ldflags "-s -w" -o "$PAUSE.tmp/pause" .)
  rm -rf "$PAUSE"; mv "$PAUSE.tmp" "$PAUSE"
fi

# containerd 2 (image volumes need 2.1 or later), its runc shim and ctr. Without cgo (no btrfs
# headers here) and without the snapshotters and tracing the node's configuration disables anyway.
CD=github.com/containerd/containerd/v2
BUILD_TAGS="no_btrfs no_devmapper no_zfs no_tracing" \
  BUILD_LDFLAGS="-X $CD/version.Version=$CONTAINERD_VERSION -X $CD/version.Package=$CD" \
  build containerd "$CACHE/containerd/$CONTAINERD_VERSION" "$CD@$CONTAINERD_VERSION" \
  $CD/cmd/containerd $CD/cmd/containerd-shim-runc-v2 $CD/cmd/ctr

EV=knative.dev/eventing
build eventing "$CACHE/knative-eventing/$KNATIVE_EVENTING_VERSION" "$EV@$KNATIVE_EVENTING_VERSION" \
  $EV/cmd/controller $EV/cmd/webhook $EV/cmd/jobsink $EV/cmd/mtping $EV/cmd/apiserver_receive_adapter
SV=knative.dev/serving
build serving "$CACHE/knative-serving/$KNATIVE_SERVING_CLUSTER_VERSION" "$SV@$KNATIVE_SERVING_CLUSTER_VERSION" \
  $SV/cmd/activator $SV/cmd/autoscaler $SV/cmd/controller $SV/cmd/queue $SV/cmd/webhook
build traefik "$CACHE/traefik/$TRAEFIK_VERSION" "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" \
  github.com/traefik/traefik/v3/cmd/traefik

# The YAML, from the same modules (module zips drop symlinks: serving's networking CRDs and
# config-network come from the knative.dev/networking version serving requires, and its caching
# CRD from knative.dev/caching).
Y="$CACHE/cluster-yaml/eventing-$KNATIVE_EVENTING_VERSION-serving-$KNATIVE_SERVING_CLUSTER_VERSION-traefik-$TRAEFIK_VERSION"
if [ ! -f "$Y/.done" ]; then
  rm -rf "$Y"; mkdir -p "$Y"
  E=$(moddir "$EV@$KNATIVE_EVENTING_VERSION"); S=$(moddir "$SV@$KNATIVE_SERVING_CLUSTER_VERSION")
  SGOMOD=$(go mod download -json "$SV@$KNATIVE_SERVING_CLUSTER_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  NET=$(moddir "knative.dev/networking@$(awk '$1=="knative.dev/networking"{print $2}' "$SGOMOD")")
  CACHING=$(moddir "knative.dev/caching@$(awk '$1=="knative.dev/caching"{print $2}' "$SGOMOD")")
  cp -r "$E/config/core" "$Y/eventing"
  cp -r "$S/config/core" "$Y/serving"
  mkdir -p "$Y/networking"; cp -r "$NET/config/." "$Y/networking/"
  cp "$CACHING/config/image.yaml" "$Y/serving/caching-image.yaml"
  T=$(moddir "github.com/traefik/traefik/v3@$TRAEFIK_VERSION")
  # Traefik's own Knative fixture RBAC (its ServiceAccount traefik in namespace traefik).
  cp "$T/integration/fixtures/knative/01-rbac.yml" "$Y/traefik-rbac.yaml"
  # The ConfigMaps the eventing controller reads image names from (unused here, but it does not
  # start without them).
  cp "$E"/third_party/eventing-integrations-latest/*.yaml "$Y/eventing/"
  find "$Y" -name '*.go' -delete
  chmod -R u+w "$Y"; touch "$Y/.done"
fi
echo "cluster-build: done (cache $CACHE)"
