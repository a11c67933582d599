#!/usr/bin/env python3
"""Conformance writer: writes Spec/vectors/logfile/conformance.json's records through
the dvic_log API into a log named "conformance-python" (in $DVIC_LOG_DIR).

Usage: conformance.py [VECTOR_JSON]   (run by libraries/conformance/run-writers)
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the library in this tree, not an installed copy

import dvic_log  # noqa: E402


def main(argv):
    vector = argv[1] if len(argv) > 1 else os.path.join(
        HERE, "..", "..", "Spec", "vectors", "logfile", "conformance.json")
    with open(vector, encoding="utf-8") as f:
        records = json.load(f)["records"]
    log = dvic_log.open("conformance-python")
    if log.path is None:
        print("conformance-python: could not open the log file", file=sys.stderr)
        return 1
    write = {"trace": log.trace, "debug": log.debug, "info": log.info,
             "warn": log.warn, "error": log.error, "fatal": log.fatal}
    for record in records:
        message = record["message"] if "message" in record else record["repeat"] * record["times"]
        write[record["level"]](message)
    print(log.path)
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
