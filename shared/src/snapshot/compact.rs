//! The compact JSON form of a teacher's snapshot.
//!
//! A teacher's snapshot is mostly keyed hashes, which do not compress: written as one JSON
//! object per user with three hex strings, 50,000 users took 2.4 MB gzip. The compact form
//! writes the users as columns instead, the hashes in base64, one after the other, and each
//! cohort's members as the differences between consecutive ids, which gzip packs well:
//!
//! ```json
//! {"users": {"ids": [3, 1, 1], "suspended": [2], "hash_bits": 48,
//!            "username": "q83vEjRW.........", "idnumber": "…", "email": "…"},
//!  "cohorts": [{"id": 1, "idnumber": "COH001", …, "member_deltas": [3, 2]}]}
//! ```
//!
//! - `ids`: each user's id minus the previous user's (the first minus 0);
//! - `suspended`: the positions (in `ids`) of the suspended users;
//! - `username`, `idnumber`, `email`: each user's hash of that identifier, `hash_bits` bits in
//!   base64 without padding (8 characters for 48 bits), in the users' order; a user without
//!   that identifier has as many dots;
//! - `member_deltas`: the members' ids as differences, like `ids`.
//!
//! Reading accepts both forms, so a snapshot cached before this form existed still reads;
//! an admin's snapshot is always written in the plain form (it is the documented one).

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::{Cohort, Snapshot, User, UserHashes};

/// What a hash column holds for a user without that identifier: a character base64 never
/// writes, repeated to the column's width.
const NO_HASH: u8 = b'.';

/// A teacher snapshot's users, as columns.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct UserColumns {
    ids: Vec<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suspended: Vec<usize>,
    hash_bits: usize,
    username: String,
    idnumber: String,
    email: String,
}

/// Characters of one hash of `bytes` bytes in base64 without padding.
fn base64_width(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

fn hex_to_bytes(hex: &str, out: &mut Vec<u8>) -> Option<()> {
    out.clear();
    for pair in hex.as_bytes().chunks(2) {
        let pair = std::str::from_utf8(pair).ok()?;
        out.push(u8::from_str_radix(pair, 16).ok()?);
    }
    Some(())
}

impl UserColumns {
    /// The columns of `users`, if they fit them: every user hashed, with no clear field
    /// left, and every hash hex of one length. `None` otherwise (the plain form is then
    /// written, which holds anything).
    fn of(users: &[User]) -> Option<UserColumns> {
        let digits = users
            .iter()
            .filter_map(|u| u.hashes.as_ref())
            .flat_map(|h| [&h.username, &h.idnumber, &h.email])
            .map(|h| h.len())
            .find(|&len| len > 0)
            .unwrap_or(super::USER_HASH_HEX);
        if digits == 0 || !digits.is_multiple_of(2) {
            return None;
        }
        let width = base64_width(digits / 2);
        let mut columns = UserColumns {
            ids: Vec::with_capacity(users.len()),
            hash_bits: digits * 4,
            username: String::with_capacity(users.len() * width),
            idnumber: String::with_capacity(users.len() * width),
            email: String::with_capacity(users.len() * width),
            ..UserColumns::default()
        };
        let mut bytes = Vec::with_capacity(digits / 2);
        let mut previous = 0i64;
        for (index, user) in users.iter().enumerate() {
            let hashes = user.hashes.as_ref()?;
            let clear = [
                &user.username,
                &user.idnumber,
                &user.email,
                &user.firstname,
                &user.lastname,
            ];
            if clear.iter().any(|field| !field.is_empty()) {
                return None;
            }
            for (hash, column) in [
                (&hashes.username, &mut columns.username),
                (&hashes.idnumber, &mut columns.idnumber),
                (&hashes.email, &mut columns.email),
            ] {
                if hash.is_empty() {
                    column.extend(std::iter::repeat_n(NO_HASH as char, width));
                } else if hash.len() == digits {
                    hex_to_bytes(hash, &mut bytes)?;
                    STANDARD_NO_PAD.encode_string(&bytes, column);
                } else {
                    return None;
                }
            }
            columns.ids.push(user.id.wrapping_sub(previous));
            previous = user.id;
            if user.suspended {
                columns.suspended.push(index);
            }
        }
        Some(columns)
    }

    /// The users these columns describe, their hashes in hex as everywhere else.
    fn into_users(self) -> Result<Vec<User>, String> {
        if self.hash_bits == 0 || !self.hash_bits.is_multiple_of(8) || self.hash_bits > 256 {
            return Err(format!(
                "user columns: hash_bits {} is not a whole number of bytes up to 256 bits",
                self.hash_bits
            ));
        }
        let bytes = self.hash_bits / 8;
        let width = base64_width(bytes);
        let count = self.ids.len();
        for (name, column) in [
            ("username", &self.username),
            ("idnumber", &self.idnumber),
            ("email", &self.email),
        ] {
            if column.len() != count * width {
                return Err(format!(
                    "user columns: {name} holds {} characters, {count} users of {width} were expected",
                    column.len()
                ));
            }
        }
        let hex = |column: &str, index: usize, decoded: &mut Vec<u8>| -> Result<String, String> {
            let cell = &column.as_bytes()[index * width..(index + 1) * width];
            if cell.iter().all(|&b| b == NO_HASH) {
                return Ok(String::new());
            }
            decoded.clear();
            STANDARD_NO_PAD
                .decode_vec(cell, decoded)
                .map_err(|e| format!("user columns: user {index}'s hash: {e}"))?;
            let mut text = String::with_capacity(bytes * 2);
            for b in decoded.iter() {
                use std::fmt::Write;
                let _ = write!(text, "{b:02x}");
            }
            Ok(text)
        };
        let mut decoded = Vec::with_capacity(bytes);
        let mut users = Vec::with_capacity(count);
        let mut id = 0i64;
        for (index, delta) in self.ids.iter().enumerate() {
            id = id.wrapping_add(*delta);
            users.push(User {
                id,
                hashes: Some(UserHashes {
                    username: hex(&self.username, index, &mut decoded)?,
                    idnumber: hex(&self.idnumber, index, &mut decoded)?,
                    email: hex(&self.email, index, &mut decoded)?,
                }),
                ..User::default()
            });
        }
        for &index in &self.suspended {
            users
                .get_mut(index)
                .ok_or_else(|| format!("user columns: suspended user {index} of {count}"))?
                .suspended = true;
        }
        Ok(users)
    }
}

/// Reads a snapshot's `users`: a list of users, or a teacher snapshot's columns.
pub(super) fn deserialize_users<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<User>, D::Error> {
    struct Users;
    impl<'de> Visitor<'de> for Users {
        type Value = Vec<User>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of users, or a teacher snapshot's user columns")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<User>, A::Error> {
            let mut users = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(user) = seq.next_element()? {
                users.push(user);
            }
            Ok(users)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<User>, A::Error> {
            UserColumns::deserialize(de::value::MapAccessDeserializer::new(map))?
                .into_users()
                .map_err(de::Error::custom)
        }
    }
    deserializer.deserialize_any(Users)
}

/// Ids written as differences from the one before.
struct Deltas<'a>(&'a [i64]);

impl Serialize for Deltas<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        let mut previous = 0i64;
        for &id in self.0 {
            seq.serialize_element(&id.wrapping_sub(previous))?;
            previous = id;
        }
        seq.end()
    }
}

fn undelta(deltas: &mut [i64]) {
    let mut id = 0i64;
    for delta in deltas {
        id = id.wrapping_add(*delta);
        *delta = id;
    }
}

/// A cohort in the compact form: its members as differences.
struct CompactCohort<'a>(&'a Cohort);

impl Serialize for CompactCohort<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Cohort {
            id,
            idnumber,
            name,
            description,
            visible,
            category,
            component,
            members,
        } = self.0;
        let mut st = serializer.serialize_struct("Cohort", 8)?;
        st.serialize_field("id", id)?;
        st.serialize_field("idnumber", idnumber)?;
        st.serialize_field("name", name)?;
        st.serialize_field("description", description)?;
        st.serialize_field("visible", visible)?;
        if category.is_empty() {
            st.skip_field("category")?;
        } else {
            st.serialize_field("category", category)?;
        }
        st.serialize_field("component", component)?;
        st.serialize_field("member_deltas", &Deltas(members))?;
        st.end()
    }
}

struct CompactCohorts<'a>(&'a [Cohort]);

impl Serialize for CompactCohorts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(CompactCohort))
    }
}

/// A cohort as read: its members plain, or as differences (the compact form).
#[derive(Deserialize)]
#[serde(default)]
pub(super) struct CohortWire {
    id: i64,
    idnumber: String,
    name: String,
    description: String,
    visible: bool,
    category: String,
    component: String,
    members: Vec<i64>,
    member_deltas: Option<Vec<i64>>,
}

impl Default for CohortWire {
    fn default() -> Self {
        let Cohort {
            id,
            idnumber,
            name,
            description,
            visible,
            category,
            component,
            members,
        } = Cohort::default();
        CohortWire {
            id,
            idnumber,
            name,
            description,
            visible,
            category,
            component,
            members,
            member_deltas: None,
        }
    }
}

impl From<CohortWire> for Cohort {
    fn from(wire: CohortWire) -> Cohort {
        let members = match wire.member_deltas {
            Some(mut deltas) => {
                undelta(&mut deltas);
                deltas
            }
            None => wire.members,
        };
        Cohort {
            id: wire.id,
            idnumber: wire.idnumber,
            name: wire.name,
            description: wire.description,
            visible: wire.visible,
            category: wire.category,
            component: wire.component,
            members,
        }
    }
}

impl Serialize for Snapshot {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Destructured so that a new field cannot be forgotten here.
        let Snapshot {
            revision,
            user_hash_key,
            users,
            cohorts,
            courses,
            categories,
            roles,
            groups,
            bindings,
            defaults,
            enrolments,
        } = self;
        let columns = user_hash_key.as_ref().and_then(|_| UserColumns::of(users));
        let mut st = serializer.serialize_struct("Snapshot", 11)?;
        st.serialize_field("revision", revision)?;
        match user_hash_key {
            Some(key) => st.serialize_field("user_hash_key", key)?,
            None => st.skip_field("user_hash_key")?,
        }
        match &columns {
            Some(columns) => {
                st.serialize_field("users", columns)?;
                st.serialize_field("cohorts", &CompactCohorts(cohorts))?;
            }
            None => {
                st.serialize_field("users", users)?;
                st.serialize_field("cohorts", cohorts)?;
            }
        }
        st.serialize_field("courses", courses)?;
        if categories.is_empty() {
            st.skip_field("categories")?;
        } else {
            st.serialize_field("categories", categories)?;
        }
        st.serialize_field("roles", roles)?;
        st.serialize_field("groups", groups)?;
        st.serialize_field("bindings", bindings)?;
        st.serialize_field("defaults", defaults)?;
        st.serialize_field("enrolments", enrolments)?;
        st.end()
    }
}
