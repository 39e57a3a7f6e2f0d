package mm2

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mirrormaker-k8s/internal/kafka"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testCA is a throwaway self-signed certificate (CN=test-ca) in testdata/ca.pem.
var testCA = func() string {
	b, err := os.ReadFile("testdata/ca.pem")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// defaultSettings are config.yaml's defaults, as the charm fills them in.
func defaultSettings() Settings {
	return Settings{
		Topics:                          []string{".*"},
		TopicsExclude:                   []string{`.*[\-\.]internal`, `.*\.replica`, "__.*"},
		Groups:                          []string{".*"},
		GroupsExclude:                   []string{"console-consumer-.*", "connect-.*", "__.*"},
		ReplicationPolicy:               PolicyIdentity,
		TasksMax:                        4,
		ReplicationFactor:               3,
		InternalReplFactor:              3,
		SyncGroupOffsets:                true,
		SyncTopicConfigs:                true,
		SyncTopicACLs:                   false,
		ExactlyOnce:                     ExactlyOnceDisabled,
		OffsetFlushIntervalSeconds:      5,
		CheckpointIntervalSeconds:       5,
		SyncGroupOffsetsIntervalSeconds: 5,
		RefreshTopicsIntervalSeconds:    60,
		RefreshGroupsIntervalSeconds:    60,
		SyncTopicConfigsIntervalSeconds: 600,
		OffsetLagMax:                    100,
		Compression:                     "none",
		LogLevel:                        "INFO",
	}
}

// twoRelations is the usual deployment: both clusters are Charmed Kafka over kafka_client.
func twoRelations() Input {
	return Input{
		Source: Cluster{
			Alias: "old",
			Access: kafka.Access{
				BootstrapServers: []string{"10.0.0.1:9092", "10.0.0.2:9092", "10.0.0.3:9092"},
				SecurityProtocol: kafka.SASLPlaintext,
				Mechanism:        kafka.ScramSHA512,
				Username:         "relation-7",
				Password:         "s3cret-old",
			},
		},
		Target: Cluster{
			Alias: "new",
			Access: kafka.Access{
				BootstrapServers: []string{"kafka-k8s-0.kafka-k8s-endpoints:9092", "kafka-k8s-1.kafka-k8s-endpoints:9092"},
				SecurityProtocol: kafka.SASLPlaintext,
				Mechanism:        kafka.ScramSHA512,
				Username:         "relation-8",
				Password:         "s3cret-new",
			},
		},
		Settings:    defaultSettings(),
		UnitAddress: "10.1.0.11",
		Units:       1,
	}
}

func goldenCases() map[string]Input {
	cases := map[string]Input{}
	cases["two-relations"] = twoRelations()

	ext := twoRelations()
	ext.Source = Cluster{
		Alias: "legacy",
		Access: kafka.Access{
			BootstrapServers: []string{"kafka1.example.internal:9093", "[fd00::1]:9093"},
			SecurityProtocol: kafka.SASLSSL,
			Mechanism:        kafka.ScramSHA256,
			Username:         "mirror maker",
			Password:         `p"a\ss w=rd:#!${file:/etc/passwd:x}`,
			CA:               "some text before\n" + testCA,
		},
	}
	ext.Target.SecurityProtocol = kafka.SASLSSL
	ext.Target.BootstrapServers = []string{"kafka-k8s-0.kafka-k8s-endpoints:9093"}
	ext.Target.CA = testCA
	cases["external-source-tls"] = ext

	prefix := twoRelations()
	prefix.Settings.ReplicationPolicy = PolicyPrefix
	prefix.Settings.Topics = []string{"orders", "payments\\..*"}
	prefix.Settings.LogLevel = "error"
	cases["prefix-policy"] = prefix

	eos := twoRelations()
	eos.Settings.ExactlyOnce = ExactlyOnceEnabled
	eos.Source.Mechanism = kafka.Plain
	cases["exactly-once"] = eos

	for i, addr := range []string{"10.1.0.11", "10.1.0.12", "10.1.0.13"} {
		u := twoRelations()
		u.Units = 3
		u.UnitAddress = addr
		cases["three-units-"+string(rune('0'+i))] = u
	}
	return cases
}

// goldenName turns a file path into a golden file name: /etc/kafka/mm2.properties -> mm2.properties.
func goldenName(caseName, path string) string {
	return caseName + "." + filepath.Base(path) + ".golden"
}

// TestRenderGolden pins every file of the "two-relations" case, and of the other cases the files
// that differ from it (the JMX rules, for one, are the same everywhere).
func TestRenderGolden(t *testing.T) {
	base, err := Render(twoRelations())
	require.NoError(t, err)
	baseline := map[string][]byte{}
	for _, f := range base.Files {
		baseline[f.Path] = f.Content
	}
	for name, in := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			out, err := Render(in)
			require.NoError(t, err)
			for _, f := range out.Files {
				if name != "two-relations" && bytes.Equal(f.Content, baseline[f.Path]) {
					continue
				}
				golden := filepath.Join("testdata", goldenName(name, f.Path))
				if *update {
					require.NoError(t, os.WriteFile(golden, f.Content, 0o644))
					continue
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "run go test ./internal/mm2 -update")
				assert.Equal(t, string(want), string(f.Content), "%s differs from %s", f.Path, golden)
			}
		})
	}
}

func TestRenderFilesAndModes(t *testing.T) {
	out, err := Render(goldenCases()["external-source-tls"])
	require.NoError(t, err)
	var paths []string
	for _, f := range out.Files {
		paths = append(paths, f.Path)
		assert.Equal(t, f.Path == SecretsPath, f.Secret, f.Path)
	}
	assert.Equal(t, []string{PropertiesPath, SecretsPath, "/etc/kafka/mm2-legacy-ca.pem", "/etc/kafka/mm2-new-ca.pem",
		JMXRulesPath, Log4jPath, Log4j2Path}, paths)
}

func TestRenderIsDeterministic(t *testing.T) {
	in := goldenCases()["external-source-tls"]
	first, err := Render(in)
	require.NoError(t, err)
	for range 20 {
		again, err := Render(in)
		require.NoError(t, err)
		assert.Equal(t, first, again)
	}
}

func TestPasswordsOnlyInSecretsFile(t *testing.T) {
	for name, in := range goldenCases() {
		out, err := Render(in)
		require.NoError(t, err)
		for _, f := range out.Files {
			for _, pw := range []string{in.Source.Password, in.Target.Password} {
				// The secrets file holds the password escaped; anywhere else even a fragment is a leak.
				if f.Secret {
					continue
				}
				assert.False(t, bytes.Contains(f.Content, []byte(pw)), "%s: password in %s", name, f.Path)
				assert.False(t, bytes.Contains(f.Content, []byte(propertiesValue(jaasQuote(pw)))), "%s: password in %s", name, f.Path)
			}
		}
	}
}

// TestUnitsDifferOnlyInAddress shows that a unit's files depend on its own address and on nothing
// else that varies between units, so scaling restarts nobody.
func TestUnitsDifferOnlyInAddress(t *testing.T) {
	render := func(addr string, units int) string {
		in := twoRelations()
		in.UnitAddress, in.Units = addr, units
		out, err := Render(in)
		require.NoError(t, err)
		return string(out.Files[0].Content)
	}
	a, b := render("10.1.0.11", 3), render("10.1.0.12", 3)
	var diff []string
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	require.Equal(t, len(al), len(bl))
	for i := range al {
		if al[i] != bl[i] {
			diff = append(diff, al[i]+" | "+bl[i])
		}
	}
	assert.Equal(t, []string{
		"listeners=http://10.1.0.11:8083 | listeners=http://10.1.0.12:8083",
		"rest.advertised.host.name=10.1.0.11 | rest.advertised.host.name=10.1.0.12",
	}, diff)
	assert.Equal(t, a, render("10.1.0.11", 1), "the number of units must not change the files")
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Input)
		field  string
	}{
		{"no source servers", func(in *Input) { in.Source.BootstrapServers = nil }, "Source.BootstrapServers"},
		{"server without port", func(in *Input) { in.Target.BootstrapServers = []string{"kafka"} }, "Target.BootstrapServers"},
		{"server with bad port", func(in *Input) { in.Target.BootstrapServers = []string{"kafka:0"} }, "Target.BootstrapServers"},
		{"server with newline", func(in *Input) { in.Source.BootstrapServers = []string{"a:1\nx=y:2"} }, "Source.BootstrapServers"},
		{"unknown protocol", func(in *Input) { in.Source.SecurityProtocol = "PLAINTEXT" }, "Source.SecurityProtocol"},
		{"unknown mechanism", func(in *Input) { in.Target.Mechanism = "GSSAPI" }, "Target.Mechanism"},
		{"empty username", func(in *Input) { in.Source.Username = "" }, "Source.Username"},
		{"empty password", func(in *Input) { in.Target.Password = "" }, "Target.Password"},
		{"password not utf-8", func(in *Input) { in.Target.Password = "\xff\xfe" }, "Target.Password"},
		{"ca not pem", func(in *Input) { in.Source.SecurityProtocol, in.Source.CA = kafka.SASLSSL, "enabled" }, "Source.CA"},
		{"ca key block", func(in *Input) {
			in.Source.SecurityProtocol = kafka.SASLSSL
			in.Source.CA = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		}, "Source.CA"},
		{"empty source alias", func(in *Input) { in.Source.Alias = "" }, "Source.Alias"},
		{"empty target alias", func(in *Input) { in.Target.Alias = "" }, "Target.Alias"},
		{"equal aliases", func(in *Input) { in.Target.Alias = in.Source.Alias }, "Target.Alias"},
		{"alias with dot", func(in *Input) { in.Source.Alias = "a.b" }, "Source.Alias"},
		{"alias with arrow", func(in *Input) { in.Source.Alias = "a->b" }, "Source.Alias"},
		{"reserved alias", func(in *Input) { in.Target.Alias = "offset" }, "Target.Alias"},
		{"unknown policy", func(in *Input) { in.Settings.ReplicationPolicy = "custom" }, "Settings.ReplicationPolicy"},
		{"tasks.max zero", func(in *Input) { in.Settings.TasksMax = 0 }, "Settings.TasksMax"},
		{"replication factor zero", func(in *Input) { in.Settings.ReplicationFactor = 0 }, "Settings.ReplicationFactor"},
		{"internal rf too big", func(in *Input) { in.Settings.InternalReplFactor = 40000 }, "Settings.InternalReplFactor"},
		{"unknown exactly-once", func(in *Input) { in.Settings.ExactlyOnce = "on" }, "Settings.ExactlyOnce"},
		{"zero flush interval", func(in *Input) { in.Settings.OffsetFlushIntervalSeconds = 0 }, "Settings.OffsetFlushIntervalSeconds"},
		{"negative refresh", func(in *Input) { in.Settings.RefreshGroupsIntervalSeconds = -1 }, "Settings.RefreshGroupsIntervalSeconds"},
		{"negative lag max", func(in *Input) { in.Settings.OffsetLagMax = -1 }, "Settings.OffsetLagMax"},
		{"unknown compression", func(in *Input) { in.Settings.Compression = "brotli" }, "Settings.Compression"},
		{"unknown log level", func(in *Input) { in.Settings.LogLevel = "VERBOSE" }, "Settings.LogLevel"},
		{"empty topic regex", func(in *Input) { in.Settings.Topics = []string{" "} }, "Settings.Topics"},
		{"comma in group regex", func(in *Input) { in.Settings.GroupsExclude = []string{"a,b"} }, "Settings.GroupsExclude"},
		{"provider reference in regex", func(in *Input) { in.Settings.TopicsExclude = []string{"${file:x:y}"} }, "Settings.TopicsExclude"},
		{"no unit address", func(in *Input) { in.UnitAddress = "" }, "UnitAddress"},
		{"unit address with scheme", func(in *Input) { in.UnitAddress = "http://10.0.0.1" }, "UnitAddress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := twoRelations()
			in.Source.Password, in.Target.Password = "hunter2-src", "hunter2-tgt"
			tt.modify(&in)
			out, err := Render(in)
			require.Error(t, err)
			assert.Empty(t, out.Files)
			var ie *InputError
			require.True(t, errors.As(err, &ie), "%T", err)
			assert.Equal(t, tt.field, ie.Field)
			assert.Contains(t, err.Error(), tt.field)
			assert.True(t, strings.HasPrefix(err.Error(), "cannot "), err.Error())
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestRenderAcceptsUnusedCAOnPlaintext(t *testing.T) {
	// Charmed Kafka's 3 track may send "enabled" as its CA; without TLS the CA is not used.
	in := twoRelations()
	in.Source.CA = "enabled"
	out, err := Render(in)
	require.NoError(t, err)
	assert.NotContains(t, string(out.Files[0].Content), "truststore")
}
