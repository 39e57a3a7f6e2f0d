package mm2

import (
	"regexp"
	"strings"
	"testing"

	"mirrormaker-k8s/internal/kafka"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostile are strings that break naive escaping in at least one of the parsers.
var hostile = []string{
	`plain`,
	`"`, `""`, `\`, `\\`, `\"`, `"; x="y`, `a\1b`, `\0`, `\377`, `\u0041`, `\n`, `\`,
	`=`, `:`, `#`, `!`, `#start`, `!start`, `key=value:x`, `a b=c`,
	`${file:/etc/passwd:root}`, `${file:x}`, `${env:HOME}`, `$`, `{`, `}`, `${`, `$$${{}}`,
	` leading`, `trailing `, `  both  `, ` `, "\ttab\t", "\fform", "\x00nul", "\x7fdel",
	"cr\rlf\nboth\r\nend", "\n", "\r", "ends with backslash\\", "backslash-newline\\\nx",
	"uni ü é ñ ß 日本語", "emoji 😀 and 𝄞", "\u2028sep\u0085nel\ufeffbom", "ÿ\u0100",
	`'single'`, `/* not a comment */`, `// nor this`, `-123`, `0.5`, `required;`, `password="x"`,
}

func TestPropertiesEscapingRoundTrips(t *testing.T) {
	for _, s := range hostile {
		t.Run(s, func(t *testing.T) {
			text := "# comment\n" + propertiesKey(s) + "=" + propertiesValue(s) + "\n" +
				"k" + propertiesKey(s) + " = v" + propertiesValue(s) + "\n" +
				"after=1\n"
			assert.True(t, isPrintableASCII(text), "not printable ASCII: %q", text)
			for name, units := range map[string][]uint16{"stream": latin1Units([]byte(text)), "reader": mustUTF8(t, text)} {
				props, err := loadProperties(units)
				require.NoError(t, err, name)
				assert.Equal(t, map[string]string{s: s, "k" + s: "v" + s, "after": "1"}, props, name)
			}
		})
	}
}

func TestJAASQuotingRoundTrips(t *testing.T) {
	for _, s := range hostile {
		t.Run(s, func(t *testing.T) {
			for mech, module := range loginModules {
				c := Cluster{Access: kafka.Access{Mechanism: mech, Username: s, Password: s + "!" + s}}
				entries, err := parseJAAS(jaasConfig(c))
				require.NoError(t, err)
				require.Len(t, entries, 1)
				assert.Equal(t, jaasEntry{module: module, flag: "required",
					options: map[string]string{"username": s, "password": s + "!" + s}}, entries[0])
			}
		})
	}
}

// configProviderReference is Kafka's ConfigTransformer.DEFAULT_PATTERN. RE2 and Java agree on
// it: it is a plain pattern with lazy quantifiers.
var configProviderReference = regexp.MustCompile(`\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}`)

func TestJAASConfigNeverHoldsAProviderReference(t *testing.T) {
	for _, s := range hostile {
		for _, split := range []int{0, len(s) / 2} {
			// Username and password side by side must not form a reference either.
			c := Cluster{Access: kafka.Access{Mechanism: kafka.ScramSHA512, Username: s[:split] + "${file", Password: ":/x:y}" + s[split:]}}
			v := jaasConfig(c)
			assert.NotContains(t, v, "${", "%q", s)
			assert.False(t, configProviderReference.MatchString(v), "%q", v)
		}
	}
}

// TestSecretsFileRoundTrips reads the rendered secrets file the way Kafka does: Properties from
// a UTF-8 Reader (FileConfigProvider), then JaasConfig.
func TestSecretsFileRoundTrips(t *testing.T) {
	for _, pw := range hostile {
		t.Run(pw, func(t *testing.T) {
			in := twoRelations()
			in.Source.Password, in.Target.Username, in.Target.Password = pw, pw, "x"+pw
			out, err := Render(in)
			require.NoError(t, err)
			secrets := fileContent(t, out, SecretsPath)
			require.True(t, isPrintableASCII(secrets))
			props, err := loadProperties(mustUTF8(t, secrets))
			require.NoError(t, err)
			require.Len(t, props, 4)
			passwords, err := ReadSecrets([]byte(secrets))
			require.NoError(t, err)
			assert.Equal(t, map[string]string{in.Source.Alias: in.Source.Password, in.Target.Alias: in.Target.Password}, passwords)
			for _, c := range []Cluster{in.Source, in.Target} {
				entries, err := parseJAAS(props[c.Alias+".sasl.jaas.config"])
				require.NoError(t, err)
				require.Len(t, entries, 1)
				assert.Equal(t, c.Username, entries[0].options["username"])
				assert.Equal(t, c.Password, entries[0].options["password"])
			}
		})
	}
}

// TestPropertiesFileReadsBack reads mm2.properties the way MirrorMaker.main does:
// Properties.load(InputStream), that is ISO-8859-1.
func TestPropertiesFileReadsBack(t *testing.T) {
	in := goldenCases()["external-source-tls"]
	in.Settings.Topics = []string{`caf\u00e9`, "café", `a\.b`, "sp ace"}
	out, err := Render(in)
	require.NoError(t, err)
	text := fileContent(t, out, PropertiesPath)
	require.True(t, isPrintableASCII(text))
	props, err := loadProperties(latin1Units([]byte(text)))
	require.NoError(t, err)
	for k, want := range map[string]string{
		"clusters":                     "legacy, new",
		"legacy->new.topics":           `caf\u00e9, café, a\.b, sp ace`,
		"legacy->new.topics.exclude":   `.*[\-\.]internal, .*\.replica, __.*`,
		"legacy.sasl.jaas.config":      "${file:/etc/kafka/mm2-secrets.properties:legacy.sasl.jaas.config}",
		"legacy.bootstrap.servers":     "kafka1.example.internal:9093,[fd00::1]:9093",
		"listeners":                    "http://10.1.0.11:8083",
		"new.offset.flush.interval.ms": "5000",
	} {
		assert.Equal(t, want, props[k], k)
	}
}

func fileContent(t *testing.T, out Output, path string) string {
	t.Helper()
	for _, f := range out.Files {
		if f.Path == path {
			return string(f.Content)
		}
	}
	t.Fatalf("no file %s", path)
	return ""
}

func mustUTF8(t *testing.T, s string) []uint16 {
	t.Helper()
	u, err := utf8Units([]byte(s))
	require.NoError(t, err)
	return u
}

func isPrintableASCII(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r != '\n' && (r < 0x20 || r > 0x7e) }) < 0
}

// FuzzCredentialRoundTrip checks any valid UTF-8 password through both parsers.
func FuzzCredentialRoundTrip(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		in := twoRelations()
		in.Source.Password = pw
		out, err := Render(in)
		if err != nil {
			return // empty or not UTF-8: refused, and the error says so
		}
		props, err := loadProperties(mustUTF8(t, fileContent(t, out, SecretsPath)))
		require.NoError(t, err)
		entries, err := parseJAAS(props["old.sasl.jaas.config"])
		require.NoError(t, err)
		require.Equal(t, pw, entries[0].options["password"])
		require.False(t, configProviderReference.MatchString(props["old.sasl.jaas.config"]))
	})
}
