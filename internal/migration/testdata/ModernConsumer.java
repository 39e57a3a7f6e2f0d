// ModernConsumer is a consumer-group member of the consumer protocol
// (KIP-848, group.protocol=consumer), which sarama does not speak: Kafka's
// own Java client, run from source by `java` with the sandbox's Kafka jars
// on the class path. It reads its topic from the start, commits what it has
// read, and prints "read N" after every poll that read something, until
// SIGTERM, when it leaves its group and exits. The credentials come from the
// environment, never argv.
//
// Usage: java -cp 'libs/*' ModernConsumer.java <bootstrap> <group> <topic>
import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class ModernConsumer {
    public static void main(String[] args) {
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        p.put("group.id", args[1]);
        p.put("group.protocol", "consumer");
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", "SCRAM-SHA-512");
        p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + System.getenv("KAFKA_USER") + "\" password=\"" + System.getenv("KAFKA_PASSWORD") + "\";");
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        long n = 0;
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            c.wakeup();
            try {
                main.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        try {
            c.subscribe(List.of(args[2]));
            while (true) {
                ConsumerRecords<byte[], byte[]> rs = c.poll(Duration.ofMillis(200));
                if (rs.isEmpty()) {
                    continue;
                }
                n += rs.count();
                c.commitSync();
                System.out.println("read " + n);
                System.out.flush();
            }
        } catch (WakeupException e) {
            // SIGTERM: leave the group below
        } finally {
            c.close();
            System.out.println("left the group");
        }
    }
}
