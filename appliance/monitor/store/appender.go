package store

import (
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
)

// watchedAppender passes everything to the TSDB and watches Commit for
// write errors.
type watchedAppender struct {
	storage.Appender
	s *Store
}

func (a *watchedAppender) Commit() error {
	err := a.Appender.Commit()
	if err != nil {
		a.s.commitFailed(err)
	}
	return err
}

type watchedAppenderV2 struct {
	storage.AppenderV2
	s *Store
}

func (a *watchedAppenderV2) Commit() error {
	err := a.AppenderV2.Commit()
	if err != nil {
		a.s.commitFailed(err)
	}
	return err
}

// refusedAppender fails every call with err; it stands in while the TSDB is
// closed or ingestion is paused.
type refusedAppender struct{ err error }

func (r refusedAppender) Append(storage.SeriesRef, labels.Labels, int64, float64) (storage.SeriesRef, error) {
	return 0, r.err
}

func (r refusedAppender) AppendExemplar(storage.SeriesRef, labels.Labels, exemplar.Exemplar) (storage.SeriesRef, error) {
	return 0, r.err
}

func (r refusedAppender) AppendHistogram(storage.SeriesRef, labels.Labels, int64, *histogram.Histogram, *histogram.FloatHistogram) (storage.SeriesRef, error) {
	return 0, r.err
}

func (r refusedAppender) UpdateMetadata(storage.SeriesRef, labels.Labels, metadata.Metadata) (storage.SeriesRef, error) {
	return 0, r.err
}

func (r refusedAppender) AppendSTZeroSample(storage.SeriesRef, labels.Labels, int64, int64) (storage.SeriesRef, error) {
	return 0, r.err
}

func (r refusedAppender) SetOptions(*storage.AppendOptions) {}

func (r refusedAppender) Commit() error   { return r.err }
func (r refusedAppender) Rollback() error { return nil }

// refusedAppenderV2 is refusedAppender for AppenderV2, whose Append has
// another signature.
type refusedAppenderV2 struct{ err error }

func (r refusedAppenderV2) Append(storage.SeriesRef, labels.Labels, int64, int64, float64, *histogram.Histogram, *histogram.FloatHistogram, storage.AppendV2Options) (storage.SeriesRef, error) {
	return 0, r.err
}
func (r refusedAppenderV2) Commit() error   { return r.err }
func (r refusedAppenderV2) Rollback() error { return nil }

func (r refusedAppender) AppendHistogramSTZeroSample(storage.SeriesRef, labels.Labels, int64, int64, *histogram.Histogram, *histogram.FloatHistogram) (storage.SeriesRef, error) {
	return 0, r.err
}
