package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
)

// Defaults for Config fields left empty.
const (
	DefaultClassName   = "local-path"
	DefaultProvisioner = "outpost.io/local-path"
)

// Config is the runtime configuration of the local-path provisioner.
type Config struct {
	// Dir holds one directory per volume, normally <data-dir>/storage.
	// It must be absolute; Run creates it (mode 0700) if missing.
	Dir string
	// NodeName is this node's Kubernetes name. Only claims scheduled to it
	// are provisioned, and only volumes pinned to it are deleted.
	NodeName string
	// ClassName names the StorageClass created at start; default "local-path".
	ClassName string
	// Provisioner is the provisioner name in the class and on the volumes;
	// default "outpost.io/local-path".
	Provisioner string
}

// withDefaults fills in the defaults and rejects a config Run cannot use.
func (c Config) withDefaults() (Config, error) {
	if c.ClassName == "" {
		c.ClassName = DefaultClassName
	}
	if c.Provisioner == "" {
		c.Provisioner = DefaultProvisioner
	}
	if c.NodeName == "" {
		return c, errors.New("storage config: node name is empty")
	}
	if !filepath.IsAbs(c.Dir) {
		return c, fmt.Errorf("storage config: dir %q is not an absolute path", c.Dir)
	}
	c.Dir = filepath.Clean(c.Dir)
	return c, nil
}

// Run ensures the StorageClass exists, then provisions and deletes
// local-path volumes until ctx is done, when it returns nil. It returns an
// error only if it cannot start: an invalid config, a storage directory it
// cannot create, a StorageClass the apiserver rejects as invalid (it retries
// other errors), or informers that fail to sync. A nil log discards log
// output.
//
// The client needs to create StorageClasses and Events, list and watch
// PersistentVolumeClaims, and list, watch, create and delete
// PersistentVolumes.
func Run(ctx context.Context, client kubernetes.Interface, cfg Config, log *slog.Logger) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "local-path")
	// 0700: volume directories are world-writable for non-root pods, so
	// their parent keeps other host users out.
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("creating storage dir: %w", err)
	}
	if err := ensureClass(ctx, client, cfg, log); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}

	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(dropManagedFields))
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	defer broadcaster.Shutdown()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: cfg.Provisioner, Host: cfg.NodeName})

	p, err := newProvisioner(client, factory, recorder, cfg, log)
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("waiting for %v informer to sync", typ)
		}
	}
	log.Info("local-path provisioner running", "dir", cfg.Dir, "node", cfg.NodeName, "class", cfg.ClassName)

	var workers sync.WaitGroup
	workers.Go(func() { p.runClaims(ctx) })
	workers.Go(func() { p.runVolumes(ctx) })
	<-ctx.Done()
	p.shutDown()
	workers.Wait()
	return nil
}

// dropManagedFields keeps managed fields, often the larger part of an
// object, out of the informer caches; nothing here reads them.
func dropManagedFields(obj any) (any, error) {
	if acc, err := meta.Accessor(obj); err == nil {
		acc.SetManagedFields(nil)
	}
	return obj, nil
}
