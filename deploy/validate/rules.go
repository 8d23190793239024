package main

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// The rules a manifest set is held to, beyond decoding into the API types:
//
//   - names are valid DNS subdomains; an object's kind and name appear once;
//   - pods run as non-root with the runtime's seccomp profile and no service-account token;
//     containers drop every capability, cannot escalate, have a read-only root filesystem,
//     requests for CPU and memory and a memory limit, and a pinned image (no "latest"); every
//     container of the set runs the same image, so API, worker and migration cannot skew;
//   - nothing uses an exec handler: the image is distroless, with no shell and no tools;
//   - a Deployment that serves (declares a port named http) has a readiness probe on /readyz
//     and a liveness probe on /healthz; every probe targets a port its container declares;
//     every Deployment has a termination grace period;
//   - a Deployment's selector matches its pod template; it runs at least two replicas and
//     exactly one PodDisruptionBudget covers it, one that can be satisfied during a drain;
//   - a Service selects the pods of a Deployment and targets ports they declare;
//   - every Secret, ConfigMap, key, volume and service account referred to exists in the set;
//     mounted Secrets are read-only; emptyDirs have a size limit;
//   - a Job does not restart forever (backoffLimit, activeDeadlineSeconds) and is cleaned up;
//   - Secrets in the repository hold placeholders only (CHANGE-ME), never values.

// index finds the objects of a set by kind and name.
type index struct {
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	serviceAccounts map[string]bool
	deployments     []Object
	pdbs            []Object
}

func newIndex(set *Set) *index {
	ix := &index{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}, serviceAccounts: map[string]bool{}}
	for _, o := range set.Objects {
		switch v := o.Obj.(type) {
		case *corev1.ConfigMap:
			ix.configMaps[o.Name()] = v
		case *corev1.Secret:
			ix.secrets[o.Name()] = v
		case *corev1.ServiceAccount:
			ix.serviceAccounts[o.Name()] = true
		case *appsv1.Deployment:
			ix.deployments = append(ix.deployments, o)
		case *policyv1.PodDisruptionBudget:
			ix.pdbs = append(ix.pdbs, o)
		}
	}
	return ix
}

// problems collects rule violations, each naming the object.
type problems []error

func (p *problems) add(o Object, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", o, fmt.Sprintf(format, args...)))
}

// CheckManifests holds a decoded set to the rules above.
func CheckManifests(set *Set) []error {
	var p problems
	ix := newIndex(set)
	seen := map[string]Object{}
	images := map[string][]string{}
	for _, o := range set.Objects {
		if o.Meta.Name != "" {
			key := o.Kind + "/" + o.Meta.Name
			if first, ok := seen[key]; ok {
				p.add(o, "defined twice (first in %s)", first)
			}
			seen[key] = o
			for _, msg := range validation.IsDNS1123Subdomain(o.Meta.Name) {
				p.add(o, "name: %s", msg)
			}
		} else if o.Meta.GenerateName == "" {
			p.add(o, "no name and no generateName")
		}
		switch v := o.Obj.(type) {
		case *appsv1.Deployment:
			checkDeployment(&p, ix, o, v)
			checkPod(&p, ix, o, &v.Spec.Template.Spec, true, images)
		case *batchv1.Job:
			checkJob(&p, o, v)
			checkPod(&p, ix, o, &v.Spec.Template.Spec, false, images)
		case *corev1.Service:
			checkService(&p, ix, o, v)
		case *policyv1.PodDisruptionBudget:
			checkPDB(&p, ix, o, v)
		case *corev1.Secret:
			checkSecret(&p, o, v)
		}
	}
	if len(images) > 1 {
		var all []string
		for img, users := range images {
			all = append(all, fmt.Sprintf("%s (%s)", img, strings.Join(users, ", ")))
		}
		slices.Sort(all)
		p = append(p, fmt.Errorf("kubernetes: containers run different images, so API, worker and migration can skew: %s", strings.Join(all, "; ")))
	}
	return p
}

func checkDeployment(p *problems, ix *index, o Object, d *appsv1.Deployment) {
	sel, ok := selectorOf(p, o, d.Spec.Selector)
	if ok && !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		p.add(o, "the selector %s does not match the pod template's labels %v", sel, d.Spec.Template.Labels)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		p.add(o, "replicas: want at least 2, so that one pod's loss or a rollout leaves the service up")
	}
	if d.Spec.Template.Spec.TerminationGracePeriodSeconds == nil {
		p.add(o, "no terminationGracePeriodSeconds: the default (30 s) does not fit seleksid's shutdown")
	}
	var covering []string
	for _, po := range ix.pdbs {
		pdb := po.Obj.(*policyv1.PodDisruptionBudget)
		s, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err == nil && pdb.Spec.Selector != nil && s.Matches(labels.Set(d.Spec.Template.Labels)) {
			covering = append(covering, po.Name())
		}
	}
	switch len(covering) {
	case 0:
		p.add(o, "no PodDisruptionBudget covers its pods")
	case 1:
	default:
		p.add(o, "several PodDisruptionBudgets cover its pods (%s): the eviction API refuses every eviction", strings.Join(covering, ", "))
	}
}

func checkJob(p *problems, o Object, j *batchv1.Job) {
	if rp := j.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever && rp != corev1.RestartPolicyOnFailure {
		p.add(o, "restartPolicy %q: a Job's pods need Never or OnFailure", rp)
	}
	if j.Spec.BackoffLimit == nil || j.Spec.ActiveDeadlineSeconds == nil {
		p.add(o, "a failing Job needs a backoffLimit and an activeDeadlineSeconds, or it retries for hours")
	}
	if j.Spec.TTLSecondsAfterFinished == nil {
		p.add(o, "no ttlSecondsAfterFinished: finished Jobs pile up")
	}
}

func checkService(p *problems, ix *index, o Object, s *corev1.Service) {
	if len(s.Spec.Selector) == 0 {
		p.add(o, "no selector")
		return
	}
	var pods []corev1.PodSpec
	for _, do := range ix.deployments {
		d := do.Obj.(*appsv1.Deployment)
		if labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
			pods = append(pods, d.Spec.Template.Spec)
		}
	}
	if len(pods) == 0 {
		p.add(o, "the selector %v matches no Deployment's pods", s.Spec.Selector)
		return
	}
	for _, port := range s.Spec.Ports {
		target := port.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(port.Port)
		}
		for _, pod := range pods {
			if !podDeclares(pod, target) {
				p.add(o, "port %q targets %s, which the selected pods do not declare", port.Name, target.String())
			}
		}
	}
}

func checkPDB(p *problems, ix *index, o Object, pdb *policyv1.PodDisruptionBudget) {
	sel, ok := selectorOf(p, o, pdb.Spec.Selector)
	if !ok {
		return
	}
	var matched []*appsv1.Deployment
	for _, do := range ix.deployments {
		d := do.Obj.(*appsv1.Deployment)
		if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			matched = append(matched, d)
		}
	}
	if len(matched) != 1 {
		p.add(o, "the selector matches %d Deployments, want exactly one", len(matched))
		return
	}
	replicas := int32(1)
	if r := matched[0].Spec.Replicas; r != nil {
		replicas = *r
	}
	switch {
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MaxUnavailable != nil:
		p.add(o, "both minAvailable and maxUnavailable")
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.Int && pdb.Spec.MinAvailable.IntVal >= replicas:
		p.add(o, "minAvailable %d with %d replicas: no pod can ever be evicted, so node drains hang", pdb.Spec.MinAvailable.IntVal, replicas)
	case pdb.Spec.MaxUnavailable != nil && pdb.Spec.MaxUnavailable.Type == intstr.Int && pdb.Spec.MaxUnavailable.IntVal < 1:
		p.add(o, "maxUnavailable 0: no pod can ever be evicted, so node drains hang")
	case pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil:
		p.add(o, "neither minAvailable nor maxUnavailable")
	}
}

func checkSecret(p *problems, o Object, s *corev1.Secret) {
	if len(s.Data) > 0 {
		p.add(o, "holds data: real secrets are created in the cluster, never committed (use stringData with CHANGE-ME placeholders)")
	}
	for k, v := range s.StringData {
		if !strings.Contains(v, "CHANGE-ME") {
			p.add(o, "stringData %q holds a value, not a CHANGE-ME placeholder", k)
		}
	}
}

func selectorOf(p *problems, o Object, ls *metav1.LabelSelector) (labels.Selector, bool) {
	if ls == nil || (len(ls.MatchLabels) == 0 && len(ls.MatchExpressions) == 0) {
		p.add(o, "no selector (an empty one selects every pod of the namespace)")
		return nil, false
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		p.add(o, "selector: %v", err)
		return nil, false
	}
	return sel, true
}

// checkPod holds a pod template to the pod and container rules; serving marks a Deployment's
// pods, which need probes when they declare an http port (a metrics port alone serves no
// clients: the workers).
func checkPod(p *problems, ix *index, o Object, pod *corev1.PodSpec, serving bool, images map[string][]string) {
	sc := pod.SecurityContext
	switch {
	case sc == nil:
		p.add(o, "no pod securityContext")
	default:
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			p.add(o, "securityContext.runAsNonRoot is not true")
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			p.add(o, "securityContext.runAsUser is 0 (root)")
		}
		if sc.SeccompProfile == nil || sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
			p.add(o, "securityContext.seccompProfile: want RuntimeDefault")
		}
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		p.add(o, "automountServiceAccountToken is not false: seleksid needs no Kubernetes API token")
	}
	if sa := pod.ServiceAccountName; sa != "" && !ix.serviceAccounts[sa] {
		p.add(o, "serviceAccountName %q is not defined", sa)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
		switch {
		case v.Secret != nil:
			if _, ok := ix.secrets[v.Secret.SecretName]; !ok && !isOptional(v.Secret.Optional) {
				p.add(o, "volume %q: Secret %q is not defined", v.Name, v.Secret.SecretName)
			}
		case v.ConfigMap != nil:
			if _, ok := ix.configMaps[v.ConfigMap.Name]; !ok && !isOptional(v.ConfigMap.Optional) {
				p.add(o, "volume %q: ConfigMap %q is not defined", v.Name, v.ConfigMap.Name)
			}
		case v.EmptyDir != nil:
			if v.EmptyDir.SizeLimit == nil {
				p.add(o, "volume %q: an emptyDir without sizeLimit can fill the node's disk", v.Name)
			}
		}
	}
	for _, c := range slices.Concat(pod.InitContainers, pod.Containers) {
		where := fmt.Sprintf("container %q", c.Name)
		images[c.Image] = append(images[c.Image], o.Name()+"/"+c.Name)
		checkImage(p, o, where, c.Image)
		checkContainerSecurity(p, o, where, c.SecurityContext)
		checkResources(p, o, where, c.Resources)
		checkEnv(p, ix, o, where, c)
		for _, m := range c.VolumeMounts {
			v, ok := volumes[m.Name]
			if !ok {
				p.add(o, "%s mounts volume %q, which the pod does not define", where, m.Name)
				continue
			}
			if v.Secret != nil && !m.ReadOnly {
				p.add(o, "%s mounts Secret volume %q writable", where, m.Name)
			}
		}
		for name, h := range handlers(c) {
			if h.Exec != nil {
				p.add(o, "%s: %s runs a command, but the image has no shell or tools (distroless): use httpGet, grpc or sleep", where, name)
			}
			if h.HTTPGet != nil && !podDeclares(corev1.PodSpec{Containers: []corev1.Container{c}}, h.HTTPGet.Port) {
				p.add(o, "%s: %s targets port %s, which the container does not declare", where, name, h.HTTPGet.Port.String())
			}
		}
		if serving && podDeclares(corev1.PodSpec{Containers: []corev1.Container{c}}, intstr.FromString("http")) {
			if path := httpPath(c.ReadinessProbe); path != "/readyz" {
				p.add(o, "%s serves but has no readinessProbe on /readyz (got %q)", where, path)
			}
			if path := httpPath(c.LivenessProbe); path != "/healthz" {
				p.add(o, "%s serves but has no livenessProbe on /healthz (got %q): liveness must not follow the database or Temporal", where, path)
			}
		}
	}
}

// handler is a probe's or lifecycle hook's action.
type handler struct {
	Exec    *corev1.ExecAction
	HTTPGet *corev1.HTTPGetAction
}

func handlers(c corev1.Container) map[string]handler {
	hs := map[string]handler{}
	for name, pr := range map[string]*corev1.Probe{"startupProbe": c.StartupProbe, "readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
		if pr != nil {
			hs[name] = handler{pr.Exec, pr.HTTPGet}
		}
	}
	if c.Lifecycle != nil {
		for name, lh := range map[string]*corev1.LifecycleHandler{"preStop": c.Lifecycle.PreStop, "postStart": c.Lifecycle.PostStart} {
			if lh != nil {
				hs[name] = handler{lh.Exec, lh.HTTPGet}
			}
		}
	}
	return hs
}

func httpPath(pr *corev1.Probe) string {
	if pr == nil || pr.HTTPGet == nil {
		return ""
	}
	return pr.HTTPGet.Path
}

func podDeclares(pod corev1.PodSpec, port intstr.IntOrString) bool {
	for _, c := range pod.Containers {
		for _, cp := range c.Ports {
			if (port.Type == intstr.String && cp.Name == port.StrVal) || (port.Type == intstr.Int && cp.ContainerPort == port.IntVal) {
				return true
			}
		}
	}
	return false
}

func checkImage(p *problems, o Object, where, image string) {
	if strings.Contains(image, "@sha256:") {
		return
	}
	_, tag, ok := strings.Cut(image[strings.LastIndex(image, "/")+1:], ":")
	if !ok || tag == "" || tag == "latest" {
		p.add(o, "%s: image %q is not pinned to a release tag or digest", where, image)
	}
}

func checkContainerSecurity(p *problems, o Object, where string, sc *corev1.SecurityContext) {
	if sc == nil {
		p.add(o, "%s has no securityContext", where)
		return
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		p.add(o, "%s: allowPrivilegeEscalation is not false", where)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		p.add(o, "%s: readOnlyRootFilesystem is not true", where)
	}
	if sc.Privileged != nil && *sc.Privileged {
		p.add(o, "%s is privileged", where)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		p.add(o, "%s: capabilities must drop ALL and add none", where)
	}
}

func checkResources(p *problems, o Object, where string, r corev1.ResourceRequirements) {
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := r.Requests[name]; !ok || q.IsZero() {
			p.add(o, "%s has no %s request", where, name)
		}
	}
	if q, ok := r.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
		p.add(o, "%s has no memory limit", where)
	} else if req, ok := r.Requests[corev1.ResourceMemory]; ok && req.Cmp(q) > 0 {
		p.add(o, "%s requests more memory than its limit", where)
	}
}

func checkEnv(p *problems, ix *index, o Object, where string, c corev1.Container) {
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil && !isOptional(ef.ConfigMapRef.Optional) {
			if _, ok := ix.configMaps[ef.ConfigMapRef.Name]; !ok {
				p.add(o, "%s: envFrom ConfigMap %q is not defined", where, ef.ConfigMapRef.Name)
			}
		}
		if ef.SecretRef != nil && !isOptional(ef.SecretRef.Optional) {
			if _, ok := ix.secrets[ef.SecretRef.Name]; !ok {
				p.add(o, "%s: envFrom Secret %q is not defined", where, ef.SecretRef.Name)
			}
		}
	}
	names := map[string]bool{}
	for _, e := range c.Env {
		if names[e.Name] {
			p.add(o, "%s: environment variable %s given twice", where, e.Name)
		}
		names[e.Name] = true
		if e.ValueFrom == nil {
			continue
		}
		if ref := e.ValueFrom.SecretKeyRef; ref != nil && !isOptional(ref.Optional) {
			s, ok := ix.secrets[ref.Name]
			switch {
			case !ok:
				p.add(o, "%s: %s reads Secret %q, which is not defined", where, e.Name, ref.Name)
			case !hasKey(s, ref.Key):
				p.add(o, "%s: %s reads key %q, which Secret %q does not have", where, e.Name, ref.Key, ref.Name)
			}
		}
		if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil && !isOptional(ref.Optional) {
			if cm, ok := ix.configMaps[ref.Name]; !ok {
				p.add(o, "%s: %s reads ConfigMap %q, which is not defined", where, e.Name, ref.Name)
			} else if _, has := cm.Data[ref.Key]; !has {
				p.add(o, "%s: %s reads key %q, which ConfigMap %q does not have", where, e.Name, ref.Key, ref.Name)
			}
		}
	}
}

func hasKey(s *corev1.Secret, key string) bool {
	_, inData := s.Data[key]
	_, inString := s.StringData[key]
	return inData || inString
}

func isOptional(b *bool) bool { return b != nil && *b }
