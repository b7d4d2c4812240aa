-- The site's default options (JSON, shared::options::Options): where a check starts, and the
-- bounds of what a teacher may choose. `{}` is every option at its built-in default.
ALTER TABLE site_state ADD COLUMN default_options TEXT NOT NULL DEFAULT '{}';
