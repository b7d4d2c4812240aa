//! Any bytes, any options: the rules never panic and their report adds up.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

static SNAPSHOT: LazyLock<cohortsync_shared::snapshot::Snapshot> =
    LazyLock::new(cohortsync_fuzz::snapshot);

fuzz_target!(|input: &[u8]| {
    let (options, file) = cohortsync_fuzz::options(input);
    cohortsync_fuzz::exercise(file, &options, &SNAPSHOT);
});
