package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}, {"-version"}} {
		code, out, stderr := runCLI(t, nil, nil, args...)
		if code != exitOK || stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
		}
		for _, want := range []string{"text2sql ", "\nmodule  github.com/texttosql/text2sql\n", "\ncommit  ", "\ngo      go"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, out)
			}
		}
	}
	for _, c := range []struct {
		settings []debug.BuildSetting
		want     []string
	}{
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "false"}},
			[]string{"text2sql v1.2.3\n", "commit  abc123\n", "time    2026-12-01T10:00:00Z\n"}},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}},
			[]string{"commit  abc123 (modified)\n"}},
		{nil, []string{"commit  unknown (built without VCS stamping)\n"}},
	} {
		out := versionOf(&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/texttosql/text2sql", Version: "v1.2.3"}, Settings: c.settings})
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("settings %v: output lacks %q:\n%s", c.settings, w, out)
			}
		}
	}
}

func TestSchemaHelp(t *testing.T) {
	for _, args := range [][]string{{"schema", "--help"}, {"schema", "-h"}, {"help", "schema"}} {
		code, out, _ := runCLI(t, nil, nil, args...)
		if code != exitOK || !strings.Contains(out, "schema pull") {
			t.Errorf("%v: exit %d, output %q", args, code, out)
		}
	}
	if code, _, stderr := runCLI(t, nil, nil, "schema", "push"); code != exitUsage || !strings.Contains(stderr, "schema pull") {
		t.Errorf("schema push: exit %d, stderr %q", code, stderr)
	}
}
