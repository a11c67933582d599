package fr.dvic.log;

import java.io.Closeable;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IllegalFormatException;
import java.util.List;
import java.util.Locale;

/**
 * A DVIC demo log file (Spec/logfile.md in the dvic-monitoring repository).
 *
 * <pre>{@code
 * DvicLog log = DvicLog.open("camera-demo");
 * log.info("ready");
 * log.debug("fps=%d", 30);
 * log.close();
 * }</pre>
 *
 * <p>Thread-safe: each record is formatted under the log's lock and written with one
 * {@code write()} on a file opened for appending. Nothing here throws because of the
 * file: when it cannot be created or written, one notice goes to {@code System.err}
 * and the records follow it there. {@link #fatal} only logs; it does not exit.
 */
public final class DvicLog implements Closeable {

    /** The record levels, in increasing severity. */
    public enum Level { TRACE, DEBUG, INFO, WARN, ERROR, FATAL }

    public static final String VERSION = "1.0.0";
    public static final long DEFAULT_MAX_BYTES = 16L * 1024 * 1024;

    private static final String TOKEN_ALPHABET =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final int CREATE_TRIES = 100;
    private static final int ARGV_BUDGET = 32 * 1024;
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Object lock = new Object();
    private final String name;
    private final Path directory;
    private final long maxBytes;
    private final String started;
    private final String headerHead;

    // Guarded by lock.
    private FileOutputStream out;
    private Path path;
    private String token;
    private long size;
    private long records;
    private boolean failed;

    private DvicLog(String name, Path directory, long maxBytes) {
        this.name = (name == null || name.isEmpty()) ? programName() : name;
        this.directory = directory;
        this.maxBytes = maxBytes;
        this.started = timestamp(Instant.now());
        this.headerHead = headerHead(this.name, started);
        synchronized (lock) {
            openFile(null);
        }
    }

    /**
     * Opens a new log file in {@code $DVIC_LOG_DIR} (else /tmp), rotating past
     * {@code $DVIC_LOG_MAX_BYTES} (else 16 MiB). A null or empty name means the program's.
     */
    public static DvicLog open(String name) {
        return open(name, null, 0);
    }

    /**
     * Opens a new log file in {@code directory} (null: as {@link #open(String)}) that
     * rotates past {@code maxBytes} (0 or less: as {@link #open(String)}).
     */
    public static DvicLog open(String name, Path directory, long maxBytes) {
        Path dir = directory;
        if (dir == null) {
            String env = System.getenv("DVIC_LOG_DIR");
            dir = Paths.get(env == null || env.isEmpty() ? "/tmp" : env);
        }
        return new DvicLog(name, dir, maxBytes > 0 ? maxBytes : envMaxBytes());
    }

    // ---- levels ------------------------------------------------------------------------

    public void trace(String message) { log(Level.TRACE, message); }
    public void trace(String format, Object... args) { log(Level.TRACE, format(format, args)); }
    public void debug(String message) { log(Level.DEBUG, message); }
    public void debug(String format, Object... args) { log(Level.DEBUG, format(format, args)); }
    public void info(String message) { log(Level.INFO, message); }
    public void info(String format, Object... args) { log(Level.INFO, format(format, args)); }
    public void warn(String message) { log(Level.WARN, message); }
    public void warn(String format, Object... args) { log(Level.WARN, format(format, args)); }
    public void warn(String message, Throwable thrown) { log(Level.WARN, message, thrown); }
    public void error(String message) { log(Level.ERROR, message); }
    public void error(String format, Object... args) { log(Level.ERROR, format(format, args)); }
    public void error(String message, Throwable thrown) { log(Level.ERROR, message, thrown); }
    /** Logs at FATAL; does not exit. */
    public void fatal(String message) { log(Level.FATAL, message); }
    public void fatal(String format, Object... args) { log(Level.FATAL, format(format, args)); }
    public void fatal(String message, Throwable thrown) { log(Level.FATAL, message, thrown); }

    /** Logs {@code message} followed by the stack trace of {@code thrown} (if not null). */
    public void log(Level level, String message, Throwable thrown) {
        if (thrown == null) {
            log(level, message);
            return;
        }
        StringWriter trace = new StringWriter();
        thrown.printStackTrace(new PrintWriter(trace));
        String text = trace.toString();
        if (text.endsWith("\n")) text = text.substring(0, text.length() - 1);
        log(level, (message == null ? "" : message) + "\n" + text);
    }

    /** Writes one record. */
    public void log(Level level, String message) {
        byte[] record;
        synchronized (lock) {
            record = formatRecord(level == null ? Level.INFO : level, message == null ? "null" : message);
            if (out != null) {
                if (records > 0 && size + record.length > maxBytes) rotate();
                if (out != null) {
                    try {
                        out.write(record);
                        size += record.length;
                        records++;
                        return;
                    } catch (IOException e) {
                        fail(path, e);
                    }
                }
            }
        }
        writeStderr(record);
    }

    // ---- state -------------------------------------------------------------------------

    /** The demo's name, as in the header. */
    public String name() { return name; }

    /** The header's {@code started}. */
    public String started() { return started; }

    /** The file being written, or null when logging to stderr. */
    public Path path() {
        synchronized (lock) { return out == null ? null : path; }
    }

    /** The current file's token, or null when logging to stderr. */
    public String token() {
        synchronized (lock) { return out == null ? null : token; }
    }

    /** Closes the file; later records go to stderr. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            closeFile();
        }
    }

    // ---- record and file ---------------------------------------------------------------

    static String timestamp(Instant instant) {
        return TIMESTAMP.format(instant);
    }

    static String escape(String message) {
        StringBuilder b = null;
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            String esc = c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : null;
            if (esc != null && b == null) {
                b = new StringBuilder(message.length() + 16);
                b.append(message, 0, i);
            }
            if (b != null) {
                if (esc != null) b.append(esc); else b.append(c);
            }
        }
        return b == null ? message : b.toString();
    }

    private static byte[] formatRecord(Level level, String message) {
        String line = timestamp(Instant.now()) + " " + level.name() + " " + escape(message) + "\n";
        return line.getBytes(StandardCharsets.UTF_8);
    }

    private static String format(String format, Object... args) {
        if (format == null) return "null";
        if (args == null || args.length == 0) return format;
        try {
            return String.format(Locale.ROOT, format, args);
        } catch (IllegalFormatException e) {
            return format + " " + Arrays.toString(args);
        }
    }

    private void openFile(String prev) {
        Path attempted = null;
        IOException lastError = null;
        for (int i = 0; i < CREATE_TRIES; i++) {
            String newToken = newToken();
            attempted = directory.resolve("dvic_log_" + newToken);
            FileOutputStream stream;
            try {
                // createFile is O_CREAT|O_EXCL; the stream is then opened O_APPEND. A
                // FileChannel would be closed for good by a Thread.interrupt().
                Files.createFile(attempted, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
                stream = new FileOutputStream(attempted.toFile(), true);
            } catch (FileAlreadyExistsException e) {
                lastError = e;
                continue;
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                lastError = e instanceof IOException ? (IOException) e : new IOException(e.getMessage(), e);
                break;
            }
            out = stream;
            path = attempted;
            token = newToken;
            byte[] header = (headerHead + (prev == null ? "" : ",\"prev\":\"" + prev + "\"") + "}\n")
                    .getBytes(StandardCharsets.UTF_8);
            try {
                out.write(header);
            } catch (IOException e) {
                fail(attempted, e);
                return;
            }
            size = header.length;
            records = 0;
            return;
        }
        fail(attempted, lastError);
    }

    private void rotate() {
        FileOutputStream old = out;
        String oldToken = token;
        out = null;
        openFile(oldToken);
        try {
            old.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    private void fail(Path file, IOException error) {
        closeFile();
        if (!failed) {
            failed = true;
            writeStderr(("dvic_log: cannot write " + file + ": " + reason(error) + "; logging to stderr\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
    }

    private void closeFile() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // nothing to do
            }
            out = null;
        }
    }

    private static void writeStderr(byte[] data) {
        System.err.write(data, 0, data.length);
        System.err.flush();
    }

    /** The system's text for an I/O error, as C's strerror would give it. */
    static String reason(IOException e) {
        if (e == null) return "unknown error";
        if (e instanceof NoSuchFileException) return "No such file or directory";
        if (e instanceof AccessDeniedException) return "Permission denied";
        if (e instanceof FileAlreadyExistsException) return "File exists";
        if (e instanceof FileSystemException && ((FileSystemException) e).getReason() != null) {
            return ((FileSystemException) e).getReason();
        }
        String message = e.getMessage();
        return message == null || message.isEmpty() ? e.getClass().getSimpleName() : message;
    }

    private static String newToken() {
        char[] chars = new char[16];
        for (int i = 0; i < chars.length; i++) chars[i] = TOKEN_ALPHABET.charAt(RANDOM.nextInt(TOKEN_ALPHABET.length()));
        return new String(chars);
    }

    static long envMaxBytes() {
        String raw = System.getenv("DVIC_LOG_MAX_BYTES");
        if (raw == null || !raw.matches("[0-9]{1,18}")) return DEFAULT_MAX_BYTES;
        long value = Long.parseLong(raw);
        return value > 0 ? value : DEFAULT_MAX_BYTES;
    }

    // ---- header ------------------------------------------------------------------------

    private static String headerHead(String name, String started) {
        StringBuilder b = new StringBuilder(512);
        b.append("{\"dvic_log\":1,\"pid\":").append(ProcessHandle.current().pid());
        b.append(",\"exe\":");
        json(b, exe());
        b.append(",\"argv\":[");
        int total = 0;
        boolean first = true;
        for (String arg : argv()) {
            total += arg.getBytes(StandardCharsets.UTF_8).length;
            if (total > ARGV_BUDGET) break;
            if (!first) b.append(',');
            json(b, arg);
            first = false;
        }
        b.append("],\"user\":");
        json(b, user());
        b.append(",\"name\":");
        json(b, name);
        b.append(",\"started\":\"").append(started).append("\",\"lib\":\"java/").append(VERSION).append('"');
        return b.toString();
    }

    /** Appends s as a JSON string; lone surrogates become U+FFFD. */
    static void json(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c == '\n') {
                b.append("\\n");
            } else if (c == '\r') {
                b.append("\\r");
            } else if (c == '\t') {
                b.append("\\t");
            } else if (c < 0x20) {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                b.append('\uFFFD');
            } else {
                b.append(c);
            }
        }
        b.append('"');
    }

    private static String exe() {
        try {
            return Files.readSymbolicLink(Paths.get("/proc/self/exe")).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return ProcessHandle.current().info().command().orElse("");
        }
    }

    private static List<String> argv() {
        List<String> out = new ArrayList<>();
        try {
            byte[] raw = Files.readAllBytes(Paths.get("/proc/self/cmdline"));
            int start = 0;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    out.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            if (start < raw.length) out.add(new String(raw, start, raw.length - start, StandardCharsets.UTF_8));
        } catch (IOException | SecurityException e) {
            ProcessHandle.Info info = ProcessHandle.current().info();
            info.command().ifPresent(out::add);
            info.arguments().ifPresent(a -> out.addAll(Arrays.asList(a)));
        }
        return out;
    }

    private static String user() {
        try {
            // /proc/self belongs to the effective user; the name comes from the passwd database.
            String owner = Files.getOwner(Paths.get("/proc/self")).getName();
            if (!owner.isEmpty()) return owner;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // fall through
        }
        String property = System.getProperty("user.name");
        return property == null || property.isEmpty() ? "unknown" : property;
    }

    private static String programName() {
        String command = System.getProperty("sun.java.command", "").trim();
        String main = command.isEmpty() ? "" : command.split("\\s+")[0];
        if (main.endsWith(".jar")) {
            main = Paths.get(main).getFileName().toString();
            main = main.substring(0, main.length() - 4);
        } else if (main.contains(".")) {
            main = main.substring(main.lastIndexOf('.') + 1);
        }
        return main.isEmpty() ? "java" : main;
    }
}
