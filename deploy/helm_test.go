package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func readHelmValues(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "helm", "superset-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.UnmarshalStrict(data, &v); err != nil {
		t.Fatalf("superset-values.yaml: %v", err)
	}
	return v
}

func dig(v any, path ...string) (any, bool) {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

// TestHelmValuesUseChartKeys compares every key path of the values file
// with the chart's own values.yaml (0.15.4, in testdata/superset-chart): a
// misspelt key is silently ignored by Helm.
func TestHelmValuesUseChartKeys(t *testing.T) {
	chartPath := filepath.Join("testdata", "superset-chart", "values.yaml")
	data, err := os.ReadFile(chartPath)
	if err != nil {
		t.Fatal(err)
	}
	var chart map[string]any
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatalf("%s: %v", chartPath, err)
	}
	var walk func(ours, theirs any, path []string)
	walk = func(ours, theirs any, path []string) {
		om, ok := ours.(map[string]any)
		if !ok {
			return
		}
		tm, ok := theirs.(map[string]any)
		if !ok || len(tm) == 0 {
			// A free-form value in the chart ({} or null): any keys go.
			return
		}
		keys := make([]string, 0, len(om))
		for k := range om {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			tv, ok := tm[k]
			if !ok {
				t.Errorf("values key %s is not in chart 0.15.x", strings.Join(append(path, k), "."))
				continue
			}
			walk(om[k], tv, append(path, k))
		}
	}
	walk(readHelmValues(t), chart, nil)
}

func TestHelmSidecar(t *testing.T) {
	v := readHelmValues(t)
	raw, ok := dig(v, "supersetNode", "extraContainers")
	if !ok {
		t.Fatal("no supersetNode.extraContainers")
	}
	data, err := yaml.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	var containers []corev1.Container
	if err := yaml.UnmarshalStrict(data, &containers); err != nil {
		t.Fatalf("supersetNode.extraContainers does not decode strictly as containers: %v", err)
	}
	var c *corev1.Container
	for i := range containers {
		if containers[i].Name == "text2sql" {
			c = &containers[i]
		}
	}
	if c == nil {
		t.Fatal("no text2sql container in supersetNode.extraContainers")
	}
	// The chart renders extraContainers without tpl: templates would stay
	// literal.
	if bytes.Contains(data, []byte("{{")) {
		t.Error("supersetNode.extraContainers contains {{, which the chart does not render")
	}
	known, tokenPrefix := sidecarSettings(t)
	checkSidecarEnv(t, "helm", *c, known, tokenPrefix)

	// Pod-level settings come from the chart (runAsUser) and the values'
	// podSecurityContext.
	pod := &corev1.PodSecurityContext{}
	if psc, ok := dig(v, "supersetNode", "podSecurityContext"); ok {
		b, _ := yaml.Marshal(psc)
		if err := yaml.UnmarshalStrict(b, pod); err != nil {
			t.Fatalf("supersetNode.podSecurityContext: %v", err)
		}
		if pod.RunAsUser != nil {
			t.Error("supersetNode.podSecurityContext sets runAsUser, which the chart already writes from .Values.runAsUser (a duplicate key)")
		}
	}
	uid, _ := v["runAsUser"].(float64)
	if uid == 0 {
		t.Error("runAsUser must be a non-root uid (the chart defaults to 0)")
	}
	checkSecurityContext(t, "helm text2sql container", pod, c.SecurityContext)
	if c.ReadinessProbe == nil || c.LivenessProbe == nil {
		t.Error("the sidecar needs readiness and liveness probes")
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			t.Errorf("sidecar has no %s request", res)
		}
		if _, ok := c.Resources.Limits[res]; !ok {
			t.Errorf("sidecar has no %s limit", res)
		}
	}
	if err := pinnedImage(c.Image); err != nil {
		t.Errorf("sidecar image %s: %v", c.Image, err)
	}
	repo, _ := dig(v, "image", "repository")
	tag, _ := dig(v, "image", "tag")
	if err := pinnedImage(fmt.Sprintf("%v:%v", repo, tag)); err != nil {
		t.Errorf("Superset image: %v", err)
	}
	var mountsConfig bool
	for _, m := range c.VolumeMounts {
		// The chart's name for its config Secret volume.
		if m.Name == "superset-config" {
			mountsConfig = true
		}
	}
	if !mountsConfig {
		t.Error("the sidecar must mount the chart's superset-config volume for its policy file")
	}
}

// TestHelmFilesSurviveTpl: the chart passes extraSecrets, extraConfigs and
// configOverrides through tpl, so the files given with --set-file must not
// contain template delimiters.
func TestHelmFilesSurviveTpl(t *testing.T) {
	root := repoRoot(t)
	for _, f := range []string{
		"deploy/superset/text2sql_blueprint.py",
		"deploy/kubernetes/base/text2sql/policy.yaml",
		"deploy/kubernetes/base/superset/scripts/text2sql-role.json",
	} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("{{")) || bytes.Contains(data, []byte("}}")) {
			t.Errorf("%s contains {{ or }}, which Helm's tpl would interpret", f)
		}
	}
	v := readHelmValues(t)
	overrides, _ := dig(v, "configOverrides")
	m, _ := overrides.(map[string]any)
	if _, ok := m["text2sql"]; !ok {
		t.Fatal("configOverrides.text2sql is missing")
	}
	// Each override is Python appended to superset_config.py.
	if _, err := exec.LookPath(python); err != nil {
		requireTool(t, "python3", "apt-get install -y python3", err)
	}
	for name, code := range m {
		src, _ := code.(string)
		if strings.Contains(src, "{{") {
			t.Errorf("configOverrides.%s contains {{", name)
		}
		cmd := exec.Command(python, "-c", "import sys; compile(sys.stdin.read(), 'override', 'exec')")
		cmd.Stdin = strings.NewReader(src)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("configOverrides.%s is not valid Python: %v\n%s", name, err, out)
		}
	}
	if !strings.Contains(fmt.Sprint(m["text2sql"]), "BLUEPRINTS") || !strings.Contains(fmt.Sprint(m["text2sql"]), "WTF_CSRF_EXEMPT_LIST") {
		t.Error("configOverrides.text2sql must register the blueprint and exempt it from CSRF")
	}
}
