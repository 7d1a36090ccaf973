package execdb

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Kind is the family of a result value. Values of different kinds never
// compare equal, except that booleans are numbers (see Bool).
type Kind uint8

// Value kinds.
const (
	Null      Kind = iota // SQL NULL, and floating-point NaN (see Float)
	Number                // integers, decimals, floats, booleans as 1/0
	Text                  // character strings, exactly as returned
	Date                  // calendar date, or a timestamp at midnight: 2006-01-02
	DateTime              // timestamp: 2006-01-02 15:04:05[.ffffff], in UTC when zoned
	TimeOfDay             // time without date: 15:04:05[.ffffff]
	Duration              // interval, as microseconds
	Bytes                 // binary strings, hex-encoded
	Other                 // anything else: type name and text form
)

var kindNames = [...]string{"null", "number", "text", "date", "datetime", "time", "duration", "bytes", "other"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one normalized cell of a result. It is comparable with ==, and
// two values are the same datum exactly when they are ==, apart from
// numbers, whose S holds the exact decimal text the server sent: Compare
// rounds those consistently before matching.
type Value struct {
	Kind Kind
	S    string
}

func (v Value) String() string {
	switch v.Kind {
	case Null:
		return "NULL"
	case Text:
		return strconv.Quote(v.S)
	default:
		return v.S
	}
}

// NullValue is SQL NULL.
var NullValue = Value{Kind: Null}

// TextValue returns a text value.
func TextValue(s string) Value { return Value{Kind: Text, S: s} }

// Int returns an integer value.
func Int(i int64) Value { return Value{Kind: Number, S: strconv.FormatInt(i, 10)} }

// Uint returns an unsigned integer value.
func Uint(u uint64) Value { return Value{Kind: Number, S: strconv.FormatUint(u, 10)} }

// Float returns a float value with the shortest decimal text that reads back
// as f (bits is 32 or 64, the width the server used). NaN is NULL, as Defog
// sql-eval's compare_df fills NaN and NULL alike before comparing; the
// infinities are numbers written "+Inf" and "-Inf".
func Float(f float64, bits int) Value {
	switch {
	case math.IsNaN(f):
		return NullValue
	case math.IsInf(f, 1):
		return Value{Kind: Number, S: "+Inf"}
	case math.IsInf(f, -1):
		return Value{Kind: Number, S: "-Inf"}
	}
	return Value{Kind: Number, S: strconv.FormatFloat(f, 'g', -1, bits)}
}

// Bool returns a boolean as the number 1 or 0: MySQL has no other boolean,
// and Python, which Defog sql-eval compares with, holds True == 1.
func Bool(b bool) Value {
	if b {
		return Value{Kind: Number, S: "1"}
	}
	return Value{Kind: Number, S: "0"}
}

// Decimal returns a number from its decimal text (digits, optional sign,
// point and exponent), as sent by the server for DECIMAL/NUMERIC.
func Decimal(s string) (Value, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "nan":
		return NullValue, nil
	case "infinity", "+infinity", "inf", "+inf":
		return Value{Kind: Number, S: "+Inf"}, nil
	case "-infinity", "-inf":
		return Value{Kind: Number, S: "-Inf"}, nil
	}
	if _, ok := new(big.Float).SetPrec(numPrec).SetString(s); !ok {
		return Value{}, fmt.Errorf("not a decimal number: %q", s)
	}
	return Value{Kind: Number, S: s}, nil
}

// DateValue returns a date.
func DateValue(t time.Time) Value {
	return Value{Kind: Date, S: t.Format("2006-01-02")}
}

// DateTimeValue returns a timestamp. A zoned timestamp is taken in UTC. A
// timestamp at midnight is the date itself, so that DATE_TRUNC('day', ts)
// and CAST(ts AS DATE) read the same.
func DateTimeValue(t time.Time, zoned bool) Value {
	if zoned {
		t = t.UTC()
	}
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return DateValue(t)
	}
	return Value{Kind: DateTime, S: t.Format("2006-01-02 15:04:05.999999")}
}

// TimeOfDayValue returns a time of day from microseconds since midnight.
func TimeOfDayValue(us int64) Value {
	d := time.Duration(us) * time.Microsecond
	h := int64(d / time.Hour)
	d -= time.Duration(h) * time.Hour
	m := int64(d / time.Minute)
	d -= time.Duration(m) * time.Minute
	sec := int64(d / time.Second)
	d -= time.Duration(sec) * time.Second
	s := fmt.Sprintf("%02d:%02d:%02d", h, m, sec)
	if frac := int64(d / time.Microsecond); frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
	}
	return Value{Kind: TimeOfDay, S: s}
}

// DurationValue returns an interval of months, days and microseconds as
// microseconds, counting a month as 30 days and a day as 24 hours, the way
// Python's psycopg2 turns an interval into a timedelta (so '1 day' and
// '24 hours' are the same duration).
func DurationValue(months int64, days int64, us int64) Value {
	total := new(big.Int).SetInt64(months*30 + days)
	total.Mul(total, big.NewInt(24*3600*1e6))
	total.Add(total, big.NewInt(us))
	return Value{Kind: Duration, S: total.String()}
}

// BytesValue returns a binary string.
func BytesValue(b []byte) Value { return Value{Kind: Bytes, S: hex.EncodeToString(b)} }

// OtherValue returns a value of a type without its own normalization.
func OtherValue(typ, text string) Value { return Value{Kind: Other, S: typ + ":" + text} }

// numPrec is the binary precision numbers are parsed with: enough for
// NUMERIC values of 70+ significant digits.
const numPrec = 256

// maxExactInt bounds integers kept exactly (beyond it they are rounded
// like any other number).
var maxExactInt = new(big.Float).SetPrec(numPrec).SetFloat64(1e40)

// canonicalNumber returns the text of a number rounded to digits
// significant digits (integers below 1e40 stay exact), written so that
// equal rounded numbers have equal text.
func canonicalNumber(s string, digits int) string {
	if s == "+Inf" || s == "-Inf" {
		return s
	}
	f, ok := new(big.Float).SetPrec(numPrec).SetString(s)
	if !ok {
		return s
	}
	if f.Sign() == 0 {
		return "0"
	}
	abs := new(big.Float).Abs(f)
	if f.IsInt() && abs.Cmp(maxExactInt) < 0 {
		i, _ := f.Int(nil)
		return i.String()
	}
	r, ok := new(big.Float).SetPrec(numPrec).SetString(f.Text('e', digits-1))
	if !ok {
		return s
	}
	if r.IsInt() && new(big.Float).Abs(r).Cmp(maxExactInt) < 0 {
		i, _ := r.Int(nil)
		return i.String()
	}
	// 'e' with digits-1 fraction digits, trailing zeros trimmed: one
	// spelling per rounded value.
	t := r.Text('e', digits-1)
	mant, exp, _ := strings.Cut(t, "e")
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	return mant + "e" + exp
}
