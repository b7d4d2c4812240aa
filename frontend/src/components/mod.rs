//! Components several pages use.

mod diagnostics;
mod dry_run;
mod options_form;
mod refusal;
mod snapshot_badge;

pub use diagnostics::Diagnostics;
pub use dry_run::{DryRunView, ROWS_SHOWN as DRY_RUN_ROWS_SHOWN};
pub use options_form::OptionsForm;
pub use refusal::refusal;
pub use snapshot_badge::SnapshotBadge;
