"""Write DVIC demo log files (Spec/logfile.md in the dvic-monitoring repository).

    import dvic_log
    log = dvic_log.open("camera-demo")
    log.info("ready")
    log.warn("fps=%d", 12)

Every record is written with one ``write()`` on an ``O_APPEND`` descriptor, under a
lock, so threads may share a log. Nothing here raises because of the log file:
when it cannot be written the records go to standard error instead.
"""

import builtins
import errno
import json
import logging
import os
import secrets
import sys
import threading
import time
import weakref

__all__ = [
    "open",
    "Log",
    "Handler",
    "LEVELS",
    "DEFAULT_MAX_BYTES",
    "__version__",
]

__version__ = "1.0.0"

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
DEFAULT_MAX_BYTES = 16 * 1024 * 1024

_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_TOKEN_LENGTH = 16
_CREATE_TRIES = 100
_ARGV_BUDGET = 32 * 1024

# Names accepted by Log.log() besides the six levels.
_LEVEL_ALIASES = {
    "TRACE": "TRACE",
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARN": "WARN",
    "WARNING": "WARN",
    "ERROR": "ERROR",
    "FATAL": "FATAL",
    "CRITICAL": "FATAL",
}

_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r"})


def open(name=None, *, directory=None, max_bytes=None):  # noqa: A001 - the contract's name
    """Open a new log file and return its :class:`Log`.

    ``name`` is the demo's name (default: the script's file name). ``directory``
    and ``max_bytes`` override ``$DVIC_LOG_DIR`` and ``$DVIC_LOG_MAX_BYTES``.
    Never raises because of the file system: see :class:`Log`.
    """
    return Log(name, directory=directory, max_bytes=max_bytes)


def level_for(levelno):
    """The DVIC level for a standard ``logging`` level number."""
    if levelno >= logging.CRITICAL:
        return "FATAL"
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARN"
    if levelno >= logging.INFO:
        return "INFO"
    if levelno >= logging.DEBUG:
        return "DEBUG"
    return "TRACE"


def timestamp(ns=None):
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` for ``ns`` (nanoseconds since the epoch, default now)."""
    if ns is None:
        ns = time.time_ns()
    seconds, rest = divmod(ns, 1_000_000_000)
    t = time.gmtime(seconds)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, rest // 1_000_000)


def escape(message):
    """Escape a message for a record: backslash, newline and carriage return."""
    return message.translate(_ESCAPES)


def format_record(level, message, ns=None):
    """One record line, as bytes, LF included."""
    return ("%s %s %s\n" % (timestamp(ns), level, escape(message))).encode("utf-8", "replace")


class Log:
    """One demo log. Create it with :func:`dvic_log.open`.

    Thread-safe. A record is formatted and written while holding the log's lock,
    with a single ``os.write``. When the file cannot be created or written, one
    notice goes to standard error and the records follow it there. ``fatal`` only
    logs; it does not end the program.
    """

    def __init__(self, name=None, *, directory=None, max_bytes=None):
        self._lock = threading.Lock()
        self._fd = -1
        self._path = None
        self._token = None
        self._size = 0
        self._records = 0
        self._failed = False
        self._name = str(name) if name else _program_name()
        self._dir = directory if directory else (os.environ.get("DVIC_LOG_DIR") or "/tmp")
        self._max_bytes = max_bytes if max_bytes and max_bytes > 0 else _env_max_bytes()
        self._started = timestamp()
        self._header_head = _header_head(self._name, self._started)
        with self._lock:
            self._open_file(prev=None)
        _live_logs.add(self)

    # -- properties ---------------------------------------------------------

    @property
    def name(self):
        return self._name

    @property
    def path(self):
        """Path of the file being written, or None when logging to stderr."""
        return None if self._fd < 0 else self._path

    @property
    def token(self):
        """Token of the current file, or None when logging to stderr."""
        return None if self._fd < 0 else self._token

    @property
    def started(self):
        return self._started

    # -- levels -------------------------------------------------------------

    def trace(self, message, *args):
        self._emit("TRACE", message, args)

    def debug(self, message, *args):
        self._emit("DEBUG", message, args)

    def info(self, message, *args):
        self._emit("INFO", message, args)

    def warn(self, message, *args):
        self._emit("WARN", message, args)

    warning = warn

    def error(self, message, *args):
        self._emit("ERROR", message, args)

    def fatal(self, message, *args):
        self._emit("FATAL", message, args)

    critical = fatal

    def log(self, level, message, *args):
        """Log at ``level``: a level name ("info", "WARNING", ...) or a ``logging`` number."""
        if isinstance(level, int):
            name = level_for(level)
        else:
            name = _LEVEL_ALIASES.get(str(level).upper(), "INFO")
        self._emit(name, message, args)

    # -- life cycle ---------------------------------------------------------

    def close(self):
        """Close the file. Later records go to standard error. Idempotent."""
        with self._lock:
            self._close_fd()
        _live_logs.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return "<dvic_log.Log %r %s>" % (self._name, self.path or "stderr")

    # -- internals ----------------------------------------------------------

    def _emit(self, level, message, args):
        if not isinstance(message, str):
            message = str(message)
        if args:
            try:
                message = message % args
            except Exception:  # a bad format must not crash the demo
                message = "%s %r" % (message, args)
        with self._lock:
            record = format_record(level, message)
            if self._fd >= 0:
                if self._records > 0 and self._size + len(record) > self._max_bytes:
                    self._rotate()
                if self._fd >= 0:
                    error = self._write_fd(record)
                    if error is None:
                        self._size += len(record)
                        self._records += 1
                        return
                    self._fail(self._path, error)
            _write_stderr(record)

    def _write_fd(self, data):
        """Write all of ``data``; None on success, else the OSError."""
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                if n <= 0:
                    return OSError(errno.EIO, os.strerror(errno.EIO))
                view = view[n:]
        except OSError as error:
            return error
        return None

    def _open_file(self, prev):
        """Create a new file and write its header; on failure fall back to stderr."""
        path = None
        last_error = None
        for _ in range(_CREATE_TRIES):
            token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(_TOKEN_LENGTH))
            path = os.path.join(self._dir, "dvic_log_" + token)
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC, 0o644)
            except FileExistsError as error:
                last_error = error
                continue
            except OSError as error:
                last_error = error
                break
            header = self._header_head
            if prev is not None:
                header += ',"prev":"%s"' % prev
            header = (header + "}\n").encode("utf-8")
            self._fd, self._path, self._token = fd, path, token
            error = self._write_fd(header)
            if error is not None:
                self._fail(path, error)
                return
            self._size = len(header)
            self._records = 0
            return
        self._fail(path, last_error)

    def _rotate(self):
        old_fd, old_token = self._fd, self._token
        self._fd = -1
        self._open_file(prev=old_token)
        try:
            os.close(old_fd)
        except OSError:
            pass

    def _fail(self, path, error):
        self._close_fd()
        if not self._failed:
            self._failed = True
            reason = getattr(error, "strerror", None) or str(error)
            _write_stderr(("dvic_log: cannot write %s: %s; logging to stderr\n" % (path, reason))
                          .encode("utf-8", "replace"))

    def _close_fd(self):
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            try:
                os.close(fd)
            except OSError:
                pass

    def _after_fork_in_child(self):
        # The parent may have held the lock while forking; the child starts afresh,
        # and a file it rotates to names its own pid.
        self._lock = threading.Lock()
        self._header_head = _header_head(self._name, self._started)


class Handler(logging.Handler):
    """A :mod:`logging` handler that writes into a DVIC log.

    ``Handler("camera-demo")`` opens a log of its own (closed with the handler);
    ``Handler(log)`` writes into an existing :class:`Log` (left open). Levels map
    CRITICAL→FATAL, ERROR→ERROR, WARNING→WARN, INFO→INFO, DEBUG→DEBUG, lower→TRACE.
    The default format is the message alone (plus the traceback, if any): the
    record already carries time and level.
    """

    def __init__(self, name_or_log=None, level=logging.NOTSET):
        super().__init__(level)
        if isinstance(name_or_log, Log):
            self.log, self._owns = name_or_log, False
        else:
            self.log, self._owns = open(name_or_log), True

    def emit(self, record):
        try:
            self.log._emit(level_for(record.levelno), self.format(record), ())
        except Exception:
            self.handleError(record)

    def close(self):
        try:
            if self._owns:
                self.log.close()
        finally:
            super().close()


# -- process facts --------------------------------------------------------------

def _program_name():
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    base = os.path.basename(argv0)
    if base.endswith(".py"):
        base = base[:-3]
    if not base or base == "-c":
        base = "python"
    return base


def _env_max_bytes():
    raw = os.environ.get("DVIC_LOG_MAX_BYTES", "")
    try:
        value = int(raw, 10)
    except ValueError:
        return DEFAULT_MAX_BYTES
    return value if value > 0 else DEFAULT_MAX_BYTES


def _clean(text):
    """A str that encodes as valid UTF-8 (lone surrogates become U+FFFD)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _argv():
    try:
        with builtins.open("/proc/self/cmdline", "rb") as f:
            raw = f.read()
        items = [a.decode("utf-8", "replace") for a in raw.split(b"\0")]
        if items and items[-1] == "":
            items.pop()
    except OSError:
        items = [_clean(a) for a in [sys.executable] + sys.argv]
    kept, total = [], 0
    for item in items:
        total += len(item.encode("utf-8"))
        if total > _ARGV_BUDGET:
            break
        kept.append(item)
    return kept


def _exe():
    try:
        return _clean(os.readlink("/proc/self/exe"))
    except OSError:
        return _clean(sys.executable or "")


def _user():
    uid = os.geteuid()
    try:
        import pwd  # POSIX only
        return _clean(pwd.getpwuid(uid).pw_name)
    except (ImportError, KeyError):
        return str(uid)


def _json_string(text):
    return json.dumps(text, ensure_ascii=False)


def _header_head(name, started):
    """The header without its closing brace, so a rotation can add "prev"."""
    parts = [
        '{"dvic_log":1',
        '"pid":%d' % os.getpid(),
        '"exe":' + _json_string(_exe()),
        '"argv":' + json.dumps(_argv(), ensure_ascii=False, separators=(",", ":")),
        '"user":' + _json_string(_user()),
        '"name":' + _json_string(_clean(name)),
        '"started":"%s"' % started,
        '"lib":"python/%s"' % __version__,
    ]
    return ",".join(parts)


def _write_stderr(data):
    try:
        view = memoryview(data)
        while view:
            n = os.write(2, view)
            if n <= 0:
                return
            view = view[n:]
    except OSError:
        pass


_live_logs = weakref.WeakSet()


def _reset_locks_after_fork():
    for log in list(_live_logs):
        log._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_locks_after_fork)
