#!/usr/bin/env bash
# Installs what the harness and the local stack need, idempotently, so that `npm test` and
# `npm start` work on a fresh machine by themselves. Fast when everything is already there:
# apt is skipped when the commands exist, Go builds are cached under $HOME/.cache.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../tests/go-env.sh
source tests/go-env.sh

need=()
# The real cluster (tests/cluster/) also needs runc, the CNI plugins, socat, conntrack and iptables
# (kube-proxy), and tc (iproute2) to slow a link down. Its containerd is built (image volumes need
# containerd 2; Debian has 1.6).
for pair in etcd:etcd-server docker-registry:docker-registry skopeo:skopeo htpasswd:apache2-utils \
            openssl:openssl buildah:buildah strip:binutils curl:curl \
            runc:runc socat:socat conntrack:conntrack iptables:iptables tc:iproute2 \
            nsenter:util-linux /usr/lib/cni/bridge:containernetworking-plugins \
            prometheus:prometheus promtool:prometheus; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "${pair%%:*}" ] || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install ${need[*]} (or install them yourself)" >&2; exit 1
  fi
  apt-get update -qq
  # Without recommends: prometheus recommends node-exporter and friends, none of them needed.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v go >/dev/null 2>&1 || { echo "setup: Go (>= 1.25) is required to build kube-apiserver" >&2; exit 1; }

# kube-apiserver + kubectl (tests/kubebins/build.sh caches them).
KUBEBINS_DIR="$CACHE/kubebins/v$K8S_VERSION" K8S_VERSION=$K8S_VERSION bash tests/kubebins/build.sh

# Knative's own event adapters, built from the pinned eventing module.
KN="$CACHE/knbins/$KNATIVE_EVENTING_VERSION"
if [ ! -x "$KN/apiserver_receive_adapter" ] || [ ! -x "$KN/mtping" ]; then
  echo "setup: building Knative adapters $KNATIVE_EVENTING_VERSION"
  # `go install pkg@version` asks the proxy for the module's version list (deprecation check),
  # which the proxy here refuses; a throw-away wrapper module pins the version instead.
  W=$(mktemp -d)
  (cd "$W" && go mod init knbins >/dev/null 2>&1 \
    && go get "knative.dev/eventing@$KNATIVE_EVENTING_VERSION" >/dev/null \
    && go build -trimpath -ldflags "-s -w" -o "$KN.tmp/" \
         knative.dev/eventing/cmd/apiserver_receive_adapter knative.dev/eventing/cmd/mtping)
  rm -rf "$W"
  rm -rf "$KN"; mv "$KN.tmp" "$KN"
fi

# Knative CRD YAMLs, copied out of the pinned Go modules (module zips drop symlinks; the CRDs we
# need are regular files).
CRDS="$CACHE/knative-crds/serving-$KNATIVE_SERVING_VERSION-eventing-$KNATIVE_EVENTING_VERSION"
if [ ! -f "$CRDS/.done" ]; then
  echo "setup: fetching Knative CRDs"
  moddir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
  SERVING_DIR=$(moddir "knative.dev/serving@$KNATIVE_SERVING_VERSION")
  EVENTING_DIR=$(moddir "knative.dev/eventing@$KNATIVE_EVENTING_VERSION")
  rm -rf "$CRDS"; mkdir -p "$CRDS/crds" "$CRDS/eventing-configmaps"
  for f in "$SERVING_DIR"/config/core/300-resources/*.yaml "$EVENTING_DIR"/config/core/resources/*.yaml; do
    [ -f "$f" ] || continue
    grep -q '^kind: CustomResourceDefinition' "$f" || continue
    cp "$f" "$CRDS/crds/$(basename "$(dirname "$(dirname "$f")")")-$(basename "$f")"
  done
  cp "$EVENTING_DIR"/config/core/configmaps/*.yaml "$CRDS/eventing-configmaps/"
  chmod -R u+w "$CRDS"; touch "$CRDS/.done"
fi

# helm, for `helm lint` / `helm template` of manifests/helm (same wrapper-module trick as above).
HELM="$CACHE/helm/$HELM_VERSION"
if [ ! -x "$HELM/helm" ]; then
  echo "setup: building helm $HELM_VERSION"
  W=$(mktemp -d)
  (cd "$W" && go mod init helmbin >/dev/null 2>&1 \
    && go get "helm.sh/helm/v3@$HELM_VERSION" >/dev/null \
    && go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
         -o "$HELM.tmp/" helm.sh/helm/v3/cmd/helm)
  rm -rf "$W"
  rm -rf "$HELM"; mv "$HELM.tmp" "$HELM"
fi

# fetch_crds DEST WHAT MODULE@VERSION FILE...: copies the FILEs (paths in the Go module) into
# DEST, once per version (DEST/.done).
fetch_crds() {
  local dest=$1 what=$2 module=$3 dir f
  shift 3
  [ -f "$dest/.done" ] && return 0
  echo "setup: fetching $what"
  dir=$(go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rm -rf "$dest"; mkdir -p "$dest"
  for f in "$@"; do cp "$dir/$f" "$dest/"; done
  chmod -R u+w "$dest"; touch "$dest/.done"
}

# cert-manager's Certificate and Issuer CRDs, so the manifests test can dry-run those objects too
# (the harness runs no cert-manager; only the schemas are needed).
fetch_crds "$CACHE/cert-manager-crds/$CERT_MANAGER_VERSION" "cert-manager CRDs $CERT_MANAGER_VERSION" \
  "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION" \
  deploy/crds/cert-manager.io_certificates.yaml deploy/crds/cert-manager.io_issuers.yaml

# The Prometheus Operator's ServiceMonitor and PodMonitor CRDs, for the dry run of the chart's
# serviceMonitor/podMonitor (the tests run a plain Prometheus, no operator).
fetch_crds "$CACHE/prometheus-operator-crds/$PROMETHEUS_OPERATOR_VERSION" \
  "Prometheus Operator CRDs $PROMETHEUS_OPERATOR_VERSION" \
  "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" \
  example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml \
  example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml

# The real cluster's own builds (node binaries, containerd, CoreDNS, Knative, Traefik) are not
# made here: tests/run.ts builds them beside its first phases, and starting a real cluster
# (`npm start -- --cluster`, the real-cluster tests) builds them first (tests/cluster/build.sh).
