//! The store's own error: what the database said, or what the store found wrong with
//! what it read or was asked to write. Domain problems do not pose as driver errors.

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database answered with an error, or could not be reached.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A unique key refused a write: another row already has `value` as its `what`,
    /// written by someone else between the plan and the write.
    #[error("another {what} is already {value:?}")]
    Taken {
        /// What the key is: `cohort idnumber`, `binding`, `account name`…
        what: &'static str,
        /// The value that clashed.
        value: String,
    },
    /// A stored value cohortsync cannot read back (written by hand, or by a newer version).
    #[error("the stored {what} cannot be read: {reason}")]
    Unreadable {
        /// Which value.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A changeset refers to an object it does not create: a plan the rules did not make.
    #[error("the plan refers to {0}, which it does not create")]
    InvalidPlan(String),
    /// A write stopped on purpose half-way: the failure the atomicity tests inject.
    #[error("stopped on purpose after {0} operations (failure injection)")]
    Stopped(usize),
}

impl StoreError {
    /// `error` as [`StoreError::Taken`] when it is a unique-key violation, for the query
    /// that writes `what` = `value`; any other error as it is.
    pub fn taken(
        what: &'static str,
        value: impl Into<String>,
    ) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |error| match error.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::Taken {
                what,
                value: value.into(),
            },
            _ => StoreError::Database(error),
        }
    }

    /// A JSON column that does not parse.
    pub fn unreadable_json(what: &'static str) -> impl FnOnce(serde_json::Error) -> StoreError {
        move |error| StoreError::Unreadable {
            what,
            reason: error.to_string(),
        }
    }
}

/// The result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;
