-- API tokens get a scope and an expiry. `submit`: submit files and read one's own
-- changesets (a nightly export); `admin`: all the account may do. Tokens made before this
-- keep what they could do and expire 90 days after they were made.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
UPDATE api_tokens SET expires_at = created_at + 7776000;
-- A disabled account can neither sign in nor use its sessions and tokens.
ALTER TABLE accounts ADD COLUMN disabled_at BIGINT;
