#!/usr/bin/env bash
# Builds Kubernetes commands (default kube-apiserver and kubectl; KUBEBINS_CMDS names others, e.g.
# the node's kubelet, kube-proxy, kube-controller-manager, kube-scheduler) at a pinned Kubernetes version from the Go module proxy,
# through a throw-away wrapper module whose `replace` lines pin every k8s.io staging module to its
# published v0.<minor>.<patch> tag (k8s.io/kubernetes' own go.mod points them at ./staging, which a
# module download does not contain). The list of staging modules is derived from the downloaded
# go.mod rather than hard-coded, because new minors add modules.
# Output is cached under $HOME/.cache; binaries are never committed.
set -euo pipefail
K8S=${K8S_VERSION:-1.35.4}
MINOR=${K8S#1.}
OUT=${KUBEBINS_DIR:-$HOME/.cache/kuik-functions/kubebins/v$K8S}
export GOMODCACHE=${GOMODCACHE:-$HOME/.cache/go-mod}
export GOCACHE=${GOCACHE:-$HOME/.cache/go-build}
export GOFLAGS=-mod=mod CGO_ENABLED=0
CMDS=${KUBEBINS_CMDS:-kube-apiserver kubectl}
missing=""
for c in $CMDS; do [ -x "$OUT/$c" ] || missing=1; done
if [ -z "$missing" ]; then echo "kubebins: cached in $OUT"; exit 0; fi
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT; cd "$W"
go mod init kubebins >/dev/null 2>&1
GOMOD=$(go mod download -json "k8s.io/kubernetes@v$K8S" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
go mod edit -go="$(awk '$1=="go"{print $2; exit}' "$GOMOD")"
GD=$(awk '$1=="godebug"{print $2; exit}' "$GOMOD"); if [ -n "$GD" ]; then go mod edit -godebug="$GD"; fi
for m in $(awk '$1 ~ /^k8s\.io\// && $2=="v0.0.0" {print $1}' "$GOMOD"); do
  go mod edit -replace="$m=$m@v0.$MINOR"
done
go get "k8s.io/kubernetes@v$K8S" >/dev/null
LD="-s -w"; NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LD="$LD -X $p.gitVersion=v$K8S -X $p.gitMajor=1 -X $p.gitMinor=${MINOR%%.*} -X $p.gitTreeState=clean -X $p.buildDate=$NOW"
done
mkdir -p "$OUT.tmp"
PKGS=""; for c in $CMDS; do PKGS="$PKGS k8s.io/kubernetes/cmd/$c"; done
# shellcheck disable=SC2086 # one word per package
go build -trimpath -ldflags "$LD" -o "$OUT.tmp/" $PKGS
rm -rf "$OUT"; mv "$OUT.tmp" "$OUT"
for c in $CMDS; do "$OUT/$c" --version 2>/dev/null | head -1 || true; done
echo "kubebins: built in $OUT"
