package kafka

import (
	"context"
	"slices"
	"sync"
)

// Answer is one item's part of a broker's reply.
type Answer[A any] struct {
	// Broker is the broker the item was asked of.
	Broker int32
	// Value is the broker's answer for the item, when Answered.
	Value A
	// Answered is false when the reply left the item out, or the request
	// failed (Err).
	Answered bool
	// Err is the error of the whole request to Broker, which stands for
	// every item it carried.
	Err error
}

// Answers is what one request per broker gathered, item by item, in the
// manner of franz-go's kadm result maps: Lookup one item, Each over all,
// EachFailed over the requests that failed. An item that was never asked
// (the caller found no broker for it) is simply absent.
type Answers[K comparable, A any] struct {
	items  map[K]Answer[A]
	failed map[int32]error
}

// Lookup is item k's answer; ok is false when k was not asked.
func (a Answers[K, A]) Lookup(k K) (ans Answer[A], ok bool) {
	ans, ok = a.items[k]
	return ans, ok
}

// Each calls fn for every item asked.
func (a Answers[K, A]) Each(fn func(K, Answer[A])) {
	for k, ans := range a.items {
		fn(k, ans)
	}
}

// EachFailed calls fn once per broker whose request failed, in broker order,
// so a caller can report the broker once rather than once per item.
func (a Answers[K, A]) EachFailed(fn func(broker int32, err error)) {
	brokers := make([]int32, 0, len(a.failed))
	for b := range a.failed {
		brokers = append(brokers, b)
	}
	slices.Sort(brokers)
	for _, b := range brokers {
		fn(b, a.failed[b])
	}
}

// AskBrokers sends ask once per broker with that broker's items, to every
// broker at once, and gathers the replies item by item. This is how every
// batched request is sent: one request per partition leader or group
// coordinator, whatever the number of partitions or groups, and one slow or
// failing broker never hides the others' answers.
func AskBrokers[K comparable, A any](ctx context.Context, batches map[int32][]K, ask func(ctx context.Context, broker int32, items []K) (map[K]A, error)) Answers[K, A] {
	out := Answers[K, A]{items: map[K]Answer[A]{}, failed: map[int32]error{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for broker, items := range batches {
		wg.Go(func() {
			reply, err := ask(ctx, broker, items)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				out.failed[broker] = err
			}
			for _, k := range items {
				v, answered := reply[k]
				out.items[k] = Answer[A]{Broker: broker, Value: v, Answered: answered && err == nil, Err: err}
			}
		})
	}
	wg.Wait()
	return out
}
