package alerting

import (
	"encoding/hex"
	"hash/fnv"
	"maps"
	"slices"
	"time"
)

// Alert is one alert instance as the dispatcher and the receivers see it.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// Name returns the alertname label.
func (a *Alert) Name() string { return a.Labels["alertname"] }

// Resolved reports whether the alert has ended at now.
func (a *Alert) Resolved(now time.Time) bool { return !a.EndsAt.IsZero() && !a.EndsAt.After(now) }

// Fingerprint identifies the alert by its label set.
func (a *Alert) Fingerprint() string { return fingerprint(a.Labels) }

func fingerprint(labels map[string]string) string {
	h := fnv.New64a()
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (a *Alert) clone() *Alert {
	c := *a
	c.Labels = maps.Clone(a.Labels)
	c.Annotations = maps.Clone(a.Annotations)
	return &c
}
