//! The site's settings (admins): the default options every check starts from, which also
//! bound what a teacher may choose.

use cohortsync_shared::api::SiteSettings;
use cohortsync_shared::options::Options;
use yew::prelude::*;

use crate::api;
use crate::components::OptionsForm;
use crate::hooks::use_ctx;
use crate::i18n::t;

/// Edit the site's default options.
#[function_component(SettingsPage)]
pub fn settings_page() -> Html {
    let ctx = use_ctx();
    let lang = ctx.lang;
    let options = use_state(|| None::<Result<Options, api::ApiError>>);
    let fixed = use_state(Vec::<String>::new);
    let saved = use_state(|| None::<Result<(), api::ApiError>>);
    {
        let (options, fixed) = (options.clone(), fixed.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let settings = api::settings().await;
                if let Ok(settings) = &settings {
                    fixed.set(settings.fixed_by_site.clone());
                }
                options.set(Some(settings.map(|s| s.options)));
            });
        });
    }
    if !ctx.me.as_ref().is_some_and(|m| m.is_admin()) {
        return html! { <section><h2>{ t(lang, "settings.title") }</h2><p>{ t(lang, "settings.admins") }</p></section> };
    }
    let on_change = {
        let (options, saved) = (options.clone(), saved.clone());
        Callback::from(move |o: Options| {
            saved.set(None);
            options.set(Some(Ok(o)));
        })
    };
    let on_submit = {
        let (options, saved, refresh) = (options.clone(), saved.clone(), ctx.refresh.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(Ok(current)) = (*options).clone() else {
                return;
            };
            let (saved, refresh) = (saved.clone(), refresh.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::save_settings(&SiteSettings {
                    options: current,
                    fixed_by_site: Vec::new(),
                    // The sync folder has its own page; left out, its settings stay.
                    sync: None,
                })
                .await;
                let ok = result.is_ok();
                saved.set(Some(result.map(drop)));
                if ok {
                    refresh.emit(()); // the new defaults come with the next snapshot
                }
            });
        })
    };
    html! {
        <section aria-labelledby="settings-title">
            <h2 id="settings-title">{ t(lang, "settings.title") }</h2>
            <p>{ t(lang, "settings.intro") }</p>
            { match &*options {
                None => html! { <p>{ t(lang, "loading") }</p> },
                Some(Err(e)) => html! { <p role="alert" class="error">{ e.describe() }</p> },
                Some(Ok(current)) => html! {
                    <form onsubmit={on_submit} data-testid="settings-form">
                        <OptionsForm options={current.clone()} on_change={on_change} admin=true site=true
                            unenrol_fixed={fixed.iter().any(|f| f == "unenrol_action")} />
                        // The server's own rule, told before saving.
                        if let Some(problem) = current.problem_as_site_defaults() {
                            <p role="alert" class="error" data-testid="settings-problem">{ problem }</p>
                        }
                        <button type="submit" data-testid="settings-save"
                            disabled={current.problem_as_site_defaults().is_some()}>{ t(lang, "settings.save") }</button>
                        { match &*saved {
                            Some(Ok(())) => html! { <p role="status" data-testid="settings-saved">{ t(lang, "settings.saved") }</p> },
                            Some(Err(e)) => html! { <p role="alert" class="error">{ e.describe() }</p> },
                            None => html! {},
                        } }
                    </form>
                },
            } }
        </section>
    }
}
