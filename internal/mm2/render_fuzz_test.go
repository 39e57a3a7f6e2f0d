package mm2

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// javaListSeparator is ConfigDef's COMMA_WITH_WHITESPACE: how Kafka splits a LIST value such as
// topics or bootstrap.servers (Java's \s is [ \t\n\x0B\f\r]).
var javaListSeparator = regexp.MustCompile(`[ \t\n\x0B\f\r]*,[ \t\n\x0B\f\r]*`)

// javaList is a LIST value as ConfigDef.parseType reads it: trimmed as String.trim does (every
// char up to ' '), nothing when empty, else split on javaListSeparator keeping empty parts.
func javaList(v string) []string {
	v = strings.TrimFunc(v, func(r rune) bool { return r <= ' ' })
	if v == "" {
		return nil
	}
	return javaListSeparator.Split(v, -1)
}

// patternList splits a comma-separated option the way the charm does (charm/config.go
// patterns): each part trimmed, empty ones dropped.
func patternList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// FuzzRender renders arbitrary aliases, servers, credentials, topic patterns and unit address,
// and reads the files back as MirrorMaker 2 does: mm2.properties as an ISO-8859-1 stream, the
// secrets file as UTF-8 through FileConfigProvider, then the JAAS config, then LIST values split
// as ConfigDef splits them. Either every value comes back as it went in, or Render refuses with
// an InputError naming the field; neither the error nor mm2.properties changes with the password.
func FuzzRender(f *testing.F) {
	f.Add("old", "new", "10.0.0.1:9092,10.0.0.2:9092", "relation-7", "s3cret-old", ".*, orders-[0-9]+", "10.1.0.11")
	f.Add("a_b-1", "B", "[::1]:9092", "user with spaces", `"; x="y`, `a\,b`, "::1")
	f.Add("old", "old", "host:0", "", "pw", "${file:/x:y}", "not an address!")
	f.Add("offset", "new", "k:9092", "u", "ü日本😀\u2028", "\x01control, trailing ", "10.1.0.11")
	for _, s := range hostile {
		f.Add("old", "new", "h:9092", s, s, s, "10.1.0.11")
	}
	f.Fuzz(func(t *testing.T, srcAlias, tgtAlias, servers, user, password, topics, address string) {
		render := func(password string) (Input, Output, error) {
			in := twoRelations()
			in.Source.Alias, in.Target.Alias = srcAlias, tgtAlias
			in.Source.BootstrapServers = patternList(servers)
			in.Source.Username, in.Source.Password = user, password
			in.Settings.Topics = patternList(topics)
			in.UnitAddress = address
			out, err := Render(in)
			return in, out, err
		}
		// Another password of the same emptiness and validity: nothing but the secrets file may
		// change with it.
		other := strings.Repeat("x", len(password))
		if other == password {
			other = strings.Repeat("y", len(password))
		}
		if !utf8.ValidString(password) {
			other += "\xff"
		}

		in, out, err := render(password)
		_, outOther, errOther := render(other)
		if err != nil {
			var ie *InputError
			require.True(t, errors.As(err, &ie), "not an InputError: %v", err)
			require.NotEmpty(t, ie.Field)
			require.Error(t, errOther)
			require.Equal(t, err.Error(), errOther.Error(), "the error depends on the password")
			return
		}
		require.NoError(t, errOther)
		propsText := fileContent(t, out, PropertiesPath)
		require.Equal(t, fileContent(t, outOther, PropertiesPath), propsText, "mm2.properties depends on the password")
		props, err := loadProperties(latin1Units([]byte(propsText)))
		require.NoError(t, err)
		fwd := srcAlias + "->" + tgtAlias + "."
		require.Equal(t, in.Settings.Topics, javaList(props[fwd+"topics"]), "topics as MM2 splits them")
		require.Equal(t, in.Source.BootstrapServers, javaList(props[srcAlias+".bootstrap.servers"]))
		require.Equal(t, srcAlias+", "+tgtAlias, props["clusters"])
		require.Equal(t, address, props["rest.advertised.host.name"])

		secrets, err := loadProperties(mustUTF8(t, fileContent(t, out, SecretsPath)))
		require.NoError(t, err)
		jaas := secrets[srcAlias+".sasl.jaas.config"]
		require.False(t, configProviderReference.MatchString(jaas), "a ${...} reference Kafka would resolve: %q", jaas)
		entries, err := parseJAAS(jaas)
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.Equal(t, user, entries[0].options["username"])
		require.Equal(t, password, entries[0].options["password"])
	})
}
