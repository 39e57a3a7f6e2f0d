package mm2

// A Go port of java.io.StreamTokenizer, written from the JDK 17 sources and configured as
// Kafka's org.apache.kafka.common.security.JaasConfig configures it: the second parser every
// rendered credential goes through.

import (
	"errors"
	"fmt"
	"unicode/utf16"
)

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
