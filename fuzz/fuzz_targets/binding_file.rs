//! Course binding files: a binding header, then any bytes, with any options.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

static SNAPSHOT: LazyLock<cohortsync_shared::snapshot::Snapshot> =
    LazyLock::new(cohortsync_fuzz::snapshot);

const HEADER: &[u8] = b"cmd;cohort;course;role;makegroup;enrolstart;enrolend;name;status\n";

fuzz_target!(|input: &[u8]| {
    let (options, rest) = cohortsync_fuzz::options(input);
    let mut file = HEADER.to_vec();
    file.extend_from_slice(rest);
    cohortsync_fuzz::exercise(&file, &options, &SNAPSHOT);
});
