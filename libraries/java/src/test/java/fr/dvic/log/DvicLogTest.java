package fr.dvic.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DvicLogTest {

    static final Pattern RECORD = Pattern.compile(
            "^(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z) (TRACE|DEBUG|INFO|WARN|ERROR|FATAL)(?: (.*))?$",
            Pattern.DOTALL);
    static final Pattern NOTICE = Pattern.compile("^dvic_log: cannot write (.+): (.+); logging to stderr$");

    @TempDir
    Path dir;

    // ---- helpers -----------------------------------------------------------------------

    record Rec(String level, String message, String raw) {}

    record LogFile(Path path, String header, List<Rec> records) {
        String field(String key) {
            Matcher m = Pattern.compile("\"" + key + "\":(\"((?:[^\"\\\\]|\\\\.)*)\"|[0-9]+)").matcher(header);
            if (!m.find()) return null;
            return m.group(2) != null ? m.group(2) : m.group(1);
        }
    }

    static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() && "\\nr".indexOf(s.charAt(i + 1)) >= 0) {
                char n = s.charAt(++i);
                b.append(n == 'n' ? '\n' : n == 'r' ? '\r' : '\\');
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    static LogFile read(Path file) throws IOException {
        String data = Files.readString(file, StandardCharsets.UTF_8);
        assertTrue(data.endsWith("\n"), "a file ends with LF");
        String[] lines = data.substring(0, data.length() - 1).split("\n", -1);
        List<Rec> records = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            Matcher m = RECORD.matcher(lines[i]);
            assertTrue(m.matches(), "not a record: " + lines[i]);
            records.add(new Rec(m.group(2), unescape(m.group(3) == null ? "" : m.group(3)), lines[i]));
        }
        return new LogFile(file, lines[0], records);
    }

    static List<Path> logFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("dvic_log_")).sorted().collect(Collectors.toList());
        }
    }

    static List<String> messages(LogFile f) {
        return f.records().stream().map(Rec::message).collect(Collectors.toList());
    }

    /** Runs TestChild in a new JVM, through bash so that a shell prefix (ulimit) can apply. */
    static Process child(Map<String, String> env, String shellPrefix, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("bash", "-c", shellPrefix + " exec \"$@\"", "bash",
                ProcessHandle.current().info().command().orElse("java"), "-cp", System.getProperty("java.class.path"),
                TestChild.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        return pb.start();
    }

    static String[] finish(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err);
        return new String[] {out, err};
    }

    /** Runs body with System.err captured; returns what it printed. */
    static String captureStderr(Runnable body) {
        PrintStream saved = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setErr(saved);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }

    static List<LogFile> chain(Path dir) throws IOException {
        Map<String, LogFile> byToken = new HashMap<>();
        Map<String, String> next = new HashMap<>();
        String first = null;
        for (Path p : logFiles(dir)) {
            LogFile f = read(p);
            String token = p.getFileName().toString().substring(9);
            byToken.put(token, f);
            String prev = f.field("prev");
            if (prev == null) {
                assertNull(first, "one first file");
                first = token;
            } else {
                next.put(prev, token);
            }
        }
        List<LogFile> out = new ArrayList<>();
        for (String t = first; t != null; t = next.get(t)) out.add(byToken.get(t));
        assertEquals(byToken.size(), out.size());
        return out;
    }

    // ---- file and header ---------------------------------------------------------------

    @Test
    void fileNameAndMode() throws IOException {
        DvicLog log = DvicLog.open("camera-demo", dir, 0);
        assertEquals(dir, log.path().getParent());
        log.close();
        List<Path> files = logFiles(dir);
        assertEquals(1, files.size());
        assertTrue(files.get(0).getFileName().toString().matches("dvic_log_[A-Za-z0-9]{16}"));
        String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(files.get(0)));
        assertTrue(perms.equals("rw-r--r--") || perms.equals("rw-------") || perms.equals("rw-r-----"), perms);
    }

    @Test
    void header() throws IOException {
        String token;
        try (DvicLog log = DvicLog.open("camera-demo", dir, 0)) {
            token = log.token();
        }
        LogFile f = read(dir.resolve("dvic_log_" + token));
        assertTrue(f.records().isEmpty());
        assertTrue(f.header().startsWith("{\"dvic_log\":1,\"pid\":" + ProcessHandle.current().pid() + ",\"exe\":\""));
        assertTrue(f.header().endsWith("\"}"));
        assertEquals("camera-demo", f.field("name"));
        assertEquals("java/" + DvicLog.VERSION, f.field("lib"));
        assertTrue(f.field("exe").startsWith("/"));
        assertEquals(System.getProperty("user.name"), f.field("user"));
        assertTrue(f.field("started").matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z"));
        assertTrue(f.header().contains("\"argv\":[\""));
        assertNull(f.field("prev"));
    }

    @Test
    void oddNameStaysOneJsonLine() throws IOException {
        DvicLog.open("odd \"name\"\nwith newline \u00e9 \ud800", dir, 0).close();
        String first = Files.readString(logFiles(dir).get(0));
        assertEquals(first.length() - 1, first.indexOf('\n'));
        assertTrue(first.contains("\"name\":\"odd \\\"name\\\"\\nwith newline \u00e9 \ufffd\""), first);
    }

    @Test
    void environmentAndDefaultName() throws Exception {
        String[] r = finish(child(Map.of("DVIC_LOG_DIR", dir.toString(), "DVIC_LOG_MAX_BYTES", "4096"), "", "env"));
        assertEquals("", r[1]);
        LogFile f = read(logFiles(dir).get(0));
        assertEquals("TestChild", f.field("name"));
        assertEquals(List.of("maxBytes=4096"), messages(f));
        assertEquals(f.path().toString(), r[0].trim());
    }

    @Test
    void invalidMaxBytesMeansTheDefault() throws Exception {
        for (String raw : new String[] {"junk", "-5", "0", ""}) {
            Path sub = Files.createDirectory(dir.resolve("m" + raw.length() + raw.hashCode()));
            finish(child(Map.of("DVIC_LOG_DIR", sub.toString(), "DVIC_LOG_MAX_BYTES", raw), "", "env"));
            assertEquals(List.of("maxBytes=" + DvicLog.DEFAULT_MAX_BYTES), messages(read(logFiles(sub).get(0))), raw);
        }
    }

    // ---- records -----------------------------------------------------------------------

    @Test
    void levelsFormAndFormatting() throws IOException {
        try (DvicLog log = DvicLog.open("levels", dir, 0)) {
            log.trace("t");
            log.debug("d");
            log.info("i");
            log.warn("w");
            log.error("e");
            log.fatal("f");
            log.log(DvicLog.Level.INFO, "by level");
            log.info("fps=%d name=%s", 30, "cam");
            log.info("100% literal");
            log.info("bad %d", "format");
            log.info("");
            log.error("failed", new IllegalStateException("boom"));
        }
        LogFile f = read(logFiles(dir).get(0));
        List<String> got = f.records().stream().map(r -> r.level() + " " + r.message().split("\n")[0]).collect(Collectors.toList());
        assertEquals(List.of("TRACE t", "DEBUG d", "INFO i", "WARN w", "ERROR e", "FATAL f", "INFO by level",
                "INFO fps=30 name=cam", "INFO 100% literal", "INFO bad %d [format]", "INFO ", "ERROR failed"), got);
        assertTrue(f.records().get(10).raw().endsWith(" INFO "), "the space before an empty message is written");
        String trace = f.records().get(11).message();
        assertTrue(trace.contains("java.lang.IllegalStateException: boom") && trace.contains("\tat fr.dvic.log"), trace);
    }

    @Test
    void escaping() throws IOException {
        String[][] cases = {
            {"first line\nsecond line", "first line\\nsecond line"},
            {"C:\\demo\\n.cfg", "C:\\\\demo\\\\n.cfg"},
            {"trailing backslash \\", "trailing backslash \\\\"},
            {"carriage\rreturn and\ttab", "carriage\\rreturn and\ttab"},
            {"unicode: caf\u00e9 \u65e5\u672c\u8a9e \ud83d\ude80", "unicode: caf\u00e9 \u65e5\u672c\u8a9e \ud83d\ude80"},
            {"\\n\\r\\\\", "\\\\n\\\\r\\\\\\\\"},
            {"quote \" and nul \0", "quote \" and nul \0"},
        };
        try (DvicLog log = DvicLog.open("escaping", dir, 0)) {
            for (String[] c : cases) log.info(c[0]);
        }
        LogFile f = read(logFiles(dir).get(0));
        for (int i = 0; i < cases.length; i++) {
            assertEquals(cases[i][1], f.records().get(i).raw().substring(30));
            assertEquals(cases[i][0], f.records().get(i).message());
        }
    }

    @Test
    void threadsNeverInterleave() throws Exception {
        int threads = 8, perThread = 2000;
        DvicLog log = DvicLog.open("threads", dir, 0);
        List<Thread> pool = new ArrayList<>();
        for (int n = 0; n < threads; n++) {
            int id = n;
            Thread t = new Thread(() -> {
                for (int i = 0; i < perThread; i++) log.info("thread %d record %d %s", id, i, "x".repeat(i % 97));
            });
            pool.add(t);
            t.start();
        }
        // An interrupted thread must not break the log for the others.
        Thread.currentThread().interrupt();
        log.info("logged while interrupted");
        assertTrue(Thread.interrupted());
        for (Thread t : pool) t.join();
        log.close();
        LogFile f = read(logFiles(dir).get(0));
        assertEquals(threads * perThread + 1, f.records().size());
        int[] next = new int[threads];
        Pattern p = Pattern.compile("thread (\\d+) record (\\d+) x*");
        for (Rec r : f.records()) {
            if (r.message().equals("logged while interrupted")) continue;
            Matcher m = p.matcher(r.message());
            assertTrue(m.matches(), r.message());
            int id = Integer.parseInt(m.group(1));
            assertEquals(next[id]++, Integer.parseInt(m.group(2)));
        }
    }

    // ---- rotation ----------------------------------------------------------------------

    @Test
    void rotation() throws IOException {
        try (DvicLog log = DvicLog.open("rotating", dir, 2000)) {
            for (int i = 0; i < 300; i++) log.info(String.format("record %03d", i));
        }
        List<LogFile> files = chain(dir);
        assertTrue(files.size() > 5);
        List<String> all = new ArrayList<>();
        for (LogFile f : files) {
            assertTrue(Files.size(f.path()) <= 2000);
            assertFalse(f.records().isEmpty());
            assertEquals(files.get(0).field("started"), f.field("started"));
            assertEquals("rotating", f.field("name"));
            all.addAll(messages(f));
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 300; i++) expected.add(String.format("record %03d", i));
        assertEquals(expected, all);
    }

    @Test
    void oversizedRecordGetsAFileOfItsOwn() throws IOException {
        try (DvicLog log = DvicLog.open("big", dir, 1000)) {
            log.info("small");
            log.info("y".repeat(5000));
            log.info("after");
        }
        List<List<String>> got = chain(dir).stream().map(DvicLogTest::messages).collect(Collectors.toList());
        assertEquals(List.of(List.of("small"), List.of("y".repeat(5000)), List.of("after")), got);
    }

    // ---- never crash the demo ----------------------------------------------------------

    @Test
    void missingDirectoryFallsBackToStderr() {
        Path missing = dir.resolve("does/not/exist");
        String err = captureStderr(() -> {
            DvicLog log = DvicLog.open("fallback", missing, 0);
            assertNull(log.path());
            assertNull(log.token());
            log.info("one");
            log.error("two\nlines");
            log.close();
        });
        String[] lines = err.split("\n");
        Matcher m = NOTICE.matcher(lines[0]);
        assertTrue(m.matches(), lines[0]);
        assertTrue(m.group(1).startsWith(missing + "/dvic_log_"));
        assertEquals("No such file or directory", m.group(2));
        assertTrue(lines[1].matches("\\S{24} INFO one"), lines[1]);
        assertTrue(lines[2].matches("\\S{24} ERROR two\\\\nlines"), lines[2]);
        assertEquals(3, lines.length);
    }

    @Test
    void directoryThatIsAFileFallsBack() throws IOException {
        Path file = Files.createFile(dir.resolve("plain-file"));
        String err = captureStderr(() -> DvicLog.open("fallback", file, 0).warn("still here"));
        String[] lines = err.split("\n");
        Matcher m = NOTICE.matcher(lines[0]);
        assertTrue(m.matches(), lines[0]);
        assertEquals("Not a directory", m.group(2));
        assertTrue(lines[1].endsWith(" WARN still here"));
    }

    @Test
    void writeErrorFallsBackToStderr() throws Exception {
        // ulimit -f counts 1024-byte blocks; the JVM ignores SIGXFSZ, so write() fails with EFBIG.
        String[] r = finish(child(Map.of("DVIC_LOG_DIR", dir.toString()), "ulimit -f 4;", "efbig"));
        assertEquals("survived", r[0].trim());
        List<String> notices = Stream.of(r[1].split("\n")).filter(l -> l.startsWith("dvic_log:")).collect(Collectors.toList());
        assertEquals(1, notices.size(), r[1]);
        Matcher m = NOTICE.matcher(notices.get(0));
        assertTrue(m.matches());
        assertEquals("File too large", m.group(2));
        assertTrue(r[1].endsWith(" INFO record 099 " + "z".repeat(60) + "\n"));
        assertEquals(1, logFiles(dir).size());
    }

    @Test
    void useAfterCloseGoesToStderrWithoutNotice() throws IOException {
        DvicLog log = DvicLog.open("closed", dir, 0);
        log.info("in file");
        log.close();
        log.close();
        String err = captureStderr(() -> log.info("after close"));
        assertTrue(err.matches("\\S{24} INFO after close\n"), err);
        assertEquals(List.of("in file"), messages(read(logFiles(dir).get(0))));
    }

    // ---- java.util.logging bridge --------------------------------------------------------

    @Test
    void julHandlerMapsLevels() throws IOException {
        DvicLog log = DvicLog.open("bridge", dir, 0);
        Logger logger = Logger.getLogger("dvic-test-bridge");
        logger.setUseParentHandlers(false);
        logger.setLevel(Level.ALL);
        DvicLogHandler handler = new DvicLogHandler(log);
        logger.addHandler(handler);
        try {
            logger.finest("finest");
            logger.finer("finer");
            logger.fine("fine");
            logger.config("config");
            logger.info("info");
            logger.log(Level.INFO, "param {0}", 42);
            logger.warning("warning");
            logger.severe("severe");
            logger.log(Level.SEVERE, "thrown", new RuntimeException("boom"));
        } finally {
            logger.removeHandler(handler);
            handler.close();
        }
        log.info("still open"); // a shared log is not closed with the handler
        log.close();
        List<String> got = read(logFiles(dir).get(0)).records().stream()
                .map(r -> r.level() + " " + r.message().split("\n")[0]).collect(Collectors.toList());
        assertEquals(List.of("TRACE finest", "TRACE finer", "DEBUG fine", "DEBUG config", "INFO info", "INFO param 42",
                "WARN warning", "ERROR severe", "ERROR thrown", "INFO still open"), got);
        assertTrue(read(logFiles(dir).get(0)).records().get(8).message().contains("java.lang.RuntimeException: boom"));
    }

    @Test
    void julHandlerWithANameOwnsItsLog() throws Exception {
        String[] r = finish(child(Map.of("DVIC_LOG_DIR", dir.toString()), "", "jul-owned"));
        assertEquals("closed", r[0].trim());
        LogFile f = read(logFiles(dir).get(0));
        assertEquals("owned", f.field("name"));
        assertEquals(List.of("WARN hello"), f.records().stream().map(x -> x.level() + " " + x.message()).collect(Collectors.toList()));
    }
}
