/*
 * The test cases of dvic_log.h, written in the common subset of C99 and C++11 so that
 * test_dvic_log.c and test_dvic_log.cpp run the same checks in both languages.
 * Each case makes its own temporary directory and points the log there.
 */
#ifndef DVIC_LOG_TEST_SUITE_H
#define DVIC_LOG_TEST_SUITE_H

#include "../dvic_log.h"

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>

#ifdef __cplusplus
#define T_LIB "cpp/" DVIC_LOG_VERSION
#else
#define T_LIB "c/" DVIC_LOG_VERSION
#endif

static int t_checks, t_failed_checks, t_passed, t_failed, t_case_failed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        t_checks++;                                                                   \
        if (!(cond)) {                                                                \
            t_failed_checks++;                                                        \
            t_case_failed = 1;                                                        \
            fprintf(stderr, "    %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

typedef void (*t_case_fn)(void);

static void t_run(const char *name, t_case_fn fn) {
    t_case_failed = 0;
    fn();
    if (t_case_failed) {
        t_failed++;
        printf("not ok - %s\n", name);
    } else {
        t_passed++;
        printf("ok - %s\n", name);
    }
    fflush(stdout);
}

/* ---- helpers ---- */

static char *t_read(const char *path, size_t *len) {
    size_t n = 0;
    char *data = dvic_log__slurp(path, &n);
    if (len) *len = n;
    return data;
}

static char *t_mkdtemp(void) {
    char *dir = (char *)malloc(64);
    snprintf(dir, 64, "/tmp/dvic-c-test-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(2);
    }
    return dir;
}

static int t_cmp(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* The dvic_log_* files of dir as full paths, sorted; returns the count. */
#define T_MAX_FILES 256
static int t_list(const char *dir, char paths[][256]) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return 0;
    while ((e = readdir(d)) != NULL && n < T_MAX_FILES) {
        if (strncmp(e->d_name, "dvic_log_", 9) == 0 && snprintf(paths[n], 256, "%s/%s", dir, e->d_name) < 256) n++;
    }
    closedir(d);
    qsort(paths, (size_t)n, 256, t_cmp);
    return n;
}

static void t_rmdir(char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    if (d) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* The string value of "key":"..." in a header (no escapes expected), in out. */
static int t_header_string(const char *header, const char *key, char *out, size_t cap) {
    char pattern[64];
    const char *p, *end;
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    p = strstr(header, pattern);
    if (!p) return 0;
    p += strlen(pattern);
    end = strchr(p, '"');
    if (!end || (size_t)(end - p) >= cap) return 0;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return 1;
}

typedef struct t_record {
    char level[8];
    char *message; /* unescaped, malloc'd */
    size_t message_len;
} t_record;

typedef struct t_file {
    char *data;
    char *header; /* first line, NUL-terminated in data */
    t_record *records;
    int count;
    int bad; /* lines that are not records */
} t_file;

static int t_is_digit(char c) { return c >= '0' && c <= '9'; }

/* Parses one line (without LF) per the record grammar; 1 when it matches. */
static int t_parse(const char *line, size_t len, t_record *r) {
    static const char *const levels[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    size_t i, lvl_len = 0, o = 0;
    int k, found = -1;
    if (len < 25) return 0;
    for (i = 0; i < 24; i++) {
        if (shape[i] == 'd' ? !t_is_digit(line[i]) : line[i] != shape[i]) return 0;
    }
    if (line[24] != ' ') return 0;
    for (k = 0; k < 6; k++) {
        size_t n = strlen(levels[k]);
        if (len >= 25 + n && memcmp(line + 25, levels[k], n) == 0 && (len == 25 + n || line[25 + n] == ' ')) {
            found = k;
            lvl_len = n;
        }
    }
    if (found < 0) return 0;
    snprintf(r->level, sizeof r->level, "%s", levels[found]);
    i = 25 + lvl_len + 1;
    r->message = (char *)malloc(len + 1);
    for (; i < len; i++) {
        if (line[i] == '\\' && i + 1 < len && (line[i + 1] == '\\' || line[i + 1] == 'n' || line[i + 1] == 'r')) {
            r->message[o++] = line[i + 1] == 'n' ? '\n' : line[i + 1] == 'r' ? '\r' : '\\';
            i++;
        } else {
            r->message[o++] = line[i];
        }
    }
    r->message[o] = '\0';
    r->message_len = o;
    return 1;
}

static t_file t_load(const char *path) {
    t_file f;
    size_t len = 0, start;
    char *nl;
    memset(&f, 0, sizeof f);
    f.data = t_read(path, &len);
    if (!f.data) return f;
    f.header = f.data;
    nl = (char *)memchr(f.data, '\n', len);
    if (!nl) return f;
    *nl = '\0';
    start = (size_t)(nl - f.data) + 1;
    f.records = (t_record *)calloc(len / 26 + 2, sizeof(t_record));
    while (start < len) {
        char *end = (char *)memchr(f.data + start, '\n', len - start);
        size_t n = end ? (size_t)(end - (f.data + start)) : len - start;
        if (!end) f.bad++; /* an unterminated line */
        if (t_parse(f.data + start, n, &f.records[f.count])) f.count++;
        else f.bad++;
        start += n + 1;
    }
    return f;
}

static void t_free(t_file *f) {
    int i;
    for (i = 0; i < f->count; i++) free(f->records[i].message);
    free(f->records);
    free(f->data);
}

/* Points fd 2 at a temporary file; t_stderr_end restores it and returns the text. */
static int t_saved_stderr = -1;
static char t_stderr_path[64];

static void t_stderr_begin(void) {
    int fd;
    snprintf(t_stderr_path, sizeof t_stderr_path, "/tmp/dvic-c-stderr-XXXXXX");
    fd = mkstemp(t_stderr_path);
    fflush(stderr);
    t_saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

static char *t_stderr_end(void) {
    char *text;
    fflush(stderr);
    dup2(t_saved_stderr, 2);
    close(t_saved_stderr);
    text = t_read(t_stderr_path, NULL);
    unlink(t_stderr_path);
    return text;
}

static int t_count(const char *haystack, const char *needle) {
    int n = 0;
    const char *p = haystack;
    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

/* ---- cases ---- */

static void case_header_and_file(void) {
    char *dir = t_mkdtemp();
    char paths[T_MAX_FILES][256];
    char value[256], pid[64];
    const char *base;
    struct stat st;
    mode_t old = umask(022);
    dvic_log_t *log = dvic_log_open_ex("camera-demo", dir, 0);
    umask(old);
    CHECK(log != NULL);
    CHECK(dvic_log_path(log) != NULL);
    dvic_log_close(log);
    CHECK(t_list(dir, paths) == 1);
    base = strrchr(paths[0], '/') + 1;
    CHECK(strlen(base) == 9 + 16);
    CHECK(strspn(base + 9, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == 16);
    CHECK(stat(paths[0], &st) == 0 && (st.st_mode & 0777) == 0644);
    {
        t_file f = t_load(paths[0]);
        CHECK(f.header != NULL && f.count == 0 && f.bad == 0);
        if (f.header) {
            CHECK(strncmp(f.header, "{\"dvic_log\":1,\"pid\":", 20) == 0);
            snprintf(pid, sizeof pid, "\"pid\":%ld,", (long)getpid());
            CHECK(strstr(f.header, pid) != NULL);
            CHECK(t_header_string(f.header, "name", value, sizeof value) && strcmp(value, "camera-demo") == 0);
            CHECK(t_header_string(f.header, "lib", value, sizeof value) && strcmp(value, T_LIB) == 0);
            CHECK(t_header_string(f.header, "exe", value, sizeof value) && value[0] == '/');
            CHECK(t_header_string(f.header, "user", value, sizeof value) && value[0] != '\0');
            CHECK(t_header_string(f.header, "started", value, sizeof value) && strlen(value) == 24);
            CHECK(strstr(f.header, "\"argv\":[\"") != NULL);
            CHECK(strstr(f.header, "\"prev\"") == NULL);
            CHECK(f.header[strlen(f.header) - 1] == '}');
        }
        t_free(&f);
    }
    t_rmdir(dir);
}

static void case_env_dir_and_default_name(void) {
    char *dir = t_mkdtemp();
    char paths[T_MAX_FILES][256];
    char value[256];
    dvic_log_t *log;
    setenv("DVIC_LOG_DIR", dir, 1);
    log = dvic_log_open(NULL);
    dvic_log_info(log, "hello");
    dvic_log_close(log);
    unsetenv("DVIC_LOG_DIR");
    CHECK(t_list(dir, paths) == 1);
    {
        t_file f = t_load(paths[0]);
        CHECK(f.header && t_header_string(f.header, "name", value, sizeof value));
        char exe[512];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        CHECK(strcmp(value, strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe) == 0); /* the program's name */
        CHECK(f.count == 1);
        t_free(&f);
    }
    t_rmdir(dir);

    setenv("DVIC_LOG_DIR", "", 1); /* empty means /tmp */
    log = dvic_log_open("tmp-default");
    CHECK(dvic_log_path(log) != NULL && strncmp(dvic_log_path(log), "/tmp/dvic_log_", 14) == 0);
    if (dvic_log_path(log)) unlink(dvic_log_path(log));
    dvic_log_close(log);
    unsetenv("DVIC_LOG_DIR");
}

static void case_levels_and_form(void) {
    char *dir = t_mkdtemp();
    char paths[T_MAX_FILES][256];
    size_t len = 0;
    char *data;
    dvic_log_t *log = dvic_log_open_ex("levels", dir, 0);
    dvic_log_trace(log, "t%d", 1);
    dvic_log_debug(log, "d%s", "2");
    dvic_log_info(log, "i%c", '3');
    dvic_log_warn(log, "w%u", 4u);
    dvic_log_error(log, "e%ld", 5L);
    dvic_log_fatal(log, "f%.1f", 6.0);
    dvic_log_log(log, DVIC_LOG_INFO, "log %s", "fn");
    dvic_log_write(log, DVIC_LOG_WARN, "100% raw, no format");
    dvic_log_write(log, DVIC_LOG_INFO, "");
    dvic_log_info(log, "%s", "");
    dvic_log_close(log);
    t_list(dir, paths);
    data = t_read(paths[0], &len);
    {
        const char *expect[] = {" TRACE t1\n", " DEBUG d2\n", " INFO i3\n", " WARN w4\n", " ERROR e5\n",
                                " FATAL f6.0\n", " INFO log fn\n", " WARN 100% raw, no format\n", " INFO \n",
                                " INFO \n"};
        const char *p = strchr(data, '\n') + 1;
        size_t k;
        for (k = 0; k < sizeof expect / sizeof expect[0]; k++) {
            t_record r;
            const char *nl = strchr(p, '\n');
            CHECK(nl != NULL);
            if (!nl) break;
            CHECK(t_parse(p, (size_t)(nl - p), &r));
            free(r.message);
            CHECK(strncmp(p + 24, expect[k], strlen(expect[k])) == 0);
            p = nl + 1;
        }
        CHECK(*p == '\0');
    }
    free(data);
    t_rmdir(dir);
}

static void case_escaping(void) {
    static const char *const messages[] = {
        "first line\nsecond line", "C:\\demo\\n.cfg", "trailing backslash \\", "carriage\rreturn and\ttab",
        "unicode: caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x9a\x80", "\\n\\r\\\\", "quote \" ok"};
    static const char *const encoded[] = {
        "first line\\nsecond line", "C:\\\\demo\\\\n.cfg", "trailing backslash \\\\", "carriage\\rreturn and\ttab",
        "unicode: caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x9a\x80", "\\\\n\\\\r\\\\\\\\", "quote \" ok"};
    size_t k, n = sizeof messages / sizeof messages[0];
    char *dir = t_mkdtemp();
    char paths[T_MAX_FILES][256];
    dvic_log_t *log = dvic_log_open_ex("escaping", dir, 0);
    for (k = 0; k < n; k++) dvic_log_info(log, "%s", messages[k]);
    dvic_log_close(log);
    t_list(dir, paths);
    {
        size_t len;
        char *data = t_read(paths[0], &len);
        const char *p = strchr(data, '\n') + 1;
        t_file f = t_load(paths[0]);
        for (k = 0; k < n; k++) {
            const char *nl = strchr(p, '\n');
            CHECK(strlen(encoded[k]) == (size_t)(nl - p - 30) && memcmp(p + 30, encoded[k], strlen(encoded[k])) == 0);
            p = nl + 1;
        }
        CHECK(f.count == (int)n && f.bad == 0);
        for (k = 0; k < (size_t)f.count; k++) CHECK(strcmp(f.records[k].message, messages[k]) == 0);
        t_free(&f);
        free(data);
    }
    t_rmdir(dir);
}

static void case_long_message(void) {
    size_t n = 300000, k;
    char *big = (char *)malloc(n + 1);
    char *dir = t_mkdtemp();
    char paths[T_MAX_FILES][256];
    dvic_log_t *log = dvic_log_open_ex("long", dir, 0);
    for (k = 0; k < n; k++) big[k] = (char)('a' + k % 26);
    big[n] = '\0';
    dvic_log_info(log, "%s", big);           /* through vsnprintf's heap path */
    dvic_log_write(log, DVIC_LOG_INFO, big); /* straight */
    dvic_log_close(log);
    t_list(dir, paths);
    {
        t_file f = t_load(paths[0]);
        CHECK(f.count == 2 && f.bad == 0);
        for (k = 0; k < (size_t)f.count; k++) CHECK(strcmp(f.records[k].message, big) == 0);
        t_free(&f);
    }
    free(big);
    t_rmdir(dir);
}

#define T_THREADS 8
#define T_PER_THREAD 2000

typedef struct t_worker {
    dvic_log_t *log;
    int id;
} t_worker;

static void *t_worker_main(void *arg) {
    t_worker *w = (t_worker *)arg;
    int i;
    for (i = 0; i < T_PER_THREAD; i++) dvic_log_info(w->log, "thread %d record %d %.*s", w->id, i, i % 97, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    return NULL;
}

/* Checks a file written by T_THREADS workers: whole records, each thread's in order. */
static void t_check_threads_file(const char *path) {
    int next[T_THREADS];
    int i, ok = 1;
    t_file f = t_load(path);
    memset(next, 0, sizeof next);
    CHECK(f.count == T_THREADS * T_PER_THREAD && f.bad == 0);
    for (i = 0; i < f.count; i++) {
        int id = -1, seq = -1;
        if (sscanf(f.records[i].message, "thread %d record %d", &id, &seq) != 2 || id < 0 || id >= T_THREADS ||
            seq != next[id]) {
            ok = 0;
            break;
        }
        next[id]++;
    }
    CHECK(ok);
    t_free(&f);
}

static void case_threads(void) {
    char *dir = t_mkdtemp();
    char paths[T_MAX_FILES][256];
    pthread_t threads[T_THREADS];
    t_worker workers[T_THREADS];
    int i;
    dvic_log_t *log = dvic_log_open_ex("threads", dir, 0);
    for (i = 0; i < T_THREADS; i++) {
        workers[i].log = log;
        workers[i].id = i;
        pthread_create(&threads[i], NULL, t_worker_main, &workers[i]);
    }
    for (i = 0; i < T_THREADS; i++) pthread_join(threads[i], NULL);
    dvic_log_close(log);
    CHECK(t_list(dir, paths) == 1);
    t_check_threads_file(paths[0]);
    t_rmdir(dir);
}

/* Orders the files of dir along their "prev" links into order[]; returns the count or -1. */
static int t_chain(char paths[][256], int n, int order[]) {
    int i, k, count = 0, current = -1;
    char prev[80], token[80];
    for (i = 0; i < n; i++) {
        t_file f = t_load(paths[i]);
        int has_prev = f.header && t_header_string(f.header, "prev", prev, sizeof prev);
        t_free(&f);
        if (!has_prev) {
            if (current >= 0) return -1;
            current = i;
        }
    }
    while (current >= 0) {
        order[count++] = current;
        snprintf(token, sizeof token, "%s", strrchr(paths[current], '/') + 10);
        current = -1;
        for (k = 0; k < n; k++) {
            t_file f = t_load(paths[k]);
            if (f.header && t_header_string(f.header, "prev", prev, sizeof prev) && strcmp(prev, token) == 0) current = k;
            t_free(&f);
        }
        if (count > n) return -1;
    }
    return count == n ? count : -1;
}

static void case_rotation(void) {
    char *dir = t_mkdtemp();
    char paths[T_MAX_FILES][256];
    int order[T_MAX_FILES];
    char started[64], value[64];
    int n, i, k, expected = 0;
    dvic_log_t *log;
    setenv("DVIC_LOG_MAX_BYTES", "2000", 1);
    log = dvic_log_open_ex("rotating", dir, 0);
    unsetenv("DVIC_LOG_MAX_BYTES");
    for (i = 0; i < 300; i++) dvic_log_info(log, "record %03d", i);
    dvic_log_close(log);
    n = t_list(dir, paths);
    CHECK(n > 5);
    CHECK(t_chain(paths, n, order) == n);
    started[0] = '\0';
    for (i = 0; i < n; i++) {
        struct stat st;
        t_file f = t_load(paths[order[i]]);
        CHECK(stat(paths[order[i]], &st) == 0 && st.st_size <= 2000);
        CHECK(f.count > 0 && f.bad == 0);
        CHECK(t_header_string(f.header, "started", value, sizeof value));
        if (i == 0) snprintf(started, sizeof started, "%s", value);
        CHECK(strcmp(started, value) == 0);
        CHECK(t_header_string(f.header, "name", value, sizeof value) && strcmp(value, "rotating") == 0);
        for (k = 0; k < f.count; k++) {
            char want[32];
            snprintf(want, sizeof want, "record %03d", expected++);
            CHECK(strcmp(f.records[k].message, want) == 0);
        }
        t_free(&f);
    }
    CHECK(expected == 300);
    t_rmdir(dir);
}

static void case_oversized_record(void) {
    char *dir = t_mkdtemp();
    char paths[T_MAX_FILES][256];
    int order[T_MAX_FILES];
    char big[5001];
    int n;
    dvic_log_t *log = dvic_log_open_ex("big", dir, 1000);
    memset(big, 'y', 5000);
    big[5000] = '\0';
    dvic_log_info(log, "small");
    dvic_log_info(log, "%s", big);
    dvic_log_info(log, "after");
    dvic_log_close(log);
    n = t_list(dir, paths);
    CHECK(n == 3 && t_chain(paths, n, order) == 3);
    if (n == 3) {
        t_file a = t_load(paths[order[0]]), b = t_load(paths[order[1]]), c = t_load(paths[order[2]]);
        CHECK(a.count == 1 && strcmp(a.records[0].message, "small") == 0);
        CHECK(b.count == 1 && strcmp(b.records[0].message, big) == 0);
        CHECK(c.count == 1 && strcmp(c.records[0].message, "after") == 0);
        t_free(&a);
        t_free(&b);
        t_free(&c);
    }
    t_rmdir(dir);
}

static void case_fallback_missing_dir(void) {
    char *text;
    dvic_log_t *log;
    t_stderr_begin();
    log = dvic_log_open_ex("fallback", "/nonexistent/dvic/dir", 0);
    CHECK(log != NULL && dvic_log_path(log) == NULL);
    dvic_log_info(log, "one");
    dvic_log_error(log, "two\nlines");
    dvic_log_close(log);
    text = t_stderr_end();
    CHECK(text != NULL);
    if (text) {
        CHECK(strncmp(text, "dvic_log: cannot write /nonexistent/dvic/dir/dvic_log_", 54) == 0);
        CHECK(strstr(text, ": No such file or directory; logging to stderr\n") != NULL);
        CHECK(t_count(text, "dvic_log:") == 1);
        CHECK(strstr(text, " INFO one\n") != NULL);
        CHECK(strstr(text, " ERROR two\\nlines\n") != NULL);
        free(text);
    }
}

static void case_fallback_read_only_dir(void) {
    /* A directory the demo may not write (EACCES); as root the child drops to nobody first. */
    char *dir = t_mkdtemp();
    char paths[T_MAX_FILES][256];
    dvic_log__buf text = {NULL, 0, 0, 0};
    char chunk[4096];
    int status = -1, pipe_fds[2];
    pid_t pid;
    chmod(dir, 0555);
    CHECK(pipe(pipe_fds) == 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        dvic_log_t *log;
        dup2(pipe_fds[1], 2);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
        log = dvic_log_open_ex("read-only", dir, 0);
        dvic_log_info(log, "kept");
        dvic_log_close(log);
        _exit(dvic_log_path(NULL) == NULL ? 0 : 4);
    }
    close(pipe_fds[1]);
    for (;;) {
        ssize_t n = read(pipe_fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        dvic_log__put(&text, chunk, (size_t)n);
    }
    close(pipe_fds[0]);
    waitpid(pid, &status, 0);
    chmod(dir, 0755);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(t_list(dir, paths) == 0);
    CHECK(text.data != NULL);
    if (text.data) {
        CHECK(t_count(text.data, "dvic_log: cannot write ") == 1);
        CHECK(strstr(text.data, ": Permission denied; logging to stderr\n") != NULL);
        CHECK(strstr(text.data, " INFO kept\n") != NULL);
        free(text.data);
    }
    t_rmdir(dir);
}

static void case_null_log(void) {
    char *text;
    t_stderr_begin();
    dvic_log_info(NULL, "to stderr %d", 1);
    dvic_log_write(NULL, DVIC_LOG_WARN, "raw");
    dvic_log_close(NULL);
    CHECK(dvic_log_path(NULL) == NULL);
    text = t_stderr_end();
    CHECK(text && strstr(text, " INFO to stderr 1\n") && strstr(text, " WARN raw\n"));
    free(text);
}

static void case_write_failure(void) {
    /* A file size limit makes write() fail (EFBIG) part-way: a real write error, in a
     * child whose stderr is a pipe (the limit applies to every file it writes). */
    char *dir = t_mkdtemp();
    char paths[T_MAX_FILES][256];
    dvic_log__buf text = {NULL, 0, 0, 0};
    char chunk[4096];
    int status = -1, pipe_fds[2];
    pid_t pid;
    CHECK(pipe(pipe_fds) == 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        struct rlimit lim;
        dvic_log_t *log;
        int i;
        dup2(pipe_fds[1], 2);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        signal(SIGXFSZ, SIG_IGN);
        lim.rlim_cur = lim.rlim_max = 4096;
        setrlimit(RLIMIT_FSIZE, &lim);
        log = dvic_log_open_ex("efbig", dir, 0);
        for (i = 0; i < 100; i++) dvic_log_info(log, "record %03d %060d", i, 0);
        dvic_log_close(log);
        _exit(0);
    }
    close(pipe_fds[1]);
    for (;;) {
        ssize_t n = read(pipe_fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        dvic_log__put(&text, chunk, (size_t)n);
    }
    close(pipe_fds[0]);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(t_list(dir, paths) == 1);
    CHECK(text.data != NULL);
    if (text.data) {
        CHECK(t_count(text.data, "dvic_log: cannot write ") == 1);
        CHECK(strstr(text.data, ": File too large; logging to stderr\n") != NULL);
        CHECK(strstr(text.data, " INFO record 099 ") != NULL);
        free(text.data);
    }
    t_rmdir(dir);
}

static void t_run_all(void) {
    t_run("header and file", case_header_and_file);
    t_run("DVIC_LOG_DIR and default name", case_env_dir_and_default_name);
    t_run("levels and record form", case_levels_and_form);
    t_run("escaping", case_escaping);
    t_run("long message", case_long_message);
    t_run("threads", case_threads);
    t_run("rotation", case_rotation);
    t_run("oversized record", case_oversized_record);
    t_run("fallback: missing directory", case_fallback_missing_dir);
    t_run("fallback: read-only directory", case_fallback_read_only_dir);
    t_run("NULL log", case_null_log);
    t_run("fallback: write failure", case_write_failure);
}

static int t_finish(const char *lang) {
    printf("%s: %d passed, %d failed\n", lang, t_passed, t_failed);
    return t_failed ? 1 : 0;
}

#endif
