package deploy

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/texttosql/text2sql/validate"
)

// overlays are the kustomize entry points operators apply.
var overlays = []string{"dev", "production"}

// layouts are every rendered install: the overlays and the Helm chart with
// deploy/helm/superset-values.yaml. The checks every workload must pass run
// on all of them.
var layouts = append(append([]string{}, overlays...), helmLayout)

// chartLimits are checks the chart gives no value to satisfy, by layout and
// workload, with the reason. Keep it short: each entry is a gap an operator
// lives with.
var chartLimits = map[string]string{
	helmLayout + ": Deployment/superset-celerybeat liveness": "chart 0.15.4 has no probe settings for beat",
}

// externalSecret mirrors the fields of external-secrets.io/v1 ExternalSecret
// the manifests use. The operator's Go API module drags in every cloud SDK,
// so the shape is restated here; strict decoding still rejects a field this
// type does not know.
type externalSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		RefreshInterval string `json:"refreshInterval,omitempty"`
		SecretStoreRef  struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"secretStoreRef"`
		Target struct {
			Name           string `json:"name"`
			CreationPolicy string `json:"creationPolicy,omitempty"`
			Template       *struct {
				EngineVersion string            `json:"engineVersion,omitempty"`
				Data          map[string]string `json:"data,omitempty"`
			} `json:"template,omitempty"`
		} `json:"target"`
		Data []struct {
			SecretKey string `json:"secretKey"`
			RemoteRef struct {
				Key      string `json:"key"`
				Property string `json:"property,omitempty"`
			} `json:"remoteRef"`
		} `json:"data"`
	} `json:"spec"`
}

// newObject returns the typed object for a kind; the test fails on kinds
// it does not know, so a new kind gets decoded strictly too.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + "/" + kind {
	case "v1/Namespace":
		return &corev1.Namespace{}, true
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1/Secret":
		return &corev1.Secret{}, true
	case "v1/Service":
		return &corev1.Service{}, true
	case "v1/PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, true
	case "batch/v1/Job":
		return &batchv1.Job{}, true
	case "batch/v1/CronJob":
		return &batchv1.CronJob{}, true
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}, true
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, true
	case "monitoring.coreos.com/v1/PrometheusRule":
		return &monitoringv1.PrometheusRule{}, true
	case "external-secrets.io/v1/ExternalSecret":
		return &externalSecret{}, true
	}
	return nil, false
}

// rendered is one overlay's output, decoded.
type rendered struct {
	name    string
	objects []any
	byKind  map[string]map[string]any // kind -> name -> object
}

func (r *rendered) get(kind, name string) any { return r.byKind[kind][name] }

// workload is a pod template and where it comes from.
type workload struct {
	kind, name  string
	longRunning bool
	labels      map[string]string
	spec        *corev1.PodSpec
	// claims are a StatefulSet's volumeClaimTemplates, volumes too.
	claims []string
}

func (r *rendered) workloads() []workload {
	var out []workload
	for _, o := range r.objects {
		switch v := o.(type) {
		case *appsv1.Deployment:
			out = append(out, workload{kind: "Deployment", name: v.Name, longRunning: true, labels: v.Spec.Template.Labels, spec: &v.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			w := workload{kind: "StatefulSet", name: v.Name, longRunning: true, labels: v.Spec.Template.Labels, spec: &v.Spec.Template.Spec}
			for _, c := range v.Spec.VolumeClaimTemplates {
				w.claims = append(w.claims, c.Name)
			}
			out = append(out, w)
		case *batchv1.Job:
			out = append(out, workload{kind: "Job", name: v.Name, labels: v.Spec.Template.Labels, spec: &v.Spec.Template.Spec})
		case *batchv1.CronJob:
			t := &v.Spec.JobTemplate.Spec.Template
			out = append(out, workload{kind: "CronJob", name: v.Name, labels: t.Labels, spec: &t.Spec})
		}
	}
	return out
}

var renderCache = map[string]*rendered{}

// render builds an overlay with the kustomize library and decodes every
// object strictly into its API type.
func render(t *testing.T, overlay string) *rendered {
	t.Helper()
	if overlay == helmLayout {
		return renderHelm(t)
	}
	if r, ok := renderCache[overlay]; ok {
		return r
	}
	dir := filepath.Join(repoRoot(t), "deploy", "kubernetes", "overlays", overlay)
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", overlay, err)
	}
	r := &rendered{name: overlay, byKind: map[string]map[string]any{}}
	for _, res := range m.Resources() {
		data, err := res.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		r.add(t, res.GetApiVersion(), res.GetKind(), res.GetName(), data)
	}
	renderCache[overlay] = r
	return r
}

// add decodes one rendered object strictly into its API type.
func (r *rendered) add(t *testing.T, apiVersion, kind, name string, data []byte) {
	t.Helper()
	obj, ok := newObject(apiVersion, kind)
	if !ok {
		t.Fatalf("%s: %s %s/%s has no typed decoder in this test; add one", r.name, apiVersion, kind, name)
	}
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		t.Fatalf("%s: %s %s does not decode strictly as %s: %v", r.name, kind, name, apiVersion, err)
	}
	r.objects = append(r.objects, obj)
	if r.byKind[kind] == nil {
		r.byKind[kind] = map[string]any{}
	}
	if _, dup := r.byKind[kind][name]; dup {
		t.Fatalf("%s: two %s named %s", r.name, kind, name)
	}
	r.byKind[kind][name] = obj
}

func TestOverlaysBuildAndDecodeStrictly(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		kinds := make([]string, 0, len(r.byKind))
		for k, objs := range r.byKind {
			kinds = append(kinds, fmt.Sprintf("%s=%d", k, len(objs)))
		}
		sort.Strings(kinds)
		t.Logf("%s: %d objects: %s", o, len(r.objects), strings.Join(kinds, " "))
		if ns := r.byKind["Namespace"]; len(ns) != 1 {
			t.Errorf("%s: want exactly one Namespace, got %d", o, len(ns))
		}
		for _, obj := range r.objects {
			if ns, ok := obj.(*corev1.Namespace); ok {
				if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
					t.Errorf("%s: namespace %s does not enforce the restricted Pod Security Standard", o, ns.Name)
				}
			}
		}
	}
}

func TestContainersAreHardened(t *testing.T) {
	ops := readOperatorSupplied(t)
	for _, o := range layouts {
		r := render(t, o)
		for _, w := range r.workloads() {
			where := fmt.Sprintf("%s: %s/%s", o, w.kind, w.name)
			ps := w.spec
			if !tokenOff(r, ops, ps) {
				t.Errorf("%s: automountServiceAccountToken must be false (on the pod, or on the ServiceAccount it runs as)", where)
			}
			checkRestricted(t, where, w)
			if ps.HostNetwork || ps.HostPID || ps.HostIPC {
				t.Errorf("%s: uses host namespaces", where)
			}
			type ctr struct {
				c    corev1.Container
				init bool
			}
			var all []ctr
			for _, c := range ps.InitContainers {
				all = append(all, ctr{c, true})
			}
			for _, c := range ps.Containers {
				all = append(all, ctr{c, false})
			}
			for _, x := range all {
				c := x.c
				cw := fmt.Sprintf("%s container %s", where, c.Name)
				if err := pinnedImage(c.Image); err != nil {
					t.Errorf("%s: image %q: %v", cw, c.Image, err)
				}
				for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					if _, ok := c.Resources.Requests[res]; !ok {
						t.Errorf("%s: no %s request", cw, res)
					}
					if _, ok := c.Resources.Limits[res]; !ok {
						t.Errorf("%s: no %s limit", cw, res)
					}
				}
				if req, lim := c.Resources.Requests.Memory(), c.Resources.Limits.Memory(); req.Cmp(*lim) > 0 {
					t.Errorf("%s: memory request %s above limit %s", cw, req, lim)
				}
				checkSecurityContext(t, cw, ps.SecurityContext, c.SecurityContext)
				if w.longRunning && !x.init {
					if c.LivenessProbe == nil && chartLimits[fmt.Sprintf("%s: %s/%s liveness", o, w.kind, w.name)] == "" {
						t.Errorf("%s: no liveness probe", cw)
					}
					if len(c.Ports) > 0 && c.ReadinessProbe == nil {
						t.Errorf("%s: serves ports but has no readiness probe", cw)
					}
					for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
						if p != nil && p.HTTPGet != nil && p.HTTPGet.Port.StrVal != "" && !hasPort(c, p.HTTPGet.Port.StrVal) {
							t.Errorf("%s: probe uses port %q, which the container does not declare", cw, p.HTTPGet.Port.StrVal)
						}
					}
				}
				for _, m := range c.VolumeMounts {
					if !hasVolume(ps, m.Name) && !contains(w.claims, m.Name) {
						t.Errorf("%s: mounts volume %s, which the pod does not define", cw, m.Name)
					}
				}
			}
		}
	}
}

// TestImageVersionsAgree: one image repository, one version per overlay
// (pg_dump in the backup must not be older than the dev PostgreSQL, and a
// mixed Superset fleet would run two schemas' code).
func TestImageVersionsAgree(t *testing.T) {
	for _, o := range layouts {
		r := render(t, o)
		seen := map[string]string{}
		for _, w := range r.workloads() {
			for _, c := range append(append([]corev1.Container{}, w.spec.InitContainers...), w.spec.Containers...) {
				repo, tag := splitImage(c.Image)
				if prev, ok := seen[repo]; ok && prev != tag {
					t.Errorf("%s: %s is used at %s and at %s", o, repo, prev, tag)
				}
				seen[repo] = tag
			}
		}
	}
}

func splitImage(ref string) (repo, version string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[:i], ref[i+1:]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

func checkSecurityContext(t *testing.T, where string, pod *corev1.PodSecurityContext, c *corev1.SecurityContext) {
	t.Helper()
	if c == nil {
		t.Errorf("%s: no securityContext", where)
		return
	}
	nonRoot := c.RunAsNonRoot
	if nonRoot == nil && pod != nil {
		nonRoot = pod.RunAsNonRoot
	}
	if nonRoot == nil || !*nonRoot {
		t.Errorf("%s: runAsNonRoot is not true", where)
	}
	uid := c.RunAsUser
	if uid == nil && pod != nil {
		uid = pod.RunAsUser
	}
	if uid == nil || *uid == 0 {
		t.Errorf("%s: runAsUser must be a numeric non-root uid (images with named users cannot be verified otherwise)", where)
	}
	if c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation is not false", where)
	}
	if c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem is not true", where)
	}
	if c.Privileged != nil && *c.Privileged {
		t.Errorf("%s: privileged", where)
	}
	if c.Capabilities == nil || !containsCap(c.Capabilities.Drop, "ALL") || len(c.Capabilities.Add) > 0 {
		t.Errorf("%s: capabilities must drop ALL and add none", where)
	}
	seccomp := c.SeccompProfile
	if seccomp == nil && pod != nil {
		seccomp = pod.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccomp profile is not RuntimeDefault", where)
	}
}

func containsCap(caps []corev1.Capability, want corev1.Capability) bool {
	for _, c := range caps {
		if c == want {
			return true
		}
	}
	return false
}

func hasPort(c corev1.Container, name string) bool {
	for _, p := range c.Ports {
		if p.Name == name {
			return true
		}
	}
	return false
}

func hasVolume(ps *corev1.PodSpec, name string) bool {
	for _, v := range ps.Volumes {
		if v.Name == name {
			return true
		}
	}
	return false
}

// matchingWorkloads are the workloads whose pod labels sel selects.
func matchingWorkloads(t *testing.T, r *rendered, sel *metav1.LabelSelector) []workload {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("%s: bad selector %v: %v", r.name, sel, err)
	}
	var out []workload
	for _, w := range r.workloads() {
		if s.Matches(labels.Set(w.labels)) {
			out = append(out, w)
		}
	}
	return out
}

func TestSelectorsMatchObjects(t *testing.T) {
	for _, o := range layouts {
		r := render(t, o)
		for _, obj := range r.objects {
			switch v := obj.(type) {
			case *appsv1.Deployment:
				checkOwnSelector(t, o, "Deployment", v.Name, v.Spec.Selector, v.Spec.Template.Labels)
			case *appsv1.StatefulSet:
				checkOwnSelector(t, o, "StatefulSet", v.Name, v.Spec.Selector, v.Spec.Template.Labels)
				if r.get("Service", v.Spec.ServiceName) == nil {
					t.Errorf("%s: StatefulSet %s names Service %s, which does not exist", o, v.Name, v.Spec.ServiceName)
				}
			case *autoscalingv2.HorizontalPodAutoscaler:
				ref := v.Spec.ScaleTargetRef
				if r.get(ref.Kind, ref.Name) == nil {
					t.Errorf("%s: HPA %s scales %s %s, which does not exist", o, v.Name, ref.Kind, ref.Name)
				}
				if v.Spec.MinReplicas == nil || *v.Spec.MinReplicas < 1 || v.Spec.MaxReplicas < *v.Spec.MinReplicas {
					t.Errorf("%s: HPA %s has a bad replica range", o, v.Name)
				}
			case *policyv1.PodDisruptionBudget:
				if len(matchingWorkloads(t, r, v.Spec.Selector)) == 0 {
					t.Errorf("%s: PDB %s selects no pods", o, v.Name)
				}
			case *corev1.Service:
				ws := matchingWorkloads(t, r, &metav1.LabelSelector{MatchLabels: v.Spec.Selector})
				if len(ws) == 0 {
					t.Errorf("%s: Service %s selects no pods", o, v.Name)
				}
				for _, p := range v.Spec.Ports {
					if p.TargetPort.StrVal == "" {
						continue
					}
					for _, w := range ws {
						if !podHasPort(w.spec, p.TargetPort.StrVal) {
							t.Errorf("%s: Service %s targets port %q, which %s %s does not declare", o, v.Name, p.TargetPort.StrVal, w.kind, w.name)
						}
					}
				}
			case *networkingv1.NetworkPolicy:
				if len(v.Spec.PodSelector.MatchLabels)+len(v.Spec.PodSelector.MatchExpressions) > 0 &&
					len(matchingWorkloads(t, r, &v.Spec.PodSelector)) == 0 {
					t.Errorf("%s: NetworkPolicy %s selects no pods", o, v.Name)
				}
				var peers []networkingv1.NetworkPolicyPeer
				for _, in := range v.Spec.Ingress {
					peers = append(peers, in.From...)
				}
				for _, eg := range v.Spec.Egress {
					peers = append(peers, eg.To...)
				}
				for _, p := range peers {
					// Peers in other namespaces (ingress controller, DNS,
					// Prometheus, internal tools) are outside the overlay.
					if p.PodSelector != nil && p.NamespaceSelector == nil && len(matchingWorkloads(t, r, p.PodSelector)) == 0 {
						t.Errorf("%s: NetworkPolicy %s names peer pods %v that do not exist", o, v.Name, p.PodSelector)
					}
				}
			case *networkingv1.Ingress:
				for _, rule := range v.Spec.Rules {
					for _, path := range rule.HTTP.Paths {
						checkServicePort(t, r, "Ingress "+v.Name, path.Backend.Service.Name, path.Backend.Service.Port.Name)
					}
				}
			case *monitoringv1.ServiceMonitor:
				var found bool
				for _, svcObj := range r.byKind["Service"] {
					svc := svcObj.(*corev1.Service)
					s, err := metav1.LabelSelectorAsSelector(&v.Spec.Selector)
					if err != nil {
						t.Fatal(err)
					}
					if !s.Matches(labels.Set(svc.Labels)) {
						continue
					}
					found = true
					for _, ep := range v.Spec.Endpoints {
						checkServicePort(t, r, "ServiceMonitor "+v.Name, svc.Name, ep.Port)
					}
				}
				if !found {
					t.Errorf("%s: ServiceMonitor %s selects no Service", o, v.Name)
				}
			}
		}
	}
}

func checkOwnSelector(t *testing.T, overlay, kind, name string, sel *metav1.LabelSelector, podLabels map[string]string) {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || !s.Matches(labels.Set(podLabels)) {
		t.Errorf("%s: %s %s's selector does not match its own pod template", overlay, kind, name)
	}
}

func podHasPort(ps *corev1.PodSpec, name string) bool {
	for _, c := range ps.Containers {
		if hasPort(c, name) {
			return true
		}
	}
	return false
}

func checkServicePort(t *testing.T, r *rendered, who, service, port string) {
	t.Helper()
	svc, ok := r.get("Service", service).(*corev1.Service)
	if !ok {
		t.Errorf("%s: %s points at Service %s, which does not exist", r.name, who, service)
		return
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == port {
			return
		}
	}
	t.Errorf("%s: %s uses port %q of Service %s, which has no such port", r.name, who, port, service)
}

// operatorSupplied is deploy/kubernetes/operator-secrets.yaml.
type operatorSupplied struct {
	Overlays map[string]struct {
		Secrets []struct {
			Name   string            `json:"name"`
			Keys   map[string]string `json:"keys"`
			Create string            `json:"create"`
		} `json:"secrets"`
		Prerequisites []struct {
			Kind    string `json:"kind"`
			Name    string `json:"name"`
			Purpose string `json:"purpose"`
		} `json:"prerequisites"`
	} `json:"overlays"`
}

// prerequisite reports whether the operator creates an object of this kind
// and name for the layout before installing it.
func (o *operatorSupplied) prerequisite(layout, kind, name string) bool {
	for _, p := range o.Overlays[layout].Prerequisites {
		if p.Kind == kind && p.Name == name {
			return true
		}
	}
	return false
}

// tokenOff reports whether a pod mounts no service-account token: the pod
// says so, or it runs as a ServiceAccount that does (rendered, or listed
// as a prerequisite, which the operator creates from the base's
// serviceaccount.yaml, where the field is false).
func tokenOff(r *rendered, ops *operatorSupplied, ps *corev1.PodSpec) bool {
	if ps.AutomountServiceAccountToken != nil {
		return !*ps.AutomountServiceAccountToken
	}
	sa := ps.ServiceAccountName
	if sa == "" {
		return false // "default", whose token is mounted unless someone changed it
	}
	if obj, ok := r.get("ServiceAccount", sa).(*corev1.ServiceAccount); ok {
		return obj.AutomountServiceAccountToken != nil && !*obj.AutomountServiceAccountToken
	}
	return ops.prerequisite(r.name, "ServiceAccount", sa)
}

func readOperatorSupplied(t *testing.T) *operatorSupplied {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "kubernetes", "operator-secrets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var o operatorSupplied
	if err := yaml.UnmarshalStrict(data, &o); err != nil {
		t.Fatalf("operator-secrets.yaml: %v", err)
	}
	return &o
}

// providedKeys lists, per ConfigMap or Secret name, the keys an overlay
// makes available: its own objects, ExternalSecret targets and the
// operator-supplied list.
func providedKeys(t *testing.T, r *rendered, ops *operatorSupplied) (configMaps, secrets map[string]map[string]bool) {
	t.Helper()
	configMaps, secrets = map[string]map[string]bool{}, map[string]map[string]bool{}
	for _, obj := range r.objects {
		switch v := obj.(type) {
		case *corev1.ConfigMap:
			configMaps[v.Name] = map[string]bool{}
			for k := range v.Data {
				configMaps[v.Name][k] = true
			}
			for k := range v.BinaryData {
				configMaps[v.Name][k] = true
			}
		case *corev1.Secret:
			secrets[v.Name] = map[string]bool{}
			for k := range v.Data {
				secrets[v.Name][k] = true
			}
			for k := range v.StringData {
				secrets[v.Name][k] = true
			}
		case *externalSecret:
			keys := map[string]bool{}
			if tpl := v.Spec.Target.Template; tpl != nil && len(tpl.Data) > 0 {
				for k := range tpl.Data {
					keys[k] = true
				}
			} else {
				for _, d := range v.Spec.Data {
					keys[d.SecretKey] = true
				}
			}
			if v.Spec.Target.Name == "" {
				t.Errorf("%s: ExternalSecret %s has no target name", r.name, v.Name)
			}
			secrets[v.Spec.Target.Name] = keys
		}
	}
	ov, ok := ops.Overlays[r.name]
	if !ok {
		t.Fatalf("operator-secrets.yaml has no entry for overlay %s", r.name)
	}
	for _, s := range ov.Secrets {
		if _, clash := secrets[s.Name]; clash {
			t.Errorf("%s: operator-secrets.yaml lists %s, which the overlay already creates", r.name, s.Name)
		}
		if s.Create == "" || len(s.Keys) == 0 {
			t.Errorf("%s: operator-secrets.yaml entry %s needs keys and how to create it", r.name, s.Name)
		}
		secrets[s.Name] = map[string]bool{}
		for k := range s.Keys {
			secrets[s.Name][k] = true
		}
	}
	return configMaps, secrets
}

func TestReferencesResolve(t *testing.T) {
	ops := readOperatorSupplied(t)
	for _, o := range layouts {
		r := render(t, o)
		cms, secs := providedKeys(t, r, ops)
		used := map[string]bool{}
		need := func(where, kind, name, key string, optional *bool) {
			if optional != nil && *optional {
				return
			}
			pool := cms
			if kind == "Secret" {
				pool = secs
				used[name] = true
			}
			keys, ok := pool[name]
			switch {
			case !ok:
				t.Errorf("%s: %s uses %s %s, which neither the overlay nor operator-secrets.yaml provides", o, where, kind, name)
			case key != "" && !keys[key]:
				t.Errorf("%s: %s uses key %q of %s %s, which has no such key", o, where, key, kind, name)
			}
		}
		for _, w := range r.workloads() {
			ps := w.spec
			for _, c := range append(append([]corev1.Container{}, ps.InitContainers...), ps.Containers...) {
				where := fmt.Sprintf("%s/%s container %s", w.kind, w.name, c.Name)
				for _, e := range c.Env {
					if e.ValueFrom == nil {
						continue
					}
					if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
						need(where, "ConfigMap", ref.Name, ref.Key, ref.Optional)
					}
					if ref := e.ValueFrom.SecretKeyRef; ref != nil {
						need(where, "Secret", ref.Name, ref.Key, ref.Optional)
					}
				}
				for _, ef := range c.EnvFrom {
					if ref := ef.ConfigMapRef; ref != nil {
						need(where, "ConfigMap", ref.Name, "", ref.Optional)
					}
					if ref := ef.SecretRef; ref != nil {
						need(where, "Secret", ref.Name, "", ref.Optional)
					}
				}
			}
			for _, v := range ps.Volumes {
				where := fmt.Sprintf("%s/%s volume %s", w.kind, w.name, v.Name)
				if v.ConfigMap != nil {
					need(where, "ConfigMap", v.ConfigMap.Name, "", v.ConfigMap.Optional)
					for _, it := range v.ConfigMap.Items {
						need(where, "ConfigMap", v.ConfigMap.Name, it.Key, v.ConfigMap.Optional)
					}
				}
				if v.Secret != nil {
					need(where, "Secret", v.Secret.SecretName, "", v.Secret.Optional)
					for _, it := range v.Secret.Items {
						need(where, "Secret", v.Secret.SecretName, it.Key, v.Secret.Optional)
					}
				}
				if v.PersistentVolumeClaim != nil && r.get("PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName) == nil {
					t.Errorf("%s: %s claims PVC %s, which does not exist", o, where, v.PersistentVolumeClaim.ClaimName)
				}
			}
			if sa := ps.ServiceAccountName; sa != "" && r.get("ServiceAccount", sa) == nil && !ops.prerequisite(o, "ServiceAccount", sa) {
				t.Errorf("%s: %s/%s runs as ServiceAccount %s, which does not exist", o, w.kind, w.name, sa)
			}
		}
		for _, obj := range r.byKind["Ingress"] {
			for _, tls := range obj.(*networkingv1.Ingress).Spec.TLS {
				need("Ingress TLS", "Secret", tls.SecretName, "tls.crt", nil)
			}
		}
		// A listed secret nobody uses is a stale entry.
		for _, s := range ops.Overlays[o].Secrets {
			if !used[s.Name] {
				t.Errorf("%s: operator-secrets.yaml lists %s, which nothing uses", o, s.Name)
			}
		}
	}
}

func TestPolicyFileParses(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		var found bool
		for name, obj := range r.byKind["ConfigMap"] {
			if !strings.HasPrefix(name, "text2sql-config") {
				continue
			}
			found = true
			data := obj.(*corev1.ConfigMap).Data["policy.yaml"]
			if _, err := validate.ParsePolicy([]byte(data)); err != nil {
				t.Errorf("%s: %s policy.yaml: %v", o, name, err)
			}
		}
		if !found {
			t.Errorf("%s: no text2sql-config ConfigMap", o)
		}
	}
}

// sidecarSettings reads the TEXT2SQL_* variables the binary documents in
// `serve --help`, and the prefix of per-caller token variables.
func sidecarSettings(t *testing.T) (names map[string]string, tokenPrefix string) {
	t.Helper()
	out, err := exec.Command(text2sqlBinary(t), "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("text2sql serve --help: %v\n%s", err, out)
	}
	names = map[string]string{}
	// Table rows: "  --flag  TEXT2SQL_NAME  (default X)  meaning".
	row := regexp.MustCompile(`(?m)^\s+--([a-z0-9-]+)\s+(TEXT2SQL_[A-Z0-9_]+)\s+\(default (.*?)\)`)
	for _, m := range row.FindAllStringSubmatch(string(out), -1) {
		def := m[3]
		if def == `""` {
			def = ""
		}
		names[m[2]] = def
	}
	if len(names) == 0 {
		t.Fatalf("no settings found in `text2sql serve --help`:\n%s", out)
	}
	if m := regexp.MustCompile(`(TEXT2SQL_[A-Z0-9_]+_)<NAME>`).FindStringSubmatch(string(out)); m != nil {
		tokenPrefix = m[1]
	}
	return names, tokenPrefix
}

// requiredSidecarSettings are the settings a deployment must set: without
// any of them the service either does not start where Kubernetes expects
// it or runs without a part the deployment relies on.
var requiredSidecarSettings = []string{
	"TEXT2SQL_HTTP_ADDR",
	"TEXT2SQL_GRPC_ADDR",
	"TEXT2SQL_POLICY",
	"TEXT2SQL_LOG_FORMAT",
	"TEXT2SQL_CALLERS",
	"TEXT2SQL_SHUTDOWN_DELAY",
	"TEXT2SQL_SHUTDOWN_GRACE",
	"TEXT2SQL_SUPERSET_URL",
	"TEXT2SQL_SQLLAB_URL",
	"TEXT2SQL_SUPERSET_USERNAME",
	"TEXT2SQL_SUPERSET_PASSWORD",
	"TEXT2SQL_LLM_BASE_URL",
	"TEXT2SQL_LLM_MODEL",
	"TEXT2SQL_LLM_API_KEY",
	"TEXT2SQL_REDIS_URL",
}

func sidecarContainer(t *testing.T, r *rendered) (*appsv1.Deployment, corev1.Container) {
	t.Helper()
	d, ok := r.get("Deployment", "text2sql").(*appsv1.Deployment)
	if !ok {
		t.Fatalf("%s: no Deployment text2sql", r.name)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "text2sql" {
			return d, c
		}
	}
	t.Fatalf("%s: Deployment text2sql has no container text2sql", r.name)
	return nil, corev1.Container{}
}

func TestSidecarEnvMatchesBinary(t *testing.T) {
	known, tokenPrefix := sidecarSettings(t)
	for _, o := range overlays {
		r := render(t, o)
		_, c := sidecarContainer(t, r)
		checkSidecarEnv(t, o, c, known, tokenPrefix)
	}
}

// checkSidecarEnv compares the variables a text2sql container sets with the
// ones the binary reads, both ways.
func checkSidecarEnv(t *testing.T, where string, c corev1.Container, known map[string]string, tokenPrefix string) {
	t.Helper()
	if len(c.EnvFrom) > 0 {
		t.Errorf("%s: the text2sql container uses envFrom; list variables explicitly so they can be checked", where)
	}
	set := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		set[e.Name] = e
	}
	callers := map[string]bool{}
	for _, item := range strings.Split(set["TEXT2SQL_CALLERS"].Value, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(item), ":")
		if name != "" {
			callers[strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))] = true
		}
	}
	for name, e := range set {
		if !strings.HasPrefix(name, "TEXT2SQL_") {
			continue
		}
		if tokenPrefix != "" && strings.HasPrefix(name, tokenPrefix) {
			caller := strings.TrimPrefix(name, tokenPrefix)
			if !callers[caller] {
				t.Errorf("%s: %s is set but no caller %s is listed in TEXT2SQL_CALLERS (the service refuses to start)", where, name, caller)
			}
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				t.Errorf("%s: %s must come from a Secret", where, name)
			}
			continue
		}
		if _, ok := known[name]; !ok {
			t.Errorf("%s: the text2sql container sets %s, which `text2sql serve --help` does not document", where, name)
		}
	}
	for caller := range callers {
		if _, ok := set[tokenPrefix+caller]; !ok {
			t.Errorf("%s: caller %s has no %s%s", where, caller, tokenPrefix, caller)
		}
	}
	for _, name := range requiredSidecarSettings {
		if _, ok := known[name]; !ok {
			t.Errorf("%s: the deployment needs %s, which `text2sql serve --help` does not document", where, name)
		}
		if _, ok := set[name]; !ok {
			t.Errorf("%s: the text2sql container does not set %s", where, name)
		}
	}
	for _, secret := range []string{"TEXT2SQL_SUPERSET_PASSWORD", "TEXT2SQL_SUPERSET_API_KEY", "TEXT2SQL_LLM_API_KEY", "TEXT2SQL_REDIS_URL"} {
		if e, ok := set[secret]; ok && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			t.Errorf("%s: %s must come from a Secret", where, secret)
		}
	}
}

func TestSidecarDeployment(t *testing.T) {
	known, _ := sidecarSettings(t)
	for _, o := range overlays {
		r := render(t, o)
		d, c := sidecarContainer(t, r)
		if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
			t.Errorf("%s: text2sql runs fewer than 2 replicas", o)
		}
		if hpa, ok := r.get("HorizontalPodAutoscaler", "text2sql").(*autoscalingv2.HorizontalPodAutoscaler); !ok || *hpa.Spec.MinReplicas < 2 {
			t.Errorf("%s: text2sql needs an HPA with minReplicas >= 2", o)
		}
		ps := d.Spec.Template.Spec
		if len(ps.TopologySpreadConstraints) == 0 {
			t.Errorf("%s: text2sql has no topology spread constraints", o)
		}
		sa, ok := r.get("ServiceAccount", ps.ServiceAccountName).(*corev1.ServiceAccount)
		if !ok || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
			t.Errorf("%s: text2sql's ServiceAccount must exist with automountServiceAccountToken: false", o)
		}
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		value := func(name string) string {
			if v, ok := env[name]; ok {
				return v
			}
			return known[name]
		}
		// The pod is killed only after the service has drained.
		delay, err1 := time.ParseDuration(value("TEXT2SQL_SHUTDOWN_DELAY"))
		grace, err2 := time.ParseDuration(value("TEXT2SQL_SHUTDOWN_GRACE"))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: shutdown durations: %v %v", o, err1, err2)
		}
		if ps.TerminationGracePeriodSeconds == nil || time.Duration(*ps.TerminationGracePeriodSeconds)*time.Second <= delay+grace {
			t.Errorf("%s: terminationGracePeriodSeconds must exceed shutdown delay %v + grace %v", o, delay, grace)
		}
		// Listen addresses and declared ports agree.
		for setting, port := range map[string]string{"TEXT2SQL_HTTP_ADDR": "http", "TEXT2SQL_GRPC_ADDR": "grpc"} {
			_, p, _ := strings.Cut(value(setting), ":")
			var declared int32
			for _, cp := range c.Ports {
				if cp.Name == port {
					declared = cp.ContainerPort
				}
			}
			if n, err := strconv.Atoi(p); err != nil || int32(n) != declared {
				t.Errorf("%s: %s=%q does not listen on the %s port %d", o, setting, value(setting), port, declared)
			}
			if host, _, _ := strings.Cut(value(setting), ":"); host != "" {
				t.Errorf("%s: %s listens on %s only; the kubelet and other pods cannot reach it", o, setting, host)
			}
		}
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("%s: text2sql readiness must probe /readyz", o)
		}
		if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("%s: text2sql liveness must probe /healthz", o)
		}
		// The policy file is mounted where TEXT2SQL_POLICY says.
		policy := value("TEXT2SQL_POLICY")
		var mounted bool
		for _, m := range c.VolumeMounts {
			if strings.HasPrefix(policy, strings.TrimSuffix(m.MountPath, "/")+"/") {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("%s: TEXT2SQL_POLICY=%s is not under a mounted volume", o, policy)
		}
	}
}

func TestSidecarReachableOnlyFromSuperset(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		d, _ := sidecarContainer(t, r)
		podLabels := labels.Set(d.Spec.Template.Labels)
		web := r.get("Deployment", "superset-web").(*appsv1.Deployment)
		var defaultDeny bool
		for _, obj := range r.byKind["NetworkPolicy"] {
			np := obj.(*networkingv1.NetworkPolicy)
			sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
			if err != nil {
				t.Fatal(err)
			}
			if sel.Empty() && len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 && len(np.Spec.PolicyTypes) == 2 {
				defaultDeny = true
			}
			if !sel.Matches(podLabels) {
				continue
			}
			for _, in := range np.Spec.Ingress {
				if len(in.From) == 0 {
					t.Errorf("%s: NetworkPolicy %s admits every source to text2sql", o, np.Name)
				}
				for _, p := range in.From {
					switch {
					case p.IPBlock != nil:
						t.Errorf("%s: NetworkPolicy %s admits an IP block to text2sql", o, np.Name)
					case p.NamespaceSelector != nil:
						if !namesNamespaces(p.NamespaceSelector) {
							t.Errorf("%s: NetworkPolicy %s admits namespaces by a selector that names none", o, np.Name)
						}
					case p.PodSelector != nil:
						ps, _ := metav1.LabelSelectorAsSelector(p.PodSelector)
						for _, w := range r.workloads() {
							if ps.Matches(labels.Set(w.labels)) && !(w.kind == "Deployment" && w.name == web.Name) {
								t.Errorf("%s: NetworkPolicy %s admits %s %s to text2sql", o, np.Name, w.kind, w.name)
							}
						}
					}
				}
			}
		}
		if !defaultDeny {
			t.Errorf("%s: no default-deny NetworkPolicy", o)
		}
	}
}

// namesNamespaces reports whether a namespace selector picks namespaces by
// their name label, not by any label a tenant could set on its own.
func namesNamespaces(s *metav1.LabelSelector) bool {
	const key = "kubernetes.io/metadata.name"
	if v, ok := s.MatchLabels[key]; ok && v != "" {
		return true
	}
	for _, e := range s.MatchExpressions {
		if e.Key == key && e.Operator == metav1.LabelSelectorOpIn && len(e.Values) > 0 {
			return true
		}
	}
	return false
}

// externalMetrics are metrics the rules use that other exporters provide:
// Prometheus itself, kube-state-metrics and cAdvisor (kube-prometheus-stack
// installs all three).
var externalMetrics = map[string]bool{
	"up": true,
	"kube_pod_container_status_waiting_reason":             true,
	"kube_pod_container_status_restarts_total":             true,
	"kube_deployment_status_replicas_available":            true,
	"kube_horizontalpodautoscaler_status_current_replicas": true,
	"kube_horizontalpodautoscaler_spec_max_replicas":       true,
	"kube_pod_container_resource_limits":                   true,
	"kube_job_status_failed":                               true,
	"kube_cronjob_status_last_successful_time":             true,
	"container_memory_working_set_bytes":                   true,
}

func TestAlertRules(t *testing.T) {
	root := repoRoot(t)
	codeMetrics := exportedMetrics(t, filepath.Join(root, "server"), filepath.Join(root, "schema"), filepath.Join(root, "generate"), filepath.Join(root, "llm"))
	if len(codeMetrics) == 0 {
		t.Fatal("found no metric definitions in server/ and schema/")
	}
	statsdMetrics := statsdMappedMetrics(t, filepath.Join(root, "deploy", "kubernetes", "base", "superset", "statsd-mapping.yaml"))
	p := parser.NewParser(parser.Options{})
	for _, o := range overlays {
		r := render(t, o)
		alerts := map[string]bool{}
		for _, obj := range r.byKind["PrometheusRule"] {
			pr := obj.(*monitoringv1.PrometheusRule)
			for _, g := range pr.Spec.Groups {
				for _, rule := range g.Rules {
					expr := rule.Expr.String()
					e, err := p.ParseExpr(expr)
					if err != nil {
						t.Errorf("%s: rule %s: %v", o, rule.Alert, err)
						continue
					}
					alerts[rule.Alert] = true
					if rule.Labels["severity"] == "" || rule.Annotations["summary"] == "" {
						t.Errorf("%s: rule %s needs a severity label and a summary", o, rule.Alert)
					}
					for _, name := range selectorNames(e) {
						switch {
						case strings.HasPrefix(name, "text2sql_"):
							if !knownMetric(codeMetrics, name) {
								t.Errorf("%s: rule %s uses %s, which the service does not export", o, rule.Alert, name)
							}
						case strings.HasPrefix(name, "superset_"):
							if !knownMetric(statsdMetrics, name) {
								t.Errorf("%s: rule %s uses %s, which the statsd mapping does not produce", o, rule.Alert, name)
							}
						case !externalMetrics[name]:
							t.Errorf("%s: rule %s uses %s; add it to externalMetrics if an exporter provides it", o, rule.Alert, name)
						}
					}
				}
			}
		}
		// The alerts operators rely on, by name: errors, latency, model failures,
		// rejection spikes, stale schema, crash loops, and Superset health.
		for _, want := range []string{"Text2SQLHighErrorRate", "Text2SQLGenerateLatencyHigh", "Text2SQLLLMFailures",
			"Text2SQLValidationRejectionSpike", "Text2SQLSchemaStale", "Text2SQLCrashLooping", "SupersetHigh5xxRate", "SupersetBackupMissing"} {
			if !alerts[want] {
				t.Errorf("%s: no alert %s", o, want)
			}
		}
	}
}

func knownMetric(set map[string]bool, name string) bool {
	if set[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && set[base] {
			return true
		}
	}
	return false
}

func selectorNames(e parser.Expr) []string {
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}

func statsdMappedMetrics(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Mappings []struct {
			Match            string            `json:"match"`
			MatchType        string            `json:"match_type"`
			Name             string            `json:"name"`
			Action           string            `json:"action"`
			Labels           map[string]string `json:"labels"`
			ObserverType     string            `json:"observer_type"`
			HistogramOptions *struct {
				Buckets []float64 `json:"buckets"`
			} `json:"histogram_options"`
		} `json:"mappings"`
	}
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]bool{}
	for _, mp := range m.Mappings {
		if mp.Action != "drop" {
			out[mp.Name] = true
		}
	}
	return out
}

// checkRestricted evaluates a pod template with the Pod Security
// admission's own checks at the restricted level, the level the namespaces
// enforce: a pod that fails it is refused at creation.
func checkRestricted(t *testing.T, where string, w workload) {
	t.Helper()
	ev, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	meta := &metav1.ObjectMeta{Labels: w.labels}
	res := psapolicy.AggregateCheckResults(ev.EvaluatePod(psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}, meta, w.spec))
	if !res.Allowed {
		t.Errorf("%s: fails the restricted Pod Security level: %s", where, res.ForbiddenDetail())
	}
}

// supersetRateLimit is Superset 6's RATELIMIT_APPLICATION: requests per
// second per client address.
const supersetRateLimit = 50

// checkSupersetBudget holds text2sql's calls to Superset to what Superset
// can take: a rate under Superset's per-address limit, and concurrency
// that leaves most of a web pod's gunicorn slots (processes x threads) to
// its users. In the sidecar layout the blueprint's questions, each holding
// a slot while the sidecar answers, count too.
func checkSupersetBudget(t *testing.T, where string, env map[string]string, known map[string]string, webEnv map[string]string, sidecar bool) {
	t.Helper()
	value := func(name string) int {
		v, ok := env[name]
		if !ok {
			v = known[name]
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Errorf("%s: %s=%q is not a number", where, name, v)
		}
		return int(n)
	}
	if r := value("TEXT2SQL_SUPERSET_RATE"); r <= 0 || r >= supersetRateLimit {
		t.Errorf("%s: TEXT2SQL_SUPERSET_RATE=%d; keep it above 0 and under Superset's %d requests/s per address", where, r, supersetRateLimit)
	}
	procs, err1 := strconv.Atoi(webEnv["SERVER_WORKER_AMOUNT"])
	threads, err2 := strconv.Atoi(webEnv["SERVER_THREADS_AMOUNT"])
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: Superset's SERVER_WORKER_AMOUNT / SERVER_THREADS_AMOUNT are not set: %v %v", where, err1, err2)
	}
	slots := procs * threads
	held := value("TEXT2SQL_SUPERSET_CONCURRENCY")
	what := "TEXT2SQL_SUPERSET_CONCURRENCY"
	if sidecar {
		held += value("TEXT2SQL_MAX_IN_FLIGHT")
		what += " + TEXT2SQL_MAX_IN_FLIGHT"
	}
	if held <= 0 || held > slots/2 {
		t.Errorf("%s: %s = %d of a web pod's %d gunicorn slots (%d processes x %d threads); keep it to half", where, what, held, slots, procs, threads)
	}
}

func TestSupersetBudget(t *testing.T) {
	known, _ := sidecarSettings(t)
	for _, o := range overlays {
		r := render(t, o)
		_, c := sidecarContainer(t, r)
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		var webEnv map[string]string
		for name, obj := range r.byKind["ConfigMap"] {
			if strings.HasPrefix(name, "superset-env") {
				webEnv = obj.(*corev1.ConfigMap).Data
			}
		}
		checkSupersetBudget(t, o, env, known, webEnv, false)
	}
}

// dnsServers are where clusters answer DNS: CoreDNS/kube-dns, NodeLocal
// DNSCache (host network, link-local address) and OpenShift's DNS pods
// (port 5353 behind the Service's 53).
var dnsServers = []struct {
	name      string
	namespace string
	labels    map[string]string
	ip        string
	port      int32
}{
	{name: "kube-dns", namespace: "kube-system", labels: map[string]string{"k8s-app": "kube-dns"}, port: 53},
	{name: "NodeLocal DNSCache", ip: "169.254.20.10", port: 53},
	{name: "OpenShift DNS", namespace: "openshift-dns", labels: map[string]string{"dns.operator.openshift.io/daemonset-dns": "default"}, port: 5353},
}

// TestEveryPodResolvesNames: some policy selecting every pod admits UDP and
// TCP egress to each kind of cluster DNS.
func TestEveryPodResolvesNames(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		for _, dns := range dnsServers {
			for _, proto := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
				if !egressAdmits(t, r, dns.namespace, dns.labels, dns.ip, proto, dns.port) {
					t.Errorf("%s: no NetworkPolicy for every pod admits %s %s/%d", o, dns.name, proto, dns.port)
				}
			}
		}
	}
}

// egressAdmits reports whether a NetworkPolicy selecting every pod has an
// egress rule admitting the destination: a pod by namespace and labels,
// or an address.
func egressAdmits(t *testing.T, r *rendered, namespace string, podLabels map[string]string, ip string, proto corev1.Protocol, port int32) bool {
	t.Helper()
	for _, obj := range r.byKind["NetworkPolicy"] {
		np := obj.(*networkingv1.NetworkPolicy)
		if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) > 0 {
			continue
		}
		for _, rule := range np.Spec.Egress {
			portOK := len(rule.Ports) == 0
			for _, p := range rule.Ports {
				pp := corev1.ProtocolTCP
				if p.Protocol != nil {
					pp = *p.Protocol
				}
				if pp == proto && (p.Port == nil || p.Port.IntValue() == int(port)) {
					portOK = true
				}
			}
			if !portOK {
				continue
			}
			if len(rule.To) == 0 {
				return true
			}
			for _, peer := range rule.To {
				switch {
				case peer.IPBlock != nil:
					_, cidr, err := net.ParseCIDR(peer.IPBlock.CIDR)
					if err != nil {
						t.Fatalf("%s: NetworkPolicy %s: %v", r.name, np.Name, err)
					}
					if ip != "" && cidr.Contains(net.ParseIP(ip)) {
						return true
					}
				case ip == "" && peer.NamespaceSelector != nil:
					ns, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
					if err != nil {
						t.Fatal(err)
					}
					pods := labels.Everything()
					if peer.PodSelector != nil {
						if pods, err = metav1.LabelSelectorAsSelector(peer.PodSelector); err != nil {
							t.Fatal(err)
						}
					}
					if ns.Matches(labels.Set{"kubernetes.io/metadata.name": namespace}) && pods.Matches(labels.Set(podLabels)) {
						return true
					}
				}
			}
		}
	}
	return false
}
