//! The web app in a real browser: headless Chromium against the real binary on SQLite.

use cohortsync_e2e::{Browser, Server};
use fantoccini::Locator;

const USERS: &str = "username;idnumber;email;firstname;lastname\n\
jdupont;U0001;jean.dupont@univ.example;Jean;Dupont\n\
mmartin;U0002;marie.martin@univ.example;Marie;Martin\n";

const BROKEN: &str = "cmd;cname;userid;cidnumber\n\
add;L2 Pharmacie;U0001;COH001\n\
# a comment line still counts\n\
del;L2 Pharmacie;U0404;COH001\n\
remove;L2 Pharmacie;U0002;COH001\n";

const GOOD: &str = "cmd;cname;userid;cidnumber\n\
add;L2 Pharmacie;U0001;COH001\n\
add;L2 Pharmacie;U0002;COH001\n";

/// axe-core finds no accessibility violation on the page as it is now.
async fn accessible(browser: &Browser, page: &str) -> anyhow::Result<()> {
    let violations = browser.accessibility_violations().await?;
    assert!(violations.is_empty(), "{page}: {violations:#?}");
    Ok(())
}

async fn sign_in(
    browser: &Browser,
    server: &Server,
    name: &str,
    password: &str,
) -> anyhow::Result<()> {
    browser.client.goto(&server.at("/login")).await?;
    browser.wait_for("#username").await?;
    accessible(browser, "login").await?;
    browser.wait_for("#username").await?.send_keys(name).await?;
    browser
        .wait_for("#password")
        .await?
        .send_keys(password)
        .await?;
    browser
        .client
        .find(Locator::Css("form.login button[type=submit]"))
        .await?
        .click()
        .await?;
    let who = browser.wait_for("[data-testid=whoami]").await?;
    assert!(who.text().await?.contains(name));
    Ok(())
}

/// Clicks "Sign out" in the header.
async fn sign_out(browser: &Browser) -> anyhow::Result<()> {
    browser.wait_for("header nav button").await?;
    for button in browser
        .client
        .find_all(Locator::Css("header nav button"))
        .await?
    {
        if button.text().await? == "Sign out" {
            button.click().await?;
            return Ok(());
        }
    }
    anyhow::bail!("no Sign out button in the header")
}

async fn drop_file(
    browser: &Browser,
    dir: &std::path::Path,
    name: &str,
    text: &str,
) -> anyhow::Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    browser
        .wait_for("[data-testid=file-input]")
        .await?
        .send_keys(path.to_str().unwrap_or_default())
        .await?;
    Ok(())
}

async fn revision(browser: &Browser) -> anyhow::Result<String> {
    let badge = browser
        .wait_for("[data-testid=snapshot-badge][data-revision]")
        .await?;
    Ok(badge.attr("data-revision").await?.unwrap_or_default())
}

/// Waits until the snapshot badge shows a revision other than `old`.
async fn revision_after(browser: &Browser, old: &str) -> anyhow::Result<String> {
    for _ in 0..100 {
        let now = revision(browser).await?;
        if !now.is_empty() && now != old {
            return Ok(now);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("the snapshot revision stayed {old}")
}

#[tokio::test]
async fn teacher_checks_and_submits_admin_approves_and_applies() -> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;
    server
        .cli(
            &["account", "add", "prof", "--role", "teacher"],
            "teacher-password\n",
        )
        .await?;
    server
        .cli(
            &["account", "add", "admin", "--role", "admin"],
            "admin-password\n",
        )
        .await?;
    let dir = tempfile::tempdir()?;
    server.import("users", USERS).await?;
    server
        .import(
            "courses",
            "shortname,fullname,idnumber\nPHARMA-L2,Pharmacie L2,\n",
        )
        .await?;
    let browser = Browser::start().await?;

    sign_in(&browser, &server, "prof", "teacher-password").await?;
    let first = revision_after(&browser, "").await?;

    // A broken file: every problem with its physical line (the comment line counts).
    drop_file(&browser, dir.path(), "broken.csv", BROKEN).await?;
    browser
        .wait_for("[data-testid=summary][data-ok=false]")
        .await?;
    let rows = browser
        .client
        .find_all(Locator::Css("[data-testid=diagnostics] tbody tr"))
        .await?;
    let mut found = Vec::new();
    for row in rows {
        found.push((
            row.attr("data-line").await?.unwrap_or_default(),
            row.attr("data-code").await?.unwrap_or_default(),
        ));
    }
    assert_eq!(
        found,
        [
            ("4".to_owned(), "user_not_found".to_owned()),
            ("5".to_owned(), "invalid_command".to_owned())
        ]
    );
    let original = browser
        .wait_for("[data-testid=diagnostics] tr[data-line='4'] .original")
        .await?;
    assert_eq!(original.text().await?, "del;L2 Pharmacie;U0404;COH001");
    accessible(&browser, "check page with errors").await?;

    // The annotated copy: original columns, status and messages, formulas neutralised.
    browser
        .wait_for("[data-testid=download]")
        .await?
        .click()
        .await?;
    let annotated = browser.downloads().join("broken-checked.csv");
    for _ in 0..100 {
        if annotated.is_file() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let text = std::fs::read_to_string(&annotated)?;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "\u{feff}# cohorts: cohort file");
    assert_eq!(lines[1], "cmd;cname;userid;cidnumber;status;messages");
    assert_eq!(lines[2], "add;L2 Pharmacie;U0001;COH001;ok;");
    assert!(
        lines[3].starts_with("del;L2 Pharmacie;U0404;COH001;error;No user has idnumber"),
        "{}",
        lines[3]
    );

    // A good file: the dry run names the new cohort and who joins it.
    drop_file(&browser, dir.path(), "good.csv", GOOD).await?;
    browser
        .wait_for("[data-testid=summary][data-ok=true]")
        .await?;
    let cohort = browser
        .wait_for("[data-testid=dry-cohorts] tr[data-cohort=COH001]")
        .await?;
    let text = cohort.text().await?;
    assert!(
        text.contains("L2 Pharmacie") && text.contains("+2"),
        "{text}"
    );
    // A teacher's snapshot has no names: people are told by the file's own identifiers.
    assert!(
        text.contains("U0001") && text.contains("U0002") && !text.contains("#1"),
        "{text}"
    );
    accessible(&browser, "check page with a dry run").await?;

    // In French, the same file's messages come from the same codes, in French.
    browser
        .client
        .find(Locator::XPath("//nav/button[@lang='fr']"))
        .await?
        .click()
        .await?;
    drop_file(&browser, dir.path(), "broken-again.csv", BROKEN).await?;
    let message = browser
        .wait_for("[data-testid=diagnostics] tr[data-line='4'] td:nth-child(6)")
        .await?;
    assert_eq!(
        message.text().await?,
        "Aucun utilisateur n’a idnumber « U0404 »."
    );
    browser
        .client
        .find(Locator::XPath("//nav/button[@lang='en']"))
        .await?
        .click()
        .await?;
    drop_file(&browser, dir.path(), "good-again.csv", GOOD).await?;
    browser
        .wait_for("[data-testid=summary][data-ok=true]")
        .await?;

    browser
        .wait_for("[data-testid=submit]")
        .await?
        .click()
        .await?;
    let submitted = browser.wait_for("[data-testid=submitted] a").await?;
    let link = submitted.attr("href").await?.unwrap_or_default();
    assert_eq!(link, "/changesets/1");

    // The admin approves and applies it.
    sign_out(&browser).await?;
    sign_in(&browser, &server, "admin", "admin-password").await?;
    // The stored plan, told per cohort against the admin's snapshot.
    browser.client.goto(&server.at("/changesets/1")).await?;
    let planned = browser
        .wait_for("[data-testid=plan] [data-testid=dry-cohorts] tr[data-cohort=COH001]")
        .await?
        .text()
        .await?;
    assert!(
        planned.contains("L2 Pharmacie") && planned.contains("+2"),
        "{planned}"
    );
    assert!(
        planned.contains("Jean Dupont"),
        "the admin reads names: {planned}"
    );
    approve_and_apply(&browser, &server, 1).await?;

    browser.client.goto(&server.at("/changesets")).await?;
    browser
        .wait_for("[data-testid=changesets] tr[data-status=applied]")
        .await?;
    accessible(&browser, "changesets list").await?;
    // An admin filters by author: nobody has none; the teacher has this one.
    let author = browser.wait_for("[data-testid=author-filter]").await?;
    author.send_keys("nobody\u{E007}").await?;
    browser.wait_for("[data-testid=changesets-empty]").await?;
    author.clear().await?;
    author.send_keys("prof\u{E007}").await?;
    browser
        .wait_for("[data-testid=changesets] tr[data-id='1']")
        .await?;

    // The snapshot the app holds moves to the new revision.
    let after = revision_after(&browser, &first).await?;
    assert!(
        after.parse::<u64>()? > first.parse::<u64>()?,
        "{first} → {after}"
    );

    // Browsing: the new cohort, its page, and binding it to a course by hand.
    browser.client.goto(&server.at("/cohorts")).await?;
    browser
        .wait_for("[data-testid=cohorts] tr[data-cohort=COH001] a")
        .await?
        .click()
        .await?;
    let members = browser.wait_for("[data-testid=members]").await?;
    assert_eq!(members.text().await?, "Jean Dupont\nMarie Martin");
    accessible(&browser, "cohort detail").await?;
    // A custom name with the file's delimiter in it, and created disabled.
    browser
        .wait_for("#bind-name")
        .await?
        .send_keys("Pharmacie; TD du soir")
        .await?;
    browser.wait_for("#bind-active").await?.click().await?;
    browser
        .wait_for("[data-testid=bind-submit]")
        .await?
        .click()
        .await?;
    let bound = browser.wait_for("[data-testid=bind-submitted] a").await?;
    assert_eq!(bound.attr("href").await?.as_deref(), Some("/changesets/2"));
    approve_and_apply(&browser, &server, 2).await?;
    revision_after(&browser, &after).await?;
    browser.client.goto(&server.at("/cohorts")).await?;
    browser
        .wait_for("[data-testid=cohorts] tr[data-cohort=COH001] a")
        .await?
        .click()
        .await?;
    let binding = browser
        .wait_for("[data-testid=bindings] tbody tr")
        .await?
        .text()
        .await?;
    assert!(
        binding.contains("Pharmacie; TD du soir") && binding.ends_with("disabled"),
        "{binding}"
    );
    // The admin changes their mind: the binding changeset is reverted.
    browser.client.goto(&server.at("/changesets/2")).await?;
    browser
        .wait_for("[data-testid=revert]")
        .await?
        .click()
        .await?;
    browser
        .wait_for("[data-testid=status][data-status=reverted]")
        .await?;
    browser.client.goto(&server.at("/cohorts")).await?;
    browser
        .wait_for("[data-testid=cohorts] tr[data-cohort=COH001]")
        .await?;
    accessible(&browser, "cohorts").await?;
    browser.client.goto(&server.at("/courses")).await?;
    browser
        .wait_for("[data-testid=courses] tr[data-course=PHARMA-L2]")
        .await?;
    accessible(&browser, "courses").await?;

    browser.close().await?;
    server.stop().await
}

/// The `data-line` of each row of the diagnostics table.
async fn diagnostic_lines(browser: &Browser) -> anyhow::Result<Vec<u32>> {
    let mut lines = Vec::new();
    for row in browser
        .client
        .find_all(Locator::Css("[data-testid=diagnostics] tbody tr"))
        .await?
    {
        lines.push(row.attr("data-line").await?.unwrap_or_default().parse()?);
    }
    Ok(lines)
}

/// Waits until the pager says `text`.
async fn page_status(browser: &Browser, text: &str) -> anyhow::Result<()> {
    let status = browser.wait_for("[data-testid=page-status]").await?;
    for _ in 0..100 {
        if status.text().await? == text {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("the pager says {:?}, not {text:?}", status.text().await?)
}

/// A server with two users and a teacher, `prof`, signed in on the check page with the
/// snapshot loaded; and a folder for the files the test drops.
async fn teacher_on_the_check_page() -> anyhow::Result<(Server, Browser, tempfile::TempDir)> {
    on_the_check_page("teacher").await
}

/// A server with [`USERS`], and a browser signed in with an account of `role` on the
/// check page, its snapshot fetched.
async fn on_the_check_page(role: &str) -> anyhow::Result<(Server, Browser, tempfile::TempDir)> {
    let server = Server::start_sqlite().await?;
    server.import("users", USERS).await?;
    server
        .cli(
            &["account", "add", "prof", "--role", role],
            "teacher-password\n",
        )
        .await?;
    let dir = tempfile::tempdir()?;
    let browser = Browser::start().await?;
    sign_in(&browser, &server, "prof", "teacher-password").await?;
    revision_after(&browser, "").await?;
    browser.client.goto(&server.at("/")).await?;
    Ok((server, browser, dir))
}

#[tokio::test]
async fn a_file_with_many_problems_shows_them_a_page_at_a_time() -> anyhow::Result<()> {
    let (server, browser, dir) = teacher_on_the_check_page().await?;
    // 250 unknown users (lines 2 to 251), then 30 unknown commands (lines 252 to 281).
    let mut file = String::from("cmd;cname;userid;cidnumber\n");
    for n in 0..250 {
        file.push_str(&format!("add;L2;NOBODY{n};COH001\n"));
    }
    for _ in 0..30 {
        file.push_str("remove;L2;U0001;COH001\n");
    }
    drop_file(&browser, dir.path(), "many.csv", &file).await?;
    browser
        .wait_for("[data-testid=summary][data-errors='280']")
        .await?;
    page_status(&browser, "1–50 of 280").await?;
    assert_eq!(
        diagnostic_lines(&browser).await?,
        (2..=51).collect::<Vec<_>>()
    );
    let original = browser
        .wait_for("[data-testid=diagnostics] tr[data-line='2'] .original")
        .await?;
    assert_eq!(original.text().await?, "add;L2;NOBODY0;COH001");
    accessible(&browser, "check page with a page of diagnostics").await?;

    for status in [
        "51–100 of 280",
        "101–150 of 280",
        "151–200 of 280",
        "201–250 of 280",
        "251–280 of 280",
    ] {
        browser
            .wait_for("[data-testid=page-next]")
            .await?
            .click()
            .await?;
        page_status(&browser, status).await?;
    }
    assert_eq!(
        diagnostic_lines(&browser).await?,
        (252..=281).collect::<Vec<_>>()
    );
    let next = browser.wait_for("[data-testid=page-next]").await?;
    assert_eq!(next.attr("disabled").await?.as_deref(), Some("true"));

    // A filter applies to all of them, from its first page.
    browser
        .wait_for("[data-testid=filter-code] option[value=invalid_command]")
        .await?
        .click()
        .await?;
    page_status(&browser, "1–30 of 30").await?;
    assert_eq!(
        diagnostic_lines(&browser).await?,
        (252..=281).collect::<Vec<_>>()
    );
    browser
        .wait_for("[data-testid=filter-severity] option[value=warning]")
        .await?
        .click()
        .await?;
    page_status(&browser, "No diagnostic passes these filters.").await?;
    assert_eq!(diagnostic_lines(&browser).await?, Vec::<u32>::new());

    browser.close().await?;
    server.stop().await
}

/// The cohorts of the dry run's table, by their idnumber.
async fn dry_run_cohorts(browser: &Browser) -> anyhow::Result<Vec<String>> {
    let mut cohorts = Vec::new();
    for row in browser
        .client
        .find_all(Locator::Css("[data-testid=dry-cohorts] tbody tr"))
        .await?
    {
        cohorts.push(row.attr("data-cohort").await?.unwrap_or_default());
    }
    Ok(cohorts)
}

#[tokio::test]
async fn a_plan_of_many_cohorts_shows_the_first_and_the_rest_on_demand() -> anyhow::Result<()> {
    let (server, browser, dir) = teacher_on_the_check_page().await?;
    // 150 new cohorts of one member each: the check answers with the first 100 of them.
    let mut file = String::from("cmd;cname;userid;cidnumber\n");
    for n in 0..150 {
        file.push_str(&format!("add;Cohorte {n};U0001;C{n:03}\n"));
    }
    drop_file(&browser, dir.path(), "many-cohorts.csv", &file).await?;
    browser
        .wait_for("[data-testid=summary][data-ok=true]")
        .await?;
    browser
        .wait_for("[data-testid=dry-cohorts] tr[data-cohort=C099]")
        .await?;
    let first: Vec<String> = (0..100).map(|n| format!("C{n:03}")).collect();
    assert_eq!(dry_run_cohorts(&browser).await?, first);
    let show_all = browser.wait_for("[data-testid=dry-show-all]").await?;
    assert!(show_all.text().await?.contains("(150 / 0)"));

    // The rest comes from the worker, in the same table.
    browser.click_in_view("[data-testid=dry-show-all]").await?;
    browser
        .wait_for("[data-testid=dry-cohorts] tr[data-cohort=C149]")
        .await?;
    let all: Vec<String> = (0..150).map(|n| format!("C{n:03}")).collect();
    assert_eq!(dry_run_cohorts(&browser).await?, all);
    assert!(
        browser
            .client
            .find_all(Locator::Css("[data-testid=dry-show-all]"))
            .await?
            .is_empty()
    );
    accessible(&browser, "check page with a whole dry run").await?;

    browser.close().await?;
    server.stop().await
}

/// Waits until the element at `css` has `value` as its value.
#[tokio::test]
async fn an_admins_dry_run_names_people_in_the_first_rows_and_in_the_rest() -> anyhow::Result<()> {
    let (server, browser, dir) = on_the_check_page("admin").await?;
    // 150 new cohorts of one member each, Jean Dupont and Marie Martin in turn: the worker
    // names the people of the first 100, then those of the rest when they are asked for.
    let mut file = String::from("cmd;cname;userid;cidnumber\n");
    for n in 0..150 {
        let user = if n % 2 == 0 { "U0001" } else { "U0002" };
        file.push_str(&format!("add;Cohorte {n};{user};C{n:03}\n"));
    }
    drop_file(&browser, dir.path(), "many-cohorts.csv", &file).await?;
    let first = browser
        .wait_for("[data-testid=dry-cohorts] tr[data-cohort=C000]")
        .await?;
    assert!(first.text().await?.contains("Jean Dupont"));
    let hundredth = browser
        .wait_for("[data-testid=dry-cohorts] tr[data-cohort=C099]")
        .await?;
    assert!(hundredth.text().await?.contains("Marie Martin"));
    browser.click_in_view("[data-testid=dry-show-all]").await?;
    let last = browser
        .wait_for("[data-testid=dry-cohorts] tr[data-cohort=C149]")
        .await?;
    assert!(last.text().await?.contains("Marie Martin"));
    let before_last = browser
        .wait_for("[data-testid=dry-cohorts] tr[data-cohort=C148]")
        .await?;
    assert!(before_last.text().await?.contains("Jean Dupont"));

    browser.close().await?;
    server.stop().await
}

async fn value_becomes(browser: &Browser, css: &str, value: &str) -> anyhow::Result<()> {
    let element = browser.wait_for(css).await?;
    for _ in 0..100 {
        if element.prop("value").await?.as_deref() == Some(value) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("{css} is {:?}, not {value:?}", element.prop("value").await?)
}

#[tokio::test]
async fn the_site_settings_are_where_checks_start_and_bound_what_a_teacher_submits()
-> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;
    server.import("users", USERS).await?;
    for (name, role) in [("admin", "admin"), ("prof", "teacher")] {
        server
            .cli(
                &["account", "add", name, "--role", role],
                &format!("{name}-password\n"),
            )
            .await?;
    }
    let dir = tempfile::tempdir()?;
    let browser = Browser::start().await?;

    // The admin sets the defaults: users by username, members who leave are suspended,
    // at most 100 removals.
    sign_in(&browser, &server, "admin", "admin-password").await?;
    let first = revision_after(&browser, "").await?;
    browser.client.goto(&server.at("/settings")).await?;
    browser
        .wait_for("#opt-user_identifier option[value=username]")
        .await?
        .click()
        .await?;
    browser
        .wait_for("#opt-unenrol_action option[value=suspend]")
        .await?
        .click()
        .await?;
    browser
        .wait_for("#opt-max_removals")
        .await?
        .send_keys("100")
        .await?;
    accessible(&browser, "settings").await?;
    browser
        .wait_for("[data-testid=settings-save]")
        .await?
        .click()
        .await?;
    browser.wait_for("[data-testid=settings-saved]").await?;
    revision_after(&browser, &first).await?;

    // A teacher's check starts from them; the unenrol action is the site's.
    sign_out(&browser).await?;
    sign_in(&browser, &server, "prof", "prof-password").await?;
    browser.client.goto(&server.at("/")).await?;
    value_becomes(&browser, "#opt-user_identifier", "username").await?;
    value_becomes(&browser, "#opt-unenrol_action", "suspend").await?;
    value_becomes(&browser, "#opt-max_removals", "100").await?;
    let unenrol = browser.wait_for("#opt-unenrol_action").await?;
    assert_eq!(unenrol.attr("disabled").await?.as_deref(), Some("true"));

    // Back to idnumbers (the teacher's choice), and no limit at all (not theirs).
    browser
        .wait_for("#opt-user_identifier option[value=idnumber]")
        .await?
        .click()
        .await?;
    browser.wait_for("#opt-max_removals").await?.clear().await?;
    drop_file(&browser, dir.path(), "good.csv", GOOD).await?;
    browser
        .wait_for("[data-testid=summary][data-ok=true]")
        .await?;
    let beyond = browser.wait_for("[data-testid=beyond-site]").await?;
    assert!(beyond.text().await?.ends_with("max_removals"));
    let submit = browser.wait_for("[data-testid=submit]").await?;
    assert_eq!(submit.attr("disabled").await?.as_deref(), Some("true"));

    browser.close().await?;
    server.stop().await
}

#[tokio::test]
async fn a_file_the_site_no_longer_accepts_is_refused_with_the_servers_report() -> anyhow::Result<()>
{
    let server = Server::start_sqlite().await?;
    server.import("users", USERS).await?;
    server
        .cli(
            &["account", "add", "prof", "--role", "teacher"],
            "prof-password\n",
        )
        .await?;
    let dir = tempfile::tempdir()?;
    let browser = Browser::start().await?;
    sign_in(&browser, &server, "prof", "prof-password").await?;
    browser.client.goto(&server.at("/")).await?;
    revision_after(&browser, "").await?;
    // The app has its snapshot and is done fetching…
    browser
        .wait_for("[data-testid=snapshot-badge][data-online=true] button:not([disabled])")
        .await?;
    // …when the directory changes: Marie Martin's idnumber is no longer U0002.
    server
        .import("users", &USERS.replace("mmartin;U0002;", "mmartin;U0099;"))
        .await?;
    // The browser's snapshot is older: the file passes there…
    drop_file(&browser, dir.path(), "good.csv", GOOD).await?;
    browser
        .wait_for("[data-testid=summary][data-ok=true]")
        .await?;
    browser
        .wait_for("[data-testid=submit]")
        .await?
        .click()
        .await?;
    // …and the server, which checks it against the site as it is, refuses it and says why.
    let refused = browser
        .wait_for("[data-testid=submit-report] li[data-line='3'][data-code=user_not_found]")
        .await?;
    assert!(refused.text().await?.contains("U0002"));
    accessible(&browser, "check page with the server's refusal").await?;
    browser.close().await?;
    server.stop().await
}

#[tokio::test]
async fn the_cached_snapshot_is_refreshed_with_only_what_changed() -> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;
    server.import("users", USERS).await?;
    server
        .cli(
            &["account", "add", "prof", "--role", "teacher"],
            "prof-password\n",
        )
        .await?;
    let dir = tempfile::tempdir()?;
    let browser = Browser::start().await?;
    sign_in(&browser, &server, "prof", "prof-password").await?;
    browser.client.goto(&server.at("/")).await?;
    let before = revision_after(&browser, "").await?;
    browser
        .wait_for("[data-testid=snapshot-badge][data-online=true] button:not([disabled])")
        .await?;
    // The directory changes: Marie Martin's idnumber is no longer U0002.
    server
        .import("users", &USERS.replace("mmartin;U0002;", "mmartin;U0099;"))
        .await?;
    browser
        .wait_for("[data-testid=snapshot-badge][data-online=true] button:not([disabled])")
        .await?
        .click()
        .await?;
    let after = revision_after(&browser, &before).await?;
    // The app asked for what changed since its revision, and got only that.
    let asked = browser
        .client
        .execute(
            "return performance.getEntriesByType('resource')
               .filter(e => e.name.endsWith('/api/snapshot?since=' + arguments[0]))
               .map(e => e.decodedBodySize);",
            vec![serde_json::json!(before)],
        )
        .await?;
    let sizes: Vec<u64> = serde_json::from_value(asked)?;
    // (A 304 of an earlier visit reads 0 bytes.)
    assert!(
        sizes.iter().any(|&bytes| bytes > 0) && sizes.iter().all(|&bytes| bytes < 2_000),
        "the refresh did not ask for changes only: {sizes:?}"
    );
    // The worker checks against the new revision…
    drop_file(&browser, dir.path(), "good.csv", GOOD).await?;
    browser
        .wait_for("[data-testid=diagnostics] tr[data-line='3'][data-code=user_not_found]")
        .await?;
    // …and the cache holds it, still without any clear identifier.
    let cached = indexed_db_becomes(&browser, "held the new revision", |c| {
        c.contains(&format!("\"revision\":{after}"))
    })
    .await?;
    for personal in ["Marie", "Martin", "mmartin", "U0099", "marie.martin"] {
        assert!(
            !cached.contains(personal),
            "{personal} in the teacher's cache"
        );
    }
    // Opened again, the app reads the refreshed copy.
    browser.client.goto(&server.at("/")).await?;
    assert_eq!(revision_after(&browser, "").await?, after);
    browser.close().await?;
    server.stop().await
}

/// As an admin: opens changeset `id`, approves it and applies it, and waits for "applied".
async fn approve_and_apply(browser: &Browser, server: &Server, id: i64) -> anyhow::Result<()> {
    browser
        .client
        .goto(&server.at(&format!("/changesets/{id}")))
        .await?;
    browser
        .wait_for("[data-testid=drift][data-changed=false]")
        .await?;
    accessible(browser, "changeset detail").await?;
    browser
        .wait_for("[data-testid=approve]")
        .await?
        .click()
        .await?;
    browser
        .wait_for("[data-testid=apply]")
        .await?
        .click()
        .await?;
    // The approval's outcome shows first; the application's names the new revision.
    let outcome = browser
        .wait_for("[data-testid=outcome][data-revision]")
        .await?;
    assert!(outcome.text().await?.contains("revision"));
    let status = browser
        .wait_for("[data-testid=status][data-status=applied]")
        .await?;
    assert_eq!(status.text().await?, "applied");
    // What was written, and the history of who did what.
    browser.wait_for("[data-testid=written]").await?;
    browser
        .wait_for("[data-testid=history] li[data-action=apply]")
        .await?;
    browser
        .wait_for("[data-testid=history] li[data-action=submit]")
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_deep_link_opens_the_app() -> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;
    let browser = Browser::start().await?;
    browser.client.goto(&server.at("/changesets/42")).await?;
    browser.wait_for("[data-testid=app]").await?;
    browser.wait_for("[data-testid=snapshot-badge]").await?;
    browser.close().await?;
    server.stop().await
}

#[tokio::test]
async fn after_one_online_visit_the_app_opens_and_checks_files_with_the_server_stopped()
-> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;
    server
        .cli(
            &["account", "add", "prof", "--role", "teacher"],
            "teacher-password\n",
        )
        .await?;
    let dir = tempfile::tempdir()?;
    server.import("users", USERS).await?;
    let browser = Browser::start().await?;
    sign_in(&browser, &server, "prof", "teacher-password").await?;
    let cached = revision_after(&browser, "").await?;
    // The service worker has the app shell once it controls the page.
    let mut controlled = false;
    for _ in 0..100 {
        let answer = browser
            .client
            .execute(
                "return !!(navigator.serviceWorker && navigator.serviceWorker.controller);",
                vec![],
            )
            .await?;
        if answer.as_bool() == Some(true) {
            controlled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(controlled, "the service worker never took control");
    let page = server.at("/");
    server.stop().await?;

    browser.client.goto(&page).await?;
    browser
        .wait_for("[data-testid=snapshot-badge][data-online=false]")
        .await?;
    assert_eq!(revision(&browser).await?, cached);
    drop_file(&browser, dir.path(), "broken.csv", BROKEN).await?;
    browser
        .wait_for("[data-testid=diagnostics] tr[data-line='4'][data-code=user_not_found]")
        .await?;
    drop_file(&browser, dir.path(), "good.csv", GOOD).await?;
    browser
        .wait_for("[data-testid=dry-cohorts] tr[data-cohort=COH001]")
        .await?;
    browser.close().await
}

/// Everything the page's IndexedDB holds, as JSON text.
async fn indexed_db_contents(browser: &Browser) -> anyhow::Result<String> {
    let answer = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const open = indexedDB.open('cohortsync');
             open.onerror = () => done('open failed');
             open.onsuccess = () => {
               const db = open.result;
               if (!db.objectStoreNames.contains('snapshot')) { done('[]'); return; }
               const all = db.transaction('snapshot').objectStore('snapshot').getAll();
               all.onsuccess = () => done(JSON.stringify(all.result));
               all.onerror = () => done('read failed');
             };",
            vec![],
        )
        .await?;
    Ok(answer.as_str().unwrap_or_default().to_owned())
}

/// Waits until the page's IndexedDB satisfies `test`.
async fn indexed_db_becomes(
    browser: &Browser,
    what: &str,
    test: impl Fn(&str) -> bool,
) -> anyhow::Result<String> {
    let mut last = String::new();
    for _ in 0..100 {
        last = indexed_db_contents(browser).await?;
        if test(&last) {
            return Ok(last);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("IndexedDB never {what}: {}", &last[..last.len().min(500)])
}

#[tokio::test]
async fn the_cached_snapshot_leaves_with_the_account_that_signed_out() -> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;
    for (name, role) in [("admin", "admin"), ("prof", "teacher")] {
        server
            .cli(&["account", "add", name, "--role", role], "password-1234\n")
            .await?;
    }
    server.import("users", USERS).await?;
    let browser = Browser::start().await?;
    sign_in(&browser, &server, "admin", "password-1234").await?;
    revision_after(&browser, "").await?;
    let cached = indexed_db_becomes(&browser, "held the admin's snapshot", |c| {
        c.contains("jean.dupont@univ.example")
    })
    .await?;
    assert!(cached.contains("Dupont"), "the admin's snapshot has names");

    sign_out(&browser).await?;
    browser.wait_for("header a[href='/login']").await?;
    let after = indexed_db_becomes(&browser, "emptied", |c| c == "[]").await?;
    for personal in [
        "Jean",
        "Dupont",
        "Marie",
        "Martin",
        "jean.dupont",
        "marie.martin",
    ] {
        assert!(!after.contains(personal), "{personal} left in IndexedDB");
    }

    // Another account's snapshot replaces it, and carries no name either.
    sign_in(&browser, &server, "prof", "password-1234").await?;
    let teacher = indexed_db_becomes(&browser, "held the teacher's snapshot", |c| {
        c.contains("user_hash_key")
    })
    .await?;
    for personal in ["Jean", "Dupont", "jean.dupont", "U0001"] {
        assert!(
            !teacher.contains(personal),
            "{personal} in the teacher's cache"
        );
    }
    browser.close().await
}

#[tokio::test]
async fn on_a_moodle_site_a_teacher_checks_a_file_and_an_admin_applies_it_into_moodle()
-> anyhow::Result<()> {
    let test = "on_a_moodle_site_a_teacher_checks_a_file_and_an_admin_applies_it_into_moodle";
    let Some(fixtures) = cohortsync_e2e::moodle_fixtures(test) else {
        return Ok(());
    };
    let Some(url) = cohortsync_e2e::postgres_url(test).await else {
        return Ok(());
    };
    cohortsync_e2e::load_moodle_site(&url, &fixtures).await?;
    let server = Server::start_on_moodle(&url, &[]).await?;
    server
        .add_account("prof", "teacher", "teacher-password")
        .await?;
    server
        .add_account("admin", "admin", "admin-password")
        .await?;
    let dir = tempfile::tempdir()?;
    let browser = Browser::start().await?;
    sign_in(&browser, &server, "prof", "teacher-password").await?;
    revision_after(&browser, "").await?;
    // Moodle's own cohort upload file, checked in the browser against Moodle's categories.
    drop_file(
        &browser,
        dir.path(),
        "upload.csv",
        "name,idnumber,category\nM1 Lettres,M1-LET-2027,LET\n",
    )
    .await?;
    browser
        .wait_for("[data-testid=summary][data-ok=true][data-kind=moodle_cohorts]")
        .await?;
    let kind = browser
        .wait_for("[data-testid=summary] dd")
        .await?
        .text()
        .await?;
    assert_eq!(kind, "Moodle cohort upload file");
    browser
        .wait_for("[data-testid=dry-cohorts] tr[data-cohort=M1-LET-2027]")
        .await?;
    // Timothée Faure (E20260056) joins L1-LET-2026, bound in Moodle to LET101 and HIST201.
    drop_file(
        &browser,
        dir.path(),
        "l1.csv",
        "cmd;cidnumber;userid\nadd;L1-LET-2026;E20260056\n",
    )
    .await?;
    browser
        .wait_for("[data-testid=summary][data-ok=true]")
        .await?;
    let cohort = browser
        .wait_for("[data-testid=dry-cohorts] tr[data-cohort=L1-LET-2026]")
        .await?
        .text()
        .await?;
    assert!(
        cohort.contains("+1") && cohort.contains("E20260056"),
        "{cohort}"
    );
    assert!(
        !cohort.contains("Faure"),
        "a teacher reads no name: {cohort}"
    );
    browser
        .wait_for("[data-testid=submit]")
        .await?
        .click()
        .await?;
    let submitted = browser.wait_for("[data-testid=submitted] a").await?;
    assert_eq!(
        submitted.attr("href").await?.unwrap_or_default(),
        "/changesets/1"
    );
    sign_out(&browser).await?;
    sign_in(&browser, &server, "admin", "admin-password").await?;
    approve_and_apply(&browser, &server, 1).await?;
    // The rows are in Moodle's tables, as Moodle's own cohort sync writes them.
    let mut moodle = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await?;
    let tables = cohortsync_e2e::moodle_tables::tables_now(&mut moodle, false).await?;
    let has = |table: &str, field: &str, value: &str| {
        tables[table].iter().any(|row| {
            row.get("user").cloned().flatten().as_deref() == Some("timothee.faure")
                && row.get(field).cloned().flatten().as_deref() == Some(value)
        })
    };
    assert!(has("cohort_members", "cohort", "L1-LET-2026"));
    assert!(has(
        "user_enrolments",
        "enrol",
        "LET101/cohort/L1-LET-2026/student"
    ));
    assert!(has(
        "role_assignments",
        "item",
        "LET101/cohort/L1-LET-2026/student"
    ));
    assert!(has("groups_members", "group", "Atelier d'écriture"));
    browser.close().await?;
    server.stop().await
}

#[tokio::test]
async fn an_admin_runs_the_sync_folder_from_its_page() -> anyhow::Result<()> {
    let server = Server::start_with(None, &["--sync-settle-seconds", "0"]).await?;
    server.import("users", USERS).await?;
    server
        .add_account("admin", "admin", "admin-password")
        .await?;
    let folder = server.data_dir().join("sync");
    std::fs::create_dir_all(&folder)?;
    std::fs::write(folder.join("cohorts.csv"), GOOD)?;
    let browser = Browser::start().await?;
    sign_in(&browser, &server, "admin", "admin-password").await?;
    browser.client.goto(&server.at("/sync")).await?;
    browser.wait_for("[data-testid=sync-form]").await?;
    let next = browser.wait_for("[data-testid=sync-next]").await?;
    assert!(
        next.text().await?.contains("none"),
        "{}",
        next.text().await?
    );
    accessible(&browser, "sync").await?;

    // Simulate: the report says what would happen; the file stays where it is.
    browser
        .wait_for("[data-testid=sync-simulate]")
        .await?
        .click()
        .await?;
    let report = browser
        .wait_for("[data-testid=sync-report-files] td[data-outcome=waiting]")
        .await?;
    assert!(report.text().await?.contains("waits for an admin"));
    assert!(folder.join("cohorts.csv").exists());
    accessible(&browser, "sync with a simulated report").await?;

    // The policy: apply clean files at once. Saved, then run from the keyboard.
    browser
        .wait_for("[data-testid=sync-auto-apply]")
        .await?
        .click()
        .await?;
    browser
        .wait_for("[data-testid=sync-save]")
        .await?
        .click()
        .await?;
    browser.wait_for("[data-testid=sync-saved]").await?;
    browser
        .wait_for("[data-testid=sync-run]")
        .await?
        .send_keys("\u{e007}")
        .await?;
    let applied = browser
        .wait_for("[data-testid=sync-history] td[data-outcome=applied]")
        .await?;
    assert!(applied.text().await?.contains("applied"));
    assert!(!folder.join("cohorts.csv").exists());
    let row = browser
        .wait_for("[data-testid=sync-history] tbody tr")
        .await?;
    let text = row.text().await?;
    assert!(
        text.contains("cohorts.csv") && text.contains("#1"),
        "{text}"
    );

    // In French too.
    for button in browser
        .client
        .find_all(Locator::Css("header nav button"))
        .await?
    {
        if button.attr("lang").await?.as_deref() == Some("fr") {
            button.click().await?;
        }
    }
    let title = browser.wait_for("#sync-title").await?;
    for _ in 0..50 {
        if title.text().await? == "Dossier de synchronisation" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(title.text().await?, "Dossier de synchronisation");
    accessible(&browser, "sync in French").await?;
    browser.close().await?;
    server.stop().await
}
