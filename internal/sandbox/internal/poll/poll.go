// Package poll waits for a condition by asking again, with a deadline: the
// sandbox never sleeps for a fixed time to wait for something to happen.
package poll

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTimeout is returned (wrapped) when a polled condition never held, so a
// caller can tell "not yet" from a failure of the condition itself.
var ErrTimeout = errors.New("timed out")

// Until calls cond every interval until it returns true, returns an error,
// ctx ends or timeout passes. what names the condition for the error.
func Until(ctx context.Context, timeout, interval time.Duration, cond func() (bool, error), what string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cannot wait for %s: %w (%v)", what, ErrTimeout, ctx.Err())
		case <-tick.C:
		}
	}
}

// For polls cond every 20ms until it holds or d passes, and reports whether
// it held: for waits on processes, where there is no error to return.
func For(d time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
	return true
}
