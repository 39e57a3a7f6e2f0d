package mm2

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mirrormaker-k8s/internal/kafka"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// javaProbe compiles testdata/Probe.java into a temp dir, or skips the test without a JDK.
func javaProbe(t *testing.T) func(mode string, content []byte) []string {
	t.Helper()
	javac, err := exec.LookPath("javac")
	if err != nil {
		t.Skip("no javac in PATH")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("no java in PATH")
	}
	dir := t.TempDir()
	src, err := filepath.Abs("testdata/Probe.java")
	require.NoError(t, err)
	if out, err := exec.Command(javac, "-encoding", "UTF-8", "-d", dir, src).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return func(mode string, content []byte) []string {
		file := filepath.Join(t.TempDir(), "in.properties")
		require.NoError(t, os.WriteFile(file, content, 0o600))
		out, err := exec.Command(java, "-cp", dir, "Probe", mode, file).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
}

// unhex decodes the probe's "x<hex>" fields.
func unhex(t *testing.T, fields []string) []string {
	t.Helper()
	out := make([]string, len(fields))
	for i, f := range fields {
		require.True(t, strings.HasPrefix(f, "x"), "field %q", f)
		b, err := hex.DecodeString(f[1:])
		require.NoError(t, err)
		out[i] = string(b)
	}
	return out
}

// TestJavaReadsSecretsBack loads the rendered secrets file with the JDK's own Properties and
// StreamTokenizer, configured as Kafka's FileConfigProvider and JaasConfig configure them.
func TestJavaReadsSecretsBack(t *testing.T) {
	probe := javaProbe(t)
	// One render per hostile password would start a JVM each time: put them all in one file,
	// one fake cluster alias per password, built with the same functions Render uses.
	p := newPropertiesFile()
	want := map[string]Cluster{}
	for i, pw := range hostile {
		c := Cluster{
			Alias: "c" + string(rune('a'+i%26)) + strings.Repeat("x", i/26),
			Access: kafka.Access{
				Mechanism: kafka.ScramSHA512,
				Username:  "user " + pw,
				Password:  pw,
			},
		}
		want[c.Alias+".sasl.jaas.config"] = c
		p.set(c.Alias+".sasl.jaas.config", jaasConfig(c))
	}
	got := map[string]map[string]string{}
	for _, line := range probe("reader", p.bytes()) {
		fields := strings.Split(line, "\t")
		switch fields[0] {
		case "ref":
			t.Errorf("ConfigTransformer would substitute in %s", unhex(t, fields[1:])[0])
		case "jaas":
			f := unhex(t, fields[1:])
			assert.Equal(t, []string{"org.apache.kafka.common.security.scram.ScramLoginModule", "required"}, f[1:])
		case "opt":
			f := unhex(t, fields[1:])
			if got[f[0]] == nil {
				got[f[0]] = map[string]string{}
			}
			got[f[0]][f[1]] = f[2]
		}
	}
	require.Len(t, got, len(want))
	for key, c := range want {
		assert.Equal(t, map[string]string{"username": c.Username, "password": c.Password}, got[key], "%q", c.Password)
	}
}

// TestJavaReadsPropertiesBack loads a rendered mm2.properties the way MirrorMaker.main does.
func TestJavaReadsPropertiesBack(t *testing.T) {
	probe := javaProbe(t)
	in := goldenCases()["external-source-tls"]
	in.Settings.Topics = []string{"café", `a\.b`, "日本"}
	out, err := Render(in)
	require.NoError(t, err)
	props := map[string]string{}
	refs := map[string]bool{}
	for _, line := range probe("stream", []byte(fileContent(t, out, PropertiesPath))) {
		fields := strings.Split(line, "\t")
		f := unhex(t, fields[1:])
		switch fields[0] {
		case "prop":
			props[f[0]] = f[1]
		case "ref":
			refs[f[0]] = true
		}
	}
	// The Go port must agree with the JDK on the whole file.
	goProps, err := loadProperties(latin1Units([]byte(fileContent(t, out, PropertiesPath))))
	require.NoError(t, err)
	assert.Equal(t, goProps, props)
	assert.Equal(t, `café, a\.b, 日本`, props["legacy->new.topics"])
	// The only provider references are the two the charm meant.
	assert.Equal(t, map[string]bool{"legacy.sasl.jaas.config": true, "new.sasl.jaas.config": true}, refs)
}
