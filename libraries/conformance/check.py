#!/usr/bin/env python3
"""Checks the files the conformance writers made (run by run-writers).

Usage: check.py OUTDIR VECTOR_JSON SCHEMA_JSON LANG...

- every OUTDIR/*/dvic_log_* header validates against the JSON schema (draft 2020-12);
- each OUTDIR/<lang> holds exactly one log file, named "conformance-<lang>", written by
  the <lang> library ("lib": "<lang>/..."), not rotated;
- read with the small reference reader below (Spec/logfile.md, section 4), its records
  are exactly the vector's levels and messages, in order.
"""

import glob
import json
import os
import re
import sys

import jsonschema

RECORD = re.compile(
    rb"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z (TRACE|DEBUG|INFO|WARN|ERROR|FATAL)(?: (.*))?",
    re.DOTALL,
)
TOKEN = re.compile(r"dvic_log_[A-Za-z0-9_-]{8,64}")


def unescape(data):
    """Spec section 4.4: \\\\, \\n and \\r turn back; any other backslash stays."""
    out, i = bytearray(), 0
    while i < len(data):
        if data[i:i + 1] == b"\\" and data[i + 1:i + 2] in (b"\\", b"n", b"r"):
            out += {b"\\": b"\\", b"n": b"\n", b"r": b"\r"}[data[i + 1:i + 2]]
            i += 2
        else:
            out += data[i:i + 1]
            i += 1
    return bytes(out)


def real_instant(year, month, day, hour, minute, second):
    """Spec section 4.5: a day that exists, hour 0-23, minute 0-59, second 0-60 (leap)."""
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12:
        return False
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    return 1 <= day <= days and hour <= 23 and minute <= 59 and second <= 60


def read_log(path):
    """(header, [(level, message)], problems) of a finished file."""
    problems = []
    with open(path, "rb") as f:
        data = f.read()
    if not data.endswith(b"\n"):
        problems.append("the file does not end with LF")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    try:
        header = json.loads(lines[0].decode("utf-8"))
    except (IndexError, UnicodeDecodeError, ValueError) as error:
        return None, [], ["line 1 is not a JSON header: %s" % error]
    records = []
    for number, line in enumerate(lines[1:], start=2):
        m = RECORD.fullmatch(line)
        if not m or not real_instant(*(int(m.group(k)) for k in range(1, 7))):
            problems.append("line %d is not a record: %r" % (number, line[:120]))
            continue
        try:
            message = unescape(m.group(8) or b"").decode("utf-8")
        except UnicodeDecodeError as error:
            problems.append("line %d is not UTF-8: %s" % (number, error))
            continue
        records.append((m.group(7).decode(), message))
    return header, records, problems


def expected_records(vector_path):
    with open(vector_path, encoding="utf-8") as f:
        vector = json.load(f)
    return [(r["level"].upper(), r["message"] if "message" in r else r["repeat"] * r["times"])
            for r in vector["records"]]


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    outdir, vector_path, schema_path, langs = argv[1], argv[2], argv[3], argv[4:]
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    expected = expected_records(vector_path)
    failures = {}

    def fail(key, message):
        failures.setdefault(key, []).append(message)

    # Every header there is, in any subdirectory.
    for path in sorted(glob.glob(os.path.join(outdir, "*", "dvic_log_*"))):
        key = os.path.basename(os.path.dirname(path))
        if not TOKEN.fullmatch(os.path.basename(path)):
            fail(key, "%s: the name does not match dvic_log_<token>" % path)
        header, _, problems = read_log(path)
        if header is None:
            fail(key, "%s: %s" % (path, problems[0]))
            continue
        for error in sorted(validator.iter_errors(header), key=lambda e: list(e.path)):
            fail(key, "%s: header: %s (at %s)" % (path, error.message, "/".join(map(str, error.path)) or "top"))

    # Each language's file against the vector.
    for lang in langs:
        files = sorted(glob.glob(os.path.join(outdir, lang, "dvic_log_*")))
        if len(files) != 1:
            fail(lang, "%s: expected exactly one log file, found %d" % (os.path.join(outdir, lang), len(files)))
            continue
        header, records, problems = read_log(files[0])
        for problem in problems:
            fail(lang, "%s: %s" % (files[0], problem))
        if header is None:
            continue
        if header.get("name") != "conformance-" + lang:
            fail(lang, "name is %r, expected %r" % (header.get("name"), "conformance-" + lang))
        if not str(header.get("lib", "")).startswith(lang + "/"):
            fail(lang, "lib is %r, expected %r" % (header.get("lib"), lang + "/<version>"))
        if "prev" in header:
            fail(lang, "the file was rotated (it has \"prev\")")
        if records != expected:
            if len(records) != len(expected):
                fail(lang, "%d records, expected %d" % (len(records), len(expected)))
            for i, (got, want) in enumerate(zip(records, expected)):
                if got != want:
                    fail(lang, "record %d: got %r, expected %r" % (i + 1, (got[0], got[1][:80]), (want[0], want[1][:80])))

    extras = sorted({os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(outdir, "*", "dvic_log_*"))}
                    - set(langs))
    passed = 0
    for key in list(langs) + extras:
        what = "%d records, header valid" % len(expected) if key in langs else "headers valid (other writer)"
        if key in failures:
            print("FAIL %s" % key)
            for message in failures[key]:
                print("     %s" % message)
        else:
            passed += 1
            print("ok   %s: %s" % (key, what))
    print("conformance: %d passed, %d failed" % (passed, len(langs) + len(extras) - passed))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
