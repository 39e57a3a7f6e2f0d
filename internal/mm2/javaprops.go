package mm2

// A Go port of java.util.Properties.load (LineReader, load0, loadConvert), written from the
// JDK 17 sources: the first parser every rendered credential goes through. Java strings are
// UTF-16, so it works on UTF-16 code units. Tests read the rendered files back with it as Kafka
// does; the migration exporter reads the secrets file with it, so it sees the very passwords MM2
// sees.

import (
	"errors"
	"fmt"
	"strings"
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

// ReadSecrets reads the secrets file as MM2's FileConfigProvider does (Properties.load from a
// UTF-8 Reader) and returns the password of each cluster alias.
func ReadSecrets(data []byte) (map[string]string, error) {
	units, err := utf8Units(data)
	if err != nil {
		return nil, fmt.Errorf("cannot parse the secrets file: %w", err)
	}
	props, err := loadProperties(units)
	if err != nil {
		return nil, fmt.Errorf("cannot parse the secrets file: %w", err)
	}
	passwords := map[string]string{}
	for k, v := range props {
		if alias, ok := strings.CutSuffix(k, passwordKeySuffix); ok {
			passwords[alias] = v
		}
	}
	return passwords, nil
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
