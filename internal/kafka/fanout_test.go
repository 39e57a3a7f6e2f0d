package kafka

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAskBrokersGathersEachItemWithItsBrokersFate(t *testing.T) {
	down := errors.New("connection refused")
	answers := AskBrokers(context.Background(), map[int32][]string{1: {"a", "b"}, 2: {"c"}, 3: {"d"}},
		func(_ context.Context, broker int32, items []string) (map[string]int, error) {
			switch broker {
			case 1:
				return map[string]int{"a": 10}, nil // b left out of the reply
			case 2:
				return nil, down
			}
			return map[string]int{"d": 40}, nil
		})

	got := map[string]Answer[int]{}
	answers.Each(func(k string, a Answer[int]) { got[k] = a })
	assert.Equal(t, map[string]Answer[int]{
		"a": {Broker: 1, Value: 10, Answered: true},
		"b": {Broker: 1},
		"c": {Broker: 2, Err: down},
		"d": {Broker: 3, Value: 40, Answered: true},
	}, got)

	var failed []int32
	answers.EachFailed(func(b int32, err error) {
		failed = append(failed, b)
		assert.ErrorIs(t, err, down)
	})
	assert.Equal(t, []int32{2}, failed, "a failed request is reported once, for its broker")

	_, ok := answers.Lookup("never asked")
	assert.False(t, ok)
	d, ok := answers.Lookup("d")
	assert.True(t, ok)
	assert.Equal(t, 40, d.Value)
}

func TestAskBrokersSendsOneRequestPerBroker(t *testing.T) {
	calls := make(chan int32, 10)
	AskBrokers(context.Background(), map[int32][]int{1: {1, 2, 3}, 2: {4, 5}},
		func(_ context.Context, broker int32, items []int) (map[int]bool, error) {
			calls <- broker
			return nil, nil
		})
	close(calls)
	var brokers []int32
	for b := range calls {
		brokers = append(brokers, b)
	}
	assert.ElementsMatch(t, []int32{1, 2}, brokers)
}
