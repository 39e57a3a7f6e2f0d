package kafka

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"
)

// scramClient adapts xdg-go/scram to sarama's SCRAMClient, which sarama
// leaves to the caller.
//
// It uses NewClientUnprepped: Kafka's own client and broker salt the raw
// UTF-8 password without SASLprep, so prepping here would break passwords
// with characters SASLprep maps (non-ASCII spaces, compatibility forms).
type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

var _ sarama.SCRAMClient = (*scramClient)(nil)

// SCRAMSHA512 and SCRAMSHA256 are sarama SCRAMClientGeneratorFuncs. Dial
// uses them; so does the sandbox, whose test clients must authenticate
// exactly as the charm does.
func SCRAMSHA512() sarama.SCRAMClient { return &scramClient{hash: sha512.New} }

// scramSHA256 is SCRAMSHA512's SHA-256 twin.
func scramSHA256() sarama.SCRAMClient { return &scramClient{hash: sha256.New} }

// Begin starts a conversation for one connection. The error never carries
// the password.
func (c *scramClient) Begin(userName, password, authzID string) error {
	client, err := c.hash.NewClientUnprepped(userName, password, authzID)
	if err != nil {
		return fmt.Errorf("cannot start SCRAM conversation: %w", err)
	}
	c.conv = client.NewConversation()
	return nil
}

// Step answers one server challenge.
func (c *scramClient) Step(challenge string) (string, error) { return c.conv.Step(challenge) }

// Done reports whether the conversation is over.
func (c *scramClient) Done() bool { return c.conv.Done() }
