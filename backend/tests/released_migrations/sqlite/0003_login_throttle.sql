-- Failed logins counted per client address and per (address, username), not per username:
-- a stranger's wrong passwords must never lock a person out. `blocked_until` is set when
-- an attempt is counted (before its password is checked), so parallel guesses cannot slip
-- past the count; rows expire once `updated_at` is old.
DROP TABLE login_failures;
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    blocked_until INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
