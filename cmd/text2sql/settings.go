package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// envPrefix starts the environment variable of every setting.
const envPrefix = "TEXT2SQL_"

// setting is one configurable value: a flag and its environment twin.
type setting struct {
	name  string // flag name, kebab-case
	usage string
	value flag.Value
	def   string // default, as shown in help
}

// env is the setting's environment variable: TEXT2SQL_ and the flag name
// in upper snake case.
func (s *setting) env() string { return envName(s.name) }

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// settings is the table of one command's settings. The environment is read
// first and flags override it, so a flag given on the command line always
// wins.
type settings struct {
	command string
	summary string
	args    string // what follows the flags in the usage line
	notes   []string
	list    []*setting
}

func (s *settings) add(name, def, usage string, v flag.Value) {
	for _, o := range s.list {
		if o.name == name {
			panic("text2sql: setting defined twice: " + name)
		}
	}
	s.list = append(s.list, &setting{name: name, usage: usage, value: v, def: def})
}

// String defines a string setting.
func (s *settings) String(p *string, name, def, usage string) {
	*p = def
	s.add(name, def, usage, (*stringValue)(p))
}

// Int defines an integer setting.
func (s *settings) Int(p *int, name string, def int, usage string) {
	*p = def
	s.add(name, strconv.Itoa(def), usage, (*intValue)(p))
}

// Float defines a floating-point setting.
func (s *settings) Float(p *float64, name string, def float64, usage string) {
	*p = def
	s.add(name, strconv.FormatFloat(def, 'g', -1, 64), usage, (*floatValue)(p))
}

// Bool defines a boolean setting.
func (s *settings) Bool(p *bool, name string, def bool, usage string) {
	*p = def
	s.add(name, strconv.FormatBool(def), usage, (*boolValue)(p))
}

// Duration defines a duration setting ("30s", "2m").
func (s *settings) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	s.add(name, def.String(), usage, (*durationValue)(p))
}

// errHelp is returned by parse when help was asked for and printed.
var errHelp = errors.New("help requested")

// parse applies the environment, then the flags in args, and returns the
// arguments left after the flags.
func (s *settings) parse(env *environ, args []string) ([]string, error) {
	for _, o := range s.list {
		v, ok := env.getenv(o.env())
		if !ok {
			continue
		}
		if err := o.value.Set(v); err != nil {
			return nil, fmt.Errorf("%s=%q: %v", o.env(), v, err)
		}
	}
	fs := flag.NewFlagSet(s.command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, o := range s.list {
		fs.Var(o.value, o.name, o.usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			s.usage(env.stdout)
			return nil, errHelp
		}
		return nil, err
	}
	return fs.Args(), nil
}

// usage prints the command's settings as a table: flag, variable,
// default and meaning.
func (s *settings) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: text2sql %s [flags]%s\n\n", s.command, s.args)
	if s.summary != "" {
		fmt.Fprintf(w, "%s\n\n", s.summary)
	}
	fmt.Fprintln(w, "Flags (each has an environment variable; a flag given on the command line wins):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, o := range s.list {
		def := o.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(tw, "  --%s\t%s\t(default %s)\t%s\n", o.name, o.env(), def, o.usage)
	}
	_ = tw.Flush()
	for _, n := range s.notes {
		fmt.Fprintf(w, "\n%s\n", n)
	}
}

// fail reports a usage error the way every command does.
func (s *settings) fail(env *environ, err error) int {
	if errors.Is(err, errHelp) {
		return exitOK
	}
	fmt.Fprintf(env.stderr, "text2sql %s: %v\nRun \"text2sql %s --help\" for usage.\n", s.command, err, s.command)
	return exitUsage
}

type stringValue string

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }

type intValue int

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return errors.New("not an integer")
	}
	*v = intValue(n)
	return nil
}
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }

type floatValue float64

func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return errors.New("not a number")
	}
	*v = floatValue(f)
	return nil
}
func (v *floatValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }

type boolValue bool

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return errors.New("not a boolean (true or false)")
	}
	*v = boolValue(b)
	return nil
}
func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

type durationValue time.Duration

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return errors.New(`not a duration (such as "30s" or "2m")`)
	}
	*v = durationValue(d)
	return nil
}
func (v *durationValue) String() string { return time.Duration(*v).String() }
