package execdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// compareCase is one case of testdata/compare/*.json.
type compareCase struct {
	Name     string     `json:"name"`
	Gold     jsonResult `json:"gold"`
	Gen      jsonResult `json:"gen"`
	Ordered  bool       `json:"ordered"`
	Distinct bool       `json:"distinct"`
	Digits   int        `json:"digits"`
	Exact    bool       `json:"exact"`
	Subset   bool       `json:"subset"`
	Reason   string     `json:"reason"`
}

type jsonResult struct {
	Columns []string            `json:"columns"`
	Rows    [][]json.RawMessage `json:"rows"`
}

// cell decodes a test cell: null, a JSON number (exact text), a string
// (text), or an object naming the value's type: {"decimal": "1.50"},
// {"float": "0.1"}, {"float32": "24.6"}, {"bool": true}, {"date":
// "2024-01-02"}, {"datetime": "2024-01-02 03:04:05"}, {"timestamptz":
// RFC 3339}.
func cell(raw json.RawMessage) (Value, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return Value{}, err
	}
	switch v := x.(type) {
	case nil:
		return NullValue, nil
	case json.Number:
		return Decimal(v.String())
	case string:
		return TextValue(v), nil
	case map[string]any:
		if len(v) != 1 {
			return Value{}, fmt.Errorf("typed cell needs one key: %s", raw)
		}
		for k, arg := range v {
			s, _ := arg.(string)
			switch k {
			case "decimal":
				return Decimal(s)
			case "float", "float32":
				bits := 64
				if k == "float32" {
					bits = 32
				}
				f, err := strconv.ParseFloat(s, bits)
				if err != nil {
					return Value{}, err
				}
				return Float(f, bits), nil
			case "bool":
				b, ok := arg.(bool)
				if !ok {
					return Value{}, fmt.Errorf("bool cell: %s", raw)
				}
				return Bool(b), nil
			case "date":
				t, err := time.Parse("2006-01-02", s)
				return DateValue(t), err
			case "datetime":
				t, err := time.Parse("2006-01-02 15:04:05", s)
				return DateTimeValue(t, false), err
			case "timestamptz":
				t, err := time.Parse(time.RFC3339, s)
				return DateTimeValue(t, true), err
			}
			return Value{}, fmt.Errorf("unknown cell type %q", k)
		}
	}
	return Value{}, fmt.Errorf("unsupported cell %s", raw)
}

func (j jsonResult) result() (*Result, error) {
	r := &Result{Columns: j.Columns}
	for _, row := range j.Rows {
		if len(row) != len(j.Columns) {
			return nil, fmt.Errorf("row %v has %d cells for %d columns", row, len(row), len(j.Columns))
		}
		vals := make([]Value, len(row))
		for i, c := range row {
			v, err := cell(c)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		r.Rows = append(r.Rows, vals)
	}
	return r, nil
}

func TestCompare(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "compare", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no comparison cases: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var cases []compareCase
		if err := dec.Decode(&cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		group := strings.TrimSuffix(filepath.Base(f), ".json")
		for _, c := range cases {
			t.Run(group+"/"+c.Name, func(t *testing.T) {
				gold, err := c.Gold.result()
				if err != nil {
					t.Fatal(err)
				}
				gen, err := c.Gen.result()
				if err != nil {
					t.Fatal(err)
				}
				v := Compare(gold, gen, CompareOptions{Ordered: c.Ordered, Distinct: c.Distinct, Digits: c.Digits})
				if v.Exact != c.Exact || v.Subset != c.Subset {
					t.Errorf("exact=%v subset=%v (reason %q), want exact=%v subset=%v\ngold:\n%s\ngenerated:\n%s",
						v.Exact, v.Subset, v.Reason, c.Exact, c.Subset, gold, gen)
				}
				if c.Reason != "" && v.Reason != c.Reason {
					t.Errorf("reason %q, want %q", v.Reason, c.Reason)
				}
				if v.Exact && v.Reason != "" {
					t.Errorf("exact match with a reason: %q", v.Reason)
				}
				if v.Subset {
					// The mapping must pair each gold column with a distinct
					// generated column.
					seen := map[int]bool{}
					for _, j := range v.Mapping {
						if j < 0 || j >= len(gen.Columns) || seen[j] {
							t.Errorf("bad mapping %v", v.Mapping)
						}
						seen[j] = true
					}
					if len(v.Mapping) != len(gold.Columns) {
						t.Errorf("mapping %v for %d gold columns", v.Mapping, len(gold.Columns))
					}
				}
				// A result always matches itself.
				for _, r := range []*Result{gold, gen} {
					if len(r.Columns) == 0 {
						continue
					}
					if s := Compare(r, r, CompareOptions{Ordered: c.Ordered, Distinct: c.Distinct, Digits: c.Digits}); !s.Exact {
						t.Errorf("result does not match itself: %s\n%s", s.Reason, r)
					}
				}
			})
		}
	}
}

// TestCompareGivesUp checks that a pathological pairing search stops and
// says so: many generated columns holding the same multiset in different
// arrangements.
func TestCompareGivesUp(t *testing.T) {
	const n = 9
	gold := &Result{}
	gen := &Result{}
	for j := 0; j < n; j++ {
		gold.Columns = append(gold.Columns, fmt.Sprint("g", j))
		gen.Columns = append(gen.Columns, fmt.Sprint("h", j))
	}
	for r := 0; r < n; r++ {
		var grow, hrow []Value
		for j := 0; j < n; j++ {
			grow = append(grow, Int(int64((r+j)%n)))
			h := (r + j) % n
			if j == 0 {
				h = (2*r + 1) % n
			}
			hrow = append(hrow, Int(int64(h)))
		}
		gold.Rows = append(gold.Rows, grow)
		gen.Rows = append(gen.Rows, hrow)
	}
	v := Compare(gold, gen, CompareOptions{})
	if v.Exact || v.Subset {
		t.Fatalf("unexpected match %+v", v)
	}
	// Every column holds 0…8 once and no two generated columns are alike,
	// but generated row 0 holds 1 twice while every gold row holds nine
	// distinct values: none of the 9! pairings can match, and the search
	// must stop before trying them all.
	if !strings.HasPrefix(v.Reason, "gave up") {
		t.Fatalf("reason %q", v.Reason)
	}
}

func TestCanonicalNumber(t *testing.T) {
	cases := []struct {
		in     string
		digits int
		want   string
	}{
		{"5", 12, "5"},
		{"5.000", 12, "5"},
		{"-0.0", 12, "0"},
		{"1e3", 12, "1000"},
		{"123456789012345678901234567890", 12, "123456789012345678901234567890"},
		{"2.3333333333333333", 12, "2.33333333333e+00"},
		{"2.3333333333333335", 12, "2.33333333333e+00"},
		{"2.9999999999999996", 12, "3"},
		{"0.30000000000000004", 12, "3e-01"},
		{"0.3", 12, "3e-01"},
		{"1.5e-9", 12, "1.5e-09"},
		{"-12.5", 12, "-1.25e+01"},
		{"12345678901.000002", 12, "12345678901"},
		{"1e50", 12, "1e+50"},
		{"+Inf", 12, "+Inf"},
		{"2.333", 3, "2.33e+00"},
	}
	for _, c := range cases {
		if got := canonicalNumber(c.in, c.digits); got != c.want {
			t.Errorf("canonicalNumber(%q, %d) = %q, want %q", c.in, c.digits, got, c.want)
		}
	}
}

func TestValues(t *testing.T) {
	ts := time.Date(2024, 3, 1, 10, 20, 30, 500000000, time.UTC)
	cases := []struct {
		name string
		got  Value
		want Value
	}{
		{"NaN", Float(math.NaN(), 64), NullValue},
		{"+Inf", Float(math.Inf(1), 64), Value{Number, "+Inf"}},
		{"float32 shortest", Float(float64(float32(24.626968)), 32), Value{Number, "24.626968"}},
		{"bool", Bool(true), Value{Number, "1"}},
		{"date", DateValue(ts), Value{Date, "2024-03-01"}},
		{"datetime", DateTimeValue(ts, false), Value{DateTime, "2024-03-01 10:20:30.5"}},
		{"datetime midnight", DateTimeValue(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), false), Value{Date, "2024-03-01"}},
		{"timestamptz in UTC", DateTimeValue(time.Date(2024, 3, 1, 12, 0, 0, 0, time.FixedZone("x", 7200)), true), Value{DateTime, "2024-03-01 10:00:00"}},
		{"time of day", TimeOfDayValue(((13*60+5)*60+9)*1e6 + 250000), Value{TimeOfDay, "13:05:09.25"}},
		{"one day is 24 hours", DurationValue(0, 1, 0), DurationValue(0, 0, 24*3600*1e6)},
		{"a month is 30 days", DurationValue(1, 0, 0), DurationValue(0, 30, 0)},
		{"bytes", BytesValue([]byte{0, 255}), Value{Bytes, "00ff"}},
		{"decimal text", Value{Number, decimalText(bigInt(-12345), -2)}, Value{Number, "-123.45"}},
		{"decimal text small", Value{Number, decimalText(bigInt(5), -3)}, Value{Number, "0.005"}},
		{"decimal text exp", Value{Number, decimalText(bigInt(5), 2)}, Value{Number, "500"}},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if _, err := Decimal("12abc"); err == nil {
		t.Error("Decimal accepted 12abc")
	}
}

func bigInt(i int64) *big.Int { return big.NewInt(i) }

func TestMariaDBTextValues(t *testing.T) {
	cases := []struct {
		typ  string
		in   any
		want Value
	}{
		{"INT", int64(7), Value{Number, "7"}},
		{"UNSIGNED BIGINT", uint64(18446744073709551615), Value{Number, "18446744073709551615"}},
		{"DECIMAL", []byte("52.3333"), Value{Number, "52.3333"}},
		{"FLOAT", float32(24.627), Value{Number, "24.627"}},
		{"DOUBLE", float64(0.1), Value{Number, "0.1"}},
		{"DATE", []byte("2013-10-21"), Value{Date, "2013-10-21"}},
		{"DATE", []byte("0000-00-00"), Value{Other, "date:0000-00-00"}},
		{"DATETIME", []byte("2007-11-28 12:50:21"), Value{DateTime, "2007-11-28 12:50:21"}},
		{"DATETIME", []byte("2007-11-28 00:00:00"), Value{Date, "2007-11-28"}},
		{"TIMESTAMP", []byte("2007-11-28 12:50:21.250000"), Value{DateTime, "2007-11-28 12:50:21.25"}},
		{"TIME", []byte("12:34:56"), Value{TimeOfDay, "12:34:56"}},
		{"TIME", []byte("36:00:00"), DurationValue(0, 1, 12*3600*1e6)},
		{"TIME", []byte("-01:00:00"), DurationValue(0, 0, -3600*1e6)},
		{"BIT", []byte{1, 0}, Value{Number, "256"}},
		{"VARCHAR", []byte("null"), Value{Text, "null"}},
		{"TEXT", []byte(""), Value{Text, ""}},
		{"BLOB", []byte{0xde, 0xad}, Value{Bytes, "dead"}},
		{"INT", nil, NullValue},
	}
	for _, c := range cases {
		got, err := myValue(c.typ, c.in)
		if err != nil {
			t.Errorf("%s %v: %v", c.typ, c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s %v: got %#v, want %#v", c.typ, c.in, got, c.want)
		}
	}
	if _, err := myValue("DECIMAL", []byte("x")); err == nil {
		t.Error("bad DECIMAL text accepted")
	}
}

func TestCompareAny(t *testing.T) {
	res := func(cols []string, rows ...[]Value) *Result { return &Result{Columns: cols, Rows: rows} }
	ids := res([]string{"id"}, []Value{Int(1)}, []Value{Int(2)})
	names := res([]string{"name"}, []Value{TextValue("a")}, []Value{TextValue("b")})
	both := res([]string{"id", "name"}, []Value{Int(2), TextValue("b")}, []Value{Int(1), TextValue("a")})
	other := res([]string{"id"}, []Value{Int(3)})
	cases := []struct {
		name   string
		golds  []*Result
		gen    *Result
		exact  bool
		subset bool
		at     int
	}{
		{"exact beats an earlier subset", []*Result{ids, both}, both, true, true, 1},
		{"first subset when none exact", []*Result{other, names, ids}, both, false, true, 1},
		{"no match reports the first", []*Result{other, names}, ids, false, false, 0},
		{"no gold", nil, ids, false, false, -1},
	}
	for _, c := range cases {
		var golds []Gold
		for _, g := range c.golds {
			golds = append(golds, Gold{Result: g})
		}
		v, at := CompareAny(golds, c.gen)
		if v.Exact != c.exact || v.Subset != c.subset || at != c.at {
			t.Errorf("%s: exact %v subset %v at %d (%s), want %v %v %d", c.name, v.Exact, v.Subset, at, v.Reason, c.exact, c.subset, c.at)
		}
	}
}
