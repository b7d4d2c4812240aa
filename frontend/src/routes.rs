//! The app's routes: one per page.

use yew_router::prelude::*;

/// The app's pages.
#[derive(Debug, Clone, PartialEq, Routable)]
pub enum Route {
    /// Check a file (the home page).
    #[at("/")]
    Check,
    /// Sign in.
    #[at("/login")]
    Login,
    /// The changesets.
    #[at("/changesets")]
    Changesets,
    /// The cohorts.
    #[at("/cohorts")]
    Cohorts,
    /// One cohort.
    #[at("/cohorts/:id")]
    Cohort {
        /// Its id.
        id: i64,
    },
    /// The courses.
    #[at("/courses")]
    Courses,
    /// The site's settings (admins).
    #[at("/settings")]
    Settings,
    /// The sync folder's task (admins).
    #[at("/sync")]
    Sync,
    /// One changeset.
    #[at("/changesets/:id")]
    Changeset {
        /// Its id.
        id: i64,
    },
    /// Anything else.
    #[not_found]
    #[at("/404")]
    NotFound,
}
