package monitor

import (
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// federate serves the latest sample of every series matching the match[]
// selectors in the text exposition format, so an outside Prometheus can
// scrape Outpost with honor_labels: true. Series whose last sample is older
// than the lookback window, or stale, are left out, as Prometheus does.
func (m *Monitor) federate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "error parsing form values: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(r.Form["match[]"]) == 0 {
		http.Error(w, "federation needs at least one match[] selector, e.g. match[]={job=\"node\"}", http.StatusBadRequest)
		return
	}
	matcherSets, err := m.parser.ParseMetricSelectors(r.Form["match[]"])
	if err != nil {
		http.Error(w, "bad match[] selector: "+err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	mint, maxt := now.Add(-lookbackDelta).UnixMilli(), now.UnixMilli()
	q, err := m.store.Querier(mint, maxt)
	if err != nil {
		http.Error(w, "monitoring storage unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer q.Close()
	hints := &storage.SelectHints{Start: mint, End: maxt}
	var sets []storage.SeriesSet
	for _, ms := range matcherSets {
		sets = append(sets, q.Select(r.Context(), true, hints, ms...))
	}
	merged := storage.NewMergeSeriesSet(sets, 0, storage.ChainedSeriesMerge)

	type point struct {
		lset labels.Labels
		t    int64
		v    float64
	}
	var points []point
	var it chunkenc.Iterator
	for merged.Next() {
		s := merged.At()
		it = s.Iterator(it)
		var t int64
		var v float64
		found := false
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			if vt != chunkenc.ValFloat { // native histograms are not federated
				continue
			}
			t, v = it.At()
			found = true
		}
		if !found || value.IsStaleNaN(v) {
			continue
		}
		points = append(points, point{s.Labels(), t, v})
	}
	if err := merged.Err(); err != nil {
		http.Error(w, "reading series: "+err.Error(), http.StatusInternalServerError)
		return
	}
	slices.SortFunc(points, func(a, b point) int { return labels.Compare(a.lset, b.lset) })

	format := expfmt.Negotiate(r.Header)
	w.Header().Set("Content-Type", string(format))
	enc := expfmt.NewEncoder(w, format)
	var mf *dto.MetricFamily
	flush := func() bool {
		if mf == nil {
			return true
		}
		if err := enc.Encode(mf); err != nil {
			m.logger.Warn("federation response", "err", err)
			return false
		}
		return true
	}
	for _, p := range points {
		name := p.lset.Get(labels.MetricName)
		if mf == nil || mf.GetName() != name {
			if !flush() {
				return
			}
			mf = &dto.MetricFamily{Name: &name, Type: dto.MetricType_UNTYPED.Enum()}
		}
		metric := &dto.Metric{TimestampMs: &p.t, Untyped: &dto.Untyped{Value: floatPtr(p.v)}}
		seen := map[string]bool{}
		p.lset.Range(func(l labels.Label) {
			if l.Name == labels.MetricName {
				return
			}
			seen[l.Name] = true
			metric.Label = append(metric.Label, &dto.LabelPair{Name: strPtr(l.Name), Value: strPtr(l.Value)})
		})
		for _, k := range slices.Sorted(maps.Keys(m.cfg.ExternalLabels)) {
			if !seen[k] {
				metric.Label = append(metric.Label, &dto.LabelPair{Name: strPtr(k), Value: strPtr(m.cfg.ExternalLabels[k])})
			}
		}
		slices.SortFunc(metric.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
		mf.Metric = append(mf.Metric, metric)
	}
	flush()
	if c, ok := enc.(expfmt.Closer); ok {
		_ = c.Close()
	}
}

func strPtr(s string) *string { return &s }

func floatPtr(f float64) *float64 {
	if math.IsNaN(f) {
		f = math.NaN() // normalise: a stale marker was filtered above
	}
	return &f
}
