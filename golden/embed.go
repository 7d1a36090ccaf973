package golden

import (
	"bytes"
	_ "embed"
	"fmt"

	"gopkg.in/yaml.v3"
)

// The hand-written set asks about the service's embedded sample catalog, so
// the binary can replay it with no files around (text2sql demo).
var (
	//go:embed hard.yaml
	hardSet []byte
	//go:embed cassettes/hard-paths.yaml
	hardCassette []byte
)

// HardPaths returns the embedded hand-written set and its cassette.
func HardPaths() (*Set, *Cassette, error) {
	var s Set
	var c Cassette
	for _, x := range []struct {
		data []byte
		into any
	}{{hardSet, &s}, {hardCassette, &c}} {
		dec := yaml.NewDecoder(bytes.NewReader(x.data))
		dec.KnownFields(true)
		if err := dec.Decode(x.into); err != nil {
			return nil, nil, fmt.Errorf("embedded golden set: %w", err)
		}
	}
	s.Path = "hard.yaml"
	if err := s.check(); err != nil {
		return nil, nil, err
	}
	return &s, &c, nil
}
