package localkafka

import (
	"crypto/sha512"
	"fmt"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"
)

// scramSHA512Client adapts xdg-go/scram to sarama's SCRAMClient, which sarama
// leaves to the caller.
//
// TODO(dedupe): this is a copy of the adapter in internal/kafka/scram.go. Once
// internal/kafka's transport package exports one, use it here; the sandbox
// does not import internal/kafka from non-test code until then.
//
// It uses NewClientUnprepped: Kafka's own client and broker salt the raw
// UTF-8 password without SASLprep, so prepping here would break passwords
// with characters SASLprep maps (non-ASCII spaces, compatibility forms).
type scramSHA512Client struct {
	conv *scram.ClientConversation
}

var _ sarama.SCRAMClient = (*scramSHA512Client)(nil)

func newSCRAMSHA512Client() sarama.SCRAMClient { return &scramSHA512Client{} }

// Begin starts a conversation for one connection.
func (c *scramSHA512Client) Begin(userName, password, authzID string) error {
	client, err := scram.HashGeneratorFcn(sha512.New).NewClientUnprepped(userName, password, authzID)
	if err != nil {
		return fmt.Errorf("cannot start SCRAM conversation: %w", err)
	}
	c.conv = client.NewConversation()
	return nil
}

// Step answers one server challenge.
func (c *scramSHA512Client) Step(challenge string) (string, error) {
	return c.conv.Step(challenge)
}

// Done reports whether the conversation is over.
func (c *scramSHA512Client) Done() bool { return c.conv.Done() }
