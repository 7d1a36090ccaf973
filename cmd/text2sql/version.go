package main

import (
	"fmt"
	"runtime/debug"
)

// version describes the build from what the Go toolchain recorded in the
// binary: the module version ("(devel)" for a build from a checkout), the
// VCS commit and time, and whether the tree had uncommitted changes. A
// binary built with -buildvcs=false records no commit, and says so.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "text2sql: no build information in this binary"
	}
	return versionOf(info)
}

func versionOf(info *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	commit := settings["vcs.revision"]
	if commit == "" {
		commit = "unknown (built without VCS stamping)"
	} else if settings["vcs.modified"] == "true" {
		commit += " (modified)"
	}
	out := fmt.Sprintf("text2sql %s\nmodule  %s\ncommit  %s\n", info.Main.Version, info.Main.Path, commit)
	if t := settings["vcs.time"]; t != "" {
		out += fmt.Sprintf("time    %s\n", t)
	}
	return out + fmt.Sprintf("go      %s", info.GoVersion)
}
