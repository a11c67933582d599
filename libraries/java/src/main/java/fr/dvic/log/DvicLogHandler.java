package fr.dvic.log;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;

/**
 * A {@code java.util.logging} handler that writes into a {@link DvicLog}.
 *
 * <pre>{@code
 * Logger.getLogger("").addHandler(new DvicLogHandler("camera-demo"));
 * }</pre>
 *
 * <p>Levels map SEVERE (and above) to ERROR, WARNING to WARN, INFO to INFO, CONFIG and
 * FINE to DEBUG, FINER and FINEST to TRACE. The default formatter writes the formatted
 * message and, when there is one, the stack trace; the record already carries the time
 * and level. From a logging.properties file: {@code handlers = fr.dvic.log.DvicLogHandler}
 * with {@code fr.dvic.log.DvicLogHandler.name = camera-demo} (default: the program's name).
 */
public class DvicLogHandler extends Handler {

    private final DvicLog log;
    private final boolean owned;

    /** Opens a log named by the LogManager property {@code fr.dvic.log.DvicLogHandler.name}. */
    public DvicLogHandler() {
        this(LogManager.getLogManager().getProperty(DvicLogHandler.class.getName() + ".name"));
    }

    /** Opens a log of its own, closed with this handler. */
    public DvicLogHandler(String name) {
        this(DvicLog.open(name), true);
    }

    /** Writes into an existing log, which {@link #close()} leaves open. */
    public DvicLogHandler(DvicLog log) {
        this(log, false);
    }

    private DvicLogHandler(DvicLog log, boolean owned) {
        this.log = log;
        this.owned = owned;
        setFormatter(new MessageFormatter());
    }

    /** The log this handler writes into. */
    public DvicLog log() {
        return log;
    }

    /** The DVIC level for a {@code java.util.logging} level. */
    public static DvicLog.Level levelFor(Level level) {
        int v = level.intValue();
        if (v >= Level.SEVERE.intValue()) return DvicLog.Level.ERROR;
        if (v >= Level.WARNING.intValue()) return DvicLog.Level.WARN;
        if (v >= Level.INFO.intValue()) return DvicLog.Level.INFO;
        if (v >= Level.FINE.intValue()) return DvicLog.Level.DEBUG;
        return DvicLog.Level.TRACE;
    }

    @Override
    public void publish(LogRecord record) {
        if (record == null || !isLoggable(record)) return;
        String message;
        try {
            message = getFormatter().format(record);
        } catch (RuntimeException e) {
            reportError(null, e, java.util.logging.ErrorManager.FORMAT_FAILURE);
            return;
        }
        log.log(levelFor(record.getLevel()), message);
    }

    @Override
    public void flush() {
        // Records are written as they come; nothing is buffered.
    }

    @Override
    public void close() {
        if (owned) log.close();
    }

    /** The message with its parameters, then the stack trace of the thrown, if any. */
    static final class MessageFormatter extends Formatter {
        @Override
        public String format(LogRecord record) {
            String message = formatMessage(record);
            if (record.getThrown() == null) return message;
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            String text = trace.toString();
            if (text.endsWith("\n")) text = text.substring(0, text.length() - 1);
            return message + "\n" + text;
        }
    }
}
