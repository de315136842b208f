package bundle

import (
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func remoteWriteIndex(ref name.Reference, idx v1.ImageIndex) error {
	return remote.WriteIndex(ref, idx)
}
