// helm-render: a test-only stand-in for `helm template`, for charts whose templates stay thin.
//
// No helm binary can be installed where Vigil's tests run, but Go's text/template plus sprig (both
// Debian packages) is what Helm renders with. This adds Helm's own pieces on top: include, tpl,
// toYaml/fromYaml, required, lookup (always empty, as in `helm template`), .Files.Get/.Files.Glob,
// and the .Values/.Release/.Chart/.Capabilities/.Template objects.
//
// What it does NOT do, and tests built on it therefore do not check: `--set` parsing and Helm's
// exact coalescing rules (here: values.yaml, then each -f file deep-merged in order; a null deletes a
// key), values.schema.json, hooks, subcharts and dependencies, NOTES.txt, and anything the API server
// would refuse.
//
// Build (GOPATH mode, Debian's golang-go, golang-github-masterminds-sprig-dev and
// golang-gopkg-yaml.v3-dev; no network):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o helm-render test/helm-render/main.go
//
// Use: helm-render [-f values.yaml]... [-name RELEASE] [-namespace NS] CHART_DIR
// Prints every rendered manifest as a YAML document headed by `# Source: <chart>/templates/<file>`.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

// Files is .Files: every chart file outside templates/, keyed by its slash path in the chart.
type Files map[string][]byte

func (f Files) Get(name string) string      { return string(f[name]) }
func (f Files) GetBytes(name string) []byte { return f[name] }

// Glob matches like Helm's (path.Match over slash paths); ranging over the result is in path order,
// as text/template ranges over maps in sorted key order.
func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

func (f Files) Lines(name string) []string {
	return strings.Split(strings.TrimRight(string(f[name]), "\n"), "\n")
}

// Capabilities is .Capabilities, for a recent cluster that serves every API asked about.
type Capabilities struct {
	KubeVersion map[string]string
	APIVersions apiVersions
}
type apiVersions struct{}

func (apiVersions) Has(string) bool { return true }

func main() {
	var files valueFiles
	flag.Var(&files, "f", "values file to merge over the chart's values.yaml (repeatable)")
	name := flag.String("name", "vigil", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: helm-render [-f values.yaml]... [-name NAME] [-namespace NS] CHART_DIR")
		os.Exit(2)
	}
	out, err := render(flag.Arg(0), files, *name, *namespace)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helm-render:", err)
		os.Exit(1)
	}
	os.Stdout.WriteString(out)
}

func render(chartDir string, valueFiles []string, releaseName, namespace string) (string, error) {
	chart, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	for _, file := range valueFiles {
		override, err := readYAMLMap(file)
		if err != nil {
			return "", err
		}
		values = merge(values, override)
	}
	chartName, _ := chart["name"].(string)

	// Chart files: templates are parsed, everything else is .Files (Helm also leaves out charts/).
	templates := map[string]string{}
	chartFiles := Files{}
	err = filepath.Walk(chartDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			templates[chartName+"/"+rel] = string(data)
		} else if !strings.HasPrefix(rel, "charts/") {
			chartFiles[rel] = data
		}
		return nil
	})
	if err != nil {
		return "", err
	}

	root := template.New("chart")
	funcs := funcMap(root)
	root.Funcs(funcs).Option("missingkey=zero")
	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := root.New(n).Parse(templates[n]); err != nil {
			return "", err
		}
	}

	top := map[string]interface{}{
		"Values": values,
		"Chart": map[string]interface{}{
			"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"],
			"Description": chart["description"], "Type": chart["type"],
		},
		"Release": map[string]interface{}{
			"Name": releaseName, "Namespace": namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": Capabilities{
			KubeVersion: map[string]string{"Version": "v1.31.0", "Major": "1", "Minor": "31", "GitVersion": "v1.31.0"},
		},
		"Files": chartFiles,
	}

	var out strings.Builder
	for _, n := range names {
		base := path.Base(n)
		// Helpers (_*.tpl) only define.
		if strings.HasPrefix(base, "_") {
			continue
		}
		top["Template"] = map[string]interface{}{"Name": n, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, n, top); err != nil {
			return "", err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		// NOTES.txt is printed by helm, not applied: rendered (so its errors show), not output.
		if strings.TrimSpace(text) == "" || base == "NOTES.txt" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", n, strings.TrimSpace(text))
	}
	return out.String(), nil
}

func funcMap(root *template.Template) template.FuncMap {
	funcs := sprig.TxtFuncMap()
	// Helm removes these two: a chart must not read the environment of whoever renders it.
	delete(funcs, "env")
	delete(funcs, "expandenv")

	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["toYaml"] = func(v interface{}) string {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2) // Helm's toYaml (sigs.k8s.io/yaml) indents by two
		if err := enc.Encode(v); err != nil {
			return ""
		}
		return strings.TrimSuffix(buf.String(), "\n")
	}
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			return map[string]interface{}{"Error": err.Error()}
		}
		return asHelm(m).(map[string]interface{})
	}
	funcs["lookup"] = func(string, string, string, string) map[string]interface{} {
		return map[string]interface{}{}
	}
	return funcs
}

func readYAMLMap(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return asHelm(m).(map[string]interface{}), nil
}

// asHelm turns every number into a float64, as Helm's YAML reading (through JSON) does, so templates
// that forget `int` fail here as they would under helm.
func asHelm(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, e := range t {
			t[k] = asHelm(e)
		}
	case []interface{}:
		for i, e := range t {
			t[i] = asHelm(e)
		}
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case uint64:
		return float64(t)
	}
	return v
}

// merge deep-merges src over dst: maps merge key by key, anything else replaces, and a null removes
// the key (as `--set key=null` or a null in a -f file does in Helm).
func merge(dst, src map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if v == nil {
			delete(out, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := out[k].(map[string]interface{})
		if sok && dok {
			out[k] = merge(dm, sm)
		} else {
			out[k] = v
		}
	}
	return out
}
