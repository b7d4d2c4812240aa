//! A refused submission, as the page shows it.

use cohortsync_shared::report::Lang;
use yew::prelude::*;

use crate::api::ApiError;
use crate::i18n::t;

/// The server's refusal of a submitted file. A `422` carries the server's own check of the
/// file against the current site (the browser's snapshot may be older): its errors are
/// listed, with their lines, in the language the request asked for.
pub fn refusal(lang: Lang, error: &ApiError) -> Html {
    let report = match error {
        ApiError::Status {
            status: 422,
            details,
            ..
        } => serde_json::from_value::<cohortsync_shared::api::CheckOutput>(details.clone()).ok(),
        _ => None,
    };
    let Some(report) = report else {
        return html! { <p role="alert" class="error" data-testid="submit-error">
        { format!("{}: {}", t(lang, "submit.refused"), error.describe()) }</p> };
    };
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == cohortsync_shared::report::Severity::Error)
        .collect();
    html! {
        <div role="alert" class="error" data-testid="submit-error">
            <p>{ format!("{} {}", t(lang, "submit.refused.report"), errors.len()) }</p>
            <ul data-testid="submit-report">
                { for errors.iter().take(100).map(|d| html! {
                    <li data-line={d.line.to_string()} data-code={d.code.as_str()}>
                        { format!("{} {}: {}", t(lang, "col.line"), d.line, d.message) }</li>
                }) }
            </ul>
        </div>
    }
}
