#!/usr/bin/env python3
"""What the per-node log indexes cost SQLite's single writer with a large fleet.

A fleet's rows arrive interleaved: 10,000 nodes, a commit of 500 rows holding one row
each of 500 nodes (what the server's 25 ms group commit sees at 20,000 lines/s). Schema 1
kept two per-node indexes on `logs` ((node, stream, seq) unique, (node, ts)); every commit
dirtied one leaf page per node per index. Schema 2 (SQLiteLogIndex.swift) keeps `logs`,
its ts index and the FTS5 index append-only, and fills the per-node side tables in bulk
every 100,000 rows. WAL, synchronous=FULL, cache 32 MiB, as the store runs. Python's
sqlite3 adds its own cost per row; the ratio is the point. Used for Benchmarks/README.md.

Usage: python3 Benchmarks/sqlite-log-index.py [rows] [2]
  rows  default 1,000,000; "2" runs schema 2 alone (schema 1 takes minutes at millions of
        rows). Schema 2 also prints how long its last passes held the writer.
"""
import random, sys, time

from sqlite_bench import fresh_database

NODES = 10000
IDS = [f"n-{random.Random(i).getrandbits(60):015x}"[:14] for i in range(NODES)]


def text(node, line):
    verbs = ["GET", "POST", "connect", "retry", "frame", "sensor", "camera", "upload"]
    nouns = ["inference", "pipeline", "buffer", "socket", "model", "detector", "gpio", "battery"]
    return f"{verbs[line % 8]} /api/v1/{nouns[(line // 7 + node) % 8]} node={node} line={line} status={200 + line % 5} took={line * 31 % 997}ms fps={line % 60} ok"


COMMON = """
CREATE TABLE log_marks (node_id TEXT NOT NULL, stream_key TEXT NOT NULL, high_seq INTEGER NOT NULL, PRIMARY KEY (node_id, stream_key)) STRICT, WITHOUT ROWID;
CREATE TABLE logs (id INTEGER PRIMARY KEY, node_id TEXT NOT NULL, stream_key TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, level INTEGER NOT NULL, text TEXT NOT NULL) STRICT;
CREATE INDEX logs_ts ON logs(ts);
CREATE VIRTUAL TABLE logs_fts USING fts5(text, content='logs', content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail=none, columnsize=0);
CREATE TRIGGER logs_fts_insert AFTER INSERT ON logs BEGIN INSERT INTO logs_fts(rowid, text) VALUES (new.id, new.text); END;
"""
SCHEMA1 = COMMON + """
CREATE UNIQUE INDEX logs_identity ON logs(node_id, stream_key, seq);
CREATE INDEX logs_node_ts ON logs(node_id, ts);
"""
SCHEMA2 = COMMON + """
CREATE TABLE log_ident (node_id TEXT NOT NULL, stream_key TEXT NOT NULL, seq INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (node_id, stream_key, seq)) STRICT, WITHOUT ROWID;
CREATE TABLE log_node_ts (node_id TEXT NOT NULL, ts INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (node_id, ts, id)) STRICT, WITHOUT ROWID;
"""


def run(name, schema, total, side_every=None):
    _, db = fresh_database("dvic-log-index-bench.db")
    db.executescript(schema)
    seq = [0] * NODES
    node, ts, done, indexed_to, since = 0, 1_700_000_000_000, 0, 0, 0
    passes = []
    written0 = [int(l.split()[1]) for l in open("/proc/self/io") if l.startswith("write_bytes")][0]
    started = time.time()
    while done < total:
        rows, touched = [], {}
        while len(rows) < 500:
            seq[node] += 1
            ts += 1
            rows.append((IDS[node], "demo:loadtest", seq[node], ts, 2, text(node, seq[node])))
            touched[IDS[node]] = seq[node]
            node = (node + 1) % NODES
        db.execute("BEGIN")
        for c in range(0, len(rows), 200):
            part = rows[c:c + 200]
            db.execute("INSERT INTO logs (node_id, stream_key, seq, ts, level, text) VALUES "
                       + ",".join(["(?,?,?,?,?,?)"] * len(part)), [v for r in part for v in r])
        db.executemany("INSERT INTO log_marks VALUES (?, 'demo:loadtest', ?) ON CONFLICT DO UPDATE SET high_seq = max(high_seq, excluded.high_seq)",
                       list(touched.items()))
        done += len(rows)
        since += len(rows)
        if side_every and since >= side_every:
            pass_started = time.time()
            db.execute("INSERT OR IGNORE INTO log_ident SELECT node_id, stream_key, seq, id FROM logs WHERE id > ? ORDER BY 1, 2, 3", (indexed_to,))
            db.execute("INSERT OR IGNORE INTO log_node_ts SELECT node_id, ts, id FROM logs WHERE id > ? ORDER BY 1, 2, 3", (indexed_to,))
            indexed_to = db.execute("SELECT max(id) FROM logs").fetchone()[0]
            since = 0
            db.execute("COMMIT")
            # With its commit: the WAL pages the pass dirtied are written then.
            passes.append(time.time() - pass_started)
            continue
        db.execute("COMMIT")
    elapsed = time.time() - started
    written = [int(l.split()[1]) for l in open("/proc/self/io") if l.startswith("write_bytes")][0] - written0
    print(f"{name:34s} {total / elapsed:9.0f} rows/s  {written / total:7.0f} bytes written per row", flush=True)
    if passes:
        print(f"{'':34s} last passes: " + ", ".join(f"{p:.2f} s" for p in passes[-3:]), flush=True)
    db.close()


total = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
if sys.argv[2:3] != ["2"]:
    run("schema 1: per-node indexes", SCHEMA1, total)
run("schema 2: side tables in bulk", SCHEMA2, total, side_every=100_000)
