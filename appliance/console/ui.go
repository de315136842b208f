package console

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/webui"
)

// notBuiltPage is served when the front end was not built into the binary.
const notBuiltPage = `<!doctype html><html><head><meta charset="utf-8"><title>Outpost console</title></head>
<body style="font-family:sans-serif;margin:3em"><h1>Outpost console</h1>
<p>The console UI was not built into this binary; run <code>make webui</code> and rebuild.
The API under <code>/api/v1</code> works.</p></body></html>`

// uiAssets serves the single-page front end: files by path with long-lived
// caching for hashed assets, gzip copies computed once, and index.html for
// every other path so client-side routes survive a reload.
type uiAssets struct {
	files fs.FS

	mu   sync.Mutex
	gzip map[string][]byte
}

func newUIAssets(dir string) *uiAssets {
	var files fs.FS = webui.Dist()
	if dir != "" {
		files = os.DirFS(dir)
	}
	return &uiAssets{files: files, gzip: map[string][]byte{}}
}

func (u *uiAssets) handle(c echo.Context) error {
	name := strings.TrimPrefix(path.Clean("/"+c.Request().URL.Path), "/")
	if strings.HasPrefix(name, "api/") {
		return echo.ErrNotFound
	}
	data, err := fs.ReadFile(u.files, name)
	if name == "" || err != nil {
		if err != nil && path.Ext(name) != "" && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if path.Ext(name) != "" && name != "index.html" {
			// A missing asset must not turn into HTML the browser tries to run.
			return echo.ErrNotFound
		}
		name = "index.html"
		if data, err = fs.ReadFile(u.files, name); err != nil {
			return c.HTML(http.StatusOK, notBuiltPage)
		}
	}
	h := c.Response().Header()
	if strings.HasPrefix(name, "assets/") {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	h.Set(echo.HeaderContentType, ctype)
	h.Add("Vary", "Accept-Encoding")
	if len(data) > 1024 && strings.Contains(c.Request().Header.Get("Accept-Encoding"), "gzip") && compressible(ctype) {
		h.Set(echo.HeaderContentEncoding, "gzip")
		return c.Blob(http.StatusOK, ctype, u.gzipped(name, data))
	}
	return c.Blob(http.StatusOK, ctype, data)
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") || strings.Contains(ctype, "json") ||
		strings.Contains(ctype, "svg")
}

func (u *uiAssets) gzipped(name string, data []byte) []byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	if z, ok := u.gzip[name]; ok {
		return z
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	u.gzip[name] = buf.Bytes()
	return buf.Bytes()
}
