package imagebuild

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"sigs.k8s.io/yaml"
)

// Spec is the content of an images spec file.
type Spec struct {
	// Images are written to the archive in this order.
	Images []ImageSpec `json:"images"`
}

// ImageSpec describes one image: a single static binary on an empty root
// file system, plus a world-writable /tmp.
type ImageSpec struct {
	// Name identifies the image in messages.
	Name string `json:"name"`
	// Ref is the full reference the image is imported under, e.g.
	// outpost.local/system/pause:3.10. It must carry a tag.
	Ref string `json:"ref"`
	// Binary is the file name of the binary in the build's binary directory.
	Binary string `json:"binary"`
	// Path is where the binary is placed in the image, e.g. /pause.
	Path string `json:"path"`
	// Entrypoint defaults to [Path].
	Entrypoint []string `json:"entrypoint,omitempty"`
	// Cmd are the default arguments to Entrypoint.
	Cmd []string `json:"cmd,omitempty"`
	// User is a numeric "uid[:gid]"; names would need an /etc/passwd the
	// images deliberately do not have. Empty means root.
	User string `json:"user,omitempty"`
	// Env entries are KEY=VALUE.
	Env []string `json:"env,omitempty"`
	// WorkingDir defaults to /.
	WorkingDir string `json:"workingDir,omitempty"`
	// Ports are documented exposed ports, "8080/tcp" or "53/udp".
	Ports []string `json:"ports,omitempty"`
	// Capabilities are file capabilities set on the binary, e.g.
	// CAP_NET_BIND_SERVICE, so a non-root process can still use them.
	Capabilities []string `json:"capabilities,omitempty"`
	// Module, when set, is the Go module whose version, as recorded in the
	// binary's build information, must equal the tag of Ref (ignoring a
	// leading "v"). It keeps the tag from drifting from what was built.
	Module string `json:"module,omitempty"`
}

// LoadSpec reads and validates a spec file.
func LoadSpec(file string) (*Spec, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading image spec: %w", err)
	}
	var spec Spec
	if err := yaml.UnmarshalStrict(data, &spec); err != nil {
		return nil, fmt.Errorf("parsing image spec %s: %w", file, err)
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("image spec %s: %w", file, err)
	}
	return &spec, nil
}

// Validate reports the first problem in the spec.
func (s *Spec) Validate() error {
	if len(s.Images) == 0 {
		return fmt.Errorf("no images")
	}
	refs := make(map[string]bool, len(s.Images))
	for i, image := range s.Images {
		if err := image.Validate(); err != nil {
			return fmt.Errorf("image %d (%s): %w", i, image.Name, err)
		}
		if refs[image.Ref] {
			return fmt.Errorf("image %d (%s): reference %s listed twice", i, image.Name, image.Ref)
		}
		refs[image.Ref] = true
	}
	return nil
}

// Validate reports the first problem in one image's description.
func (s ImageSpec) Validate() error {
	if s.Name == "" {
		return fmt.Errorf("missing name")
	}
	if _, err := s.Tag(); err != nil {
		return err
	}
	if s.Binary == "" || strings.ContainsRune(s.Binary, '/') {
		return fmt.Errorf("binary %q must be a plain file name", s.Binary)
	}
	if !path.IsAbs(s.Path) || path.Clean(s.Path) != s.Path || s.Path == "/" || s.Path == "/tmp" {
		return fmt.Errorf("path %q must be a clean absolute file path", s.Path)
	}
	if s.User != "" && !isNumericUser(s.User) {
		return fmt.Errorf("user %q must be numeric uid[:gid]", s.User)
	}
	for _, env := range s.Env {
		if !strings.Contains(env, "=") {
			return fmt.Errorf("env entry %q is not KEY=VALUE", env)
		}
	}
	for _, port := range s.Ports {
		if _, err := parsePort(port); err != nil {
			return err
		}
	}
	if _, err := encodeFileCapabilities(s.Capabilities); err != nil {
		return err
	}
	return nil
}

// Tag parses Ref and returns it as a tagged reference.
func (s ImageSpec) Tag() (name.Tag, error) {
	tag, err := name.NewTag(s.Ref, name.StrictValidation)
	if err != nil {
		return name.Tag{}, fmt.Errorf("parsing reference %q: %w", s.Ref, err)
	}
	return tag, nil
}

// parsePort normalizes "8080" to "8080/tcp" and checks the protocol.
func parsePort(port string) (string, error) {
	number, proto, found := strings.Cut(port, "/")
	if !found {
		proto = "tcp"
	}
	if number == "" || strings.Trim(number, "0123456789") != "" {
		return "", fmt.Errorf("port %q is not NUMBER[/tcp|/udp|/sctp]", port)
	}
	switch proto {
	case "tcp", "udp", "sctp":
		return number + "/" + proto, nil
	default:
		return "", fmt.Errorf("port %q has unknown protocol %q", port, proto)
	}
}

func isNumericUser(user string) bool {
	uid, gid, hasGID := strings.Cut(user, ":")
	isNumber := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	return isNumber(uid) && (!hasGID || isNumber(gid))
}
