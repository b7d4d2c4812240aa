//! The app's pages, one file each. They build on `crate::state`, `crate::hooks` and
//! `crate::components`, never on the root component.

mod changeset;
mod changesets;
mod check;
mod cohort;
mod cohorts;
mod courses;
mod login;
mod settings;
mod sync;

pub use changeset::ChangesetPage;
pub use changesets::ChangesetList;
pub use check::CheckPage;
pub use cohort::CohortPage;
pub use cohorts::CohortList;
pub use courses::CourseList;
pub use login::LoginPage;
pub use settings::SettingsPage;
pub use sync::SyncPage;
