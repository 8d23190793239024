package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Object is one manifest document, decoded into its Kubernetes API type.
type Object struct {
	// File is the manifest's path relative to the directory loaded; Doc counts from 1.
	File string
	Doc  int
	Kind string
	Meta metav1.ObjectMeta
	// Obj is a pointer to the API type: *appsv1.Deployment, *corev1.Service...
	Obj any
}

// Name is the object's name, or its generateName prefix.
func (o Object) Name() string {
	if o.Meta.Name != "" {
		return o.Meta.Name
	}
	return o.Meta.GenerateName
}

func (o Object) String() string { return fmt.Sprintf("%s#%d %s/%s", o.File, o.Doc, o.Kind, o.Name()) }

// Set is every object of a manifest directory.
type Set struct {
	Objects []Object
	Files   int
}

// kinds are the API types the manifests may use, by apiVersion and kind. A kind missing here
// is refused rather than passed unchecked.
var kinds = map[string]func() any{
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                      func() any { return &corev1.ServiceAccount{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":                           func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/Ingress":           func() any { return &networkingv1.Ingress{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
}

// LoadManifests decodes every *.yaml file under dir, strictly: a field the API type does not
// have (a typo, a field at the wrong level) or a key given twice is an error.
func LoadManifests(dir string) (*Set, error) {
	set := &Set{}
	var errs []error
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		set.Files++
		objs, err := DecodeManifest(filepath.ToSlash(rel), raw)
		errs = append(errs, err)
		set.Objects = append(set.Objects, objs...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %w", err)
	}
	if set.Files == 0 {
		errs = append(errs, fmt.Errorf("kubernetes: no manifest in %s", dir))
	}
	return set, errors.Join(errs...)
}

// DecodeManifest decodes the documents of one manifest file.
func DecodeManifest(file string, raw []byte) ([]Object, error) {
	var objs []Object
	var errs []error
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for doc := 1; ; doc++ {
		part, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return objs, fmt.Errorf("%s#%d: %w", file, doc, err)
		}
		if isBlank(part) {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(part, &tm); err != nil {
			errs = append(errs, fmt.Errorf("%s#%d: %w", file, doc, err))
			continue
		}
		newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			errs = append(errs, fmt.Errorf("%s#%d: apiVersion %q kind %q is not one the validator knows (add it to kinds)", file, doc, tm.APIVersion, tm.Kind))
			continue
		}
		obj := newObj()
		if err := yaml.UnmarshalStrict(part, obj); err != nil {
			errs = append(errs, fmt.Errorf("%s#%d %s: %w", file, doc, tm.Kind, err))
			continue
		}
		meta, err := objectMeta(obj)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s#%d %s: %w", file, doc, tm.Kind, err))
			continue
		}
		objs = append(objs, Object{File: file, Doc: doc, Kind: tm.Kind, Meta: meta, Obj: obj})
	}
	return objs, errors.Join(errs...)
}

// isBlank reports whether a document holds only comments and white space.
func isBlank(doc []byte) bool {
	for line := range strings.SplitSeq(string(doc), "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") && t != "---" {
			return false
		}
	}
	return true
}

func objectMeta(obj any) (metav1.ObjectMeta, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return metav1.ObjectMeta{}, errors.New("no object metadata")
	}
	return metav1.ObjectMeta{
		Name: m.GetName(), GenerateName: m.GetGenerateName(), Namespace: m.GetNamespace(),
		Labels: m.GetLabels(), Annotations: m.GetAnnotations(),
	}, nil
}
