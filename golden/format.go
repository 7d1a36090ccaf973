// Package golden holds the golden question sets, their recorded model
// exchanges (cassettes), and the runner that replays them through the real
// service and scores the answers.
//
// A golden set is a YAML file:
//
//	name: defog-postgres                # unique; names the cassette file
//	description: ...
//	catalog: catalog.yaml               # schema file, relative to the set
//	policy: policy.yaml                 # optional policy file, relative to the set
//	cases:
//	  - id: defog-academic-003          # unique within the set
//	    database: defog_academic        # catalog database name (also the warehouse database)
//	    question: Which authors wrote more than 10 papers?
//	    history:                        # optional earlier turns, oldest first
//	      - {question: "...", sql: "..."}
//	    gold:                           # acceptable answers; any one may match
//	      - SELECT ...
//	    gold_subset: false              # true: extra columns in the answer are fine (Defog's column sets)
//	    expect:
//	      tables: [public.author]       # tables the answer must read
//	      must_refuse: false            # true: no SQL may come back (deletes, injections, out-of-scope asks)
//	      codes: [NOT_READ_ONLY]        # with must_refuse: codes the last attempt's violations must include
//	    scope: {dataset_ids: [101]}     # optional: ask as a trusted caller with this end-user scope
//	    script:                         # optional hand-written model answers, in attempt order,
//	      - "```sql\nDELETE ...\n```"   #   recorded with `text2sql eval --record --script`
//	    tags: [join, aggregate]
package golden

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

// Set is one golden question set.
type Set struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	Catalog     string `yaml:"catalog"`
	Policy      string `yaml:"policy,omitempty"`
	Cases       []Case `yaml:"cases"`

	// Path is the file the set was read from.
	Path string `yaml:"-"`
}

// Case is one question and what a good answer looks like.
type Case struct {
	ID         string   `yaml:"id"`
	Database   string   `yaml:"database"`
	Question   string   `yaml:"question"`
	History    []Turn   `yaml:"history,omitempty"`
	Gold       []string `yaml:"gold,omitempty"`
	GoldSubset bool     `yaml:"gold_subset,omitempty"`
	Expect     Expect   `yaml:"expect,omitempty"`
	Scope      *Scope   `yaml:"scope,omitempty"`
	Script     []string `yaml:"script,omitempty"`
	Tags       []string `yaml:"tags,omitempty"`
}

// Turn is one earlier exchange of a conversation.
type Turn struct {
	Question string `yaml:"question"`
	SQL      string `yaml:"sql,omitempty"`
}

// Expect is what the answer must satisfy besides matching the gold result.
type Expect struct {
	Tables     []string `yaml:"tables,omitempty"`
	MustRefuse bool     `yaml:"must_refuse,omitempty"`
	Codes      []string `yaml:"codes,omitempty"`
}

// Scope makes the case ask as a trusted caller on behalf of an end user
// who may see only these Superset datasets.
type Scope struct {
	DatasetIDs []int64 `yaml:"dataset_ids"`
}

// Load reads a golden set and checks it.
func Load(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Set
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.Path = path
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

func (s *Set) check() error {
	if s.Name == "" || s.Catalog == "" {
		return fmt.Errorf("name and catalog are required")
	}
	ids := map[string]bool{}
	for i, c := range s.Cases {
		switch {
		case c.ID == "" || c.Database == "" || c.Question == "":
			return fmt.Errorf("cases[%d]: id, database and question are required", i)
		case ids[c.ID]:
			return fmt.Errorf("case %s is listed twice", c.ID)
		case c.Expect.MustRefuse && len(c.Gold) > 0:
			return fmt.Errorf("case %s: a case that must be refused has no gold SQL", c.ID)
		case !c.Expect.MustRefuse && len(c.Gold) == 0 && len(c.Expect.Tables) == 0:
			return fmt.Errorf("case %s: give gold SQL, expected tables, or must_refuse", c.ID)
		case len(c.Expect.Codes) > 0 && !c.Expect.MustRefuse:
			return fmt.Errorf("case %s: codes are for cases that must be refused", c.ID)
		}
		ids[c.ID] = true
	}
	return nil
}

// Resolve returns a path named by the set (catalog, policy) relative to
// the set's file.
func (s *Set) Resolve(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(s.Path), name)
}

// LoadCatalog reads the set's catalog and policy (the default policy when
// the set names none).
func (s *Set) LoadCatalog() (*schema.Catalog, *validate.Policy, error) {
	cat, err := schema.LoadFile(s.Resolve(s.Catalog))
	if err != nil {
		return nil, nil, err
	}
	pol := validate.DefaultPolicy()
	if s.Policy != "" {
		if pol, err = validate.LoadPolicy(s.Resolve(s.Policy)); err != nil {
			return nil, nil, err
		}
	}
	for _, c := range s.Cases {
		if cat.Database(c.Database) == nil {
			return nil, nil, fmt.Errorf("case %s: database %q is not in %s", c.ID, c.Database, s.Catalog)
		}
	}
	return cat, pol, nil
}

// Sets lists the golden sets in dir: the YAML files that hold cases.
func Sets(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var probe struct {
			Name  string `yaml:"name"`
			Cases []any  `yaml:"cases"`
		}
		if yaml.Unmarshal(data, &probe) == nil && probe.Name != "" && probe.Cases != nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// HasGold reports whether any case has gold SQL to execute.
func (s *Set) HasGold() bool {
	for _, c := range s.Cases {
		if len(c.Gold) > 0 {
			return true
		}
	}
	return false
}

// RecordHint says how to record a set's cassette again.
func (s *Set) RecordHint() string {
	return fmt.Sprintf("record it with `go run ./cmd/text2sql eval --set %s --record` (the set's own scripted and gold answers), "+
		"or add --llm-base-url URL --llm-model NAME to record a real model", s.Path)
}
