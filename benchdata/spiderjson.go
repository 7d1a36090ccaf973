package benchdata

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/texttosql/text2sql/schema"
)

// spiderDB is one entry of a Spider-format tables.json (Spider's own, and
// BIRD's dev_tables.json). Column 0 is the "*" placeholder; column entries
// point at tables by index; keys point at columns by index.
type spiderDB struct {
	DBID                string         `json:"db_id"`
	TableNamesOriginal  []string       `json:"table_names_original"`
	TableNames          []string       `json:"table_names"`
	ColumnNamesOriginal []spiderColumn `json:"column_names_original"`
	ColumnNames         []spiderColumn `json:"column_names"`
	ColumnTypes         []string       `json:"column_types"`
	PrimaryKeys         []spiderKey    `json:"primary_keys"`
	ForeignKeys         [][2]int       `json:"foreign_keys"`
}

// spiderColumn is a [table index, name] pair.
type spiderColumn struct {
	Table int
	Name  string
}

func (c *spiderColumn) UnmarshalJSON(b []byte) error {
	var pair [2]json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	if err := json.Unmarshal(pair[0], &c.Table); err != nil {
		return err
	}
	return json.Unmarshal(pair[1], &c.Name)
}

// spiderKey is a primary key entry: one column index, or a list of them for
// a composite key (BIRD writes both forms).
type spiderKey []int

func (k *spiderKey) UnmarshalJSON(b []byte) error {
	var one int
	if err := json.Unmarshal(b, &one); err == nil {
		*k = spiderKey{one}
		return nil
	}
	var many []int
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*k = many
	return nil
}

func readSpiderTables(path string) ([]spiderDB, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var dbs []spiderDB
	if err := json.Unmarshal(data, &dbs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return dbs, nil
}

// spiderNaming turns the published names into the names the target
// database holds.
type spiderNaming func(string) string

func keepName(s string) string { return s }

// toDatabase builds one database from a Spider-format entry. Every table
// goes into schemaName; names pass through name.
func (s *spiderDB) toDatabase(dbName, backend, schemaName string, name spiderNaming) (*schema.Database, error) {
	if len(s.ColumnNamesOriginal) != len(s.ColumnTypes) {
		return nil, fmt.Errorf("%s: %d columns but %d column types", s.DBID, len(s.ColumnNamesOriginal), len(s.ColumnTypes))
	}
	db := &schema.Database{Name: dbName, Backend: backend, DefaultSchema: schemaName}
	for _, tn := range s.TableNamesOriginal {
		db.Tables = append(db.Tables, &schema.Table{Schema: schemaName, Name: name(tn)})
	}
	type colRef struct {
		table int
		name  string
	}
	cols := make([]colRef, len(s.ColumnNamesOriginal))
	for i, c := range s.ColumnNamesOriginal {
		if c.Table < 0 {
			cols[i] = colRef{table: -1}
			continue
		}
		if c.Table >= len(db.Tables) {
			return nil, fmt.Errorf("%s: column %q points at table %d of %d", s.DBID, c.Name, c.Table, len(db.Tables))
		}
		col := schema.Column{Name: name(c.Name), Type: s.ColumnTypes[i], IsDttm: isTemporal(s.ColumnTypes[i])}
		if i < len(s.ColumnNames) && s.ColumnNames[i].Name != "" && !strings.EqualFold(s.ColumnNames[i].Name, c.Name) {
			col.VerboseName = s.ColumnNames[i].Name
		}
		t := db.Tables[c.Table]
		t.Columns = append(t.Columns, col)
		cols[i] = colRef{table: c.Table, name: col.Name}
	}
	colAt := func(i int) (colRef, error) {
		if i <= 0 || i >= len(cols) || cols[i].table < 0 {
			return colRef{}, fmt.Errorf("%s: key column index %d out of range", s.DBID, i)
		}
		return cols[i], nil
	}
	for _, k := range s.PrimaryKeys {
		for _, i := range k {
			c, err := colAt(i)
			if err != nil {
				return nil, err
			}
			t := db.Tables[c.table]
			if !contains(t.PrimaryKey, c.name) {
				t.PrimaryKey = append(t.PrimaryKey, c.name)
			}
		}
	}
	// Spider lists foreign keys as column pairs. Pairs between the same two
	// tables form one composite key only when their referenced columns are
	// exactly the referenced table's composite primary key; otherwise each
	// pair is its own key (a match table may point at a team twice).
	type pair struct{ from, to colRef }
	groups := map[[2]int][]pair{}
	var order [][2]int
	for _, fk := range s.ForeignKeys {
		from, err := colAt(fk[0])
		if err != nil {
			return nil, err
		}
		to, err := colAt(fk[1])
		if err != nil {
			return nil, err
		}
		g := [2]int{from.table, to.table}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], pair{from, to})
	}
	for _, g := range order {
		ps := groups[g]
		t, ref := db.Tables[g[0]], db.Tables[g[1]]
		if composite := compositeOrder(ps, ref.PrimaryKey, func(p pair) (string, string) { return p.from.name, p.to.name }); composite != nil {
			t.ForeignKeys = append(t.ForeignKeys, *composite)
			t.ForeignKeys[len(t.ForeignKeys)-1].References.Schema = ref.Schema
			t.ForeignKeys[len(t.ForeignKeys)-1].References.Table = ref.Name
			continue
		}
		for _, p := range ps {
			fk := schema.ForeignKey{
				Columns:    []string{p.from.name},
				References: schema.TableRef{Schema: ref.Schema, Table: ref.Name, Columns: []string{p.to.name}},
			}
			if !hasForeignKey(t, fk) {
				t.ForeignKeys = append(t.ForeignKeys, fk)
			}
		}
	}
	return db, nil
}

// compositeOrder returns one foreign key over all pairs, ordered as the
// referenced primary key, when the pairs' referenced columns are exactly
// that key and it has more than one column; nil otherwise.
func compositeOrder[P any](ps []P, pk []string, cols func(P) (from, to string)) *schema.ForeignKey {
	if len(pk) < 2 || len(ps) != len(pk) {
		return nil
	}
	byTo := map[string]string{}
	for _, p := range ps {
		from, to := cols(p)
		if _, dup := byTo[to]; dup {
			return nil
		}
		byTo[to] = from
	}
	fk := &schema.ForeignKey{}
	for _, k := range pk {
		from, ok := byTo[k]
		if !ok {
			return nil
		}
		fk.Columns = append(fk.Columns, from)
		fk.References.Columns = append(fk.References.Columns, k)
	}
	return fk
}

func hasForeignKey(t *schema.Table, fk schema.ForeignKey) bool {
	for _, f := range t.ForeignKeys {
		if f.References.Schema == fk.References.Schema && f.References.Table == fk.References.Table &&
			strings.Join(f.Columns, "\x00") == strings.Join(fk.Columns, "\x00") &&
			strings.Join(f.References.Columns, "\x00") == strings.Join(fk.References.Columns, "\x00") {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isTemporal says whether a declared type holds dates or times, which is
// what Superset's is_dttm marks.
func isTemporal(typ string) bool {
	t := strings.ToLower(typ)
	return strings.Contains(t, "date") || strings.Contains(t, "time")
}
