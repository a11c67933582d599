/*
 * dvic_log.h - write DVIC demo log files (Spec/logfile.md). Header-only, C99 and C++11,
 * Linux (POSIX + /proc). Version 1.0.0.
 *
 *     #include "dvic_log.h"
 *     dvic_log_t *log = dvic_log_open("camera-demo");
 *     dvic_log_info(log, "fps=%d", 30);
 *     dvic_log_close(log);
 *
 * Build with -pthread. In strict C mode (-std=c99) include this header before any
 * system header, or define _DEFAULT_SOURCE (or _POSIX_C_SOURCE=200809L) yourself.
 *
 * Every record is formatted under the log's mutex and written with one write() on an
 * O_APPEND descriptor, so threads may share a log. Nothing here aborts the program:
 * when the file cannot be created or written, one notice goes to stderr and the
 * records follow it there. dvic_log_open() returns NULL only when out of memory, and
 * every function accepts a NULL log (its records go to stderr).
 */
#ifndef DVIC_LOG_H
#define DVIC_LOG_H

#if !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
#include <sys/random.h>
#define DVIC_LOG_HAVE_GETRANDOM 1
#endif

#if defined(__GLIBC__) && !defined(__USE_XOPEN2K8)
#error "dvic_log.h needs POSIX.1-2008: include it before other headers, or compile with -D_DEFAULT_SOURCE"
#endif

#define DVIC_LOG_VERSION "1.0.0"
#define DVIC_LOG_DEFAULT_MAX_BYTES (16ULL * 1024 * 1024)

#ifdef __cplusplus
#define DVIC_LOG_LANG "cpp"
#else
#define DVIC_LOG_LANG "c"
#endif

#if defined(__GNUC__) || defined(__clang__)
#define DVIC_LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DVIC_LOG_PRINTF(f, a)
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dvic_log_level {
    DVIC_LOG_TRACE = 0,
    DVIC_LOG_DEBUG = 1,
    DVIC_LOG_INFO = 2,
    DVIC_LOG_WARN = 3,
    DVIC_LOG_ERROR = 4,
    DVIC_LOG_FATAL = 5
} dvic_log_level_t;

typedef struct dvic_log {
    pthread_mutex_t lock;
    int fd;                       /* -1: records go to stderr */
    int failed;                   /* the notice was printed */
    char *dir;
    char *path;                   /* the current (or last tried) file */
    char *header;                 /* header without its closing "}\n" */
    char token[17];
    unsigned long long size;      /* bytes in the current file */
    unsigned long long records;   /* records in the current file */
    unsigned long long max_bytes;
} dvic_log_t;

/* ---- internals (names starting with dvic_log__ are not part of the API) ---- */

typedef struct dvic_log__buf {
    char *data;
    size_t len, cap;
    int oom;
} dvic_log__buf;

static inline void dvic_log__put(dvic_log__buf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (b->len + n + 1 > cap) cap *= 2;
        p = (char *)realloc(b->data, cap);
        if (!p) { b->oom = 1; return; }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void dvic_log__puts(dvic_log__buf *b, const char *s) { dvic_log__put(b, s, strlen(s)); }

static inline const char *dvic_log__level_name(dvic_log_level_t level) {
    static const char *const names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    return ((int)level >= 0 && (int)level <= 5) ? names[(int)level] : "INFO";
}

static inline void dvic_log__digits(char *p, unsigned int v, int n) {
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" plus NUL: 25 bytes. */
static inline void dvic_log__timestamp(char out[25]) {
    struct timespec ts;
    struct tm tm;
    time_t secs;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) { ts.tv_sec = time(NULL); ts.tv_nsec = 0; }
    secs = ts.tv_sec;
    memset(&tm, 0, sizeof tm);
    gmtime_r(&secs, &tm);
    memcpy(out, "0000-00-00T00:00:00.000Z", 25);
    dvic_log__digits(out, (unsigned int)(tm.tm_year + 1900) % 10000, 4);
    dvic_log__digits(out + 5, (unsigned int)(tm.tm_mon + 1), 2);
    dvic_log__digits(out + 8, (unsigned int)tm.tm_mday, 2);
    dvic_log__digits(out + 11, (unsigned int)tm.tm_hour, 2);
    dvic_log__digits(out + 14, (unsigned int)tm.tm_min, 2);
    dvic_log__digits(out + 17, (unsigned int)tm.tm_sec, 2);
    dvic_log__digits(out + 20, (unsigned int)(ts.tv_nsec / 1000000), 3);
}

/* Writes all of data; 0 or an errno value. A short write that cannot go on is EIO. */
static inline int dvic_log__write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno ? errno : EIO;
        }
        if (n == 0) return EIO;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static inline void dvic_log__stderr(const char *data, size_t len) {
    int saved = errno;
    (void)dvic_log__write_all(2, data, len);
    errno = saved;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0 if invalid. */
static inline size_t dvic_log__utf8_len(const unsigned char *s, size_t n) {
    unsigned int c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;  /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;  /* overlong */
        if (c == 0xF4 && s[1] >= 0x90) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

/* A JSON string: quotes, escapes, invalid UTF-8 replaced by U+FFFD. */
static inline void dvic_log__json_string(dvic_log__buf *b, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    dvic_log__put(b, "\"", 1);
    while (i < n) {
        unsigned char c = p[i];
        size_t k;
        if (c == '"' || c == '\\') {
            char esc[2];
            esc[0] = '\\';
            esc[1] = (char)c;
            dvic_log__put(b, esc, 2);
            i++;
        } else if (c < 0x20) {
            char esc[8];
            switch (c) {
            case '\n': dvic_log__puts(b, "\\n"); break;
            case '\r': dvic_log__puts(b, "\\r"); break;
            case '\t': dvic_log__puts(b, "\\t"); break;
            default:
                snprintf(esc, sizeof esc, "\\u%04x", (unsigned int)c);
                dvic_log__puts(b, esc);
            }
            i++;
        } else if ((k = dvic_log__utf8_len(p + i, n - i)) > 0) {
            dvic_log__put(b, s + i, k);
            i += k;
        } else {
            dvic_log__puts(b, "\\ufffd");
            i++;
        }
    }
    dvic_log__put(b, "\"", 1);
}

/* Reads a whole small file into a NUL-terminated buffer; NULL on failure. */
static inline char *dvic_log__slurp(const char *path, size_t *len) {
    dvic_log__buf b = {NULL, 0, 0, 0};
    char chunk[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        dvic_log__put(&b, chunk, (size_t)n);
        if (b.len > (1u << 22)) break;
    }
    close(fd);
    if (b.oom) { free(b.data); return NULL; }
    if (!b.data) dvic_log__put(&b, "", 0);
    *len = b.len;
    return b.data;
}

static inline void dvic_log__header(dvic_log__buf *h, const char *name, const char *started) {
    char num[32];
    char exe[4096];
    ssize_t exe_len;
    size_t cmd_len = 0, budget = 32 * 1024, used = 0;
    char *cmd;
    char pwbuf[1024];
    struct passwd pw, *found = NULL;

    dvic_log__puts(h, "{\"dvic_log\":1,\"pid\":");
    snprintf(num, sizeof num, "%ld", (long)getpid());
    dvic_log__puts(h, num);

    dvic_log__puts(h, ",\"exe\":");
    exe_len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    dvic_log__json_string(h, exe, exe_len > 0 ? (size_t)exe_len : 0);

    dvic_log__puts(h, ",\"argv\":[");
    cmd = dvic_log__slurp("/proc/self/cmdline", &cmd_len);
    if (cmd) {
        size_t i = 0;
        int first = 1;
        while (i < cmd_len) {
            size_t n = strlen(cmd + i);
            used += n;
            if (used > budget) break;
            if (!first) dvic_log__put(h, ",", 1);
            dvic_log__json_string(h, cmd + i, n);
            first = 0;
            i += n + 1;
        }
        free(cmd);
    }
    dvic_log__puts(h, "]");

    dvic_log__puts(h, ",\"user\":");
    if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &found) == 0 && found && found->pw_name &&
        found->pw_name[0]) {
        dvic_log__json_string(h, found->pw_name, strlen(found->pw_name));
    } else {
        snprintf(num, sizeof num, "%lu", (unsigned long)geteuid());
        dvic_log__json_string(h, num, strlen(num));
    }

    dvic_log__puts(h, ",\"name\":");
    dvic_log__json_string(h, name, strlen(name));
    dvic_log__puts(h, ",\"started\":\"");
    dvic_log__puts(h, started);
    dvic_log__puts(h, "\",\"lib\":\"" DVIC_LOG_LANG "/" DVIC_LOG_VERSION "\"");
}

/* The program's base name (argv[0]), for a log opened without a name. */
static inline char *dvic_log__program_name(void) {
    size_t len = 0;
    char *cmd = dvic_log__slurp("/proc/self/cmdline", &len);
    const char *base;
    char *out;
    if (!cmd || len == 0 || cmd[0] == '\0') {
        free(cmd);
        out = (char *)malloc(5);
        if (out) memcpy(out, "demo", 5);
        return out;
    }
    base = strrchr(cmd, '/');
    base = base && base[1] ? base + 1 : cmd;
    out = (char *)malloc(strlen(base) + 1);
    if (out) memcpy(out, base, strlen(base) + 1);
    free(cmd);
    return out;
}

/* 16 characters from [A-Za-z0-9], uniformly, from the kernel's random source. */
static inline void dvic_log__token(char out[17]) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char pool[64];
    size_t have = 0, used = 0;
    int got = 0;
    while (got < 16) {
        if (used == have) {
            ssize_t n = -1;
            have = used = 0;
#ifdef DVIC_LOG_HAVE_GETRANDOM
            do { n = getrandom(pool, sizeof pool, 0); } while (n < 0 && errno == EINTR);
#endif
            if (n <= 0) {
                int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
                n = -1;
                if (fd >= 0) {
                    do { n = read(fd, pool, sizeof pool); } while (n < 0 && errno == EINTR);
                    close(fd);
                }
            }
            if (n <= 0) {
                /* No random source at all: still never fail (O_EXCL keeps files apart). */
                struct timespec ts;
                size_t i;
                unsigned long long x;
                clock_gettime(CLOCK_REALTIME, &ts);
                x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 20) ^
                    ((unsigned long long)getpid() << 40);
                for (i = 0; i < sizeof pool; i++) {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    pool[i] = (unsigned char)(x >> 24);
                }
                n = (ssize_t)sizeof pool;
            }
            have = (size_t)n;
        }
        if (pool[used] < 248) out[got++] = alphabet[pool[used] % 62];
        used++;
    }
    out[16] = '\0';
}

static inline void dvic_log__fail(dvic_log_t *log, int err) {
    if (log->fd >= 0) { close(log->fd); log->fd = -1; }
    if (!log->failed) {
        dvic_log__buf b = {NULL, 0, 0, 0};
        log->failed = 1;
        dvic_log__puts(&b, "dvic_log: cannot write ");
        dvic_log__puts(&b, log->path ? log->path : "(no path)");
        dvic_log__puts(&b, ": ");
        dvic_log__puts(&b, strerror(err));
        dvic_log__puts(&b, "; logging to stderr\n");
        if (!b.oom) dvic_log__stderr(b.data, b.len);
        free(b.data);
    }
}

/* Creates a new file and writes its header (with "prev" when prev is set). Caller holds the lock. */
static inline void dvic_log__open_file(dvic_log_t *log, const char *prev) {
    int tries, err = 0, fd = -1;
    size_t dir_len = strlen(log->dir);
    dvic_log__buf h = {NULL, 0, 0, 0};
    free(log->path);
    log->path = (char *)malloc(dir_len + 1 + 9 + 16 + 1);
    if (!log->path) { dvic_log__fail(log, ENOMEM); return; }
    for (tries = 0; tries < 100; tries++) {
        dvic_log__token(log->token);
        memcpy(log->path, log->dir, dir_len);
        log->path[dir_len] = '/';
        memcpy(log->path + dir_len + 1, "dvic_log_", 9);
        memcpy(log->path + dir_len + 10, log->token, 17);
        fd = open(log->path, O_CREAT | O_EXCL | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST) break;
    }
    if (fd < 0) { dvic_log__fail(log, errno ? errno : EEXIST); return; }
    log->fd = fd;
    dvic_log__puts(&h, log->header);
    if (prev) {
        dvic_log__puts(&h, ",\"prev\":\"");
        dvic_log__puts(&h, prev);
        dvic_log__puts(&h, "\"");
    }
    dvic_log__puts(&h, "}\n");
    if (h.oom) { free(h.data); dvic_log__fail(log, ENOMEM); return; }
    err = dvic_log__write_all(fd, h.data, h.len);
    if (err) { free(h.data); dvic_log__fail(log, err); return; }
    log->size = h.len;
    log->records = 0;
    free(h.data);
}

static inline unsigned long long dvic_log__env_max_bytes(void) {
    const char *raw = getenv("DVIC_LOG_MAX_BYTES");
    unsigned long long v = 0;
    if (!raw || !*raw) return DVIC_LOG_DEFAULT_MAX_BYTES;
    for (; *raw; raw++) {
        if (*raw < '0' || *raw > '9' || v > 100000000000000000ULL) return DVIC_LOG_DEFAULT_MAX_BYTES;
        v = v * 10 + (unsigned long long)(*raw - '0');
    }
    return v > 0 ? v : DVIC_LOG_DEFAULT_MAX_BYTES;
}

/* Writes one already formatted record line (LF included). */
static inline void dvic_log__emit(dvic_log_t *log, const char *line, size_t len) {
    int err;
    if (!log) { dvic_log__stderr(line, len); return; }
    if (log->fd >= 0 && log->records > 0 && log->size + len > log->max_bytes) {
        int old = log->fd;
        char old_token[17];
        memcpy(old_token, log->token, sizeof old_token);
        log->fd = -1;
        dvic_log__open_file(log, old_token);
        close(old);
    }
    if (log->fd >= 0) {
        err = dvic_log__write_all(log->fd, line, len);
        if (!err) {
            log->size += len;
            log->records++;
            return;
        }
        dvic_log__fail(log, err);
    }
    dvic_log__stderr(line, len);
}

/* Formats "<timestamp> <LEVEL> <escaped message>\n" and writes it. Caller holds the lock. */
static inline void dvic_log__record(dvic_log_t *log, dvic_log_level_t level, const char *msg, size_t n) {
    char stack[1024];
    char *line = stack;
    const char *name = dvic_log__level_name(level);
    size_t name_len = strlen(name), need = 24 + 1 + name_len + 1 + 2 * n + 1, i, o;
    if (need > sizeof stack) {
        line = (char *)malloc(need);
        if (!line) {
            static const char oom[] = "(dvic_log: out of memory for this message)";
            line = stack;
            msg = oom;
            n = sizeof oom - 1;
        }
    }
    dvic_log__timestamp(line);
    o = 24;
    line[o++] = ' ';
    memcpy(line + o, name, name_len);
    o += name_len;
    line[o++] = ' ';
    for (i = 0; i < n; i++) {
        char c = msg[i];
        if (c == '\\') { line[o++] = '\\'; line[o++] = '\\'; }
        else if (c == '\n') { line[o++] = '\\'; line[o++] = 'n'; }
        else if (c == '\r') { line[o++] = '\\'; line[o++] = 'r'; }
        else line[o++] = c;
    }
    line[o++] = '\n';
    dvic_log__emit(log, line, o);
    if (line != stack) free(line);
}

/* ---- API ---- */

/* Opens a log in dir (NULL or "": $DVIC_LOG_DIR, else /tmp) that rotates past max_bytes
 * (0: $DVIC_LOG_MAX_BYTES, else 16 MiB). name NULL or "": the program's name. */
static inline dvic_log_t *dvic_log_open_ex(const char *name, const char *dir, unsigned long long max_bytes) {
    dvic_log_t *log = (dvic_log_t *)calloc(1, sizeof *log);
    char started[25];
    char *fallback_name = NULL;
    dvic_log__buf h = {NULL, 0, 0, 0};
    int saved = errno;
    if (!log) return NULL;
    log->fd = -1;
    if (!dir || !*dir) dir = getenv("DVIC_LOG_DIR");
    if (!dir || !*dir) dir = "/tmp";
    log->dir = (char *)malloc(strlen(dir) + 1);
    if (!name || !*name) name = fallback_name = dvic_log__program_name();
    if (!log->dir || !name) {
        free(log->dir);
        free(fallback_name);
        free(log);
        return NULL;
    }
    memcpy(log->dir, dir, strlen(dir) + 1);
    log->max_bytes = max_bytes ? max_bytes : dvic_log__env_max_bytes();
    dvic_log__timestamp(started);
    dvic_log__header(&h, name, started);
    free(fallback_name);
    if (h.oom) {
        free(h.data);
        free(log->dir);
        free(log);
        return NULL;
    }
    log->header = h.data;
    pthread_mutex_init(&log->lock, NULL);
    dvic_log__open_file(log, NULL);
    errno = saved;
    return log;
}

static inline dvic_log_t *dvic_log_open(const char *name) { return dvic_log_open_ex(name, NULL, 0); }

/* Closes the file and frees the log. NULL is fine. */
static inline void dvic_log_close(dvic_log_t *log) {
    if (!log) return;
    pthread_mutex_lock(&log->lock);
    if (log->fd >= 0) close(log->fd);
    log->fd = -1;
    pthread_mutex_unlock(&log->lock);
    pthread_mutex_destroy(&log->lock);
    free(log->dir);
    free(log->path);
    free(log->header);
    free(log);
}

/* Path of the file being written, or NULL when records go to stderr. Valid until the
 * next record (a rotation changes it) or dvic_log_close. */
static inline const char *dvic_log_path(const dvic_log_t *log) {
    return (log && log->fd >= 0) ? log->path : NULL;
}

/* Writes msg as it is (no formatting); it may hold newlines and any bytes but NUL. */
static inline void dvic_log_write(dvic_log_t *log, dvic_log_level_t level, const char *msg) {
    int saved = errno;
    if (!msg) msg = "(null)";
    if (log) pthread_mutex_lock(&log->lock);
    dvic_log__record(log, level, msg, strlen(msg));
    if (log) pthread_mutex_unlock(&log->lock);
    errno = saved;
}

static inline void dvic_log_vlog(dvic_log_t *log, dvic_log_level_t level, const char *fmt, va_list ap) {
    char stack[512];
    char *msg = stack;
    int n;
    int saved = errno;
    va_list again;
    va_copy(again, ap);
    n = vsnprintf(stack, sizeof stack, fmt ? fmt : "(null)", ap);
    if (n < 0) {
        msg = (char *)"(dvic_log: bad format)";
    } else if ((size_t)n >= sizeof stack) {
        msg = (char *)malloc((size_t)n + 1);
        if (msg) vsnprintf(msg, (size_t)n + 1, fmt, again);
        else msg = stack; /* out of memory: keep the truncated text */
    }
    va_end(again);
    if (log) pthread_mutex_lock(&log->lock);
    dvic_log__record(log, level, msg, strlen(msg));
    if (log) pthread_mutex_unlock(&log->lock);
    if (msg != stack && n >= 0) free(msg);
    errno = saved;
}

static inline void dvic_log_log(dvic_log_t *log, dvic_log_level_t level, const char *fmt, ...) DVIC_LOG_PRINTF(3, 4);
static inline void dvic_log_log(dvic_log_t *log, dvic_log_level_t level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    dvic_log_vlog(log, level, fmt, ap);
    va_end(ap);
}

#define DVIC_LOG__LEVEL_FN(fn, lvl)                                                          \
    static inline void fn(dvic_log_t *log, const char *fmt, ...) DVIC_LOG_PRINTF(2, 3);     \
    static inline void fn(dvic_log_t *log, const char *fmt, ...) {                          \
        va_list ap;                                                                          \
        va_start(ap, fmt);                                                                   \
        dvic_log_vlog(log, lvl, fmt, ap);                                                    \
        va_end(ap);                                                                          \
    }

DVIC_LOG__LEVEL_FN(dvic_log_trace, DVIC_LOG_TRACE)
DVIC_LOG__LEVEL_FN(dvic_log_debug, DVIC_LOG_DEBUG)
DVIC_LOG__LEVEL_FN(dvic_log_info, DVIC_LOG_INFO)
DVIC_LOG__LEVEL_FN(dvic_log_warn, DVIC_LOG_WARN)
DVIC_LOG__LEVEL_FN(dvic_log_error, DVIC_LOG_ERROR)
DVIC_LOG__LEVEL_FN(dvic_log_fatal, DVIC_LOG_FATAL) /* only logs; does not exit */

#undef DVIC_LOG__LEVEL_FN

#ifdef __cplusplus
}
#endif

#endif /* DVIC_LOG_H */
