//! The options of a check (per file, or the site's defaults on the Settings page).

use cohortsync_shared::options::{
    CohortIdentifier, CourseIdentifier, DelimiterChoice, EncodingChoice, Mode, Options,
    RoleIdentifier, UnenrolAction, UserIdentifier,
};
use cohortsync_shared::report::Lang;
use serde_json::Value;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::hooks::use_ctx;
use crate::i18n::t;

/// What the options form shows and changes.
#[derive(Properties, PartialEq)]
pub struct OptionsFormProps {
    /// The options shown.
    pub options: Options,
    /// Called with the options after each change.
    pub on_change: Callback<Options>,
    /// An admin chooses the unenrol action and may override the limits.
    pub admin: bool,
    /// The site's defaults are edited (no override of the limits: that is per file).
    #[prop_or_default]
    pub site: bool,
    /// The unenrol action is the site's own setting (Moodle's), shown but not changed.
    #[prop_or_default]
    pub unenrol_fixed: bool,
}

/// An option's values named by their own wire names (identifiers are shown as they are).
fn named<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|&v| (name(v), name(v))).collect()
}

/// One select of an option, by its JSON key and values.
fn select(
    lang: Lang,
    json: &Value,
    key: &'static str,
    label: &'static str,
    values: &[(&'static str, &'static str)],
    on_set: &Callback<(&'static str, Value)>,
    locked: bool,
) -> Html {
    let current = json[key].as_str().unwrap_or("").to_owned();
    let onchange = {
        let on_set = on_set.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            on_set.emit((key, Value::String(select.value())));
        })
    };
    let id = format!("opt-{key}");
    html! {
        <div class="field">
            <label for={id.clone()}>{ t(lang, label) }</label>
            <select id={id} onchange={onchange} disabled={locked}>
                { for values.iter().map(|(value, text)| html! {
                    <option value={*value} selected={current == *value}>{ if text.contains('.') { t(lang, text) } else { text } }</option>
                }) }
            </select>
        </div>
    }
}

/// Every option of a check, starting from `options`.
#[function_component(OptionsForm)]
pub fn options_form(props: &OptionsFormProps) -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let json = serde_json::to_value(&props.options).unwrap_or(Value::Null);
    let on_set = {
        let (json, on_change) = (json.clone(), props.on_change.clone());
        Callback::from(move |(key, value): (&'static str, Value)| {
            let mut next = json.clone();
            next[key] = value;
            if let Ok(options) = serde_json::from_value(next) {
                on_change.emit(options);
            }
        })
    };
    let checkbox = |key: &'static str, label: &'static str| {
        let checked = json[key].as_bool().unwrap_or(false);
        let on_set = on_set.clone();
        let onchange = Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            on_set.emit((key, Value::Bool(input.checked())));
        });
        let id = format!("opt-{key}");
        html! {
            <div class="field check">
                <input id={id.clone()} type="checkbox" checked={checked} onchange={onchange} />
                <label for={id}>{ t(lang, label) }</label>
            </div>
        }
    };
    let number = |key: &'static str, label: &'static str| {
        let current = json[key]
            .as_f64()
            .map(|n| n.to_string())
            .unwrap_or_default();
        let on_set = on_set.clone();
        let onchange = Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            let value = input.value();
            let value = if value.trim().is_empty() {
                Value::Null
            } else if key == "max_removals_percent" {
                value.parse::<f64>().map_or(Value::Null, Value::from)
            } else {
                value.parse::<u64>().map_or(Value::Null, Value::from)
            };
            on_set.emit((key, value));
        });
        let id = format!("opt-{key}");
        html! {
            <div class="field">
                <label for={id.clone()}>{ t(lang, label) }</label>
                <input id={id} type="number" min="0" value={current} onchange={onchange} />
            </div>
        }
    };
    let text = |key: &'static str, label: &'static str| {
        let current = json[key].as_str().unwrap_or("").to_owned();
        let on_set = on_set.clone();
        let onchange = Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            on_set.emit((key, Value::String(input.value().trim().to_owned())));
        });
        let id = format!("opt-{key}");
        html! {
            <div class="field">
                <label for={id.clone()}>{ t(lang, label) }</label>
                <input id={id} type="text" value={current} onchange={onchange} />
            </div>
        }
    };
    html! {
        <details class="options" open=true>
            <summary>{ t(lang, "check.options") }</summary>
            <div class="grid">
                { select(lang, &json, "user_identifier", "opt.user", &named(UserIdentifier::ALL, UserIdentifier::as_str), &on_set, false) }
                { select(lang, &json, "cohort_identifier", "opt.cohort", &named(CohortIdentifier::ALL, CohortIdentifier::as_str), &on_set, false) }
                { select(lang, &json, "course_identifier", "opt.course", &named(CourseIdentifier::ALL, CourseIdentifier::as_str), &on_set, false) }
                { select(lang, &json, "role_identifier", "opt.role", &named(RoleIdentifier::ALL, RoleIdentifier::as_str), &on_set, false) }
                { select(lang, &json, "mode", "opt.mode", &[(Mode::Incremental.as_str(), "opt.mode.incremental"), (Mode::Full.as_str(), "opt.mode.full")], &on_set, false) }
                { select(lang, &json, "unenrol_action", "opt.unenrol", &[(UnenrolAction::Unenrol.as_str(), "opt.unenrol.unenrol"), (UnenrolAction::Suspend.as_str(), "opt.unenrol.suspend"), (UnenrolAction::SuspendAndRemoveRoles.as_str(), "opt.unenrol.suspend_and_remove_roles")], &on_set, !props.admin || props.unenrol_fixed) }
                if props.unenrol_fixed {
                    <p class="hint" data-testid="unenrol-fixed">{ t(lang, "opt.unenrol.moodle") }</p>
                }
                { select(lang, &json, "encoding", "opt.encoding", &[(EncodingChoice::Auto.as_str(), "opt.auto"), (EncodingChoice::Utf8.as_str(), "UTF-8"), (EncodingChoice::Utf16le.as_str(), "UTF-16 LE"), (EncodingChoice::Utf16be.as_str(), "UTF-16 BE"), (EncodingChoice::Windows1252.as_str(), "Windows-1252")], &on_set, false) }
                { select(lang, &json, "delimiter", "opt.delimiter", &[(DelimiterChoice::Auto.as_str(), "opt.auto"), (DelimiterChoice::Semicolon.as_str(), ";"), (DelimiterChoice::Comma.as_str(), ","), (DelimiterChoice::Tab.as_str(), "tab")], &on_set, false) }
                { checkbox("create_missing", "opt.create_missing") }
                { checkbox("cleanup_empty", "opt.cleanup_empty") }
                { number("max_removals", "opt.max_removals") }
                { number("max_removals_percent", "opt.max_removals_percent") }
                { number("min_rows", "opt.min_rows") }
                { text("default_category", "opt.default_category") }
                if props.admin && !props.site {
                    { checkbox("override_limits", "opt.override_limits") }
                }
            </div>
        </details>
    }
}
