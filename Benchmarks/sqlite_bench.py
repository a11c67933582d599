"""What the SQLite replay scripts in this folder share: a fresh WAL database file
configured as the store's writer is (SQLiteDatabase.configureWriter)."""
import os, sqlite3, tempfile


def fresh_database(name, synchronous="FULL"):
    """Removes any earlier `name` (and its -wal and -shm) in the temporary directory and
    opens it anew in autocommit mode: WAL, the given synchronous, a 32 MiB cache."""
    path = os.path.join(tempfile.gettempdir(), name)
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("PRAGMA cache_size=-32768")
    return path, db
