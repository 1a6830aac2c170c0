module kuikfunctions/goracle

go 1.26.0

require (
	github.com/distribution/reference v0.6.0
	k8s.io/apimachinery v0.35.4
)

require (
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	k8s.io/klog/v2 v2.130.1 // indirect
	k8s.io/utils v0.0.0-20251002143259-bc988d571ff4 // indirect
)
