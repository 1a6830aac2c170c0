# Sourced from the repository root by scripts/setup.sh and tests/cluster/build.sh: the pinned
# versions, and where Go modules, Go builds and built tools are cached, so that both agree.
# shellcheck source=versions.env
source tests/versions.env
CACHE=${KUIK_CACHE_DIR:-$HOME/.cache/kuik-functions}
export GOMODCACHE=${GOMODCACHE:-$HOME/.cache/go-mod}
export GOCACHE=${GOCACHE:-$HOME/.cache/go-build}
export GOFLAGS=-mod=mod CGO_ENABLED=0
