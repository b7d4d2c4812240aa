//! The options of a check (per file, or the site's defaults on the Settings page).

use cohortsync_shared::options::Options;
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
    html! {
        <details class="options" open=true>
            <summary>{ t(lang, "check.options") }</summary>
            <div class="grid">
                { select(lang, &json, "user_identifier", "opt.user", &[("idnumber", "idnumber"), ("username", "username"), ("email", "email"), ("id", "id")], &on_set, false) }
                { select(lang, &json, "cohort_identifier", "opt.cohort", &[("idnumber", "idnumber"), ("name", "name"), ("id", "id")], &on_set, false) }
                { select(lang, &json, "course_identifier", "opt.course", &[("shortname", "shortname"), ("idnumber", "idnumber"), ("id", "id")], &on_set, false) }
                { select(lang, &json, "role_identifier", "opt.role", &[("shortname", "shortname"), ("id", "id")], &on_set, false) }
                { select(lang, &json, "mode", "opt.mode", &[("incremental", "opt.mode.incremental"), ("full", "opt.mode.full")], &on_set, false) }
                { select(lang, &json, "unenrol_action", "opt.unenrol", &[("unenrol", "opt.unenrol.unenrol"), ("suspend", "opt.unenrol.suspend"), ("suspend_and_remove_roles", "opt.unenrol.suspend_and_remove_roles")], &on_set, !props.admin) }
                { select(lang, &json, "encoding", "opt.encoding", &[("auto", "opt.auto"), ("utf8", "UTF-8"), ("utf16le", "UTF-16 LE"), ("utf16be", "UTF-16 BE"), ("windows1252", "Windows-1252")], &on_set, false) }
                { select(lang, &json, "delimiter", "opt.delimiter", &[("auto", "opt.auto"), ("semicolon", ";"), ("comma", ","), ("tab", "tab")], &on_set, false) }
                { checkbox("create_missing", "opt.create_missing") }
                { checkbox("cleanup_empty", "opt.cleanup_empty") }
                { number("max_removals", "opt.max_removals") }
                { number("max_removals_percent", "opt.max_removals_percent") }
                { number("min_rows", "opt.min_rows") }
                if props.admin && !props.site {
                    { checkbox("override_limits", "opt.override_limits") }
                }
            </div>
        </details>
    }
}
