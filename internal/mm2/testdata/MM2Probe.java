package org.apache.kafka.connect.mirror;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import javax.security.auth.login.AppConfigurationEntry;

import org.apache.kafka.common.config.ConfigTransformer;
import org.apache.kafka.common.config.provider.ConfigProvider;
import org.apache.kafka.common.config.provider.FileConfigProvider;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.connect.runtime.distributed.DistributedConfig;
import org.apache.kafka.connect.runtime.rest.RestServerConfig;

/**
 * Feeds a rendered mm2.properties to Kafka's own MirrorMakerConfig and prints, hex-encoded
 * (UTF-8), what each part of MirrorMaker 2 ends up with. It lives in MM2's package to reach the
 * package-private client config methods. Usage: MM2Probe FILE SOURCE TARGET.
 *
 * Output lines, tab-separated: SECTION KEY VALUE, where SECTION is
 *   pairs      the herders MM2 creates ("old->new")
 *   worker     DistributedConfig of the herder, after MM2's and AbstractConfig's transformations
 *   rest       the internal REST server's config
 *   source     MirrorSourceConnector config after the worker's transformation, and its clients
 *   checkpoint MirrorCheckpointConnector likewise
 *   jaas       a client's sasl.jaas.config as Kafka's JaasConfig parses it
 */
public class MM2Probe {
    static PrintStream out;

    public static void main(String[] args) throws Exception {
        out = new PrintStream(System.out, true, "UTF-8");
        Map<String, String> props = Utils.propsToStringMap(Utils.loadProps(args[0]));
        MirrorMakerConfig config = new MirrorMakerConfig(props);
        SourceAndTarget flow = new SourceAndTarget(args[1], args[2]);

        for (SourceAndTarget pair : config.clusterPairs()) {
            print("pairs", pair.toString(), "true");
        }

        DistributedConfig worker = new DistributedConfig(config.workerConfig(flow));
        printAll("worker", worker.originalsStrings());
        for (Map.Entry<String, ?> e : new TreeMap<>(worker.values()).entrySet()) {
            print("worker-value", e.getKey(), String.valueOf(e.getValue()));
        }
        jaas("worker", worker.originalsStrings().get("sasl.jaas.config"));

        RestServerConfig rest = RestServerConfig.forInternal(config.originals());
        print("rest", "listeners", String.valueOf(rest.listeners()));
        print("rest", "rest.advertised.host.name", String.valueOf(rest.advertisedHostName()));
        print("rest", "rest.advertised.port", String.valueOf(rest.advertisedPort()));
        print("rest", "internal", String.valueOf(config.enableInternalRest()));

        // The worker transforms connector configs with the providers named in its own config.
        Map<String, ConfigProvider> providers = new HashMap<>();
        FileConfigProvider file = new FileConfigProvider();
        file.configure(Collections.emptyMap());
        providers.put("file", file);
        ConfigTransformer transformer = new ConfigTransformer(providers);

        Map<String, String> sourceProps = config.connectorBaseConfig(flow, MirrorSourceConnector.class);
        printAll("source-stored", sourceProps);
        MirrorSourceConfig source = new MirrorSourceConfig(transformer.transform(sourceProps).data());
        printAll("source", source.originalsStrings());
        printClient("source-consumer", source.sourceConsumerConfig("probe"));
        printClient("source-admin", source.sourceAdminConfig("probe"));
        printClient("target-admin", source.targetAdminConfig("probe"));
        printClient("offset-syncs-producer", source.offsetSyncsTopicProducerConfig());

        Map<String, String> checkpointProps = config.connectorBaseConfig(flow, MirrorCheckpointConnector.class);
        MirrorCheckpointConfig checkpoint = new MirrorCheckpointConfig(transformer.transform(checkpointProps).data());
        printAll("checkpoint", checkpoint.originalsStrings());
    }

    static void printClient(String section, Map<String, Object> client) throws Exception {
        Map<String, String> strings = new TreeMap<>();
        client.forEach((k, v) -> strings.put(k, String.valueOf(v)));
        printAll(section, strings);
        jaas(section, strings.get("sasl.jaas.config"));
    }

    static void jaas(String section, String value) {
        if (value == null) {
            return;
        }
        // JaasContext is how clients parse sasl.jaas.config (through Kafka's JaasConfig).
        JaasContext context = JaasContext.loadClientContext(
                Collections.singletonMap(SaslConfigs.SASL_JAAS_CONFIG, new Password(value)));
        for (AppConfigurationEntry entry : context.configurationEntries()) {
            print("jaas", section + ".module", entry.getLoginModuleName());
            for (Map.Entry<String, ?> option : entry.getOptions().entrySet()) {
                print("jaas", section + "." + option.getKey(), String.valueOf(option.getValue()));
            }
        }
    }

    static void printAll(String section, Map<String, String> props) {
        for (Map.Entry<String, String> e : new TreeMap<>(props).entrySet()) {
            print(section, e.getKey(), e.getValue());
        }
    }

    static void print(String section, String key, String value) {
        out.println(section + "\t" + hex(key) + "\t" + hex(value));
    }

    static String hex(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("x");
        for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
            b.append(String.format("%02x", c & 0xff));
        }
        return b.toString();
    }
}
