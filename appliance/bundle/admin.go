package bundle

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/outpost-platform/outpost/appliance/registry"
)

// AdminPaths are the paths AdminHandler serves on the server's admin
// socket (<data-dir>/run/outpost.sock, root only).
var AdminPaths = []string{"/v1/bundles", "/v1/bundles/", "/v1/images", "/v1/registry/"}

// ImportRequest asks the server to import a bundle file it can read.
type ImportRequest struct {
	// Path is the absolute path of the bundle on the server's host. When
	// empty, the request body is the bundle itself.
	Path string `json:"path,omitempty"`
	ImportOptions
}

// importEvent is one line of the NDJSON stream an import answers with.
type importEvent struct {
	Progress *Progress `json:"progress,omitempty"`
	Result   *Result   `json:"result,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// AdminHandler serves bundle imports, import history, image listing and
// removal, and garbage collection to the CLI (and anything else on the
// admin socket):
//
//	POST   /v1/bundles/import   ImportRequest JSON, or the bundle as the body
//	                            (?allowUnsigned=true&allowDowngrade=true);
//	                            answers NDJSON: progress lines, then a
//	                            result or an error line
//	GET    /v1/bundles          import history
//	GET    /v1/images           registry images
//	DELETE /v1/images?ref=REF   remove an image
//	POST   /v1/registry/gc      GCOptions JSON → GCResult
func AdminHandler(im *Importer, reg *registry.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/bundles/import", func(w http.ResponseWriter, r *http.Request) {
		var req ImportRequest
		var src io.Reader
		if r.Header.Get("Content-Type") == "application/json" {
			if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
				httpError(w, http.StatusBadRequest, "invalid import request: "+err.Error())
				return
			}
			if !filepath.IsAbs(req.Path) {
				httpError(w, http.StatusBadRequest, "the bundle path must be absolute")
				return
			}
			f, err := os.Open(req.Path)
			if err != nil {
				httpError(w, http.StatusBadRequest, fmt.Sprintf("opening bundle: %v", err))
				return
			}
			defer f.Close()
			src = f
		} else {
			req.AllowUnsigned, _ = strconv.ParseBool(r.URL.Query().Get("allowUnsigned"))
			req.AllowDowngrade, _ = strconv.ParseBool(r.URL.Query().Get("allowDowngrade"))
			src = r.Body
		}
		rc := http.NewResponseController(w)
		// Progress is written while the bundle is still being read from
		// the request body.
		rc.EnableFullDuplex()
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(w)
		send := func(ev importEvent) {
			enc.Encode(ev)
			rc.Flush()
		}
		var last time.Time
		lastPhase := ""
		res, err := im.Import(r.Context(), src, req.ImportOptions, func(p Progress) {
			if p.Phase == lastPhase && time.Since(last) < 200*time.Millisecond {
				return
			}
			last, lastPhase = time.Now(), p.Phase
			send(importEvent{Progress: &p})
		})
		if err != nil {
			send(importEvent{Error: err.Error()})
			return
		}
		send(importEvent{Result: res})
	})
	mux.HandleFunc("GET /v1/bundles", func(w http.ResponseWriter, r *http.Request) {
		hist, err := im.History().List(r.Context())
		writeJSON(w, hist, err)
	})
	mux.HandleFunc("GET /v1/images", func(w http.ResponseWriter, r *http.Request) {
		images, err := reg.Images(r.Context())
		writeJSON(w, images, err)
	})
	mux.HandleFunc("DELETE /v1/images", func(w http.ResponseWriter, r *http.Request) {
		removed, err := reg.RemoveImage(r.Context(), r.URL.Query().Get("ref"))
		if errors.Is(err, registry.ErrNotFound) {
			httpError(w, http.StatusNotFound, err.Error())
			return
		}
		writeJSON(w, removed, err)
	})
	mux.HandleFunc("POST /v1/registry/gc", func(w http.ResponseWriter, r *http.Request) {
		var opts registry.GCOptions
		if r.ContentLength != 0 {
			if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&opts); err != nil {
				httpError(w, http.StatusBadRequest, "invalid gc request: "+err.Error())
				return
			}
		}
		res, err := reg.GC(r.Context(), opts)
		writeJSON(w, res, err)
	})
	return mux
}

type apiError struct {
	Error string `json:"error"`
}

func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(apiError{Error: msg})
}

func writeJSON(w http.ResponseWriter, v any, err error) {
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// ErrNoServer reports that no server answers on the admin socket.
var ErrNoServer = errors.New("no outpost server is running")

// Client talks to AdminHandler over the server's admin socket.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a client for the admin socket at path.
func NewClient(socket string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}
	return &Client{socket: socket, http: &http.Client{Transport: tr}}
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://outpost"+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, ErrNoServer
		}
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var e apiError
		json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode == http.StatusNotFound && e.Error == "" {
			return nil, fmt.Errorf("the server does not offer %s (an older server?)", path)
		}
		if resp.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%s: %w", e.Error, registry.ErrNotFound)
		}
		return nil, errors.New(e.Error)
	}
	return resp, nil
}

func (c *Client) getJSON(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	ct := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd, ct = bytes.NewReader(b), "application/json"
	}
	resp, err := c.do(ctx, method, path, rd, ct)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

// Import asks the server to import the bundle at path (made absolute), or
// streams r as the bundle when r is not nil.
func (c *Client) Import(ctx context.Context, path string, r io.Reader, opts ImportOptions, progress func(Progress)) (*Result, error) {
	var resp *http.Response
	var err error
	if r != nil {
		q := url.Values{}
		q.Set("allowUnsigned", strconv.FormatBool(opts.AllowUnsigned))
		q.Set("allowDowngrade", strconv.FormatBool(opts.AllowDowngrade))
		resp, err = c.do(ctx, http.MethodPost, "/v1/bundles/import?"+q.Encode(), r, "application/octet-stream")
	} else {
		abs, aerr := filepath.Abs(path)
		if aerr != nil {
			return nil, aerr
		}
		b, _ := json.Marshal(ImportRequest{Path: abs, ImportOptions: opts})
		resp, err = c.do(ctx, http.MethodPost, "/v1/bundles/import", bytes.NewReader(b), "application/json")
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev importEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("reading import progress: %w", err)
		}
		switch {
		case ev.Error != "":
			return nil, errors.New(ev.Error)
		case ev.Result != nil:
			return ev.Result, nil
		case ev.Progress != nil && progress != nil:
			progress(*ev.Progress)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading import progress: %w", err)
	}
	return nil, errors.New("the server ended the import without a result; check the server log")
}

// History returns the server's import history.
func (c *Client) History(ctx context.Context) ([]ImportRecord, error) {
	var out []ImportRecord
	return out, c.getJSON(ctx, http.MethodGet, "/v1/bundles", nil, &out)
}

// Images lists the registry's images.
func (c *Client) Images(ctx context.Context) ([]registry.Image, error) {
	var out []registry.Image
	return out, c.getJSON(ctx, http.MethodGet, "/v1/images", nil, &out)
}

// RemoveImage removes an image by reference.
func (c *Client) RemoveImage(ctx context.Context, ref string) ([]registry.Image, error) {
	var out []registry.Image
	return out, c.getJSON(ctx, http.MethodDelete, "/v1/images?ref="+url.QueryEscape(ref), nil, &out)
}

// GC runs a garbage collection on the server.
func (c *Client) GC(ctx context.Context, opts registry.GCOptions) (registry.GCResult, error) {
	var out registry.GCResult
	return out, c.getJSON(ctx, http.MethodPost, "/v1/registry/gc", opts, &out)
}
