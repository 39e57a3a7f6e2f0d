package kafka

import (
	"testing"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
)

func bits(ops ...sarama.AclOperation) int32 {
	var b int32
	for _, op := range ops {
		b |= 1 << op
	}
	return b
}

func TestMissingOpsNamesWhatTheBitfieldLacks(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  int32
		need []Operation
		want []string
	}{
		{"all there", bits(sarama.AclOperationRead, sarama.AclOperationDescribeConfigs), []Operation{OpRead, OpDescribeConfigs}, nil},
		{"one missing", bits(sarama.AclOperationRead), []Operation{OpRead, OpDescribeConfigs}, []string{"DescribeConfigs"}},
		{"in need's order", 0, []Operation{OpWrite, OpCreate}, []string{"Write", "Create"}},
		{"ALL grants everything", bits(sarama.AclOperationAll), []Operation{OpAlter, OpAlterConfigs}, nil},
		{"a broker that cannot tell lacks nothing", OpsUnknown, []Operation{OpAlter}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, MissingOps(tc.ops, tc.need...))
		})
	}
}
