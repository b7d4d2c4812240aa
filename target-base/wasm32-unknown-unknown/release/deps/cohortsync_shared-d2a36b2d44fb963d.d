/work/main/target-base/wasm32-unknown-unknown/release/deps/cohortsync_shared-d2a36b2d44fb963d.d: shared/src/lib.rs shared/src/api.rs shared/src/changeset.rs shared/src/check.rs shared/src/decode.rs shared/src/dry_run.rs shared/src/export.rs shared/src/folder.rs shared/src/formats/mod.rs shared/src/formats/binding_file.rs shared/src/formats/cohort_file.rs shared/src/formats/moodle_cohorts.rs shared/src/formats/moodle_courses.rs shared/src/formats/moodle_users.rs shared/src/model.rs shared/src/options.rs shared/src/report/mod.rs shared/src/report/diagnostic.rs shared/src/report/messages.rs shared/src/report/page.rs shared/src/report/text.rs shared/src/revert.rs shared/src/rules/mod.rs shared/src/rules/bindings.rs shared/src/rules/cohorts.rs shared/src/rules/limits.rs shared/src/rules/moodle_cohorts.rs shared/src/rules/moodle_courses.rs shared/src/rules/moodle_users.rs shared/src/snapshot.rs shared/src/snapshot/changes.rs shared/src/snapshot/compact.rs shared/src/snapshot/index.rs shared/src/sync.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libcohortsync_shared-d2a36b2d44fb963d.rlib: shared/src/lib.rs shared/src/api.rs shared/src/changeset.rs shared/src/check.rs shared/src/decode.rs shared/src/dry_run.rs shared/src/export.rs shared/src/folder.rs shared/src/formats/mod.rs shared/src/formats/binding_file.rs shared/src/formats/cohort_file.rs shared/src/formats/moodle_cohorts.rs shared/src/formats/moodle_courses.rs shared/src/formats/moodle_users.rs shared/src/model.rs shared/src/options.rs shared/src/report/mod.rs shared/src/report/diagnostic.rs shared/src/report/messages.rs shared/src/report/page.rs shared/src/report/text.rs shared/src/revert.rs shared/src/rules/mod.rs shared/src/rules/bindings.rs shared/src/rules/cohorts.rs shared/src/rules/limits.rs shared/src/rules/moodle_cohorts.rs shared/src/rules/moodle_courses.rs shared/src/rules/moodle_users.rs shared/src/snapshot.rs shared/src/snapshot/changes.rs shared/src/snapshot/compact.rs shared/src/snapshot/index.rs shared/src/sync.rs

/work/main/target-base/wasm32-unknown-unknown/release/deps/libcohortsync_shared-d2a36b2d44fb963d.rmeta: shared/src/lib.rs shared/src/api.rs shared/src/changeset.rs shared/src/check.rs shared/src/decode.rs shared/src/dry_run.rs shared/src/export.rs shared/src/folder.rs shared/src/formats/mod.rs shared/src/formats/binding_file.rs shared/src/formats/cohort_file.rs shared/src/formats/moodle_cohorts.rs shared/src/formats/moodle_courses.rs shared/src/formats/moodle_users.rs shared/src/model.rs shared/src/options.rs shared/src/report/mod.rs shared/src/report/diagnostic.rs shared/src/report/messages.rs shared/src/report/page.rs shared/src/report/text.rs shared/src/revert.rs shared/src/rules/mod.rs shared/src/rules/bindings.rs shared/src/rules/cohorts.rs shared/src/rules/limits.rs shared/src/rules/moodle_cohorts.rs shared/src/rules/moodle_courses.rs shared/src/rules/moodle_users.rs shared/src/snapshot.rs shared/src/snapshot/changes.rs shared/src/snapshot/compact.rs shared/src/snapshot/index.rs shared/src/sync.rs

shared/src/lib.rs:
shared/src/api.rs:
shared/src/changeset.rs:
shared/src/check.rs:
shared/src/decode.rs:
shared/src/dry_run.rs:
shared/src/export.rs:
shared/src/folder.rs:
shared/src/formats/mod.rs:
shared/src/formats/binding_file.rs:
shared/src/formats/cohort_file.rs:
shared/src/formats/moodle_cohorts.rs:
shared/src/formats/moodle_courses.rs:
shared/src/formats/moodle_users.rs:
shared/src/model.rs:
shared/src/options.rs:
shared/src/report/mod.rs:
shared/src/report/diagnostic.rs:
shared/src/report/messages.rs:
shared/src/report/page.rs:
shared/src/report/text.rs:
shared/src/revert.rs:
shared/src/rules/mod.rs:
shared/src/rules/bindings.rs:
shared/src/rules/cohorts.rs:
shared/src/rules/limits.rs:
shared/src/rules/moodle_cohorts.rs:
shared/src/rules/moodle_courses.rs:
shared/src/rules/moodle_users.rs:
shared/src/snapshot.rs:
shared/src/snapshot/changes.rs:
shared/src/snapshot/compact.rs:
shared/src/snapshot/index.rs:
shared/src/sync.rs:

# env-dep:CARGO_PKG_VERSION=0.1.0
