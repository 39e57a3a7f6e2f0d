package workload

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/canonical/pebble/client"
)

// KafkaLibsDir is where the Charmed Kafka rock keeps Kafka's jars.
const KafkaLibsDir = "/opt/kafka/libs"

// kafkaClientsJar matches kafka-clients-<version>.jar, and not the test,
// sources or javadoc jars that may sit next to it.
var kafkaClientsJar = regexp.MustCompile(`^kafka-clients-([0-9][0-9A-Za-z.+_-]*?)(-(test|sources|javadoc))?\.jar$`)

// KafkaVersion is the Kafka version shipped in the workload image, read from
// the name of its kafka-clients jar, so the charm can set the application
// version and refuse versions with known MM2 bugs. It is "" when there is no
// such jar (or no libs directory).
func (w *Workload) KafkaVersion() (string, error) {
	infos, err := w.pebble.ListFiles(&client.ListFilesOptions{Path: KafkaLibsDir, Pattern: "kafka-clients-*.jar"})
	if isNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cannot list %s: %w", KafkaLibsDir, notReady(err))
	}
	var versions []string
	for _, info := range infos {
		m := kafkaClientsJar.FindStringSubmatch(info.Name())
		if m == nil || m[2] != "" || info.IsDir() {
			continue
		}
		versions = append(versions, m[1])
	}
	if len(versions) == 0 {
		return "", nil
	}
	// One jar is expected; if an image carries two, report one deterministically.
	slices.Sort(versions)
	return versions[len(versions)-1], nil
}
