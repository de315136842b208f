package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

func (s *Console) requireRegistry() error {
	if s.deps.Registry == nil {
		return problem.Unavailable("The local registry is not running on this appliance.")
	}
	return nil
}

// handleImages lists the local registry's images. Every user may: the
// deploy form offers them.
func (s *Console) handleImages(c echo.Context) error {
	if err := s.requireRegistry(); err != nil {
		return err
	}
	imgs, err := s.deps.Registry.Images(c.Request().Context())
	if err != nil {
		return err
	}
	if imgs == nil {
		imgs = []Image{}
	}
	return c.JSON(http.StatusOK, items(imgs))
}

func (s *Console) handleDeleteImage(c echo.Context) error {
	ref := strings.TrimSpace(c.QueryParam("ref"))
	auditObject(c, "image", "", ref)
	if err := requirePlatform(c, tenancy.ActionManageImages); err != nil {
		return err
	}
	if err := s.requireRegistry(); err != nil {
		return err
	}
	if ref == "" || (!strings.Contains(ref, ":") && !strings.Contains(ref, "@")) {
		return problem.Field("ref", "must name an image as repository:tag or repository@digest")
	}
	if err := s.deps.Registry.RemoveImage(c.Request().Context(), ref); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleGC(c echo.Context) error {
	auditObject(c, "registry", "", "garbage-collection")
	if err := requirePlatform(c, tenancy.ActionManageImages); err != nil {
		return err
	}
	if err := s.requireRegistry(); err != nil {
		return err
	}
	res, err := s.deps.Registry.GarbageCollect(c.Request().Context())
	if err != nil {
		return err
	}
	auditDetail(c, formatGC(res))
	return c.JSON(http.StatusOK, res)
}

func formatGC(r GCResult) string {
	return fmt.Sprintf("blobs deleted %d, bytes freed %d", r.BlobsDeleted, r.BytesFreed)
}
