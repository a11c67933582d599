import json
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
import threading

import pytest

import dvic_log
from conftest import LIB_ROOT, log_files, read_log

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
NOTICE = re.compile(r"^dvic_log: cannot write (.+): (.+); logging to stderr$")


# -- file and header ---------------------------------------------------------------

def test_file_name_location_and_mode(logdir):
    old = os.umask(0o022)
    try:
        log = dvic_log.open("camera-demo")
    finally:
        os.umask(old)
    log.info("ready")
    log.close()
    [path] = log_files(logdir)
    assert re.fullmatch(r"dvic_log_[A-Za-z0-9]{16}", os.path.basename(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_header(logdir, schema):
    with dvic_log.open("camera-demo") as log:
        token = log.token
        assert log.path == os.path.join(str(logdir), "dvic_log_" + token)
    header, records = read_log(log_files(logdir)[0])
    assert records == []
    assert header["dvic_log"] == 1
    assert header["pid"] == os.getpid()
    assert header["name"] == "camera-demo"
    assert header["exe"] == os.path.realpath(sys.executable) or os.path.exists(header["exe"])
    with open("/proc/self/cmdline", "rb") as f:
        assert header["argv"] == f.read().decode().split("\0")[:-1]
    assert header["user"]
    assert TS.match(header["started"])
    assert header["lib"] == "python/" + dvic_log.__version__
    assert "prev" not in header
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(schema).validate(header)


def test_header_is_the_first_line_and_one_line(logdir):
    with dvic_log.open('odd "name"\nwith newline \u00e9') as log:
        log.info("x")
    with open(log_files(logdir)[0], "rb") as f:
        first = f.readline()
    header = json.loads(first)
    assert header["name"] == 'odd "name"\nwith newline \u00e9'


def test_default_name_and_empty_dir_means_tmp(monkeypatch):
    monkeypatch.setenv("DVIC_LOG_DIR", "")
    log = dvic_log.open()
    path = log.path
    try:
        assert os.path.dirname(path) == "/tmp"
        assert log.name  # the script's name, never empty
        log.close()
        with open(path) as f:
            assert json.loads(f.readline())["name"] == log.name
    finally:
        log.close()
        os.unlink(path)


def test_every_log_gets_its_own_file(logdir):
    logs = [dvic_log.open("demo") for _ in range(20)]
    assert len({log.token for log in logs}) == 20
    for log in logs:
        log.close()
    assert len(log_files(logdir)) == 20


# -- records -------------------------------------------------------------------------

def test_levels_and_record_form(logdir):
    with dvic_log.open("demo") as log:
        log.trace("t")
        log.debug("d")
        log.info("i")
        log.warn("w")
        log.warning("w2")
        log.error("e")
        log.fatal("f")
        log.critical("c")
        log.log("info", "by name")
        log.log(logging.ERROR, "by number")
        log.info("")
    with open(log_files(logdir)[0], "rb") as f:
        lines = f.read().split(b"\n")[1:-1]
    got = [(line[24:25], line[25:].split(b" ", 1)) for line in lines]
    assert all(TS.match(line[:24].decode()) for line in lines)
    assert all(sep == b" " for sep, _ in got)
    assert [tuple(rest) for _, rest in got] == [
        (b"TRACE", b"t"), (b"DEBUG", b"d"), (b"INFO", b"i"), (b"WARN", b"w"), (b"WARN", b"w2"),
        (b"ERROR", b"e"), (b"FATAL", b"f"), (b"FATAL", b"c"), (b"INFO", b"by name"),
        (b"ERROR", b"by number"), (b"INFO", b""),
    ]
    assert lines[-1].endswith(b" INFO ")  # the space before an empty message is written


def test_format_arguments(logdir):
    with dvic_log.open("demo") as log:
        log.info("fps=%d name=%s", 30, "cam")
        log.info("100% literal")          # no arguments: no formatting
        log.info("bad %d", "format")      # never raises
        log.info(42)
    _, records = read_log(log_files(logdir)[0])
    assert [m for _, _, m in records] == ["fps=30 name=cam", "100% literal", "bad %d ('format',)", "42"]


@pytest.mark.parametrize("message, encoded", [
    ("first line\nsecond line", b"first line\\nsecond line"),
    ("C:\\demo\\n.cfg", b"C:\\\\demo\\\\n.cfg"),
    ("trailing backslash \\", b"trailing backslash \\\\"),
    ("carriage\rreturn and\ttab", b"carriage\\rreturn and\ttab"),
    ("unicode: caf\u00e9 \u65e5\u672c\u8a9e \U0001f680", "unicode: caf\u00e9 \u65e5\u672c\u8a9e \U0001f680".encode()),
    ("\\n\\r\\\\", b"\\\\n\\\\r\\\\\\\\"),
    ("quote \" and nul \0", b"quote \" and nul \0"),
])
def test_escaping(logdir, message, encoded):
    with dvic_log.open("demo") as log:
        log.info(message)
    with open(log_files(logdir)[0], "rb") as f:
        line = f.read().split(b"\n")[1]
    assert line[30:] == encoded
    _, [(_, _, back)] = read_log(log_files(logdir)[0])
    assert back == message


def test_lone_surrogate_does_not_raise(logdir):
    with dvic_log.open("demo") as log:
        log.info("bad \udcff text")
    _, [(_, _, message)] = read_log(log_files(logdir)[0])
    assert message.startswith("bad ") and message.endswith(" text")


def test_threads_never_interleave(logdir):
    log = dvic_log.open("threads")
    threads, per_thread = 8, 400

    def worker(n):
        for i in range(per_thread):
            log.info("thread %d record %d %s", n, i, "x" * (i % 97))

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    log.close()
    _, records = read_log(log_files(logdir)[0])
    assert len(records) == threads * per_thread
    seen = {n: [] for n in range(threads)}
    for _, _, message in records:
        m = re.fullmatch(r"thread (\d+) record (\d+) x*", message)
        assert m, message
        seen[int(m.group(1))].append(int(m.group(2)))
    assert all(v == list(range(per_thread)) for v in seen.values())
    stamps = [ts for ts, _, _ in records]
    assert stamps == sorted(stamps)


# -- rotation ------------------------------------------------------------------------

def _chain(directory):
    files = {}
    for path in log_files(directory):
        header, records = read_log(path)
        files[os.path.basename(path)[len("dvic_log_"):]] = (path, header, records)
    firsts = [t for t, (_, h, _) in files.items() if "prev" not in h]
    assert len(firsts) == 1
    by_prev = {h["prev"]: t for t, (_, h, _) in files.items() if "prev" in h}
    chain, token = [], firsts[0]
    while token is not None:
        chain.append(files[token])
        token = by_prev.get(token)
    assert len(chain) == len(files)
    return chain


def test_rotation(logdir, monkeypatch):
    monkeypatch.setenv("DVIC_LOG_MAX_BYTES", "2000")
    with dvic_log.open("rotating") as log:
        for i in range(300):
            log.info("record %03d", i)
    chain = _chain(logdir)
    assert len(chain) > 5
    first = chain[0][1]
    messages = []
    for path, header, records in chain:
        assert os.path.getsize(path) <= 2000
        assert records
        assert header["name"] == "rotating" and header["started"] == first["started"]
        assert header["pid"] == first["pid"]
        messages += [m for _, _, m in records]
    assert messages == ["record %03d" % i for i in range(300)]


def test_rotation_argument_and_oversized_record(logdir):
    with dvic_log.open("big", max_bytes=1000) as log:
        log.info("small")
        log.info("y" * 5000)   # bigger than the cap: a file of its own, written whole
        log.info("after")
    chain = _chain(logdir)
    assert [[m for _, _, m in records] for _, _, records in chain] == [["small"], ["y" * 5000], ["after"]]


def test_max_bytes_env(monkeypatch, logdir):
    for raw, expected in [("", 16 * 1024 * 1024), ("junk", 16 * 1024 * 1024), ("-5", 16 * 1024 * 1024), ("4096", 4096)]:
        monkeypatch.setenv("DVIC_LOG_MAX_BYTES", raw)
        with dvic_log.open("m") as log:
            assert log._max_bytes == expected


# -- never crash the demo ---------------------------------------------------------------

def test_unwritable_dir_falls_back_to_stderr(tmp_path, monkeypatch, capfd):
    missing = tmp_path / "does" / "not" / "exist"
    monkeypatch.setenv("DVIC_LOG_DIR", str(missing))
    log = dvic_log.open("fallback")
    assert log.path is None and log.token is None
    log.info("one")
    log.error("two\nlines")
    log.close()
    err = capfd.readouterr().err.splitlines()
    m = NOTICE.match(err[0])
    assert m, err
    assert m.group(1).startswith(str(missing) + "/dvic_log_")
    assert m.group(2) == "No such file or directory"
    assert re.fullmatch(r"\S{24} INFO one", err[1])
    assert re.fullmatch(r"\S{24} ERROR two\\nlines", err[2])
    assert len(err) == 3  # the notice is printed once


def test_dir_that_is_a_file_falls_back(tmp_path, monkeypatch, capfd):
    afile = tmp_path / "plain-file"
    afile.write_text("")
    monkeypatch.setenv("DVIC_LOG_DIR", str(afile))
    with dvic_log.open("fallback") as log:
        log.warn("still here")
    err = capfd.readouterr().err.splitlines()
    assert NOTICE.match(err[0]).group(2) == "Not a directory"
    assert err[1].endswith(" WARN still here")


def test_read_only_dir_falls_back_to_stderr():
    # A directory the demo may not write (EACCES). Root may write anywhere, so as root the
    # child drops to nobody first (after importing what it needs: /root is not readable).
    import tempfile
    ro = tempfile.mkdtemp(prefix="dvic-ro-")
    os.chmod(ro, 0o555)
    script = r"""
import json, os, pwd, secrets, sys
sys.path.insert(0, sys.argv[1])
import dvic_log
if os.geteuid() == 0:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
log = dvic_log.open("read-only", directory=sys.argv[2])
log.info("kept")
log.close()
print("survived")
"""
    try:
        proc = subprocess.run([sys.executable, "-c", script, LIB_ROOT, ro], capture_output=True, text=True, timeout=60)
    finally:
        os.chmod(ro, 0o755)
        leftovers = os.listdir(ro)
        shutil.rmtree(ro)
    assert leftovers == []
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "survived"
    err = proc.stderr.splitlines()
    assert NOTICE.match(err[0]).group(2) == "Permission denied", err
    assert err[1].endswith(" INFO kept") and len(err) == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_write_failure_falls_back_to_stderr(logdir):
    # A file size limit makes write() fail with EFBIG part-way: a real write error.
    script = r"""
import resource, signal, sys
sys.path.insert(0, sys.argv[1])
import dvic_log
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
log = dvic_log.open("efbig")
for i in range(100):
    log.info("record %03d %s", i, "z" * 60)
log.close()
print("survived")
"""
    proc = subprocess.run([sys.executable, "-c", script, LIB_ROOT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "survived"
    err = proc.stderr.splitlines()
    notices = [line for line in err if line.startswith("dvic_log:")]
    assert len(notices) == 1 and NOTICE.match(notices[0]).group(2) == "File too large"
    [path] = log_files(logdir)
    with open(path, "rb") as f:
        in_file = [line for line in f.read().split(b"\n")[1:] if line.endswith(b"z" * 60)]
    on_stderr = [line for line in err if line.endswith("z" * 60)]
    assert len(in_file) + len(on_stderr) >= 100  # a record cut by the limit may appear twice
    assert on_stderr[-1].endswith("record 099 " + "z" * 60)


def test_use_after_close_goes_to_stderr(logdir, capfd):
    log = dvic_log.open("closed")
    log.info("in file")
    log.close()
    log.close()
    log.info("after close")
    err = capfd.readouterr().err
    assert err.endswith(" INFO after close\n") and "dvic_log:" not in err
    _, records = read_log(log_files(logdir)[0])
    assert [m for _, _, m in records] == ["in file"]


# -- logging bridge ----------------------------------------------------------------------

def test_logging_handler_maps_levels(logdir):
    log = dvic_log.open("bridge")
    logger = logging.getLogger("dvic-test-bridge")
    logger.setLevel(1)
    logger.propagate = False
    handler = dvic_log.Handler(log)
    logger.addHandler(handler)
    try:
        logger.log(5, "below debug")
        logger.debug("d")
        logger.info("i %s", "arg")
        logger.warning("w")
        logger.error("e")
        logger.critical("c")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
        handler.close()
    log.info("log still open")   # Handler(log) does not close a shared log
    log.close()
    _, records = read_log(log_files(logdir)[0])
    levels = [(lvl, m.split("\n")[0]) for _, lvl, m in records]
    assert levels == [("TRACE", "below debug"), ("DEBUG", "d"), ("INFO", "i arg"), ("WARN", "w"),
                      ("ERROR", "e"), ("FATAL", "c"), ("ERROR", "failed"), ("INFO", "log still open")]
    traceback = records[6][2]
    assert "Traceback" in traceback and "ValueError: boom" in traceback


def test_logging_handler_with_a_name_owns_its_log(logdir):
    handler = dvic_log.Handler("owned")
    logger = logging.getLogger("dvic-test-owned")
    logger.propagate = False
    logger.addHandler(handler)
    logger.warning("hello")
    logger.removeHandler(handler)
    handler.close()
    assert handler.log.path is None  # closed with the handler
    header, records = read_log(log_files(logdir)[0])
    assert header["name"] == "owned" and records[0][1:] == ("WARN", "hello")


def test_version_matches_pyproject():
    with open(os.path.join(LIB_ROOT, "pyproject.toml")) as f:
        assert 'version = "%s"' % dvic_log.__version__ in f.read()
