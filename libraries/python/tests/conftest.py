import json
import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
LIB_ROOT = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(os.path.dirname(LIB_ROOT))
sys.path.insert(0, LIB_ROOT)  # test the source tree, not an installed copy

RECORD = re.compile(
    rb"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) (TRACE|DEBUG|INFO|WARN|ERROR|FATAL)(?: (.*))?$",
    re.DOTALL,
)


def unescape(data):
    out, i = bytearray(), 0
    while i < len(data):
        c = data[i:i + 1]
        if c == b"\\" and i + 1 < len(data) and data[i + 1:i + 2] in (b"\\", b"n", b"r"):
            out += {b"\\": b"\\", b"n": b"\n", b"r": b"\r"}[data[i + 1:i + 2]]
            i += 2
        else:
            out += c
            i += 1
    return bytes(out)


def read_log(path):
    """(header dict, [(timestamp, level, message str)]) of one file; fails on a non-record line."""
    with open(path, "rb") as f:
        data = f.read()
    assert data.endswith(b"\n"), "file must end with LF"
    lines = data[:-1].split(b"\n")
    header = json.loads(lines[0].decode("utf-8"))
    records = []
    for line in lines[1:]:
        m = RECORD.match(line)
        assert m, "not a record: %r" % line[:200]
        records.append((m.group(1).decode(), m.group(2).decode(), unescape(m.group(3) or b"").decode("utf-8")))
    return header, records


def log_files(directory):
    return sorted(os.path.join(directory, n) for n in os.listdir(directory) if n.startswith("dvic_log_"))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Each test picks its directory and cap; nothing comes from the caller's environment."""
    monkeypatch.delenv("DVIC_LOG_DIR", raising=False)
    monkeypatch.delenv("DVIC_LOG_MAX_BYTES", raising=False)


@pytest.fixture
def logdir(tmp_path, monkeypatch):
    monkeypatch.setenv("DVIC_LOG_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def schema():
    with open(os.path.join(REPO_ROOT, "Spec", "logfile-header.schema.json")) as f:
        return json.load(f)
