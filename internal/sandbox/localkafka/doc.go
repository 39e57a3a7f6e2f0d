// Package localkafka runs real Apache Kafka clusters on this machine and is
// the one kit the sandbox's demo and tests use to talk to them.
//
// Nothing here is simulated. A cluster is the real broker, started from the
// jars scripts/install-kafka.sh assembles from Maven Central into .cache
// (KafkaDist, found by FindKafkaDist): KRaft nodes in combined mode on
// 127.0.0.1 (one, or three that replicate and restart one at a time:
// ClusterOptions.Nodes, Cluster.RestartNode), with SASL_PLAINTEXT
// SCRAM-SHA-512 for clients, an admin user
// created at format time, and, on request, a SASL_SSL listener with a
// certificate from a private CA (TLSAuthority), as Charmed Kafka opens one
// when TLS is related. Users are made through the Kafka API
// (Cluster.CreateUser), as Charmed Kafka makes one for each kafka_client
// relation. Where it differs from a production cluster it is smaller, not
// different: one broker and replication factor 1 unless a test asks for
// three, loopback only, a small JVM.
//
// Kit is what an application does to a cluster: create topics, write
// numbered keyed records with headers, read them back (whole topics, or
// read_committed from an offset), commit and read consumer-group offsets,
// run a real group member, and snapshot what the cluster holds.
package localkafka
