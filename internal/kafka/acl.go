package kafka

import "github.com/IBM/sarama"

// Operation is a Kafka ACL operation, as the authorized-operations
// bitfields of Metadata (ClusterInfo.ClusterOps, TopicOps) count them.
type Operation int8

// The operations a migration's users need (KIP-430 numbering).
const (
	OpRead            = Operation(sarama.AclOperationRead)
	OpWrite           = Operation(sarama.AclOperationWrite)
	OpCreate          = Operation(sarama.AclOperationCreate)
	OpAlter           = Operation(sarama.AclOperationAlter)
	OpDescribe        = Operation(sarama.AclOperationDescribe)
	OpDescribeConfigs = Operation(sarama.AclOperationDescribeConfigs)
	OpAlterConfigs    = Operation(sarama.AclOperationAlterConfigs)
)

// String is the operation's name as Kafka's tools print it ("Describe").
func (o Operation) String() string {
	so := sarama.AclOperation(o)
	return so.String()
}

// MissingOps are the operations of need that the bitfield ops lacks. A
// bitfield the broker did not fill (OpsUnknown: a broker before Kafka 2.3)
// lacks nothing, since nothing can be told from it. A broker without an
// authorizer reports every operation the resource supports, and ALL grants
// everything.
func MissingOps(ops int32, need ...Operation) []string {
	if ops == OpsUnknown || ops&(1<<sarama.AclOperationAll) != 0 {
		return nil
	}
	var out []string
	for _, op := range need {
		if ops&(1<<op) == 0 {
			out = append(out, op.String())
		}
	}
	return out
}

// ConfigSource is where a config value comes from (DescribeConfigs).
type ConfigSource int8

// Config sources, as DescribeConfigs v1+ reports them.
const (
	ConfigFromTopic                = ConfigSource(sarama.SourceTopic)
	ConfigFromDynamicBroker        = ConfigSource(sarama.SourceDynamicBroker)
	ConfigFromDynamicDefaultBroker = ConfigSource(sarama.SourceDynamicDefaultBroker)
	ConfigFromStaticBroker         = ConfigSource(sarama.SourceStaticBroker)
	ConfigFromDefault              = ConfigSource(sarama.SourceDefault)
)
