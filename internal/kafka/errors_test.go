package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
)

func TestTransientTellsWhatAskingAgainMayCure(t *testing.T) {
	timeout := &net.OpError{Op: "read", Err: &timeoutErr{}}
	for _, tc := range []struct {
		err       error
		transient bool
	}{
		{nil, false},
		{sarama.ErrNotLeaderForPartition, true},
		{fmt.Errorf("cannot read orders/0 at 5: %w", sarama.ErrLeaderNotAvailable), true},
		{sarama.ErrNotCoordinatorForConsumer, true},
		{fmt.Errorf("cannot fetch: %w", io.EOF), true},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{timeout, true},
		{sarama.ErrTopicAuthorizationFailed, false},
		{sarama.ErrSASLAuthenticationFailed, false},
		{sarama.ErrUnknownTopicOrPartition, false},
		{errors.New("fetch made no progress before the end offset"), false},
		{context.Canceled, false},
	} {
		assert.Equal(t, tc.transient, Transient(tc.err), "%v", tc.err)
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "i/o timeout" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }
