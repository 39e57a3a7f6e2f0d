package mm2

// Go ports of the two Java parsers every rendered credential goes through, written from the
// JDK 17 sources of java.util.Properties (LineReader, loadConvert) and java.io.StreamTokenizer,
// configured as Kafka's org.apache.kafka.common.security.JaasConfig configures it. Java strings
// are UTF-16, so both work on UTF-16 code units.

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// latin1Units is what Properties.load(InputStream) sees: every byte is one char.
func latin1Units(b []byte) []uint16 {
	u := make([]uint16, len(b))
	for i, c := range b {
		u[i] = uint16(c)
	}
	return u
}

// utf8Units is what Properties.load(Reader) sees when the Reader decodes UTF-8, as
// FileConfigProvider's does.
func utf8Units(b []byte) ([]uint16, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("not UTF-8")
	}
	return utf16.Encode([]rune(string(b))), nil
}

// loadProperties ports Properties.load: natural lines, comments, continuations, key/value split
// and escapes.
func loadProperties(in []uint16) (map[string]string, error) {
	props := map[string]string{}
	off := 0
	for {
		line, ok := readLogicalLine(in, &off)
		if !ok {
			return props, nil
		}
		key, value, err := splitKeyValue(line)
		if err != nil {
			return nil, err
		}
		props[key] = value
	}
}

// readLogicalLine ports Properties.LineReader.readLine.
func readLogicalLine(in []uint16, off *int) ([]uint16, bool) {
	var line []uint16
	skipWhiteSpace, appendedLineBegin, precedingBackslash := true, false, false
	for {
		if *off >= len(in) {
			if len(line) == 0 {
				return nil, false
			}
			if precedingBackslash {
				line = line[:len(line)-1]
			}
			return line, true
		}
		c := in[*off]
		*off++
		if skipWhiteSpace {
			if c == ' ' || c == '\t' || c == '\f' {
				continue
			}
			if !appendedLineBegin && (c == '\r' || c == '\n') {
				continue
			}
			skipWhiteSpace, appendedLineBegin = false, false
		}
		if len(line) == 0 && (c == '#' || c == '!') {
			for *off < len(in) && in[*off] != '\n' && in[*off] != '\r' {
				*off++
			}
			skipWhiteSpace = true
			continue
		}
		if c != '\n' && c != '\r' {
			line = append(line, c)
			precedingBackslash = c == '\\' && !precedingBackslash
			continue
		}
		if len(line) == 0 {
			skipWhiteSpace = true
			continue
		}
		if *off >= len(in) {
			if precedingBackslash {
				line = line[:len(line)-1]
			}
			return line, true
		}
		if !precedingBackslash {
			return line, true
		}
		// A backslash before the line end joins the next line, without its leading whitespace.
		line = line[:len(line)-1]
		skipWhiteSpace, appendedLineBegin, precedingBackslash = true, true, false
		if c == '\r' && in[*off] == '\n' {
			*off++
		}
	}
}

// splitKeyValue ports the key/value split of Properties.load0.
func splitKeyValue(line []uint16) (string, string, error) {
	limit := len(line)
	keyLen, valueStart := 0, limit
	hasSep, precedingBackslash := false, false
	for keyLen < limit {
		c := line[keyLen]
		if (c == '=' || c == ':') && !precedingBackslash {
			valueStart, hasSep = keyLen+1, true
			break
		} else if (c == ' ' || c == '\t' || c == '\f') && !precedingBackslash {
			valueStart = keyLen + 1
			break
		}
		precedingBackslash = c == '\\' && !precedingBackslash
		keyLen++
	}
	for valueStart < limit {
		c := line[valueStart]
		if c != ' ' && c != '\t' && c != '\f' {
			if !hasSep && (c == '=' || c == ':') {
				hasSep = true
			} else {
				break
			}
		}
		valueStart++
	}
	key, err := loadConvert(line[:keyLen])
	if err != nil {
		return "", "", err
	}
	value, err := loadConvert(line[valueStart:])
	return key, value, err
}

// loadConvert ports Properties.loadConvert: \uXXXX, \t \r \n \f, and \x for any other x.
func loadConvert(in []uint16) (string, error) {
	var out []uint16
	for i := 0; i < len(in); {
		c := in[i]
		i++
		if c != '\\' {
			out = append(out, c)
			continue
		}
		c = in[i]
		i++
		switch c {
		case 'u':
			if i > len(in)-4 {
				return "", errors.New("malformed \\uxxxx encoding")
			}
			var v uint16
			for range 4 {
				h := in[i]
				i++
				switch {
				case h >= '0' && h <= '9':
					v = v<<4 + h - '0'
				case h >= 'a' && h <= 'f':
					v = v<<4 + 10 + h - 'a'
				case h >= 'A' && h <= 'F':
					v = v<<4 + 10 + h - 'A'
				default:
					return "", errors.New("malformed \\uxxxx encoding")
				}
			}
			c = v
		case 't':
			c = '\t'
		case 'r':
			c = '\r'
		case 'n':
			c = '\n'
		case 'f':
			c = '\f'
		}
		out = append(out, c)
	}
	return string(utf16.Decode(out)), nil
}

// StreamTokenizer token types and character classes.
const (
	ttEOF    = -1
	ttNumber = -2
	ttWord   = -3

	ctWhitespace = 1
	ctDigit      = 2
	ctAlpha      = 4
	ctQuote      = 8
	ctComment    = 16
)

// jaasTokenizer ports java.io.StreamTokenizer with its default syntax plus JaasConfig's
// settings: slashSlashComments, slashStarComments, wordChars for '-', '_' and '$'.
type jaasTokenizer struct {
	in    []uint16
	pos   int
	peekc int // -2: read a new char
	ttype int
	sval  *string
	ctype [256]byte
}

const needChar = -2

func newJAASTokenizer(s string) *jaasTokenizer {
	t := &jaasTokenizer{in: utf16.Encode([]rune(s)), peekc: needChar}
	for c := 'a'; c <= 'z'; c++ {
		t.ctype[c] |= ctAlpha
	}
	for c := 'A'; c <= 'Z'; c++ {
		t.ctype[c] |= ctAlpha
	}
	for c := 128 + 32; c <= 255; c++ {
		t.ctype[c] |= ctAlpha
	}
	for c := 0; c <= ' '; c++ {
		t.ctype[c] = ctWhitespace
	}
	t.ctype['/'] = ctComment
	t.ctype['"'] = ctQuote
	t.ctype['\''] = ctQuote
	for c := '0'; c <= '9'; c++ { // parseNumbers
		t.ctype[c] |= ctDigit
	}
	t.ctype['.'] |= ctDigit
	t.ctype['-'] |= ctDigit
	for _, c := range "-_$" { // JaasConfig's wordChars: wordChars ORs in the class
		t.ctype[c] |= ctAlpha
	}
	return t
}

func (t *jaasTokenizer) read() int {
	if t.pos >= len(t.in) {
		return -1
	}
	c := t.in[t.pos]
	t.pos++
	return int(c)
}

func (t *jaasTokenizer) class(c int) byte {
	switch {
	case c < 0:
		return ctWhitespace
	case c < 256:
		return t.ctype[c]
	default:
		return ctAlpha
	}
}

func (t *jaasTokenizer) nextToken() int {
	t.sval = nil
	c := t.peekc
	if c == needChar {
		c = t.read()
		if c < 0 {
			t.ttype = ttEOF
			return t.ttype
		}
	}
	t.ttype = c
	t.peekc = needChar
	ct := t.class(c)
	for ct&ctWhitespace != 0 {
		c = t.read()
		if c < 0 {
			t.ttype = ttEOF
			return t.ttype
		}
		ct = t.class(c)
	}
	if ct&ctDigit != 0 {
		if c == '-' {
			c = t.read()
			if c != '.' && (c < '0' || c > '9') {
				t.peekc = c
				t.ttype = '-'
				return t.ttype
			}
		}
		// A number: digits and at most one '.', with no string value.
		seenDot := false
		for (c >= '0' && c <= '9') || (c == '.' && !seenDot) {
			seenDot = seenDot || c == '.'
			c = t.read()
		}
		t.peekc = c
		t.ttype = ttNumber
		return t.ttype
	}
	if ct&ctAlpha != 0 {
		var buf []uint16
		for {
			buf = append(buf, uint16(c))
			c = t.read()
			if t.class(c)&(ctAlpha|ctDigit) == 0 {
				break
			}
		}
		t.peekc = c
		s := string(utf16.Decode(buf))
		t.sval = &s
		t.ttype = ttWord
		return t.ttype
	}
	if ct&ctQuote != 0 {
		t.ttype = c
		var buf []uint16
		d := t.read()
		for d >= 0 && d != t.ttype && d != '\n' && d != '\r' {
			if d == '\\' {
				c = t.read()
				first := c
				if c >= '0' && c <= '7' {
					c -= '0'
					c2 := t.read()
					if c2 >= '0' && c2 <= '7' {
						c = c<<3 + c2 - '0'
						c2 = t.read()
						if c2 >= '0' && c2 <= '7' && first <= '3' {
							c = c<<3 + c2 - '0'
							d = t.read()
						} else {
							d = c2
						}
					} else {
						d = c2
					}
				} else {
					switch c {
					case 'a':
						c = 0x7
					case 'b':
						c = '\b'
					case 'f':
						c = 0xC
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'v':
						c = 0xB
					}
					d = t.read()
				}
			} else {
				c = d
				d = t.read()
			}
			buf = append(buf, uint16(c))
		}
		if d == t.ttype {
			t.peekc = needChar
		} else {
			t.peekc = d
		}
		s := string(utf16.Decode(buf))
		t.sval = &s
		return t.ttype
	}
	if c == '/' {
		c = t.read()
		switch c {
		case '*':
			prev := 0
			for {
				c = t.read()
				if c == '/' && prev == '*' {
					return t.nextToken()
				}
				if c < 0 {
					t.ttype = ttEOF
					return t.ttype
				}
				prev = c
			}
		default: // "//" and, '/' being a comment char, "/" alone: comments to the line end
			for c >= 0 && c != '\n' && c != '\r' {
				c = t.read()
			}
			t.peekc = c
			return t.nextToken()
		}
	}
	return t.ttype
}

// jaasEntry is one login module entry of a JAAS config.
type jaasEntry struct {
	module, flag string
	options      map[string]string
}

// parseJAAS ports JaasConfig's constructor and parseAppConfigurationEntry.
func parseJAAS(s string) ([]jaasEntry, error) {
	t := newJAASTokenizer(s)
	var entries []jaasEntry
	for t.nextToken() != ttEOF {
		var e jaasEntry
		if t.sval == nil {
			return nil, fmt.Errorf("login module is not a word (token %d)", t.ttype)
		}
		e.module = *t.sval
		if t.nextToken() == ttEOF || t.sval == nil {
			return nil, errors.New("login module control flag not specified")
		}
		e.flag = *t.sval
		e.options = map[string]string{}
		for t.nextToken() != ttEOF && t.ttype != ';' {
			if t.sval == nil {
				return nil, fmt.Errorf("option key is not a word (token %d)", t.ttype)
			}
			key := *t.sval
			if t.nextToken() != '=' || t.nextToken() == ttEOF || t.sval == nil {
				return nil, fmt.Errorf("value not specified for key %q", key)
			}
			e.options[key] = *t.sval
		}
		if t.ttype != ';' {
			return nil, errors.New("JAAS config entry not terminated by semi-colon")
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, errors.New("login module not specified")
	}
	return entries, nil
}
