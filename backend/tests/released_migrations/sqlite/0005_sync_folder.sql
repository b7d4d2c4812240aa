-- The sync folder (scheduled files from the student information system).

-- Its settings (JSON, shared::folder::SyncSettings): `{}` is every setting at its default.
ALTER TABLE site_state ADD COLUMN sync_settings TEXT NOT NULL DEFAULT '{}';

-- Where admins are mailed when a scheduled file needs them ('' = no mail).
ALTER TABLE accounts ADD COLUMN email TEXT NOT NULL DEFAULT '';

-- A changeset made from a dropped or pushed file: the SHA-256 of the file as it came (the
-- changeset may keep only its rows without errors), so that the same file is never
-- applied twice, and why it waits for an admin (errors, limit, policy) when it does.
ALTER TABLE changesets ADD COLUMN source_sha256 TEXT;
ALTER TABLE changesets ADD COLUMN waiting_reason TEXT;
CREATE INDEX changesets_source ON changesets (source_sha256);

-- What each run of the task did with each file it looked at (the Sync page's history).
CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    -- schedule | manual (the Sync page, the CLI)
    run_by TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL DEFAULT '',
    -- applied | waiting | already_applied | nothing_planned | failed | unreadable
    outcome TEXT NOT NULL,
    waiting_reason TEXT,
    message TEXT NOT NULL DEFAULT '',
    changeset_id INTEGER REFERENCES changesets (id),
    archive TEXT NOT NULL DEFAULT '',
    report TEXT NOT NULL DEFAULT '',
    tryback TEXT NOT NULL DEFAULT ''
);
