package version

// Outpost is overridden at link time: -X github.com/outpost-platform/outpost/appliance/version.Outpost=v0.1.0
var Outpost = "v0.1.0-dev"

// Kubernetes is the version of the embedded k8s.io/kubernetes components.
const Kubernetes = "v1.37.1"
