package fr.dvic.log;

/** Run by DvicLogTest in a JVM of its own, for what needs its own environment or limits. */
public final class TestChild {
    private TestChild() {}

    public static void main(String[] args) {
        switch (args[0]) {
            case "env": {
                // Directory and cap from DVIC_LOG_DIR / DVIC_LOG_MAX_BYTES, name from the program.
                DvicLog log = DvicLog.open(null);
                log.info("maxBytes=" + DvicLog.envMaxBytes());
                System.out.println(log.path());
                log.close();
                break;
            }
            case "efbig": {
                DvicLog log = DvicLog.open("efbig");
                for (int i = 0; i < 100; i++) log.info(String.format("record %03d %s", i, "z".repeat(60)));
                log.close();
                System.out.println("survived");
                break;
            }
            case "jul-owned": {
                DvicLogHandler handler = new DvicLogHandler("owned");
                handler.publish(new java.util.logging.LogRecord(java.util.logging.Level.WARNING, "hello"));
                handler.close();
                System.out.println(handler.log().path() == null ? "closed" : "open");
                break;
            }
            default:
                throw new IllegalArgumentException(args[0]);
        }
    }
}
