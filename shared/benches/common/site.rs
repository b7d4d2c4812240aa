//! The benches' site: its users, the same in the native check bench and in the WASM one
//! (`shared/examples/wasm_bench.rs`), as the browser bench imports them.

use cohortsync_shared::snapshot::User;

/// `count` users with ids 1 to `count`: username `userN`, idnumber `E` and seven digits,
/// email `userN@univ.example`, every 97th suspended.
pub fn users(count: i64) -> Vec<User> {
    (1..=count)
        .map(|id| User {
            id,
            username: format!("user{id}"),
            idnumber: format!("E{id:07}"),
            email: format!("user{id}@univ.example"),
            firstname: "Prénom".into(),
            lastname: "Nom".into(),
            suspended: id % 97 == 0,
            hashes: None,
        })
        .collect()
}
