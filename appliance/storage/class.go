package storage

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// isDefaultClassAnnotation marks the StorageClass that claims without a
// storageClassName get.
const isDefaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"

// defaultClass is the StorageClass Run creates when none of that name exists.
func defaultClass(cfg Config) *storagev1.StorageClass {
	reclaim := corev1.PersistentVolumeReclaimDelete
	// WaitForFirstConsumer: the directory must be on the node where the
	// pod runs, so provisioning waits for the scheduler to pick it.
	binding := storagev1.VolumeBindingWaitForFirstConsumer
	expand := false
	return &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        cfg.ClassName,
			Annotations: map[string]string{isDefaultClassAnnotation: "true"},
		},
		Provisioner:          cfg.Provisioner,
		ReclaimPolicy:        &reclaim,
		VolumeBindingMode:    &binding,
		AllowVolumeExpansion: &expand,
	}
}

// ensureClass creates the StorageClass if it does not exist and otherwise
// leaves it as it is: a user who moved the default annotation to another
// class, or edited this one, keeps the change across restarts. It retries
// until ctx is done on other errors (an apiserver still starting can refuse
// connections or, before its authorizers are ready, answer Forbidden), and
// fails only if the apiserver rejects the class as invalid.
func ensureClass(ctx context.Context, client kubernetes.Interface, cfg Config, log *slog.Logger) error {
	want := defaultClass(cfg)
	delay := time.Second
	for {
		_, err := client.StorageV1().StorageClasses().Create(ctx, want, metav1.CreateOptions{})
		switch {
		case err == nil:
			log.Info("created storage class", "class", want.Name)
			return nil
		case apierrors.IsAlreadyExists(err):
			existing, getErr := client.StorageV1().StorageClasses().Get(ctx, want.Name, metav1.GetOptions{})
			if getErr == nil && existing.Provisioner != cfg.Provisioner {
				log.Warn("storage class exists with another provisioner; leaving it alone",
					"class", want.Name, "provisioner", existing.Provisioner)
			}
			return nil
		case apierrors.IsInvalid(err):
			return fmt.Errorf("creating storage class %q: %w", want.Name, err)
		}
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("creating storage class failed; retrying", "class", want.Name, "in", delay, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}
