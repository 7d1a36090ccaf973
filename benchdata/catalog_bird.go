package benchdata

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/texttosql/text2sql/schema"
)

const birdRelease = "bird_minidev/release_2024"

// birdRelease2025 is the 2025-07 update, whose SQLite file has all 500
// questions.
const birdRelease2025 = "bird_minidev/release_2025_07"

// plainIdentifier is a name PostgreSQL accepts without quotes (ignoring
// reserved words, which only change whether quotes are needed, not case).
var plainIdentifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// PostgresName is the name a table or column published as s has in BIRD's
// PostgreSQL databases.
//
// BIRD's PostgreSQL gold queries write plain names unquoted in whatever case
// the SQLite schema uses (T1.CustomerID, lapTimes, Player_Attributes), which
// PostgreSQL folds to lower case, and quote only names that cannot be
// written bare, keeping their case ("Free Meal Count (K-12)", "T-CHO",
// "aCL IgM"); plain names they do quote are already lower case ("date",
// "player_fifa_api_id"). That is what a migration emitting quotes only where
// a name needs them produces: plain names become lower case, the others
// keep their spelling. The rule is applied to every name alike.
func PostgresName(s string) string {
	if plainIdentifier.MatchString(s) {
		return strings.ToLower(s)
	}
	return s
}

// birdMetadata is the part of dev_metadata.json used here: the official
// BIRD description-CSV text per column.
type birdMetadata struct {
	Name   string `json:"name"`
	Tables []struct {
		Name    string `json:"name"`
		Columns []struct {
			Name             string  `json:"name"`
			Description      *string `json:"description"`
			ValueDescription *string `json:"value_description"`
		} `json:"columns"`
	} `json:"tables"`
}

// birdDescriptions maps db → table → column (published spelling) to the
// column's description.
func birdDescriptions(dir string) (map[string]map[string]map[string]string, error) {
	path := filepath.Join(dir, birdRelease, "dev_metadata.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var dbs []birdMetadata
	if err := json.Unmarshal(data, &dbs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]map[string]map[string]string{}
	for _, d := range dbs {
		tables := map[string]map[string]string{}
		for _, t := range d.Tables {
			cols := map[string]string{}
			for _, c := range t.Columns {
				var parts []string
				if c.Description != nil && strings.TrimSpace(*c.Description) != "" {
					parts = append(parts, cleanText(*c.Description))
				}
				if c.ValueDescription != nil && strings.TrimSpace(*c.ValueDescription) != "" {
					parts = append(parts, "Values: "+cleanText(*c.ValueDescription))
				}
				if len(parts) > 0 {
					cols[c.Name] = strings.Join(parts, "\n")
				}
			}
			tables[t.Name] = cols
		}
		out[d.Name] = tables
	}
	return out, nil
}

func cleanText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// BirdPostgresCatalog returns BIRD mini-dev's 11 databases as PostgreSQL
// databases: backend postgresql, every table in schema public, names as
// PostgresName spells them. Column types are the declared types of the
// published (SQLite) schema.
func BirdPostgresCatalog(dir string) (*schema.Catalog, error) {
	return birdCatalog(dir, schema.DialectPostgres)
}

// BirdSQLiteCatalog returns BIRD mini-dev's 11 databases as SQLite
// databases: backend sqlite, SQLite's main schema, names and declared types
// as published (they are the SQLite databases' own).
func BirdSQLiteCatalog(dir string) (*schema.Catalog, error) {
	return birdCatalog(dir, schema.DialectSQLite)
}

// BirdMySQLCatalog returns BIRD mini-dev's 11 databases as MySQL databases:
// backend mysql, one schema per database named after its db_id, names as
// published (the MySQL gold queries quote them in that spelling).
func BirdMySQLCatalog(dir string) (*schema.Catalog, error) {
	return birdCatalog(dir, schema.DialectMySQL)
}

func birdCatalog(dir, dialect string) (*schema.Catalog, error) {
	raw, err := readSpiderTables(filepath.Join(dir, birdRelease, "dev_tables.json"))
	if err != nil {
		return nil, err
	}
	descs, err := birdDescriptions(dir)
	if err != nil {
		return nil, err
	}
	c := &schema.Catalog{}
	for i := range raw {
		s := &raw[i]
		var db *schema.Database
		switch dialect {
		case schema.DialectPostgres:
			db, err = s.toDatabase(s.DBID, "postgresql", "public", PostgresName)
		case schema.DialectSQLite:
			db, err = s.toDatabase(s.DBID, "sqlite", "main", keepName)
		default:
			db, err = s.toDatabase(s.DBID, "mysql", s.DBID, keepName)
		}
		if err != nil {
			return nil, err
		}
		// Descriptions are keyed by the published names; toDatabase keeps
		// tables and columns in the published order.
		for ti, t := range db.Tables {
			published := s.TableNamesOriginal[ti]
			var names []string
			for _, col := range s.ColumnNamesOriginal {
				if col.Table == ti {
					names = append(names, col.Name)
				}
			}
			for ci := range t.Columns {
				t.Columns[ci].Description = descs[s.DBID][published][names[ci]]
			}
		}
		c.Databases = append(c.Databases, db)
	}
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	return c, nil
}
