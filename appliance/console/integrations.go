package console

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// Registry is what the console needs from the local OCI registry
// (appliance/registry). Implementations must be safe for concurrent use.
type Registry interface {
	// Images lists every tag of every repository.
	Images(ctx context.Context) ([]Image, error)
	// RemoveImage removes "repo:tag" or "repo@digest". An unknown image is
	// reported with an error wrapping problem.ErrNotFound.
	RemoveImage(ctx context.Context, ref string) error
	// GarbageCollect frees blobs no image uses.
	GarbageCollect(ctx context.Context) (GCResult, error)
}

// Image is one tag in the registry.
type Image struct {
	Repository string   `json:"repository"`
	Tag        string   `json:"tag,omitempty"`
	Digest     string   `json:"digest"`
	Size       int64    `json:"size"`
	Platforms  []string `json:"platforms,omitempty"`
	// Source says what brought the image: "bundle <name> <version>" or "push by <user>".
	Source string `json:"source,omitempty"`
}

// GCResult reports a garbage collection.
type GCResult struct {
	BlobsDeleted     int   `json:"blobsDeleted"`
	BytesFreed       int64 `json:"bytesFreed"`
	ManifestsRemoved int   `json:"manifestsRemoved"`
}

// BundleImporter verifies and imports offline bundles (appliance/bundle).
type BundleImporter interface {
	// Import reads a bundle of size bytes from r, verifies its signature and
	// digests and imports its content, calling progress as it goes (from
	// the importing goroutine; it must return quickly). Nothing partial may
	// become visible on error. The error should say what was wrong (e.g.
	// which digest did not match) in one sentence.
	Import(ctx context.Context, r io.ReaderAt, size int64, opts ImportOptions, progress func(ImportProgress)) (ImportResult, error)
}

// ImportOptions are the choices the uploader made.
type ImportOptions struct {
	// AllowUnsigned accepts a bundle not signed by a trusted key.
	AllowUnsigned bool `json:"allowUnsigned"`
}

// ImportProgress is a step of an import.
type ImportProgress struct {
	// Phase is e.g. "verifying" or "importing".
	Phase string `json:"phase"`
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	// Item names what is being processed (an image, a chart).
	Item string `json:"item,omitempty"`
}

// ImportResult describes an imported bundle.
type ImportResult struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Images  []string `json:"images"`
	Charts  []string `json:"charts,omitempty"`
}

// Alerting manages alerts, rules, notification receivers and silences.
// When Deps.Alerting is nil the console uses the monitoring HTTP API
// (Deps.Monitor or Config.MonitoringURL): Prometheus /api/v1 for rules and
// pending alerts, the Alertmanager v2 subset for alerts and silences, and
// /api/outpost/v1/receivers for notification channels.
type Alerting interface {
	// Alerts returns firing and pending alerts and those resolved recently.
	Alerts(ctx context.Context) ([]Alert, error)
	Rules(ctx context.Context) ([]AlertRule, error)
	// Receivers returns the notification targets; secret fields masked.
	Receivers(ctx context.Context) ([]AlertReceiver, error)
	// PutReceiver creates or replaces a receiver from its JSON form
	// (settings.Receiver). The raw JSON is passed on because secret fields
	// marshal as "<secret>": a decoded and re-encoded receiver would lose them.
	PutReceiver(ctx context.Context, name string, spec json.RawMessage) error
	DeleteReceiver(ctx context.Context, name string) error
	Silences(ctx context.Context) ([]Silence, error)
	CreateSilence(ctx context.Context, s Silence) (Silence, error)
	ExpireSilence(ctx context.Context, id string) error
}

// AlertReceiver is a notification target and where it is defined:
// "config" (the YAML file, read-only here) or "api".
type AlertReceiver struct {
	settings.Receiver
	Source string `json:"source,omitempty"`
}

// Alert is one alert instance.
type Alert struct {
	Name        string            `json:"name"`
	State       string            `json:"state"` // firing, pending, silenced, resolved
	Severity    string            `json:"severity,omitempty"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	ActiveAt    time.Time         `json:"activeAt,omitzero"`
	ResolvedAt  time.Time         `json:"resolvedAt,omitzero"`
	Value       string            `json:"value,omitempty"`
}

// AlertRule is one alerting rule.
type AlertRule struct {
	Name        string            `json:"name"`
	Group       string            `json:"group"`
	Query       string            `json:"query"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	State       string            `json:"state"`
	Health      string            `json:"health,omitempty"`
}

// Silence mutes alerts matching all Matchers ("name=value", "name=~regex")
// between StartsAt and EndsAt.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  []string  `json:"matchers"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	CreatedBy string    `json:"createdBy"`
	Comment   string    `json:"comment"`
	State     string    `json:"state,omitempty"`
}
