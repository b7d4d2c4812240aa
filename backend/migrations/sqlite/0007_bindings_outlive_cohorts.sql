-- A binding outlives its cohort: under Moodle's suspend actions, deleting a bound cohort
-- keeps its bindings, disabled, pointing at the cohort that no longer exists (FACTS.md §5,
-- cases 08 and 18). So bindings.cohort_id no longer references cohorts.
--
-- SQLite cannot drop a constraint: the table is rebuilt. Enrolments reference bindings
-- with ON DELETE CASCADE, so they are copied aside first (dropping bindings under them
-- would delete them) and put back, unchanged, after.
CREATE TABLE enrolments_copy AS
    SELECT binding_id, user_id, status, role_removed FROM enrolments;
DROP TABLE enrolments;

CREATE TABLE bindings_new (
    id INTEGER PRIMARY KEY,
    course_id INTEGER NOT NULL REFERENCES courses (id),
    cohort_id INTEGER NOT NULL,
    role_id INTEGER NOT NULL REFERENCES roles (id),
    group_id INTEGER REFERENCES course_groups (id),
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    enrolstart INTEGER,
    enrolend INTEGER,
    UNIQUE (course_id, cohort_id, role_id)
);
INSERT INTO bindings_new (id, course_id, cohort_id, role_id, group_id, name, status,
                          enrolstart, enrolend)
    SELECT id, course_id, cohort_id, role_id, group_id, name, status, enrolstart, enrolend
    FROM bindings;
DROP TABLE bindings;
ALTER TABLE bindings_new RENAME TO bindings;

CREATE TABLE enrolments (
    binding_id INTEGER NOT NULL REFERENCES bindings (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    role_removed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (binding_id, user_id)
);
INSERT INTO enrolments (binding_id, user_id, status, role_removed)
    SELECT binding_id, user_id, status, role_removed FROM enrolments_copy;
DROP TABLE enrolments_copy;
