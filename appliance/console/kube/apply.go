package kube

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// MaxApplySize bounds the YAML accepted by Apply.
const MaxApplySize = 1 << 20

// Applied names one object created or updated by Apply.
type Applied struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Apply creates or updates the objects of a YAML or JSON stream in ns as id,
// with server-side apply. Every document must be a namespaced kind in ns
// (or without namespace). All documents are checked with a dry run first,
// so a mistake in the third leaves the first two untouched.
func (c *Cluster) Apply(ctx context.Context, id Identity, ns string, manifest []byte) ([]Applied, error) {
	if len(manifest) > MaxApplySize {
		return nil, problem.Field("yaml", "must be at most 1 MiB")
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	var objs []*unstructured.Unstructured
	for i := 1; ; i++ {
		var raw map[string]any
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, problem.Field("yaml", fmt.Sprintf("document %d is not valid YAML: %v", i, err))
		}
		if len(raw) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: raw}
		if u.GetAPIVersion() == "" || u.GetKind() == "" {
			return nil, problem.Field("yaml", fmt.Sprintf("document %d needs apiVersion and kind", i))
		}
		if u.GetName() == "" {
			return nil, problem.Field("yaml", fmt.Sprintf("document %d (%s) needs metadata.name", i, u.GetKind()))
		}
		if u.GetNamespace() != "" && u.GetNamespace() != ns {
			return nil, problem.Field("yaml", fmt.Sprintf("document %d (%s %s) is for namespace %q; objects here go into project %q",
				i, u.GetKind(), u.GetName(), u.GetNamespace(), ns))
		}
		u.SetNamespace(ns)
		u.SetManagedFields(nil)
		u.SetResourceVersion("")
		objs = append(objs, u)
	}
	if len(objs) == 0 {
		return nil, problem.Field("yaml", "contains no objects")
	}
	_, dyn, err := c.clientsFor(id)
	if err != nil {
		return nil, err
	}
	var applied []Applied
	for _, dryRun := range []bool{true, false} {
		applied = applied[:0]
		for i, u := range objs {
			gvk := u.GroupVersionKind()
			mapping, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if meta.IsNoMatchError(err) {
				c.mapper.Reset()
				mapping, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			}
			if err != nil {
				return nil, problem.Field("yaml", fmt.Sprintf("document %d: the cluster does not know %s %s", i+1, u.GetAPIVersion(), u.GetKind()))
			}
			if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
				return nil, problem.Field("yaml", fmt.Sprintf("document %d: %s is cluster-wide; only objects inside a project can be created here", i+1, u.GetKind()))
			}
			opts := metav1.ApplyOptions{FieldManager: FieldManager}
			if dryRun {
				opts.DryRun = []string{metav1.DryRunAll}
			}
			_, err = dyn.Resource(mapping.Resource).Namespace(ns).Apply(ctx, u.GetName(), u, opts)
			if err != nil {
				return nil, translate(err, fmt.Sprintf("%s %s", u.GetKind(), u.GetName()))
			}
			applied = append(applied, Applied{Kind: u.GetKind(), Name: u.GetName()})
		}
	}
	return applied, nil
}
