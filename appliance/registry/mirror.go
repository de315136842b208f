package registry

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// ErrNotFound reports a repository, tag or image the registry does not hold.
var ErrNotFound = errors.New("not found")

var (
	pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$`)
	tagPattern    = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
)

// ValidateRepository checks that repo is a repository name the registry can
// store: lower-case path components separated by "/", at most 255 bytes.
func ValidateRepository(repo string) error {
	if repo == "" || len(repo) > reference.RepositoryNameTotalLengthMax {
		return fmt.Errorf("invalid repository name %q: must be 1 to %d characters", repo, reference.RepositoryNameTotalLengthMax)
	}
	for _, c := range strings.Split(repo, "/") {
		if !pathComponent.MatchString(c) {
			return fmt.Errorf("invalid repository name %q: component %q must be lower-case letters and digits separated by '.', '_', '__' or '-'", repo, c)
		}
	}
	return nil
}

// ValidateTag checks a tag against the OCI distribution grammar.
func ValidateTag(tag string) error {
	if !tagPattern.MatchString(tag) {
		return fmt.Errorf("invalid tag %q: must be letters, digits, '_', '.' or '-' (at most 128, not starting with '.' or '-')", tag)
	}
	return nil
}

// hostComponent turns a registry host into the first path component of its
// repositories in the local registry. Ports are kept after an underscore,
// which no host name contains, so "myreg:5000" and "myreg" never collide.
func hostComponent(host string) (string, error) {
	h := strings.ToLower(host)
	if strings.ContainsAny(h, "[]") {
		return "", fmt.Errorf("registry host %q: IPv6 literal hosts are not supported; use a host name", host)
	}
	h = strings.Replace(h, ":", "_", 1)
	if !pathComponent.MatchString(h) {
		return "", fmt.Errorf("registry host %q cannot be mapped to a repository name", host)
	}
	return h, nil
}

// MirrorRepository returns the local repository that holds path of the
// upstream registry host: ("docker.io", "nginx") → "docker.io/library/nginx",
// ("quay.io", "prometheus/node-exporter") → "quay.io/prometheus/node-exporter",
// ("myreg:5000", "app") → "myreg_5000/app".
func MirrorRepository(host, path string) (string, error) {
	if host == "registry-1.docker.io" || host == "index.docker.io" {
		host = "docker.io"
	}
	if host == "docker.io" && !strings.Contains(path, "/") {
		path = "library/" + path
	}
	h, err := hostComponent(host)
	if err != nil {
		return "", err
	}
	repo := h + "/" + path
	if err := ValidateRepository(repo); err != nil {
		return "", err
	}
	return repo, nil
}

// ImageRef is an upstream image reference resolved to its place in the
// local registry.
type ImageRef struct {
	// Original is the fully qualified reference: docker.io/library/nginx:1.27.
	Original string
	// Repository is the local repository: docker.io/library/nginx.
	Repository string
	// Tag is empty for references by digest only.
	Tag string
	// Digest is set for references that pin one.
	Digest digest.Digest
}

// ResolveRef parses an image reference as Docker does (nginx:1.27 means
// docker.io/library/nginx:1.27; no tag means latest) and returns where the
// local registry keeps it. Keeping the upstream host as the first component
// means the same path on two registries never collides, and containerd's
// mirror requests (?ns=<host>) find it without rewriting any manifest.
func ResolveRef(ref string) (ImageRef, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ImageRef{}, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	named = reference.TagNameOnly(named)
	repo, err := MirrorRepository(reference.Domain(named), reference.Path(named))
	if err != nil {
		return ImageRef{}, fmt.Errorf("image reference %q: %w", ref, err)
	}
	out := ImageRef{Original: named.String(), Repository: repo}
	if t, ok := named.(reference.Tagged); ok {
		out.Tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		out.Digest = d.Digest()
	}
	return out, nil
}

// repoRoutes are the path segments that follow a repository name in the
// distribution API.
var repoRoutes = []string{"/manifests/", "/blobs/", "/tags/", "/referrers/"}

// splitRepoPath splits "/v2/<name>/<route>..." into name and the rest
// ("/manifests/..."). ok is false for other paths (/v2/, /v2/_catalog).
func splitRepoPath(p string) (name, rest string, ok bool) {
	if !strings.HasPrefix(p, "/v2/") {
		return "", "", false
	}
	tail := p[len("/v2/"):]
	best := -1
	for _, r := range repoRoutes {
		if i := strings.LastIndex(tail, r); i > best {
			best = i
		}
	}
	if best <= 0 {
		return "", "", false
	}
	return tail[:best], tail[best:], true
}

// mirrorHandler maps containerd's mirror requests onto local repositories.
// containerd, told by hosts.toml to try this registry first for every host,
// asks for /v2/library/nginx/manifests/1.27?ns=docker.io; the image lives in
// docker.io/library/nginx. Only reads are mapped: nodes never push through a
// mirror.
func mirrorHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ns := r.URL.Query().Get("ns")
		if ns == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		name, rest, ok := splitRepoPath(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		repo, err := MirrorRepository(ns, name)
		if err != nil {
			writeRegistryError(w, http.StatusBadRequest, "NAME_INVALID", err.Error())
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/v2/" + repo + rest
		r2.URL.RawPath = ""
		q := r2.URL.Query()
		q.Del("ns")
		r2.URL.RawQuery = q.Encode()
		r2.RequestURI = r2.URL.RequestURI()
		next.ServeHTTP(w, r2)
	})
}
