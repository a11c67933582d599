/*
 * Conformance writer (C99): writes the records of Spec/vectors/logfile/conformance.json
 * through the dvic_log.h API into a log named "conformance-c" (in $DVIC_LOG_DIR).
 *
 * C has no JSON parser, so libraries/conformance/run-writers hands it the vector as
 * lines of "<level> <message as hex UTF-8>", one per record, repeats expanded.
 * Usage: conformance RECORDS_FILE
 */
#include "../dvic_log.h"

static int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(int argc, char **argv) {
    size_t len = 0, pos = 0;
    char *data;
    dvic_log_t *log;
    int count = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: %s RECORDS_FILE\n", argv[0]);
        return 2;
    }
    data = dvic_log__slurp(argv[1], &len);
    if (!data) {
        fprintf(stderr, "conformance-c: cannot read %s\n", argv[1]);
        return 2;
    }
    log = dvic_log_open("conformance-c");
    if (!log || !dvic_log_path(log)) {
        fprintf(stderr, "conformance-c: could not open the log file\n");
        return 1;
    }
    printf("%s\n", dvic_log_path(log));
    while (pos < len) {
        char *line = data + pos, *end = (char *)memchr(line, '\n', len - pos), *space, *msg;
        size_t n = end ? (size_t)(end - line) : len - pos, hex_len, i;
        pos += n + 1;
        if (n == 0) continue;
        line[n] = '\0';
        space = strchr(line, ' ');
        if (!space) { fprintf(stderr, "conformance-c: bad line %s\n", line); return 2; }
        *space = '\0';
        hex_len = strlen(space + 1);
        msg = (char *)malloc(hex_len / 2 + 1);
        for (i = 0; i + 1 < hex_len; i += 2) {
            int hi = hex_value(space[1 + i]), lo = hex_value(space[2 + i]);
            if (hi < 0 || lo < 0) { fprintf(stderr, "conformance-c: bad hex\n"); return 2; }
            msg[i / 2] = (char)(hi * 16 + lo);
        }
        msg[hex_len / 2] = '\0';
        if (strcmp(line, "trace") == 0) dvic_log_trace(log, "%s", msg);
        else if (strcmp(line, "debug") == 0) dvic_log_debug(log, "%s", msg);
        else if (strcmp(line, "info") == 0) dvic_log_info(log, "%s", msg);
        else if (strcmp(line, "warn") == 0) dvic_log_warn(log, "%s", msg);
        else if (strcmp(line, "error") == 0) dvic_log_error(log, "%s", msg);
        else if (strcmp(line, "fatal") == 0) dvic_log_fatal(log, "%s", msg);
        else { fprintf(stderr, "conformance-c: unknown level %s\n", line); return 2; }
        free(msg);
        count++;
    }
    dvic_log_close(log);
    free(data);
    return count > 0 ? 0 : 1;
}
