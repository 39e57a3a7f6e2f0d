package kafkaclient

// CAKey is the key of a CA certificate in a secret: the name the kafka_client provider gives
// the field, and a valid Juju secret key (keys must be 3+ characters of [a-z0-9-], so the
// shorter "ca" cannot exist in a Juju secret at all).
const CAKey = "tls-ca"
