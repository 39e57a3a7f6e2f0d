import java.io.InputStream;
import java.io.PrintStream;
import java.io.Reader;
import java.io.StreamTokenizer;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Properties;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads a rendered file the way Kafka does and prints what Kafka would see, hex-encoded (UTF-8),
 * for the Go test to compare. Usage: Probe stream|reader FILE.
 *
 * "stream" is Utils.loadProps (MirrorMaker.main): Properties.load(InputStream), ISO-8859-1.
 * "reader" is FileConfigProvider: Properties.load(Reader) decoding UTF-8; each
 * *.sasl.jaas.config value is then tokenized the way Kafka's JaasConfig does it.
 *
 * Output lines, tab-separated:
 *   prop KEY VALUE
 *   jaas KEY MODULE FLAG
 *   opt  KEY OPTION VALUE
 *   ref  KEY            (the value holds a ${provider:path:key} that ConfigTransformer would replace)
 */
public class Probe {
    // ConfigTransformer.DEFAULT_PATTERN
    static final Pattern REF = Pattern.compile("\\$\\{([^}]*?):(([^}]*?):)?([^}]*?)\\}");

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        if (args[0].equals("stream")) {
            try (InputStream in = Files.newInputStream(Paths.get(args[1]))) {
                props.load(in);
            }
        } else {
            try (Reader in = Files.newBufferedReader(Paths.get(args[1]), StandardCharsets.UTF_8)) {
                props.load(in);
            }
        }
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        for (String key : new TreeSet<>(props.stringPropertyNames())) {
            String value = props.getProperty(key);
            out.println("prop\t" + hex(key) + "\t" + hex(value));
            if (REF.matcher(value).find()) {
                out.println("ref\t" + hex(key));
            }
            if (args[0].equals("reader") && key.endsWith(".sasl.jaas.config")) {
                jaas(out, key, value);
            }
        }
    }

    // jaas tokenizes value with the settings of org.apache.kafka.common.security.JaasConfig and
    // walks its grammar: module flag (key = value)* ';'.
    static void jaas(PrintStream out, String key, String value) throws Exception {
        StreamTokenizer t = new StreamTokenizer(new StringReader(value));
        t.slashSlashComments(true);
        t.slashStarComments(true);
        t.wordChars('-', '-');
        t.wordChars('_', '_');
        t.wordChars('$', '$');
        while (t.nextToken() != StreamTokenizer.TT_EOF) {
            String module = t.sval;
            if (t.nextToken() == StreamTokenizer.TT_EOF) {
                throw new IllegalArgumentException("no control flag");
            }
            out.println("jaas\t" + hex(key) + "\t" + hex(module) + "\t" + hex(t.sval));
            while (t.nextToken() != StreamTokenizer.TT_EOF && t.ttype != ';') {
                String option = t.sval;
                if (t.nextToken() != '=' || t.nextToken() == StreamTokenizer.TT_EOF || t.sval == null) {
                    throw new IllegalArgumentException("Value not specified for key '" + option + "'");
                }
                out.println("opt\t" + hex(key) + "\t" + hex(option) + "\t" + hex(t.sval));
            }
            if (t.ttype != ';') {
                throw new IllegalArgumentException("not terminated by semi-colon");
            }
        }
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
