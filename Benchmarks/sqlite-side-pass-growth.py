#!/usr/bin/env python3
"""How many WAL pages a pass of the SQLite log side index writes as the side tables grow.

Why: under the 5-minute fleet the server's disk writes grew from about 40 to about 100 MB/s
(Benchmarks/README.md, seventh and eighth rounds). This replays the side index's pattern
alone: 10,000 nodes, 1,000-row ingest commits, and every `batch` rows a pass that inserts
the new rows' entries into `log_ident` and `log_node_ts` in steps by node range, as
SQLiteLogIndex does. After each step it reads the WAL's frame count with a PASSIVE
checkpoint, then empties the WAL (TRUNCATE), so each figure is exactly the pages that pass
wrote. It prints, every 1.5 M rows, the pages per pass, per stored row, and the side
tables' sizes in pages (dbstat); at the end, how long a node query's scan of the
unindexed tail takes at four tail lengths.

The finding: a pass rewrites about 2.5 pages per node and table once each node has a few
pages, whatever the pass's size. Its entries land in the middle of the tree, on pages
SQLite's balancing left full, so every node's page overflows and is rebalanced with its
siblings. Fewer, larger passes write fewer pages per row.

Usage: python3 Benchmarks/sqlite-side-pass-growth.py [rows] [batch] [steps]
  defaults 6,000,000 rows (the fleet's 5 minutes), batch 300,000, 20 steps
"""
import os, random, sqlite3, sys, time

from sqlite_bench import fresh_database

NODES = 10000
NAMES = [f"n-{random.Random(i).getrandbits(60):015x}"[:14] for i in range(NODES)]
SCHEMA = """
CREATE TABLE logs (id INTEGER PRIMARY KEY, node_id TEXT NOT NULL, stream_key TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, level INTEGER NOT NULL, text TEXT NOT NULL) STRICT;
CREATE TABLE log_ident (node_id TEXT NOT NULL, stream_key TEXT NOT NULL, seq INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (node_id, stream_key, seq)) STRICT, WITHOUT ROWID;
CREATE TABLE log_node_ts (node_id TEXT NOT NULL, ts INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (node_id, ts, id)) STRICT, WITHOUT ROWID;
"""

total = int(sys.argv[1]) if len(sys.argv) > 1 else 6_000_000
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 300_000
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 20

# NORMAL: the pages written are the point here, not the fsyncs.
path, db = fresh_database("dvic-side-pass-growth.db", synchronous="NORMAL")
db.execute("PRAGMA temp_store=MEMORY")
db.execute("PRAGMA wal_autocheckpoint=0")
db.executescript(SCHEMA)
checkpointer = sqlite3.connect(path, isolation_level=None)

ordered = sorted(NAMES)
size = (NODES + steps - 1) // steps
ends = [ordered[min(NODES - 1, (k + 1) * size - 1)] for k in range(steps)]
seq = [0] * NODES
node, ts, done, indexed_to = 0, 1_700_000_000_000, 0, 0
print(f"batch {batch:,} rows, {steps} steps", flush=True)
while done < total:
    for _ in range(batch // 1000):
        rows = []
        for _ in range(1000):
            seq[node] += 1
            ts += 1
            done += 1
            rows.append((done, NAMES[node], "demo:loadtest", seq[node], ts, 2, "x" * 150))
            node = (node + 1) % NODES
        db.execute("BEGIN")
        db.executemany("INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
    checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    pages, after = 0, ""
    for end in ends:
        db.execute("BEGIN")
        db.execute("INSERT INTO log_ident SELECT node_id, stream_key, seq, id FROM logs WHERE id > ? AND node_id > ? AND node_id <= ? ORDER BY 1, 2, 3",
                   (indexed_to, after, end))
        db.execute("INSERT INTO log_node_ts SELECT node_id, ts, id FROM logs WHERE id > ? AND node_id > ? AND node_id <= ? ORDER BY 1, 2, 3",
                   (indexed_to, after, end))
        db.execute("COMMIT")
        after = end
        pages += checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0][1]
        checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    indexed_to = done
    if done % 1_500_000 < batch:
        sizes = dict(db.execute("SELECT name, count(*) FROM dbstat WHERE name IN ('log_ident', 'log_node_ts') GROUP BY name").fetchall())
        print(f"{done:>10,} rows: {pages:>6,} WAL pages for the last pass, {pages / batch:.3f} a row;"
              f" side tables {sizes.get('log_ident', 0):,} + {sizes.get('log_node_ts', 0):,} pages", flush=True)

# The other side of the trade: a node query scans the unindexed tail, up to twice the
# batch while a pass runs (searchLogs' tail part, as the store words it).
newest = db.execute("SELECT max(id) FROM logs").fetchone()[0]
node_id = db.execute("SELECT node_id FROM logs WHERE id = ?", (newest,)).fetchone()[0]
for tail in (100_000, 200_000, 300_000, 600_000):
    times = []
    for _ in range(3):
        started = time.perf_counter()
        db.execute("SELECT id, node_id, stream_key, seq, ts, level, text FROM logs NOT INDEXED WHERE id > ? AND node_id IN (?)"
                   " ORDER BY ts DESC, id DESC LIMIT 100", (newest - tail, node_id)).fetchall()
        times.append(time.perf_counter() - started)
    print(f"a node's tail query over {tail:,} rows: {sorted(times)[1] * 1000:.0f} ms (median of 3)", flush=True)
db.close()
checkpointer.close()
os.remove(path)
