// Package webui embeds the console's built front end (webui/dist, produced
// by `make webui`: npm ci && npm run build). When the front end has not been
// built, dist holds only a placeholder and the console serves a page saying so.
package webui

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built front end rooted at its index.html.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "dist" is valid.
		panic(err)
	}
	return sub
}
