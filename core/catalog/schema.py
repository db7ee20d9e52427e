"""The catalog's schema as numbered migrations (``PRAGMA user_version`` is the level).

Append a migration to change the schema; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: stores, sets, jobs
    """
    CREATE TABLE stores (
        name TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        path TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE TABLE sets (
        id TEXT PRIMARY KEY,
        store TEXT NOT NULL,
        store_type TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('full', 'incremental')),
        parent TEXT REFERENCES sets(id),
        created TEXT NOT NULL,
        path TEXT NOT NULL,
        files INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        stored_bytes INTEGER NOT NULL,
        manifest_sha256 TEXT NOT NULL,
        verified TEXT
    );
    CREATE INDEX sets_by_store ON sets(store, created);
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        operation TEXT NOT NULL,
        store TEXT NOT NULL,
        state TEXT NOT NULL,
        created TEXT NOT NULL,
        started TEXT,
        finished TEXT,
        bytes INTEGER NOT NULL DEFAULT 0,
        files INTEGER NOT NULL DEFAULT 0,
        set_id TEXT,
        warnings TEXT NOT NULL DEFAULT '[]',
        error TEXT
    );
    CREATE INDEX jobs_by_created ON jobs(created);
    """,
    # 2: each job's log, so history shows what a job did after the console is closed
    """
    ALTER TABLE jobs ADD COLUMN log TEXT NOT NULL DEFAULT '[]';
    """,
    # 3: the store's whole size at each set's point in time (an incremental set's own bytes are only the changes)
    """
    ALTER TABLE sets ADD COLUMN store_bytes INTEGER;
    """,
    # 4: which process ran each job (to close the records of killed ones) and when it held its mutex
    """
    ALTER TABLE jobs ADD COLUMN host TEXT;
    ALTER TABLE jobs ADD COLUMN pid INTEGER;
    ALTER TABLE jobs ADD COLUMN process_start TEXT;
    ALTER TABLE jobs ADD COLUMN holds TEXT NOT NULL DEFAULT '[]';
    CREATE INDEX jobs_by_state ON jobs(state);
    """,
    # 5: plans (saved, scheduled backups), each run of one, the plan that started each job; each store's
    # exclude rules, and what each job left out; retention: each store's policy, sets whose verify failed,
    # and the files of removed sets not yet deleted (a prune killed half-way)
    """
    CREATE TABLE plans (
        name TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        handled_slot TEXT NOT NULL
    );
    CREATE TABLE plan_runs (
        id TEXT PRIMARY KEY,
        plan TEXT NOT NULL,
        trigger TEXT NOT NULL,
        slot TEXT,
        started TEXT NOT NULL,
        finished TEXT,
        result TEXT,
        detail TEXT,
        host TEXT,
        pid INTEGER,
        process_start TEXT
    );
    CREATE INDEX plan_runs_by_plan ON plan_runs(plan, started);
    ALTER TABLE jobs ADD COLUMN plan TEXT;
    CREATE TABLE store_excludes (
        store TEXT PRIMARY KEY,
        rules TEXT NOT NULL
    );
    ALTER TABLE jobs ADD COLUMN excluded TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE sets ADD COLUMN damaged TEXT;
    CREATE TABLE store_retention (
        store TEXT PRIMARY KEY,
        policy TEXT NOT NULL
    );
    CREATE TABLE store_health (
        store TEXT PRIMARY KEY,
        warn_after TEXT,
        critical_after TEXT
    );
    CREATE TABLE pending_deletions (
        path TEXT PRIMARY KEY,
        set_id TEXT NOT NULL,
        since TEXT NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
