package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/opencontainers/go-digest"
)

// authRealm is shown by clients that ask for credentials.
const authRealm = "Outpost registry"

type userKey struct{}

// userFrom returns the authenticated user of a request, or "".
func userFrom(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}

// credentialChecker is what the registry needs from an account store.
type credentialChecker interface {
	Authenticate(ctx context.Context, name, password string) error
}

// isAnonymousRead reports requests any node may make without credentials:
// reading manifests, blobs, tags and referrers of a repository. Cluster
// nodes pull this way, with no credentials to distribute or rotate.
func isAnonymousRead(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	_, rest, ok := splitRepoPath(r.URL.Path)
	return ok && !strings.HasPrefix(rest, "/blobs/uploads")
}

// authHandler lets anonymous reads through and requires a registry account
// for everything else: pushes, deletes, the catalog and the /v2/ login
// check. Wrong credentials are refused even on reads, so that a user with a
// mistyped password learns it at once.
func authHandler(users credentialChecker, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v2/") && r.URL.Path != "/v2" {
			writeRegistryError(w, http.StatusNotFound, "NOT_FOUND", "not a registry API path")
			return
		}
		name, password, ok := r.BasicAuth()
		// Some clients send empty basic credentials when they have none.
		if ok && (name != "" || password != "") {
			switch err := users.Authenticate(r.Context(), name, password); {
			case err == nil:
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, name)))
				return
			case errors.Is(err, ErrBadCredentials):
				challenge(w, "wrong user name or password")
				return
			default:
				writeRegistryError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "checking credentials failed; try again")
				return
			}
		}
		if isAnonymousRead(r) {
			next.ServeHTTP(w, r)
			return
		}
		challenge(w, "authentication required: create an account with outpost registry user add")
	})
}

func challenge(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+authRealm+`"`)
	writeRegistryError(w, http.StatusUnauthorized, "UNAUTHORIZED", detail)
}

// writeRegistryError writes an error in the distribution API's JSON shape.
func writeRegistryError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]string{{"code": code, "message": message}},
	})
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// guardHandler tells a running garbage collection which blobs requests are
// about to use, and records who pushed each tag.
//
// GC deletes a blob only if no manifest references it, no import pins it,
// it is older than the grace period, and no request has named it since the
// collection started. Manifest pushes, upload completions and mounts hold
// gcGate for reading while they run, so a collection starts only between
// them: one that runs during a collection has its digests recorded first
// (a manifest is parsed for the blobs it references).
func (reg *Registry) guardHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, rest, ok := splitRepoPath(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		// distribution's router answers invalid names with a bare 404;
		// the distribution spec wants NAME_INVALID.
		if err := ValidateRepository(name); err != nil {
			writeRegistryError(w, http.StatusBadRequest, "NAME_INVALID", err.Error())
			return
		}
		isManifest := strings.HasPrefix(rest, "/manifests/")
		ref := strings.TrimPrefix(rest, "/manifests/")
		if isManifest && r.Method == http.MethodPut {
			reg.gcGate.RLock()
			defer reg.gcGate.RUnlock()
			body, err := io.ReadAll(io.LimitReader(r.Body, maxManifestSize+1))
			if err != nil {
				writeRegistryError(w, http.StatusBadRequest, "MANIFEST_INVALID", "reading manifest: "+err.Error())
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if reg.store.gcRunning() {
				ds := []digest.Digest{digest.FromBytes(body)}
				if m, err := ParseManifest(body); err == nil {
					for _, d := range m.References() {
						ds = append(ds, d.Digest)
					}
					// An index pushed now may name stored children that
					// no tag reaches: protect what they reference too.
					for _, child := range m.Manifests {
						if tree, err := reg.store.WalkImage(child.Digest); err == nil {
							ds = append(ds, tree.Digests()...)
						}
					}
				}
				reg.store.touch(ds...)
			}
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if rec.status == http.StatusCreated && ValidateTag(ref) == nil && reg.sources != nil {
				src := "push"
				if u := userFrom(r.Context()); u != "" {
					src = "push by " + u
				}
				reg.sources.Record(r.Context(), name, ref, digest.FromBytes(body), src)
			}
			return
		}
		// Upload completions and mounts may add links to blobs GC
		// considers garbage: they too run either wholly before a
		// collection starts or with their digests recorded.
		if strings.HasPrefix(rest, "/blobs/uploads") && (r.Method == http.MethodPut || r.Method == http.MethodPost) {
			reg.gcGate.RLock()
			defer reg.gcGate.RUnlock()
		}
		if reg.store.gcRunning() {
			var ds []digest.Digest
			q := r.URL.Query()
			switch {
			case isManifest:
				ds = append(ds, digest.Digest(ref))
			case strings.HasPrefix(rest, "/blobs/uploads"):
				ds = append(ds, digest.Digest(q.Get("digest")), digest.Digest(q.Get("mount")))
			case strings.HasPrefix(rest, "/blobs/"):
				ds = append(ds, digest.Digest(strings.TrimPrefix(rest, "/blobs/")))
			}
			var valid []digest.Digest
			for _, d := range ds {
				if d.Validate() == nil {
					valid = append(valid, d)
				}
			}
			reg.store.touch(valid...)
		}
		next.ServeHTTP(w, r)
	})
}
