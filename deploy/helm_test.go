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

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// helmLayout names the Helm install among the rendered layouts.
const helmLayout = "helm"

// chartDir is the official chart, copied into the test data (see its
// PROVENANCE.md), without its Bitnami subcharts.
var chartDir = filepath.Join("deploy", "testdata", "superset-chart-0.15.4")

const valuesFile = "deploy/helm/superset-values.yaml"

// installCommand is the `helm upgrade --install` command documented at the
// top of the values file, parsed into what Helm's CLI would do with it.
type installCommand struct {
	release, chart, version, namespace string
	values                             values.Options
}

// readInstallCommand parses the commented command at the top of the values
// file, so the command operators copy is the one the tests render.
func readInstallCommand(t *testing.T) installCommand {
	t.Helper()
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, valuesFile))
	if err != nil {
		t.Fatal(err)
	}
	var line strings.Builder
	in := false
	for _, l := range strings.Split(string(data), "\n") {
		text, isComment := strings.CutPrefix(l, "#")
		if !isComment {
			break
		}
		text = strings.TrimSpace(text)
		if !in && !strings.HasPrefix(text, "helm upgrade --install ") {
			continue
		}
		in = true
		cont := strings.HasSuffix(text, "\\")
		line.WriteString(strings.TrimSuffix(text, "\\"))
		line.WriteString(" ")
		if !cont {
			break
		}
	}
	if line.Len() == 0 {
		t.Fatalf("%s: no `helm upgrade --install` command in the leading comment", valuesFile)
	}
	words, err := shellWords(line.String())
	if err != nil {
		t.Fatalf("%s: install command: %v", valuesFile, err)
	}
	var c installCommand
	var positional []string
	for i := 3; i < len(words); i++ {
		w := words[i]
		next := func() string {
			if i+1 >= len(words) {
				t.Fatalf("install command: %s without a value", w)
			}
			i++
			return words[i]
		}
		switch w {
		case "-f", "--values":
			c.values.ValueFiles = append(c.values.ValueFiles, filepath.Join(root, next()))
		case "--set-file":
			key, path, ok := strings.Cut(next(), "=")
			if !ok {
				t.Fatalf("install command: --set-file %s is not key=path", words[i])
			}
			c.values.FileValues = append(c.values.FileValues, key+"="+filepath.Join(root, path))
		case "--set":
			c.values.Values = append(c.values.Values, next())
		case "--version":
			c.version = next()
		case "-n", "--namespace":
			c.namespace = next()
		default:
			if strings.HasPrefix(w, "-") {
				t.Fatalf("install command: option %s is not understood by this test", w)
			}
			positional = append(positional, w)
		}
	}
	if len(positional) != 2 {
		t.Fatalf("install command: want a release name and a chart, got %q", positional)
	}
	c.release, c.chart = positional[0], positional[1]
	return c
}

// loadChart loads the chart copy and checks it is the version the install
// command pins.
func loadChart(t *testing.T, cmd installCommand) *chart.Chart {
	t.Helper()
	chrt, err := loader.Load(filepath.Join(repoRoot(t), chartDir))
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	if chrt.Metadata.Version != cmd.version {
		t.Fatalf("the install command pins chart %s, the test data holds %s", cmd.version, chrt.Metadata.Version)
	}
	return chrt
}

// helmValues merges the values exactly as Helm's CLI does for the command.
func helmValues(t *testing.T, cmd installCommand) map[string]any {
	t.Helper()
	vals, err := cmd.values.MergeValues(getter.Providers{})
	if err != nil {
		t.Fatalf("merging the install command's values: %v", err)
	}
	return vals
}

// renderHelm renders the chart with the install command's values through
// Helm's install action in client-only dry-run mode (what `helm template`
// does, hooks included) and decodes every object strictly.
func renderHelm(t *testing.T) *rendered {
	t.Helper()
	if r, ok := renderCache[helmLayout]; ok {
		return r
	}
	cmd := readInstallCommand(t)
	chrt := loadChart(t, cmd)
	vals := helmValues(t, cmd)
	// `helm template` refuses a chart whose subcharts are missing even when
	// they are disabled; this copy carries none, so what matters is that
	// the values turn them all off (TestHelmBundledChartsOff).
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	inst.DryRun, inst.ClientOnly, inst.Replace = true, true, true
	inst.ReleaseName, inst.Namespace = cmd.release, cmd.namespace
	rel, err := inst.Run(chrt, vals)
	if err != nil {
		t.Fatalf("helm template %s %s -f %s: %v", cmd.release, chartDir, valuesFile, err)
	}
	r := &rendered{name: helmLayout, byKind: map[string]map[string]any{}}
	docs := []string{rel.Manifest}
	for _, h := range rel.Hooks {
		docs = append(docs, h.Manifest)
	}
	for _, doc := range docs {
		split := releaseutil.SplitManifests(doc)
		keys := make([]string, 0, len(split))
		for k := range split {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			data := []byte(split[k])
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal(data, &head); err != nil {
				t.Fatalf("helm: rendered document is not YAML: %v\n%s", err, data)
			}
			if head.Kind == "" {
				continue // a template that rendered to nothing but comments
			}
			r.add(t, head.APIVersion, head.Kind, head.Metadata.Name, data)
		}
	}
	renderCache[helmLayout] = r
	return r
}

func TestHelmRendersAndDecodesStrictly(t *testing.T) {
	r := renderHelm(t)
	kinds := make([]string, 0, len(r.byKind))
	for k, objs := range r.byKind {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, len(objs)))
	}
	sort.Strings(kinds)
	t.Logf("helm: %d objects: %s", len(r.objects), strings.Join(kinds, " "))
	for _, want := range []string{"superset", "superset-worker", "superset-celerybeat"} {
		if r.get("Deployment", want) == nil {
			t.Errorf("helm: no Deployment %s", want)
		}
	}
	if r.get("Job", "superset-init-db") == nil {
		t.Error("helm: no init Job")
	}
}

// TestHelmBundledChartsOff: the chart's Bitnami PostgreSQL and Redis are
// not shipped with the copy, and their images can no longer be pulled, so
// every dependency must be turned off by its condition.
func TestHelmBundledChartsOff(t *testing.T) {
	cmd := readInstallCommand(t)
	chrt := loadChart(t, cmd)
	vals, err := chartutil.CoalesceValues(chrt, helmValues(t, cmd))
	if err != nil {
		t.Fatal(err)
	}
	if len(chrt.Metadata.Dependencies) == 0 {
		t.Fatal("the chart copy lists no dependencies; is it the right chart?")
	}
	for _, dep := range chrt.Metadata.Dependencies {
		if dep.Condition == "" {
			t.Errorf("dependency %s has no condition; it cannot be turned off", dep.Name)
			continue
		}
		for _, cond := range strings.Split(dep.Condition, ",") {
			v, err := vals.PathValue(strings.TrimSpace(cond))
			if err != nil {
				t.Errorf("dependency %s: condition %s is not set: %v", dep.Name, cond, err)
				continue
			}
			if on, _ := v.(bool); on {
				t.Errorf("the chart's bundled %s (Bitnami %s) is enabled; set %s: false and use the project's own or a managed service", dep.Name, dep.Version, cond)
			}
		}
	}
}

// TestHelmValuesUseChartKeys compares every key path of the values file
// with the chart's own values.yaml: a misspelt key is silently ignored by
// Helm, so rendering alone does not catch it.
func TestHelmValuesUseChartKeys(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chartVals map[string]any
	if err := yaml.Unmarshal(data, &chartVals); err != nil {
		t.Fatalf("chart values.yaml: %v", err)
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
				t.Errorf("values key %s is not in chart 0.15.4", strings.Join(append(path, k), "."))
				continue
			}
			walk(om[k], tv, append(path, k))
		}
	}
	walk(readHelmValues(t), chartVals, nil)
}

func readHelmValues(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), valuesFile))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.UnmarshalStrict(data, &v); err != nil {
		t.Fatalf("superset-values.yaml: %v", err)
	}
	return v
}

// helmSidecar is the text2sql container of the rendered web Deployment.
func helmSidecar(t *testing.T, r *rendered) (*appsv1.Deployment, corev1.Container) {
	t.Helper()
	d, ok := r.get("Deployment", "superset").(*appsv1.Deployment)
	if !ok {
		t.Fatal("helm: no Deployment superset")
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "text2sql" {
			return d, c
		}
	}
	t.Fatal("helm: the web Deployment has no text2sql container")
	return nil, corev1.Container{}
}

func TestHelmSidecar(t *testing.T) {
	r := renderHelm(t)
	d, c := helmSidecar(t, r)
	known, tokenPrefix := sidecarSettings(t)
	checkSidecarEnv(t, helmLayout, c, known, tokenPrefix)
	// The chart renders extraContainers without tpl: templates would stay
	// literal.
	if b, _ := yaml.Marshal(c); bytes.Contains(b, []byte("{{")) {
		t.Error("helm: the text2sql container contains {{, which the chart does not render")
	}
	// Superset's Service routes to the pod when every container is ready.
	// The sidecar is reached over localhost only, so its probes must not
	// depend on Superset: a /readyz that waits for the service account
	// (created by the post-install hook, which runs once the pods are
	// ready) would deadlock a first install and take every web pod out of
	// service when Superset misbehaves.
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil {
			t.Errorf("helm: the sidecar has no %s probe", name)
			continue
		}
		if p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
			t.Errorf("helm: the sidecar's %s probe must be GET /healthz (process up), not %+v", name, p.ProbeHandler)
		}
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	var webEnv map[string]string
	for _, wc := range d.Spec.Template.Spec.Containers {
		if wc.Name == "superset" {
			webEnv = map[string]string{}
			for _, e := range wc.Env {
				webEnv[e.Name] = e.Value
			}
		}
	}
	if got := webEnv["TEXT2SQL_SIDECAR_URL"]; got != "http://localhost:8080" {
		t.Errorf("helm: Superset's TEXT2SQL_SIDECAR_URL is %q, want the sidecar on http://localhost:8080", got)
	}
	checkSupersetBudget(t, helmLayout, env, known, webEnv, true)
}

// TestHelmFilesSurviveTpl: the chart passes extraSecrets, extraConfigs and
// configOverrides through tpl, so the files given with --set-file must come
// out of the rendered config Secret unchanged, and every override must be
// Python.
func TestHelmFilesSurviveTpl(t *testing.T) {
	cmd := readInstallCommand(t)
	r := renderHelm(t)
	config, ok := r.get("Secret", "superset-config").(*corev1.Secret)
	if !ok {
		t.Fatal("helm: no Secret superset-config")
	}
	extra, _ := r.get("ConfigMap", "superset-extra-config").(*corev1.ConfigMap)
	if len(cmd.values.FileValues) == 0 {
		t.Fatal("the install command ships no files with --set-file")
	}
	for _, fv := range cmd.values.FileValues {
		key, path, _ := strings.Cut(fv, "=")
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		section, file, _ := strings.Cut(key, ".")
		file = strings.ReplaceAll(file, `\.`, ".")
		var got string
		switch section {
		case "extraSecrets":
			got = config.StringData[file]
			if got == "" {
				got = string(config.Data[file])
			}
		case "extraConfigs":
			if extra != nil {
				got = extra.Data[file]
			}
		default:
			t.Errorf("--set-file %s: this test knows extraSecrets and extraConfigs only", key)
			continue
		}
		// The chart's template trims the newline after the last file of a
		// section, which YAML's block scalar then drops.
		if strings.TrimSuffix(got, "\n") != strings.TrimSuffix(string(want), "\n") {
			t.Errorf("helm: %s does not reach the pods unchanged through the chart's tpl (%d bytes in, %d out)", path, len(want), len(got))
		}
	}
	conf := config.StringData["superset_config.py"]
	if conf == "" {
		conf = string(config.Data["superset_config.py"])
	}
	if _, err := exec.LookPath(python); err != nil {
		requireTool(t, "python3", "apt-get install -y python3", err)
	}
	check := exec.Command(python, "-c", "import sys; compile(sys.stdin.read(), 'superset_config.py', 'exec')")
	check.Stdin = strings.NewReader(conf)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("helm: the rendered superset_config.py is not valid Python: %v\n%s", err, out)
	}
	// The wait-for-* init containers run Python given with -c.
	for _, w := range r.workloads() {
		for _, c := range w.spec.InitContainers {
			if len(c.Command) != 2 || c.Command[1] != "-c" || len(c.Args) == 0 {
				continue
			}
			check := exec.Command(python, "-c", "import sys; compile(sys.stdin.read(), 'init', 'exec')")
			check.Stdin = strings.NewReader(c.Args[0])
			if out, err := check.CombinedOutput(); err != nil {
				t.Errorf("helm: %s/%s init container %s: not valid Python: %v\n%s", w.kind, w.name, c.Name, err, out)
			}
		}
	}
	// The project's configuration replaces the chart's connections, caches
	// and Celery settings: it is imported last.
	if !strings.Contains(conf, "from superset_config_text2sql import *") {
		t.Error("helm: superset_config.py does not import the project's configuration")
	}
	// Beat runs (supersetCeleryBeat), and the imported configuration gives
	// it the reports schedule: without one, reports never run.
	project := config.StringData["superset_config_text2sql.py"]
	if !strings.Contains(project, "beat_schedule") || !strings.Contains(project, `"task": "reports.scheduler"`) {
		t.Error("helm: the shipped Superset configuration has no reports.scheduler beat schedule")
	}
	if _, ok := r.get("Deployment", "superset-celerybeat").(*appsv1.Deployment); !ok {
		t.Error("helm: no Celery beat, so no report is ever scheduled")
	}
}

// TestHelmServiceAccountMountsNoToken: the Helm pods run as a ServiceAccount
// the operator creates from the base's manifest (the chart cannot set
// automountServiceAccountToken on its pods), so that manifest must turn the
// token off, and the prerequisite must name it.
func TestHelmServiceAccountMountsNoToken(t *testing.T) {
	const manifest = "deploy/kubernetes/base/superset/serviceaccount.yaml"
	data, err := os.ReadFile(filepath.Join(repoRoot(t), manifest))
	if err != nil {
		t.Fatal(err)
	}
	var sa corev1.ServiceAccount
	if err := yaml.UnmarshalStrict(data, &sa); err != nil {
		t.Fatalf("%s: %v", manifest, err)
	}
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken must be false", manifest)
	}
	ops := readOperatorSupplied(t)
	r := renderHelm(t)
	for _, w := range r.workloads() {
		name := w.spec.ServiceAccountName
		if name != sa.Name || !ops.prerequisite(helmLayout, "ServiceAccount", name) {
			t.Errorf("helm: %s/%s runs as ServiceAccount %q; want %s, listed as a prerequisite", w.kind, w.name, name, sa.Name)
		}
	}
	for _, p := range ops.Overlays[helmLayout].Prerequisites {
		if p.Kind == "ServiceAccount" && !strings.Contains(p.Purpose, manifest) {
			t.Errorf("operator-secrets.yaml: the helm prerequisite %s must say it is created from %s", p.Name, manifest)
		}
	}
}
