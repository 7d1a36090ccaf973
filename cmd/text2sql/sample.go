package main

import (
	_ "embed"
	"fmt"

	"github.com/texttosql/text2sql/schema"
	"github.com/texttosql/text2sql/validate"
)

// The sample catalog and policy make every command work with no
// configuration at all.
var (
	//go:embed sample/schema.yaml
	sampleSchema []byte
	//go:embed sample/policy.yaml
	samplePolicy []byte
)

// loadCatalog reads the schema file, or the embedded sample when path is
// empty, and the policy: the file when policyPath is set, else the sample
// policy with the sample schema and the allow-everything default policy
// with the operator's own schema.
func loadCatalog(path, policyPath string) (*schema.Catalog, *validate.Policy, error) {
	var (
		c   *schema.Catalog
		err error
	)
	if path == "" {
		c, err = schema.ParseCatalog(sampleSchema)
		if err != nil {
			return nil, nil, fmt.Errorf("embedded sample schema: %w", err)
		}
	} else if c, err = schema.LoadFile(path); err != nil {
		return nil, nil, fmt.Errorf("--schema: %w", err)
	}
	var p *validate.Policy
	switch {
	case policyPath != "":
		if p, err = validate.LoadPolicy(policyPath); err != nil {
			return nil, nil, fmt.Errorf("--policy: %w", err)
		}
	case path == "":
		if p, err = validate.ParsePolicy(samplePolicy); err != nil {
			return nil, nil, fmt.Errorf("embedded sample policy: %w", err)
		}
	default:
		p = validate.DefaultPolicy()
	}
	return c, p, nil
}
