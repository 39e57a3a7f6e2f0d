package cos

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The charm needs two things from its PromQL (the alert rules' and the dashboard's): the metric
// names it reads, so a test can check each against what Prometheus really scraped, and cos-lib's
// topology injection, which adds juju_* matchers to every selector. Neither needs a full parser,
// and the Prometheus module would be the largest dependency of the binary: a lexer that knows
// selectors, label lists and strings from metric names is enough.

type tokenKind int

const (
	tokIdent    tokenKind = iota // metric, label, function or keyword name
	tokNumber                    // number or duration (5m, 1e3, 0x1f)
	tokString                    // "...", '...' or `...`, with its quotes
	tokVariable                  // a Grafana variable: $x or ${x}
	tokPunct                     // ( ) { } [ ] , : @ and operators
)

type token struct {
	kind       tokenKind
	text       string
	start, end int // byte offsets in the expression
}

// keywords are identifiers PromQL reserves: never metric names.
var keywords = map[string]bool{
	"and": true, "or": true, "unless": true, "by": true, "without": true, "on": true,
	"ignoring": true, "group_left": true, "group_right": true, "offset": true, "bool": true,
	"atan2": true,
}

// aggregators may be followed by by/without before their parenthesis.
var aggregators = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true,
	"stdvar": true, "count": true, "count_values": true, "bottomk": true, "topk": true,
	"quantile": true, "limitk": true, "limit_ratio": true,
}

// labelListKeywords take a parenthesised list of label names, which are not metrics.
var labelListKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// lex splits a PromQL expression (Grafana variables allowed) into tokens.
func lex(expr string) ([]token, error) {
	var toks []token
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#': // a comment runs to the end of the line
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for ; j < len(expr) && expr[j] != c; j++ {
				if expr[j] == '\\' && c != '`' {
					j++
				}
			}
			if j >= len(expr) {
				return nil, fmt.Errorf("cannot lex %q: unterminated string at %d", expr, i)
			}
			toks = append(toks, token{tokString, expr[i : j+1], i, j + 1})
			i = j + 1
		case c == '$':
			j := i + 1
			if j < len(expr) && expr[j] == '{' {
				k := strings.IndexByte(expr[j:], '}')
				if k < 0 {
					return nil, fmt.Errorf("cannot lex %q: unterminated variable at %d", expr, i)
				}
				j += k + 1
			} else {
				for j < len(expr) && isIdentChar(expr[j]) {
					j++
				}
			}
			toks = append(toks, token{tokVariable, expr[i:j], i, j})
			i = j
		case isDigit(c) || (c == '.' && i+1 < len(expr) && isDigit(expr[i+1])):
			j := i
			for j < len(expr) && (isIdentChar(expr[j]) || expr[j] == '.' ||
				((expr[j] == '+' || expr[j] == '-') && (expr[j-1] == 'e' || expr[j-1] == 'E'))) {
				j++
			}
			toks = append(toks, token{tokNumber, expr[i:j], i, j})
			i = j
		case isIdentStart(c):
			j := i
			for j < len(expr) && (isIdentChar(expr[j]) || expr[j] == ':') {
				j++
			}
			word := expr[i:j]
			kind := tokIdent
			if l := strings.ToLower(word); l == "inf" || l == "nan" {
				kind = tokNumber
			}
			toks = append(toks, token{kind, word, i, j})
			i = j
		default:
			n := 1
			if i+1 < len(expr) {
				switch expr[i : i+2] {
				case "==", "!=", "<=", ">=", "=~", "!~":
					n = 2
				}
			}
			if !strings.ContainsRune("(){}[],:@+-*/%^=<>!", rune(c)) {
				return nil, fmt.Errorf("cannot lex %q: unexpected %q at %d", expr, c, i)
			}
			toks = append(toks, token{tokPunct, expr[i : i+n], i, i + n})
			i += n
		}
	}
	return toks, nil
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }

// matcher is one label matcher of a selector; value is unquoted.
type matcher struct {
	name, op, value string
}

// String prints the matcher as Prometheus does: no spaces, the value Go-quoted.
func (m matcher) String() string { return m.name + m.op + strconv.Quote(m.value) }

// selector is one vector selector: a metric name, its matchers, or both. start and end span its
// text in the expression.
type selector struct {
	metric     string // from the name before the braces, or from a __name__="..." matcher
	named      bool   // the metric name was written before the braces
	matchers   []matcher
	start, end int
}

// selectors finds every vector selector of a PromQL expression, in order. An identifier is a
// metric unless it is a keyword, a function or aggregator (followed by "(" or by/without), a
// label name (inside braces or after by/without/on/ignoring/group_*), or inside a range or
// subquery's brackets; a "{" that follows no metric name is a selector of its own.
func selectors(expr string) ([]selector, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	var out []selector
	next := func(i int) *token {
		if i+1 < len(toks) {
			return &toks[i+1]
		}
		return nil
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tokPunct && t.text == "[":
			j, err := closing(toks, i, "[", "]")
			if err != nil {
				return nil, fmt.Errorf("cannot parse %q: %w", expr, err)
			}
			i = j
		case t.kind == tokIdent && labelListKeywords[t.text]:
			if n := next(i); n != nil && n.text == "(" {
				j, err := closing(toks, i+1, "(", ")")
				if err != nil {
					return nil, fmt.Errorf("cannot parse %q: %w", expr, err)
				}
				i = j
			}
		case t.kind == tokIdent && keywords[t.text]:
		case t.kind == tokIdent:
			n := next(i)
			if n != nil && (n.text == "(" || (aggregators[t.text] && (n.text == "by" || n.text == "without"))) {
				continue // a function or an aggregation
			}
			sel := selector{metric: t.text, named: true, start: t.start, end: t.end}
			if n != nil && n.text == "{" {
				j, ms, err := parseMatchers(toks, i+1)
				if err != nil {
					return nil, fmt.Errorf("cannot parse %q: %w", expr, err)
				}
				sel.matchers, sel.end, i = ms, toks[j].end, j
			}
			out = append(out, sel)
		case t.kind == tokPunct && t.text == "{":
			j, ms, err := parseMatchers(toks, i)
			if err != nil {
				return nil, fmt.Errorf("cannot parse %q: %w", expr, err)
			}
			sel := selector{matchers: ms, start: t.start, end: toks[j].end}
			for _, m := range ms {
				if m.name == "__name__" && m.op == "=" {
					sel.metric = m.value
				}
			}
			out = append(out, sel)
			i = j
		}
	}
	return out, nil
}

// closing returns the index of the token closing the bracket at toks[i].
func closing(toks []token, i int, open, close string) (int, error) {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch toks[j].text {
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return j, nil
			}
		}
	}
	return 0, fmt.Errorf("unclosed %q at %d", open, toks[i].start)
}

// parseMatchers reads `{name op "value", ...}` from toks[i] (the "{") and returns the index of
// the closing "}".
func parseMatchers(toks []token, i int) (int, []matcher, error) {
	var ms []matcher
	j := i + 1
	for j < len(toks) && toks[j].text != "}" {
		if j+2 >= len(toks) || toks[j].kind != tokIdent || toks[j+1].kind != tokPunct ||
			toks[j+2].kind != tokString {
			return 0, nil, fmt.Errorf("bad label matcher at %d", toks[j].start)
		}
		op := toks[j+1].text
		if op != "=" && op != "!=" && op != "=~" && op != "!~" {
			return 0, nil, fmt.Errorf("bad matcher operator %q at %d", op, toks[j+1].start)
		}
		v, err := unquote(toks[j+2].text)
		if err != nil {
			return 0, nil, fmt.Errorf("bad label value at %d: %w", toks[j+2].start, err)
		}
		ms = append(ms, matcher{toks[j].text, op, v})
		j += 3
		if j < len(toks) && toks[j].text == "," {
			j++
		}
	}
	if j >= len(toks) {
		return 0, nil, fmt.Errorf("unclosed \"{\" at %d", toks[i].start)
	}
	return j, ms, nil
}

// unquote reads a PromQL string: Go's escapes in "..." and '...', none in `...`.
func unquote(s string) (string, error) {
	if s[0] != '\'' {
		return strconv.Unquote(s)
	}
	// Rewrite '...' as "..." for strconv: \' needs no escape there, a bare " does.
	var b strings.Builder
	inner := s[1 : len(s)-1]
	for i := 0; i < len(inner); i++ {
		switch {
		case inner[i] == '\\' && i+1 < len(inner) && inner[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case inner[i] == '\\' && i+1 < len(inner):
			b.WriteString(inner[i : i+2])
			i++
		case inner[i] == '"':
			b.WriteString(`\"`)
		default:
			b.WriteByte(inner[i])
		}
	}
	return strconv.Unquote(`"` + b.String() + `"`)
}

// metricNames returns the metric names an expression reads, sorted and deduplicated.
func metricNames(expr string) ([]string, error) {
	sels, err := selectors(expr)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var names []string
	for _, s := range sels {
		if s.metric != "" && !seen[s.metric] {
			seen[s.metric] = true
			names = append(names, s.metric)
		}
	}
	sort.Strings(names)
	return names, nil
}

// injectMatchers adds an equality matcher for each label of extra to every selector of expr
// that has no matcher on that label, and prints each selector as Prometheus does (matchers
// sorted by name). This is what cos-tool's transform does to a rule's expression; the text
// around the selectors is kept as written.
func injectMatchers(expr string, extra map[string]string) (string, error) {
	sels, err := selectors(expr)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	last := 0
	for _, s := range sels {
		ms := append([]matcher(nil), s.matchers...)
		has := map[string]bool{}
		for _, m := range ms {
			has[m.name] = true
		}
		for name, v := range extra {
			if !has[name] {
				ms = append(ms, matcher{name, "=", v})
			}
		}
		b.WriteString(expr[last:s.start])
		name := ""
		if s.named {
			name = s.metric
		}
		b.WriteString(printSelector(name, ms))
		last = s.end
	}
	b.WriteString(expr[last:])
	return b.String(), nil
}

// printSelector prints a selector the way Prometheus' VectorSelector.String does.
func printSelector(metric string, ms []matcher) string {
	var strs []string
	for _, m := range ms {
		if metric != "" && m.name == "__name__" && m.op == "=" {
			continue
		}
		strs = append(strs, m.String())
	}
	sort.Strings(strs)
	if len(strs) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(strs, ",") + "}"
}
