package storage

import (
	"context"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// Event reasons, the ones the Kubernetes external provisioners use, so
// `kubectl describe` reads the same as on other clusters.
const (
	reasonProvisioningSucceeded = "ProvisioningSucceeded"
	reasonProvisioningFailed    = "ProvisioningFailed"
	reasonVolumeFailedDelete    = "VolumeFailedDelete"
)

// provisioner turns claims into volumes and released volumes back into
// nothing. Claims and volumes each have a queue and one worker, so one claim
// or volume is never handled twice at once; a failed attempt is retried
// with backoff.
type provisioner struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	cfg      Config
	log      *slog.Logger

	claimLister  corelisters.PersistentVolumeClaimLister
	volumeLister corelisters.PersistentVolumeLister
	classLister  storagelisters.StorageClassLister

	claimQueue  workqueue.TypedRateLimitingInterface[string]
	volumeQueue workqueue.TypedRateLimitingInterface[string]
}

func newProvisioner(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, cfg Config, log *slog.Logger) (*provisioner, error) {
	p := &provisioner{
		client:   client,
		recorder: recorder,
		cfg:      cfg,
		log:      log,
		claimQueue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "local-path-claims"}),
		volumeQueue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "local-path-volumes"}),
	}
	claims := factory.Core().V1().PersistentVolumeClaims()
	volumes := factory.Core().V1().PersistentVolumes()
	classes := factory.Storage().V1().StorageClasses()
	p.claimLister, p.volumeLister, p.classLister = claims.Lister(), volumes.Lister(), classes.Lister()

	if _, err := claims.Informer().AddEventHandler(enqueueHandler(p.claimQueue)); err != nil {
		return nil, fmt.Errorf("watching claims: %w", err)
	}
	if _, err := volumes.Informer().AddEventHandler(enqueueHandler(p.volumeQueue)); err != nil {
		return nil, fmt.Errorf("watching volumes: %w", err)
	}
	return p, nil
}

// enqueueHandler queues the key of every added or updated object. Deletions
// need no work: a deleted claim's volume comes back as Released, and a
// deleted volume has nothing left to do.
func enqueueHandler(queue workqueue.TypedRateLimitingInterface[string]) cache.ResourceEventHandler {
	add := func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			queue.Add(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    add,
		UpdateFunc: func(_, obj any) { add(obj) },
	}
}

func (p *provisioner) shutDown() {
	p.claimQueue.ShutDown()
	p.volumeQueue.ShutDown()
}

func (p *provisioner) runClaims(ctx context.Context) {
	for work(ctx, p.claimQueue, p.syncClaim, p.log.With("queue", "claims")) {
	}
}

func (p *provisioner) runVolumes(ctx context.Context) {
	for work(ctx, p.volumeQueue, p.syncVolume, p.log.With("queue", "volumes")) {
	}
}

// work handles one key from queue and reports whether the queue is still
// running.
func work(ctx context.Context, queue workqueue.TypedRateLimitingInterface[string], sync func(context.Context, string) error, log *slog.Logger) bool {
	key, shutdown := queue.Get()
	if shutdown {
		return false
	}
	defer queue.Done(key)
	if err := sync(ctx, key); err != nil {
		if ctx.Err() == nil {
			log.Warn("retrying", "key", key, "err", err)
		}
		queue.AddRateLimited(key)
		return true
	}
	queue.Forget(key)
	return true
}

// syncClaim provisions a volume for the claim namespace/name if it needs
// one from this provisioner on this node.
func (p *provisioner) syncClaim(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	claim, err := p.claimLister.PersistentVolumeClaims(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("getting claim %s: %w", key, err)
	}
	class, err := p.classLister.Get(claimClass(claim))
	if apierrors.IsNotFound(err) {
		class = nil
	} else if err != nil {
		return fmt.Errorf("getting storage class of claim %s: %w", key, err)
	}

	action, why := judgeClaim(claim, class, p.cfg)
	switch action {
	case skipClaim:
		return nil
	case rejectClaim:
		p.log.Warn("not provisioning claim", "claim", key, "reason", why)
		p.recorder.Event(claim, corev1.EventTypeWarning, reasonProvisioningFailed, why)
		return nil
	}

	pv := volumeFor(claim, class, p.cfg)
	if _, err := p.volumeLister.Get(pv.Name); err == nil {
		return nil // provisioned before; the PV controller binds it
	}
	if err := createVolumeDir(pv.Spec.HostPath.Path); err != nil {
		p.recorder.Eventf(claim, corev1.EventTypeWarning, reasonProvisioningFailed, "provisioning %s: %v", pv.Name, err)
		return fmt.Errorf("provisioning claim %s: %w", key, err)
	}
	_, err = p.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil // created by an earlier attempt the cache had not seen
	} else if err != nil {
		p.recorder.Eventf(claim, corev1.EventTypeWarning, reasonProvisioningFailed, "creating volume %s: %v", pv.Name, err)
		return fmt.Errorf("provisioning claim %s: creating volume %s: %w", key, pv.Name, err)
	}
	p.log.Info("provisioned volume", "claim", key, "volume", pv.Name, "path", pv.Spec.HostPath.Path,
		"capacity", pv.Spec.Capacity.Storage().String())
	p.recorder.Eventf(claim, corev1.EventTypeNormal, reasonProvisioningSucceeded,
		"Successfully provisioned volume %s at %s", pv.Name, pv.Spec.HostPath.Path)
	return nil
}

// syncVolume deletes the volume name and its directory if it is this
// provisioner's, on this node, released, and reclaimed by deletion.
func (p *provisioner) syncVolume(ctx context.Context, name string) error {
	pv, err := p.volumeLister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("getting volume %s: %w", name, err)
	}
	action, why := judgeVolume(pv, p.cfg)
	switch action {
	case keepVolume:
		return nil
	case refuseVolume:
		p.log.Warn("not deleting released volume", "volume", name, "reason", why)
		p.recorder.Event(pv, corev1.EventTypeWarning, reasonVolumeFailedDelete, why)
		return nil
	}

	path := pv.Spec.HostPath.Path
	if err := removeVolumeDir(path); err != nil {
		p.recorder.Eventf(pv, corev1.EventTypeWarning, reasonVolumeFailedDelete, "%v", err)
		return fmt.Errorf("deleting volume %s: %w", name, err)
	}
	if pv.DeletionTimestamp != nil {
		return nil // deleted already, by an earlier attempt or a user
	}
	// The UID precondition keeps a volume re-created under the same name
	// since the cache saw this one from being deleted.
	err = p.client.CoreV1().PersistentVolumes().Delete(ctx, name, metav1.DeleteOptions{
		Preconditions: metav1.NewUIDPreconditions(string(pv.UID)),
	})
	if err != nil && !apierrors.IsNotFound(err) {
		p.recorder.Eventf(pv, corev1.EventTypeWarning, reasonVolumeFailedDelete, "deleting volume: %v", err)
		return fmt.Errorf("deleting volume %s: %w", name, err)
	}
	p.log.Info("deleted volume", "volume", name, "path", path)
	return nil
}
