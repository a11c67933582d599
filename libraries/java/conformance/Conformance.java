import fr.dvic.log.DvicLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;

/**
 * Conformance writer: writes the records of Spec/vectors/logfile/conformance.json through
 * the DvicLog API into a log named "conformance-java" (in $DVIC_LOG_DIR).
 *
 * <p>The JDK has no JSON parser, so libraries/conformance/run-writers hands it the vector
 * as lines of "&lt;level&gt; &lt;message as hex UTF-8&gt;", one per record, repeats expanded.
 * Usage: java -cp dvic-log.jar:. Conformance RECORDS_FILE
 */
public final class Conformance {
    private Conformance() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: Conformance RECORDS_FILE");
            System.exit(2);
        }
        List<String> lines = Files.readAllLines(Paths.get(args[0]), StandardCharsets.UTF_8);
        DvicLog log = DvicLog.open("conformance-java");
        if (log.path() == null) {
            System.err.println("conformance-java: could not open the log file");
            System.exit(1);
        }
        System.out.println(log.path());
        for (String line : lines) {
            if (line.isEmpty()) continue;
            int space = line.indexOf(' ');
            String level = line.substring(0, space);
            String hex = line.substring(space + 1);
            byte[] bytes = new byte[hex.length() / 2];
            for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
            String message = new String(bytes, StandardCharsets.UTF_8);
            switch (level) {
                case "trace": log.trace(message); break;
                case "debug": log.debug(message); break;
                case "info": log.info(message); break;
                case "warn": log.warn(message); break;
                case "error": log.error(message); break;
                case "fatal": log.fatal(message); break;
                default: throw new IllegalArgumentException("unknown level " + level);
            }
        }
        log.close();
    }
}
