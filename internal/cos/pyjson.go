package cos

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The relation data an ops charm writes is Python's json.dumps output: ", " and ": " separators,
// keys in insertion order, non-ASCII escaped as \uXXXX. Consumers only parse it, but writing the
// same bytes makes our databags diffable against a Python charm's and keeps them stable: the
// charm writes relation data only when these bytes change.

// pyObject is a JSON object whose keys keep their order, as a Python dict does.
type pyObject []pyKV

type pyKV struct {
	K string
	V any
}

// get returns the value of key k, and whether it is there.
func (o pyObject) get(k string) (any, bool) {
	for _, kv := range o {
		if kv.K == k {
			return kv.V, true
		}
	}
	return nil, false
}

// set replaces k's value in place, or appends k, as assigning to a Python dict does.
func (o *pyObject) set(k string, v any) {
	for i := range *o {
		if (*o)[i].K == k {
			(*o)[i].V = v
			return
		}
	}
	*o = append(*o, pyKV{k, v})
}

// pyDumps encodes v as Python's json.dumps(v) would. v holds pyObject, []any, string, bool,
// nil, int and json.Number (kept as Python would print the int or float it parses to).
func pyDumps(v any) (string, error) {
	var b strings.Builder
	if err := pyEncode(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func pyEncode(b *strings.Builder, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case string:
		pyString(b, v)
	case json.Number:
		s, err := pyNumber(v)
		if err != nil {
			return err
		}
		b.WriteString(s)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := pyEncode(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case pyObject:
		b.WriteByte('{')
		for i, kv := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			pyString(b, kv.K)
			b.WriteString(": ")
			if err := pyEncode(b, kv.V); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("cannot encode %T as JSON", v)
	}
	return nil
}

// pyString writes s as json.dumps does with ensure_ascii: short escapes for the usual control
// characters, \u00XX for the others and \uXXXX (surrogate pairs above U+FFFF) for non-ASCII.
func pyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// pyNumber prints a JSON number as Python prints what json.loads makes of it: an int as is, a
// float as repr() does (shortest digits; fixed between 1e-4 and 1e16, else d.ddde+XX; ".0" when
// integral).
func pyNumber(n json.Number) (string, error) {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		return s, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return "", fmt.Errorf("cannot encode number %q", s)
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0", nil
		}
		return "0.0", nil
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	if exp >= -4 && exp < 16 {
		out := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(out, ".") {
			out += ".0"
		}
		return out, nil
	}
	sign := "+"
	if exp < 0 {
		sign, exp = "-", -exp
	}
	return fmt.Sprintf("%se%s%02d", mant, sign, exp), nil
}

// pyLoads decodes JSON keeping object key order and number literals, for re-encoding by pyDumps.
func pyLoads(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("cannot decode JSON: not UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	v, err := pyDecode(dec)
	if err != nil {
		return nil, fmt.Errorf("cannot decode JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("cannot decode JSON: data after the value")
	}
	return v, nil
}

func pyDecode(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			var o pyObject
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := pyDecode(dec)
				if err != nil {
					return nil, err
				}
				o.set(k.(string), v) // a repeated key keeps its first place, as in Python
			}
			_, err := dec.Token()
			return o, err
		case '[':
			l := []any{}
			for dec.More() {
				v, err := pyDecode(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil // string, bool, nil or json.Number
	}
}
