#!/usr/bin/env python3
"""How the log table's full-text index options cost on SQLite's single writer.

Inserts 300,000 log lines (8 words and an id each) into the schema of
Sources/DVICStore/SQLite/SQLiteSchema.swift (the logs table, its three indexes and the
external-content FTS5 index kept by a trigger), 200-row multi-row INSERTs, 5,000 rows
per transaction, WAL and synchronous=FULL as the store runs, once per FTS5 option set.
Python's sqlite3 adds its own cost per row, so the rows/s are below the server's; the
ratios between the option sets are the point. Used for Benchmarks/README.md.

Usage: python3 Benchmarks/sqlite-fts-detail.py
"""
import os
import random
import sqlite3
import tempfile
import time
words = "camera frame dropped fps thermal throttling tracker cuda memory ready motor servo angle sensor reading ok warn error retry connect socket".split()
random.seed(1)
rows = [(f"n-{i%2000}", f"demo:{i%3}", i, 1700000000000+i, 2, " ".join(random.choice(words) for _ in range(8)) + f" id={i}") for i in range(300000)]
def run(opts):
    path = os.path.join(tempfile.gettempdir(), "dvic-fts-bench.db")
    for s in ("", "-wal", "-shm"):
        try: os.remove(path+s)
        except FileNotFoundError: pass
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
    db.executescript(f"""
    CREATE TABLE logs (id INTEGER PRIMARY KEY, node_id TEXT NOT NULL, stream_key TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, level INTEGER NOT NULL, text TEXT NOT NULL) STRICT;
    CREATE UNIQUE INDEX logs_identity ON logs(node_id, stream_key, seq);
    CREATE INDEX logs_ts ON logs(ts);
    CREATE INDEX logs_node_ts ON logs(node_id, ts);
    CREATE VIRTUAL TABLE logs_fts USING fts5(text, content='logs', content_rowid='id', tokenize='unicode61 remove_diacritics 0' {opts});
    CREATE TRIGGER logs_fts_insert AFTER INSERT ON logs BEGIN INSERT INTO logs_fts(rowid, text) VALUES (new.id, new.text); END;
    """)
    t=time.time()
    for b in range(0, len(rows), 5000):
        db.execute("BEGIN")
        chunk = rows[b:b+5000]
        for c in range(0, len(chunk), 200):
            part = chunk[c:c+200]
            db.execute("INSERT INTO logs(node_id,stream_key,seq,ts,level,text) VALUES " + ",".join(["(?,?,?,?,?,?)"]*len(part)) + " ON CONFLICT DO NOTHING", [v for r in part for v in r])
        db.execute("COMMIT")
    dt=time.time()-t
    n = db.execute("SELECT count(*) FROM logs WHERE id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH '\"camera\" \"cuda\"')").fetchone()[0]
    print(f"{opts or 'detail=full':40s} {len(rows)/dt:9.0f} rows/s  match={n}  size={os.path.getsize(path)//1024} KiB")
for o in ["", ", detail=column", ", detail=none", ", detail=none, columnsize=0"]:
    run(o)
