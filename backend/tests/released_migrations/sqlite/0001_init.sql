-- cohortsync schema, SQLite. Mirrors Moodle's tables so admins recognise them.
-- Booleans and times are INTEGER (0/1, Unix seconds) so the same queries run on PostgreSQL.

CREATE TABLE site_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL,
    user_hash_key TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    idnumber TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    firstname TEXT NOT NULL DEFAULT '',
    lastname TEXT NOT NULL DEFAULT '',
    suspended INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE cohorts (
    id INTEGER PRIMARY KEY,
    idnumber TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    visible INTEGER NOT NULL DEFAULT 1,
    category TEXT NOT NULL DEFAULT '',
    component TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX cohorts_idnumber ON cohorts (idnumber) WHERE idnumber <> '';

CREATE TABLE cohort_members (
    cohort_id INTEGER NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (cohort_id, user_id)
);

CREATE TABLE courses (
    id INTEGER PRIMARY KEY,
    shortname TEXT NOT NULL UNIQUE,
    idnumber TEXT NOT NULL DEFAULT '',
    fullname TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT ''
);

CREATE TABLE roles (
    id INTEGER PRIMARY KEY,
    shortname TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT ''
);

CREATE TABLE course_groups (
    id INTEGER PRIMARY KEY,
    course_id INTEGER NOT NULL REFERENCES courses (id),
    name TEXT NOT NULL,
    idnumber TEXT NOT NULL DEFAULT '',
    UNIQUE (course_id, name)
);

CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES course_groups (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (group_id, user_id)
);

-- Moodle's cohort sync enrolment instance.
CREATE TABLE bindings (
    id INTEGER PRIMARY KEY,
    course_id INTEGER NOT NULL REFERENCES courses (id),
    cohort_id INTEGER NOT NULL REFERENCES cohorts (id),
    role_id INTEGER NOT NULL REFERENCES roles (id),
    group_id INTEGER REFERENCES course_groups (id),
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    enrolstart INTEGER,
    enrolend INTEGER,
    UNIQUE (course_id, cohort_id, role_id)
);

-- Derived from bindings and cohort membership; kept consistent on every apply.
CREATE TABLE enrolments (
    binding_id INTEGER NOT NULL REFERENCES bindings (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    role_removed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (binding_id, user_id)
);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'teacher')),
    created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE login_failures (
    username TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL
);

CREATE TABLE changesets (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES accounts (id),
    created_at INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    file_content BLOB NOT NULL,
    kind TEXT NOT NULL,
    options TEXT NOT NULL,
    report TEXT NOT NULL,
    plan TEXT NOT NULL,
    -- The plan's totals, so that lists need not read plans.
    totals TEXT NOT NULL,
    base_revision INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected', 'applied', 'failed', 'reverted')),
    reviewer_id INTEGER REFERENCES accounts (id),
    review_comment TEXT,
    reviewed_at INTEGER,
    applied_at INTEGER,
    applied_revision INTEGER,
    apply_report TEXT,
    -- Touched cohorts and bindings before and after the apply: what a revert checks and undoes.
    revert_data TEXT,
    reverts_id INTEGER REFERENCES changesets (id)
);
CREATE INDEX changesets_status ON changesets (status, id);
CREATE INDEX changesets_author ON changesets (author_id, id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    account_id INTEGER REFERENCES accounts (id),
    action TEXT NOT NULL,
    changeset_id INTEGER REFERENCES changesets (id),
    details TEXT NOT NULL DEFAULT ''
);
