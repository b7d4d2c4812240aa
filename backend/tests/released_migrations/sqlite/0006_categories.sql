-- Course categories of the embedded site (Moodle's course_categories): where cohorts may
-- live; a Moodle cohort upload file names them by path, id or idnumber.
CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    idnumber TEXT NOT NULL DEFAULT '',
    -- The parent category's id; 0 at the top.
    parent INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX categories_idnumber ON categories (idnumber) WHERE idnumber <> '';
