//! The API, driven in-process through the real router on a real database: SQLite always,
//! PostgreSQL too when `COHORTSYNC_TEST_POSTGRES_URL` is set (CI sets it).
//!
//! Every scenario runs once per database, each time on a fresh database.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use cohortsync_backend::auth::{self, Caller, Role};
use cohortsync_backend::import::{ImportKind, import};
use cohortsync_backend::store::{Database, accounts, site};
use cohortsync_backend::{AppState, app, changesets};
use serde_json::{Value, json};
use tower::ServiceExt;

const USERS: &str = "username,idnumber,email,firstname,lastname,suspended
jdupont,U0001,jean.dupont@univ.example,Jean,Dupont,0
mmartin,U0002,marie.martin@univ.example,Marie,Martin,0
lbernard,U0003,shared@univ.example,Luc,Bernard,0
cpetit,U0004,shared@univ.example,Chloé,Petit,0
suspendu,U0005,s@univ.example,Sam,Pendu,1
";
const COURSES: &str =
    "shortname,fullname,idnumber\nPHARMA-L2,Pharmacie L2,\nCHIMIE-L1,Chimie L1,C1\n";
const GROUPS: &str = "course,name\nPHARMA-L2,TD1\n";

/// A fresh site on one database, with an admin and two teachers signed in.
struct Site {
    db: Database,
    router: Router,
    admin: String,
    teacher: String,
    other_teacher: String,
    _dir: tempfile::TempDir,
}

impl Site {
    async fn new(url: &str, dir: tempfile::TempDir) -> Site {
        let db = Database::connect(url).await.expect("database");
        for (kind, text) in [
            (ImportKind::Users, USERS),
            (ImportKind::Courses, COURSES),
            (ImportKind::Groups, GROUPS),
        ] {
            let report = import(&db, kind, text.as_bytes()).await.unwrap();
            assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
        }
        let assets = dir.path().join("assets");
        std::fs::create_dir_all(&assets).unwrap();
        std::fs::write(assets.join("index.html"), "<html>app</html>").unwrap();
        let state = AppState {
            db: db.clone(),
            site: Default::default(),
            secure_cookies: false,
            public_origin: None,
            trusted_proxy: None,
            max_body_bytes: 64 * 1024,
            sync: cohortsync_backend::scheduler::SyncSetup {
                folder: cohortsync_backend::scheduler::SyncFolder {
                    dir: dir.path().join("sync"),
                    settle: std::time::Duration::ZERO,
                    max_file_bytes: 1 << 20,
                },
                mailer: None,
                public_url: None,
            },
        };
        let router = app(
            state,
            &cohortsync_backend::web_app::WebApp::Directory(assets),
        );
        let mut site = Site {
            db,
            router,
            admin: String::new(),
            teacher: String::new(),
            other_teacher: String::new(),
            _dir: dir,
        };
        site.admin = site.session("admin", Role::Admin).await;
        site.teacher = site.session("prof", Role::Teacher).await;
        site.other_teacher = site.session("autre", Role::Teacher).await;
        site
    }

    /// Creates an account and a session for it; returns the cookie header value.
    async fn session(&self, name: &str, role: Role) -> String {
        let hash = cohortsync_backend::crypto::hash_password("password123").unwrap();
        let id = accounts::upsert_account(self.db.pool(), name, &hash, role)
            .await
            .unwrap();
        let token = cohortsync_backend::crypto::random_hex(16);
        accounts::create_session(
            self.db.pool(),
            id,
            &cohortsync_backend::crypto::sha256_hex(token.as_bytes()),
            3600,
        )
        .await
        .unwrap();
        format!("{}={token}", auth::SESSION_COOKIE)
    }

    async fn caller(&self, cookie: &str) -> Caller {
        let token = cookie.split_once('=').unwrap().1;
        accounts::caller_by_session(
            self.db.pool(),
            &cohortsync_backend::crypto::sha256_hex(token.as_bytes()),
        )
        .await
        .unwrap()
        .unwrap()
    }

    /// Sends `request` as the web app's own pages do (`Sec-Fetch-Site: same-origin`, unless
    /// the request says otherwise).
    async fn send(&self, mut request: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
        if !request.headers().contains_key("sec-fetch-site") {
            request
                .headers_mut()
                .insert("sec-fetch-site", "same-origin".parse().unwrap());
        }
        self.send_as_is(request).await
    }

    /// Sends `request` with exactly its headers.
    async fn send_as_is(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, body, headers)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let (status, body, _) = self.send(request).await;
        (status, body)
    }

    /// `POST /api/changesets/{id}/{action}` as `cookie`: approve and reject with an empty
    /// comment; apply and revert without a body.
    async fn act(&self, cookie: &str, id: i64, action: &str) -> (StatusCode, Value) {
        let body = matches!(action, "approve" | "reject").then(|| json!({}));
        self.call(
            Method::POST,
            &format!("/api/changesets/{id}/{action}"),
            Some(cookie),
            body,
        )
        .await
    }

    async fn submit(&self, cookie: &str, file: &str, options: Value) -> (StatusCode, Value) {
        let (status, body, _) = self
            .send(multipart(cookie, file.as_bytes(), &options.to_string()))
            .await;
        (status, body)
    }

    async fn revision(&self) -> u64 {
        let mut conn = self.db.pool().acquire().await.unwrap();
        site::state(&mut conn).await.unwrap().0
    }

    async fn snapshot_json(&self) -> Value {
        let mut conn = self.db.pool().acquire().await.unwrap();
        serde_json::to_value(site::load_snapshot(&mut conn).await.unwrap()).unwrap()
    }
}

fn multipart(cookie: &str, file: &[u8], options: &str) -> Request<Body> {
    let boundary = "cohortsync-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cohorts.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{options}\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    Request::builder()
        .method(Method::POST)
        .uri("/api/changesets")
        .header(header::COOKIE, cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap()
}

/// Runs `scenario` on a fresh SQLite database, then on a fresh PostgreSQL database when
/// `COHORTSYNC_TEST_POSTGRES_URL` is set.
async fn on_every_database<F, Fut>(scenario: F)
where
    F: Fn(Site) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    scenario(Site::new(&url, dir).await).await;
    match std::env::var("COHORTSYNC_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            let url = cohortsync_backend::store::create_scratch_database(&base)
                .await
                .unwrap();
            scenario(Site::new(&url, tempfile::tempdir().unwrap()).await).await;
        }
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but COHORTSYNC_TEST_POSTGRES_URL is not set: PostgreSQL must be tested")
        }
        _ => eprintln!("SKIPPED on PostgreSQL: COHORTSYNC_TEST_POSTGRES_URL is not set"),
    }
}

fn codes(report: &Value) -> Vec<(u64, String)> {
    report["error"]["details"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap(),
                d["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const GOOD: &str =
    "cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;U0001;COH001\nadd;L2 Pharmacie;U0002;COH001\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_endpoint_answers_each_role_as_the_matrix_says() {
    on_every_database(|site| async move {
        // A teacher's changeset, used by the paths that take an id.
        let (status, body) = site.submit(&site.teacher, GOOD, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().unwrap();
        let path = |p: &str| p.replace("{id}", &id.to_string());

        enum Who {
            Anonymous,
            Teacher,
            OtherTeacher,
            Admin,
        }
        use StatusCode as S;
        // (method, path, body, who, expected), in order: the admin's approve and reject
        // come last because they move the changeset on.
        #[rustfmt::skip]
        let matrix: Vec<(Method, &str, Option<Value>, Who, S)> = vec![
            (Method::GET, "/api/health", None, Who::Anonymous, S::OK),
            (Method::GET, "/api/me", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::GET, "/api/me", None, Who::Teacher, S::OK),
            (Method::GET, "/api/me", None, Who::Admin, S::OK),
            (Method::GET, "/api/snapshot", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::GET, "/api/snapshot", None, Who::Teacher, S::OK),
            (Method::GET, "/api/snapshot", None, Who::Admin, S::OK),
            (Method::GET, "/api/changesets", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::GET, "/api/changesets", None, Who::Teacher, S::OK),
            (Method::GET, "/api/changesets", None, Who::Admin, S::OK),
            (Method::GET, "/api/changesets/{id}", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::GET, "/api/changesets/{id}", None, Who::Teacher, S::OK),
            (Method::GET, "/api/changesets/{id}/moodle/cohorts.csv", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::GET, "/api/changesets/{id}/moodle/cohorts.csv", None, Who::Teacher, S::FORBIDDEN),
            (Method::GET, "/api/changesets/{id}/moodle/cohorts.csv", None, Who::Admin, S::OK),
            (Method::GET, "/api/changesets/{id}/moodle/users.csv", None, Who::Teacher, S::FORBIDDEN),
            (Method::GET, "/api/changesets/{id}/moodle/users.csv", None, Who::Admin, S::OK),
            (Method::GET, "/api/changesets/{id}/moodle/other.csv", None, Who::Admin, S::NOT_FOUND),
            (Method::GET, "/api/changesets/{id}", None, Who::OtherTeacher, S::NOT_FOUND),
            (Method::GET, "/api/changesets/{id}", None, Who::Admin, S::OK),
            (Method::POST, "/api/changesets/{id}/approve", Some(json!({})), Who::Anonymous, S::UNAUTHORIZED),
            (Method::POST, "/api/changesets/{id}/approve", Some(json!({})), Who::Teacher, S::FORBIDDEN),
            (Method::POST, "/api/changesets/{id}/reject", Some(json!({})), Who::Anonymous, S::UNAUTHORIZED),
            (Method::POST, "/api/changesets/{id}/reject", Some(json!({})), Who::Teacher, S::FORBIDDEN),
            (Method::POST, "/api/changesets/{id}/apply", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::POST, "/api/changesets/{id}/apply", None, Who::Teacher, S::FORBIDDEN),
            (Method::POST, "/api/changesets/{id}/apply", None, Who::Admin, S::CONFLICT),
            (Method::POST, "/api/changesets/{id}/revert", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::POST, "/api/changesets/{id}/revert", None, Who::Teacher, S::FORBIDDEN),
            (Method::POST, "/api/changesets/{id}/revert", None, Who::Admin, S::CONFLICT),
            (Method::POST, "/api/tokens", Some(json!({"name": "cron"})), Who::Anonymous, S::UNAUTHORIZED),
            (Method::POST, "/api/tokens", Some(json!({"name": "cron"})), Who::Teacher, S::CREATED),
            (Method::POST, "/api/tokens", Some(json!({"name": "cron"})), Who::Admin, S::CREATED),
            (Method::GET, "/api/tokens", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::GET, "/api/tokens", None, Who::Teacher, S::OK),
            (Method::GET, "/api/tokens", None, Who::Admin, S::OK),
            (Method::DELETE, "/api/tokens/999", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::DELETE, "/api/tokens/999", None, Who::Teacher, S::NOT_FOUND),
            (Method::DELETE, "/api/tokens/999", None, Who::Admin, S::NOT_FOUND),
            (Method::GET, "/api/audit", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::GET, "/api/audit", None, Who::Teacher, S::FORBIDDEN),
            (Method::GET, "/api/audit", None, Who::Admin, S::OK),
            (Method::GET, "/api/settings", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::GET, "/api/settings", None, Who::Teacher, S::OK),
            (Method::PUT, "/api/settings", Some(json!({"options": {}})), Who::Anonymous, S::UNAUTHORIZED),
            (Method::PUT, "/api/settings", Some(json!({"options": {}})), Who::Teacher, S::FORBIDDEN),
            (Method::PUT, "/api/settings", Some(json!({"options": {}})), Who::Admin, S::OK),
            (Method::PUT, "/api/settings", Some(json!({"options": {}, "sync": {"schedule": "every night"}})), Who::Admin, S::BAD_REQUEST),
            (Method::PUT, "/api/settings", Some(json!({"options": {}, "sync": {"cohorts_file": "../x.csv"}})), Who::Admin, S::BAD_REQUEST),
            (Method::PUT, "/api/settings", Some(json!({"options": {}, "sync": {"enabled": true}})), Who::Admin, S::OK),
            (Method::GET, "/api/sync", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::GET, "/api/sync", None, Who::Teacher, S::FORBIDDEN),
            (Method::GET, "/api/sync", None, Who::Admin, S::OK),
            (Method::POST, "/api/sync/run?simulate=true", None, Who::Anonymous, S::UNAUTHORIZED),
            (Method::POST, "/api/sync/run?simulate=true", None, Who::Teacher, S::FORBIDDEN),
            (Method::POST, "/api/sync/run?simulate=true", None, Who::Admin, S::OK),
            (Method::POST, "/api/sync/run?simulate=maybe", None, Who::Admin, S::BAD_REQUEST),
            (Method::POST, "/api/logout", None, Who::Anonymous, S::OK),
            (Method::GET, "/api/nope", None, Who::Admin, S::NOT_FOUND),
            // Approving and rejecting by an admin last: they change the changeset's status.
            (Method::POST, "/api/changesets/{id}/approve", Some(json!({})), Who::Admin, S::OK),
            (Method::POST, "/api/changesets/{id}/reject", Some(json!({})), Who::Admin, S::OK),
        ];
        for (method, p, body, who, expected) in matrix {
            let cookie = match who {
                Who::Anonymous => None,
                Who::Teacher => Some(site.teacher.as_str()),
                Who::OtherTeacher => Some(site.other_teacher.as_str()),
                Who::Admin => Some(site.admin.as_str()),
            };
            let (status, answer) = site.call(method.clone(), &path(p), cookie, body).await;
            assert_eq!(status, expected, "{method} {p}: {answer}");
            if !status.is_success() {
                assert!(
                    answer["error"]["code"].is_string(),
                    "{method} {p}: {answer}"
                );
            }
        }
        // Anonymous submissions are refused too.
        let (status, _, _) = site
            .send(
                Request::post("/api/changesets")
                    .body(Body::from("x"))
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_goes_from_submit_to_applied_and_the_snapshot_follows() {
    on_every_database(|site| async move {
        let before = site.revision().await;
        let (status, body) = site
            .submit(&site.teacher, GOOD, json!({"mode": "incremental"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["status"], "submitted");
        assert_eq!(body["totals"]["members_added"], 2);
        assert_eq!(body["drift"]["changed"], false);
        let id = body["id"].as_i64().unwrap();
        // The plan told per cohort, without the plan itself unless asked for.
        assert_eq!(body["dry_run"]["cohorts"][0]["added_count"], 2, "{body}");
        assert!(body.get("plan").is_none(), "{body}");
        let (status, full) = site
            .call(
                Method::GET,
                &format!("/api/changesets/{id}?plan=true"),
                Some(&site.teacher),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{full}");
        assert_eq!(full["plan"]["operations"].as_array().map(Vec::len), Some(3));
        let (status, _) = site
            .call(
                Method::GET,
                &format!("/api/changesets/{id}?plan=maybe"),
                Some(&site.teacher),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // The teacher sees it in their list; the other teacher does not.
        let (_, mine) = site
            .call(Method::GET, "/api/changesets", Some(&site.teacher), None)
            .await;
        assert_eq!(mine.as_array().unwrap().len(), 1);
        let (_, theirs) = site
            .call(
                Method::GET,
                "/api/changesets",
                Some(&site.other_teacher),
                None,
            )
            .await;
        assert_eq!(theirs.as_array().unwrap().len(), 0);

        // Applying before approval is refused.
        let (status, body) = site.act(&site.admin, id, "apply").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("wrong_status"))
        );

        let (status, body) = site
            .call(
                Method::POST,
                &format!("/api/changesets/{id}/approve"),
                Some(&site.admin),
                Some(json!({"comment": "vu"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (body["status"].as_str(), body["reviewer"].as_str()),
            (Some("approved"), Some("admin"))
        );

        let (status, report) = site.act(&site.admin, id, "apply").await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["revision"].as_u64(), Some(before + 1));
        assert_eq!(site.revision().await, before + 1);

        // Applying twice is refused and writes nothing.
        let (status, body) = site.act(&site.admin, id, "apply").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_applied"))
        );
        assert_eq!(site.revision().await, before + 1);

        // The snapshot has the cohort and its members; its ETag is the revision.
        let request = Request::get("/api/snapshot")
            .header(header::COOKIE, &site.admin)
            .body(Body::empty())
            .unwrap();
        let (status, snapshot, headers) = site.send(request).await;
        assert_eq!(status, StatusCode::OK);
        let etag = headers[header::ETAG].to_str().unwrap().to_owned();
        assert_eq!(etag, format!("\"{}-admin\"", before + 1));
        let cohort = &snapshot["cohorts"][0];
        assert_eq!(
            (cohort["idnumber"].as_str(), cohort["component"].as_str()),
            (Some("COH001"), Some("cohortsync"))
        );
        assert_eq!(cohort["members"], json!([1, 2]));
        let request = Request::get("/api/snapshot")
            .header(header::COOKIE, &site.admin)
            .header(header::IF_NONE_MATCH, &etag)
            .body(Body::empty())
            .unwrap();
        assert_eq!(site.send(request).await.0, StatusCode::NOT_MODIFIED);

        // The teacher's snapshot carries no names or emails.
        let (status, teacher) = site
            .call(Method::GET, "/api/snapshot", Some(&site.teacher), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let text = teacher.to_string();
        for secret in ["jean.dupont", "Dupont", "jdupont", "U0001"] {
            assert!(!text.contains(secret), "{secret} in the teacher's snapshot");
        }
        // In the compact form, members are differences.
        assert_eq!(teacher["cohorts"][0]["member_deltas"], json!([1, 1]));

        // Planning the same file again changes nothing.
        let (status, again) = site.submit(&site.teacher, GOOD, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        assert_eq!(again["totals"]["members_added"], 0);

        // The audit log tells who did what to it, newest first.
        let (status, log) = site
            .call(
                Method::GET,
                &format!("/api/audit?changeset={id}"),
                Some(&site.admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{log}");
        let told: Vec<(&str, &str)> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap(),
                    e["account"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            told,
            [("apply", "admin"), ("approve", "admin"), ("submit", "prof")]
        );
        assert_eq!(log[1]["details"], "vu");
    })
    .await;
}

/// Every name and email of the test site: none may reach a teacher.
const PERSONAL: [&str; 13] = [
    "Jean",
    "Dupont",
    "Marie",
    "Martin",
    "Luc",
    "Bernard",
    "Chloé",
    "Petit",
    "Sam",
    "Pendu",
    "jean.dupont@",
    "marie.martin@",
    "s@univ",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_teacher_never_reads_a_name_or_an_email_in_any_answer() {
    on_every_database(|site| async move {
        let (status, setup) = site
            .submit(
                &site.admin,
                "cmd;cname;userid;cidnumber\nadd;L3;1;COH3\nadd;L3;3;COH3\n",
                json!({"user_identifier": "id"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{setup}");
        let setup = setup["id"].as_i64().unwrap();
        assert_eq!(site.act(&site.admin, setup, "approve").await.0, StatusCode::OK);
        assert_eq!(site.act(&site.admin, setup, "apply").await.0, StatusCode::OK);

        // Keyed by id: ids are in clear in the teacher's snapshot.
        let file = "cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;1;COH001\n\
                    add;L2 Pharmacie;2;COH001\nadd;L2 Pharmacie;4;COH001\nadd;L3;2;COH3\n\
                    del;L3;3;COH3\n";
        let options = json!({"user_identifier": "id"});
        let mut answers = Vec::new();
        let (status, submitted) = site.submit(&site.teacher, file, options).await;
        assert_eq!(status, StatusCode::CREATED, "{submitted}");
        let id = submitted["id"].as_i64().unwrap();
        // The dry run names people by what the file calls them.
        let cohorts = submitted["dry_run"]["cohorts"].as_array().unwrap();
        let l3 = cohorts.iter().find(|c| c["idnumber"] == "COH3").unwrap();
        assert_eq!(
            l3["added"],
            json!([{"id": 2, "name": null, "identifier": "2"}])
        );
        assert_eq!(
            l3["removed"],
            json!([{"id": 3, "name": null, "identifier": "3"}])
        );
        answers.push(submitted);
        for path in [
            format!("/api/changesets/{id}"),
            format!("/api/changesets/{id}?plan=true"),
            "/api/changesets".to_owned(),
            "/api/snapshot".to_owned(),
            "/api/me".to_owned(),
            "/api/settings".to_owned(),
            format!("/api/audit?changeset={id}"),
            "/api/tokens".to_owned(),
            "/api/no-such-path".to_owned(),
        ] {
            let (_, body) = site.call(Method::GET, &path, Some(&site.teacher), None).await;
            answers.push(body);
        }
        // Refusals: users found and not found, suspended, ambiguous, by id and by email.
        for (file, by) in [
            (
                "cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;1;COH001\nadd;L2 Pharmacie;99;COH001\n",
                "id",
            ),
            (
                "cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;5;COH001\ndel;L2 Pharmacie;4;COH404\n",
                "id",
            ),
            (
                "cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;shared@univ.example;COH001\nadd;L2 Pharmacie;U0404;COH001\n",
                "email",
            ),
        ] {
            let (status, body) = site
                .submit(&site.teacher, file, json!({"user_identifier": by}))
                .await;
            assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
            answers.push(body);
        }
        for action in ["approve", "apply", "revert", "reject"] {
            answers.push(site.act(&site.teacher, id, action).await.1);
        }
        for answer in &answers {
            let text = answer.to_string();
            for secret in PERSONAL {
                assert!(!text.contains(secret), "{secret} reached the teacher in {text}");
            }
        }
        // The admin's dry run of the same changeset has the names.
        let (_, detail) = site
            .call(Method::GET, &format!("/api/changesets/{id}"), Some(&site.admin), None)
            .await;
        assert!(detail["dry_run"].to_string().contains("Marie Martin"), "{detail}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unsafe_requests_from_other_sites_are_refused_and_every_answer_has_security_headers() {
    on_every_database(|site| async move {
        let (status, body) = site.submit(&site.teacher, GOOD, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().unwrap();
        let (status, token) = site
            .call(
                Method::POST,
                "/api/tokens",
                Some(&site.admin),
                Some(json!({"name": "cron"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{token}");
        let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
        let unsafe_requests = [
            (
                Method::POST,
                format!("/api/changesets/{id}/approve"),
                Some(json!({})),
            ),
            (
                Method::POST,
                format!("/api/changesets/{id}/reject"),
                Some(json!({})),
            ),
            (Method::POST, format!("/api/changesets/{id}/apply"), None),
            (Method::POST, format!("/api/changesets/{id}/revert"), None),
            (
                Method::POST,
                "/api/tokens".to_owned(),
                Some(json!({"name": "x"})),
            ),
            (Method::DELETE, "/api/tokens/1".to_owned(), None),
            (
                Method::PUT,
                "/api/settings".to_owned(),
                Some(json!({"options": {}})),
            ),
            (Method::POST, "/api/logout".to_owned(), None),
            (
                Method::POST,
                "/api/login".to_owned(),
                Some(json!({"username": "admin", "password": "password123"})),
            ),
        ];
        let cross_site: [&[(&str, &str)]; 4] = [
            &[("sec-fetch-site", "cross-site")],
            &[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://evil.univ.example"),
            ],
            &[("origin", "https://evil.univ.example")],
            &[],
        ];
        for (method, path, body) in &unsafe_requests {
            for headers in cross_site {
                let mut request = Request::builder()
                    .method(method.clone())
                    .uri(path.as_str())
                    .header(header::COOKIE, &site.admin)
                    .header(header::HOST, "cohorts.univ.example");
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
                let request = match body {
                    Some(body) => request
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from(body.to_string())),
                    None => request.body(Body::empty()),
                }
                .unwrap();
                let (status, answer, _) = site.send_as_is(request).await;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} {headers:?}: {answer}"
                );
                assert_eq!(answer["error"]["code"], "cross_site", "{method} {path}");
            }
        }
        // The multipart submission too, which a plain HTML form can send.
        let mut request = multipart(&site.teacher, GOOD.as_bytes(), "{}");
        request
            .headers_mut()
            .insert("sec-fetch-site", "cross-site".parse().unwrap());
        let (status, answer, _) = site.send_as_is(request).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("cross_site"))
        );
        // Nothing of it happened: the changeset is still submitted.
        let (_, detail) = site
            .call(
                Method::GET,
                &format!("/api/changesets/{id}"),
                Some(&site.admin),
                None,
            )
            .await;
        assert_eq!(detail["status"], "submitted", "{detail}");
        // The site's own origin passes without Sec-Fetch-Site (older browsers).
        let request = Request::post(format!("/api/changesets/{id}/reject"))
            .header(header::COOKIE, &site.admin)
            .header(header::HOST, "cohorts.univ.example")
            .header(header::ORIGIN, "https://cohorts.univ.example")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let (status, answer, headers) = site.send_as_is(request).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        // A token carries no ambient credential: it passes from anywhere.
        let request =
            Request::post("/api/changesets/{id}/approve".replace("{id}", &id.to_string()))
                .header(header::AUTHORIZATION, &bearer)
                .header("sec-fetch-site", "cross-site")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap();
        let (status, answer, _) = site.send_as_is(request).await;
        assert_ne!(answer["error"]["code"], "cross_site", "{status} {answer}");
        // Security headers, on the API and on the app's files alike.
        for headers in [
            headers,
            site.send(Request::get("/").body(Body::empty()).unwrap())
                .await
                .2,
        ] {
            let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(
                policy.contains("script-src 'self' 'wasm-unsafe-eval'"),
                "{policy}"
            );
            assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_with_errors_is_refused_with_its_report_and_nothing_is_stored() {
    on_every_database(|site| async move {
        let file = "cmd;cname;userid;cidnumber\nadd;L2;U0001;COH001\ndel;L2;U0404;COH001\nadd;L2;shared@univ.example;COH001\n";
        let (status, body) = site.submit(&site.teacher, file, json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "invalid_file");
        assert_eq!(codes(&body), [(3, "user_not_found".to_owned()), (4, "user_not_found".to_owned())]);
        let (status, body) = site.submit(&site.teacher, file, json!({"user_identifier": "email"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(codes(&body).contains(&(4, "user_ambiguous".to_owned())), "{body}");
        // The report speaks the language the caller asks for.
        let mut request = multipart(&site.teacher, file.as_bytes(), "{}");
        request.headers_mut().insert(
            header::ACCEPT_LANGUAGE,
            "fr-FR,fr;q=0.9,en;q=0.5".parse().unwrap(),
        );
        let (status, body, _) = site.send(request).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body["error"]["details"]["diagnostics"][0]["message"],
            "Aucun utilisateur n’a idnumber « U0404 ».",
            "{body}"
        );
        let (_, list) = site.call(Method::GET, "/api/changesets", Some(&site.admin), None).await;
        assert_eq!(list, json!([]));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_requests_get_a_4xx_with_a_reason() {
    on_every_database(|site| async move {
        let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
            (
                Request::post("/api/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from("{not json"))
                    .unwrap(),
                StatusCode::BAD_REQUEST,
                "invalid_json",
            ),
            (
                Request::post("/api/login")
                    .body(Body::from(r#"{"username":"a","password":"b"}"#))
                    .unwrap(),
                StatusCode::BAD_REQUEST,
                "wrong_content_type",
            ),
            (
                Request::post("/api/changesets")
                    .header(header::COOKIE, &site.teacher)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from("{}"))
                    .unwrap(),
                StatusCode::BAD_REQUEST,
                "wrong_content_type",
            ),
            (
                multipart(&site.teacher, b"cmd\n", r#"{"mode": "mirror"}"#),
                StatusCode::BAD_REQUEST,
                "invalid_options",
            ),
            (
                multipart(&site.teacher, b"cmd\n", r#"{"colour": 1}"#),
                StatusCode::BAD_REQUEST,
                "invalid_options",
            ),
            (
                multipart(&site.teacher, &vec![b'a'; 100 * 1024], "{}"),
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
            ),
            (
                Request::post("/api/tokens")
                    .header(header::COOKIE, &site.teacher)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(r#"{"name": " "}"#))
                    .unwrap(),
                StatusCode::BAD_REQUEST,
                "invalid_name",
            ),
            (
                Request::get("/api/changesets/x")
                    .header(header::COOKIE, &site.admin)
                    .body(Body::empty())
                    .unwrap(),
                StatusCode::BAD_REQUEST,
                "invalid_path",
            ),
        ];
        for (request, expected, code) in cases {
            let what = format!("{} {}", request.method(), request.uri());
            let (status, body, _) = site.send(request).await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (expected, Some(code)),
                "{what}: {body}"
            );
        }
        // A teacher may not override the safety limits.
        let (status, body) = site
            .submit(&site.teacher, GOOD, json!({"override_limits": true}))
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("beyond_site_settings")),
            "{body}"
        );
        assert_eq!(
            body["error"]["details"]["options"],
            json!(["override_limits"])
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_since_a_revision_the_server_kept_is_only_what_changed() {
    use cohortsync_shared::snapshot::{Snapshot, SnapshotChanges};
    on_every_database(|site| async move {
        let get = |path: &'static str, cookie: String| {
            let site = &site;
            async move { site.call(Method::GET, path, Some(&cookie), None).await }
        };
        let parse = |value: &Value| Snapshot::from_json(value.to_string().as_bytes()).unwrap();
        let (_, admin_before) = get("/api/snapshot", site.admin.clone()).await;
        let (_, teacher_before) = get("/api/snapshot", site.teacher.clone()).await;
        let since = admin_before["revision"].as_u64().unwrap();

        let (status, body) = site.submit(&site.teacher, GOOD, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().unwrap();
        assert_eq!(site.act(&site.admin, id, "approve").await.0, StatusCode::OK);
        assert_eq!(site.act(&site.admin, id, "apply").await.0, StatusCode::OK);

        let path: &'static str = format!("/api/snapshot?since={since}").leak();
        for (cookie, before, who) in [
            (site.admin.clone(), &admin_before, "admin"),
            (site.teacher.clone(), &teacher_before, "teacher"),
        ] {
            let (status, changes) = get(path, cookie.clone()).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(changes["since"].as_u64(), Some(since), "{who}: {changes}");
            assert_eq!(changes["revision"].as_u64(), Some(since + 1));
            // The new cohort, whole; the users did not change.
            assert_eq!(changes["cohorts"]["upsert"][0]["idnumber"], "COH001");
            assert!(changes.get("users").is_none(), "{who}: {changes}");
            let text = changes.to_string();
            if who == "teacher" {
                for secret in ["jean.dupont", "Dupont", "jdupont", "U0001"] {
                    assert!(!text.contains(secret), "{secret} in the teacher's changes");
                }
            }
            // Applied to the copy of `since`, they give the current snapshot.
            let changes: SnapshotChanges = serde_json::from_value(changes).unwrap();
            let mut refreshed = parse(before);
            changes.apply_to(&mut refreshed).unwrap();
            let (_, now) = get("/api/snapshot", cookie.clone()).await;
            assert_eq!(refreshed, parse(&now), "{who}");
        }

        // A revision the server does not have: the whole snapshot.
        let (status, whole) = get("/api/snapshot?since=987654", site.admin.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            whole.get("since").is_none() && whole["users"].is_array(),
            "{whole}"
        );
        let (status, body) = get("/api/snapshot?since=yesterday", site.admin.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_site_defaults_travel_in_the_snapshot_and_bound_what_teachers_choose() {
    on_every_database(|site| async move {
        let (_, before) = site
            .call(Method::GET, "/api/snapshot", Some(&site.teacher), None)
            .await;
        let site_options =
            json!({"unenrol_action": "suspend", "max_removals": 10, "user_identifier": "username"});
        let (status, body) = site
            .call(
                Method::PUT,
                "/api/settings",
                Some(&site.admin),
                Some(json!({ "options": site_options })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, after) = site
            .call(Method::GET, "/api/snapshot", Some(&site.teacher), None)
            .await;
        assert_eq!(
            after["revision"].as_u64(),
            before["revision"].as_u64().map(|r| r + 1)
        );
        assert_eq!(after["defaults"]["unenrol_action"], "suspend");
        assert_eq!(after["defaults"]["max_removals"], 10);
        let (_, got) = site
            .call(Method::GET, "/api/settings", Some(&site.teacher), None)
            .await;
        assert_eq!(got["options"]["user_identifier"], "username");

        // The built-in options now go beyond the site's: another unenrol action, no limit.
        let (status, body) = site.submit(&site.teacher, GOOD, json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(
            body["error"]["details"]["options"],
            json!(["unenrol_action", "max_removals"])
        );
        // Tighter than the site is fine; so is anything for an admin.
        let tighter = json!({"unenrol_action": "suspend", "max_removals": 5});
        let (status, body) = site.submit(&site.teacher, GOOD, tighter).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = site.submit(&site.admin, GOOD, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        // Nonsense is refused with a reason, and changes nothing.
        for bad in [
            json!({"options": {"max_removals_percent": 250}}),
            json!({"options": {"override_limits": true}}),
            json!({"options": {"mdoe": "full"}}),
            json!({"opts": {}}),
        ] {
            let (status, body) = site
                .call(
                    Method::PUT,
                    "/api/settings",
                    Some(&site.admin),
                    Some(bad.clone()),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        }
        let (_, still) = site
            .call(Method::GET, "/api/settings", Some(&site.admin), None)
            .await;
        assert_eq!(still["options"]["max_removals"], 10);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_plan_the_site_contradicts_is_refused_until_approved_again() {
    on_every_database(|site| async move {
        let remove = "cmd;cname;userid;cidnumber\ndel;L2 Pharmacie;U0002;COH001\n";
        let id = |body: &Value| body["id"].as_i64().unwrap();
        let (_, first) = site.submit(&site.admin, GOOD, json!({})).await;
        site.act(&site.admin, id(&first), "approve").await;
        site.act(&site.admin, id(&first), "apply").await;

        let (_, a) = site.submit(&site.teacher, remove, json!({})).await;
        let (_, b) = site.submit(&site.teacher, remove, json!({})).await;
        for body in [&a, &b] {
            let (status, _) = site.act(&site.admin, id(body), "approve").await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, _) = site.act(&site.admin, id(&a), "apply").await;
        assert_eq!(status, StatusCode::OK);
        let revision = site.revision().await;
        let before = site.snapshot_json().await;

        // b was planned to remove a member that a removed already: drift.
        let (_, detail) = site
            .call(
                Method::GET,
                &format!("/api/changesets/{}", id(&b)),
                Some(&site.admin),
                None,
            )
            .await;
        assert_eq!(detail["drift"]["changed"], true);
        let (status, body) = site.act(&site.admin, id(&b), "apply").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("drift")),
            "{body}"
        );
        assert_eq!(
            body["error"]["details"]["operations_removed"][0]["op"],
            "remove_member"
        );
        // The site has what b asks for already, and the answer says so.
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("already has what changeset"), "{message}");
        assert_eq!(site.revision().await, revision);
        assert_eq!(site.snapshot_json().await, before);

        // Approved again, it is planned on the current state (nothing left to do).
        let (status, body) = site.act(&site.admin, id(&b), "approve").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["drift"]["changed"], false);
        let (status, _) = site.act(&site.admin, id(&b), "apply").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            site.revision().await,
            revision,
            "an empty plan changes nothing"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failure_in_the_middle_of_an_apply_leaves_nothing_written() {
    on_every_database(|site| async move {
        let (_, body) = site.submit(&site.admin, GOOD, json!({})).await;
        let id = body["id"].as_i64().unwrap();
        site.act(&site.admin, id, "approve").await;
        let before = site.snapshot_json().await;
        let admin = auth::Admin::try_from(site.caller(&site.admin).await).unwrap();
        // The cohort is created and one member added, then the apply fails.
        let result =
            changesets::apply_with_failure_after(&site.db, &Default::default(), &admin, id, 2)
                .await;
        assert!(result.is_err());
        assert_eq!(site.snapshot_json().await, before);
        let (_, detail) = site
            .call(
                Method::GET,
                &format!("/api/changesets/{id}"),
                Some(&site.admin),
                None,
            )
            .await;
        assert_eq!(detail["status"], "failed");
        assert!(
            detail["apply_report"]["error"]
                .as_str()
                .unwrap()
                .contains("rolled back")
        );
        // Re-approved, it applies in full.
        site.act(&site.admin, id, "approve").await;
        let (status, body) = site.act(&site.admin, id, "apply").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            site.snapshot_json().await["cohorts"][0]["members"],
            json!([1, 2])
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_applies_of_one_changeset_apply_it_exactly_once() {
    on_every_database(|site| async move {
        let (_, body) = site.submit(&site.admin, GOOD, json!({})).await;
        let id = body["id"].as_i64().unwrap();
        site.act(&site.admin, id, "approve").await;
        let before = site.revision().await;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let router = site.router.clone();
            let cookie = site.admin.clone();
            tasks.spawn(async move {
                let request = Request::post(format!("/api/changesets/{id}/apply"))
                    .header(header::COOKIE, cookie)
                    .header("sec-fetch-site", "same-origin")
                    .body(Body::empty())
                    .unwrap();
                router.oneshot(request).await.unwrap().status()
            });
        }
        let statuses = tasks.join_all().await;
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        let conflicts = statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!((ok, conflicts), (1, 7), "{statuses:?}");
        assert_eq!(site.revision().await, before + 1);
        assert_eq!(
            site.snapshot_json().await["cohorts"][0]["members"],
            json!([1, 2])
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn importing_the_same_file_twice_changes_nothing() {
    on_every_database(|site| async move {
        let revision = site.revision().await;
        let report = import(&site.db, ImportKind::Users, USERS.as_bytes())
            .await
            .unwrap();
        assert_eq!(
            (report.created, report.updated, report.unchanged),
            (0, 0, 5)
        );
        assert_eq!(site.revision().await, revision);
        let changed = USERS.replace("Jean,Dupont,0", "Jean,Dupont,1");
        let report = import(&site.db, ImportKind::Users, changed.as_bytes())
            .await
            .unwrap();
        assert_eq!(
            (report.created, report.updated, report.unchanged),
            (0, 1, 4)
        );
        assert_eq!(site.revision().await, revision + 1);
        let report = import(&site.db, ImportKind::Courses, b"shortname,fullname\nX,Y\n")
            .await
            .unwrap();
        let found: Vec<_> = report
            .diagnostics
            .iter()
            .map(|d| (d.line, d.code.as_str()))
            .collect();
        assert_eq!(found, [(1, "missing_column")]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_sets_a_strict_cookie_and_repeated_failures_are_slowed_down() {
    on_every_database(|site| async move {
        let login = |password: &str| {
            Request::post("/api/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"username": "Prof", "password": password}).to_string(),
                ))
                .unwrap()
        };
        let (status, body, headers) = site.send(login("password123")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["role"], "teacher");
        let cookie = headers[header::SET_COOKIE].to_str().unwrap();
        for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!cookie.contains("Secure"));
        let session = cookie.split(';').next().unwrap().to_owned();
        let (status, me) = site
            .call(Method::GET, "/api/me", Some(&session), None)
            .await;
        assert_eq!(
            (status, me["username"].as_str()),
            (StatusCode::OK, Some("prof"))
        );
        let (status, _) = site
            .call(Method::POST, "/api/logout", Some(&session), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = site
            .call(Method::GET, "/api/me", Some(&session), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        for _ in 0..5 {
            assert_eq!(site.send(login("wrong")).await.0, StatusCode::UNAUTHORIZED);
        }
        let (status, body, _) = site.send(login("password123")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_from_one_address_lock_out_no_one_elsewhere_and_are_all_counted() {
    on_every_database(|site| async move {
        let from = |address: &str, password: &str| {
            let mut request = Request::post("/api/login")
                .header(header::CONTENT_TYPE, "application/json")
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(
                    json!({"username": "admin", "password": password}).to_string(),
                ))
                .unwrap();
            let address: std::net::SocketAddr = format!("{address}:40000").parse().unwrap();
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(address));
            request
        };
        // A burst of guesses from one address: after five it must wait.
        let mut statuses = Vec::new();
        for _ in 0..8 {
            statuses.push(site.send_as_is(from("203.0.113.9", "guess")).await.0);
        }
        assert_eq!(&statuses[..5], [StatusCode::UNAUTHORIZED; 5]);
        assert!(
            statuses[5..]
                .iter()
                .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
            "{statuses:?}"
        );
        let (status, body, _) = site.send_as_is(from("203.0.113.9", "password123")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        // The admin, from elsewhere, signs in at once.
        let (status, body, _) = site.send_as_is(from("198.51.100.7", "password123")).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Twenty guesses at once from a third address: every one is counted, and at most
        // the five free ones had their password checked.
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let router = site.router.clone();
            let request = from("192.0.2.44", "guess");
            tasks.spawn(async move { router.oneshot(request).await.unwrap().status() });
        }
        let statuses = tasks.join_all().await;
        let checked = statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count();
        assert!(checked <= 5, "{statuses:?}");
        let counted: i64 =
            sqlx::query_scalar("SELECT failures FROM login_throttle WHERE key = 'addr:192.0.2.44'")
                .fetch_one(site.db.pool())
                .await
                .unwrap();
        assert_eq!(counted, 20);
        // Old rows expire.
        sqlx::query("UPDATE login_throttle SET updated_at = 0")
            .execute(site.db.pool())
            .await
            .unwrap();
        let (status, _, _) = site.send_as_is(from("192.0.2.44", "password123")).await;
        assert_eq!(status, StatusCode::OK);
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_throttle")
            .fetch_one(site.db.pool())
            .await
            .unwrap();
        assert_eq!(left, 1, "only the new attempt's address row is left");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_tokens_work_as_bearer_until_revoked() {
    on_every_database(|site| async move {
        let (status, created) = site
            .call(
                Method::POST,
                "/api/tokens",
                Some(&site.teacher),
                Some(json!({"name": "nightly export"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let token = created["token"].as_str().unwrap().to_owned();
        let bearer = |path: &str| {
            Request::get(path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap()
        };
        let (status, me, _) = site.send(bearer("/api/me")).await;
        assert_eq!(
            (status, me["username"].as_str()),
            (StatusCode::OK, Some("prof"))
        );
        let (_, list) = site
            .call(Method::GET, "/api/tokens", Some(&site.teacher), None)
            .await;
        assert_eq!(list[0]["name"], "nightly export");
        assert!(
            list[0].get("token").is_none(),
            "the token is shown once only"
        );
        let path = format!("/api/tokens/{}", created["id"]);
        // Someone else cannot revoke it.
        assert_eq!(
            site.call(Method::DELETE, &path, Some(&site.other_teacher), None)
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            site.call(Method::DELETE, &path, Some(&site.teacher), None)
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            site.send(bearer("/api/me")).await.0,
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokens_are_scoped_expire_and_cannot_make_tokens() {
    on_every_database(|site| async move {
        let make = |cookie: &str, body: Value| {
            let cookie = cookie.to_owned();
            let site = &site;
            async move {
                site.call(Method::POST, "/api/tokens", Some(&cookie), Some(body))
                    .await
            }
        };
        let as_token = |token: &str, method: Method, path: &str, body: Option<Value>| {
            let mut request = Request::builder()
                .method(method)
                .uri(path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"));
            if body.is_some() {
                request = request.header(header::CONTENT_TYPE, "application/json");
            }
            request
                .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
                .unwrap()
        };
        // The default: a submit token for 90 days.
        let (status, submit) = make(&site.admin, json!({"name": "nightly"})).await;
        assert_eq!(status, StatusCode::CREATED, "{submit}");
        assert_eq!(submit["scope"], "submit");
        let days =
            (submit["expires_at"].as_i64().unwrap() - cohortsync_backend::store::now()) / 86_400;
        assert!((89..=90).contains(&days), "{submit}");
        let submit = submit["token"].as_str().unwrap().to_owned();
        let (status, body) = site.submit(&site.teacher, GOOD, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let theirs = body["id"].as_i64().unwrap();
        let mut request = multipart("", GOOD.as_bytes(), "{}");
        request.headers_mut().remove(header::COOKIE);
        request.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {submit}").parse().unwrap(),
        );
        let (status, mine, _) = site.send_as_is(request).await;
        assert_eq!(status, StatusCode::CREATED, "{mine}");
        let mine = mine["id"].as_i64().unwrap();
        let (status, list, _) = site
            .send_as_is(as_token(&submit, Method::GET, "/api/changesets", None))
            .await;
        assert_eq!(status, StatusCode::OK);
        let ids: Vec<i64> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [mine], "a submit token reads its own changesets only");
        let (status, _, _) = site
            .send_as_is(as_token(
                &submit,
                Method::GET,
                &format!("/api/changesets/{theirs}"),
                None,
            ))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        for (method, path, body) in [
            (Method::GET, "/api/snapshot".to_owned(), None),
            (Method::GET, "/api/audit".to_owned(), None),
            (
                Method::POST,
                format!("/api/changesets/{mine}/approve"),
                Some(json!({})),
            ),
            (
                Method::POST,
                "/api/tokens".to_owned(),
                Some(json!({"name": "more"})),
            ),
            (
                Method::PUT,
                "/api/settings".to_owned(),
                Some(json!({"options": {}})),
            ),
        ] {
            let (status, answer, _) = site
                .send_as_is(as_token(&submit, method.clone(), &path, body))
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        }
        // An admin token does what its admin does, except make tokens.
        let (status, admin) = make(
            &site.admin,
            json!({"name": "ops", "scope": "admin", "expires_in_days": 7}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{admin}");
        let admin = admin["token"].as_str().unwrap().to_owned();
        let (status, answer, _) = site
            .send_as_is(as_token(
                &admin,
                Method::POST,
                &format!("/api/changesets/{mine}/approve"),
                Some(json!({})),
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let (status, _, _) = site
            .send_as_is(as_token(
                &admin,
                Method::POST,
                "/api/tokens",
                Some(json!({"name": "child"})),
            ))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // A teacher cannot make an admin token; lifetimes are bounded.
        let (status, _) = make(&site.teacher, json!({"name": "x", "scope": "admin"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for days in [0, 366, -1] {
            let (status, body) =
                make(&site.admin, json!({"name": "x", "expires_in_days": days})).await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (StatusCode::BAD_REQUEST, Some("invalid_expiry"))
            );
        }
        // Past its expiry a token no longer works.
        sqlx::query("UPDATE api_tokens SET expires_at = 1")
            .execute(site.db.pool())
            .await
            .unwrap();
        let (status, _, _) = site
            .send_as_is(as_token(&admin, Method::GET, "/api/me", None))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approve_and_apply_in_parallel_always_leave_the_applied_plan_stored() {
    on_every_database(|site| async move {
        let mut outcomes = std::collections::BTreeMap::new();
        for round in 0..50 {
            let file = format!(
                "cmd;cname;userid;cidnumber\nadd;Race {round};U0001;RACE{round}\nadd;Race {round};U0002;RACE{round}\n"
            );
            let (status, body) = site.submit(&site.admin, &file, json!({})).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            let id = body["id"].as_i64().unwrap();
            assert_eq!(site.act(&site.admin, id, "approve").await.0, StatusCode::OK);
            // The site moves on: planned now, the file adds one member instead of two.
            apply_file(
                &site,
                &format!("cmd;cname;userid;cidnumber\nadd;Race {round};U0001;RACE{round}\n"),
                json!({}),
            )
            .await;
            let request = |action: &str| {
                let body = if action == "approve" { Body::from("{}") } else { Body::empty() };
                Request::post(format!("/api/changesets/{id}/{action}"))
                    .header(header::COOKIE, &site.admin)
                    .header(header::CONTENT_TYPE, "application/json")
                    .header("sec-fetch-site", "same-origin")
                    .body(body)
                    .unwrap()
            };
            let (approve, apply) = tokio::join!(
                site.router.clone().oneshot(request("approve")),
                site.router.clone().oneshot(request("apply")),
            );
            let (approve, apply) = (approve.unwrap(), apply.unwrap());
            let (approved, applied) = (approve.status(), apply.status());
            let report: Value = serde_json::from_slice(
                &axum::body::to_bytes(apply.into_body(), usize::MAX).await.unwrap(),
            )
            .unwrap_or(Value::Null);
            let (_, detail) = site
                .call(Method::GET, &format!("/api/changesets/{id}?plan=true"), Some(&site.admin), None)
                .await;
            let stored_adds = detail["plan"]["operations"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["op"] == "add_member")
                .count();
            match detail["status"].as_str().unwrap() {
                "applied" => {
                    assert_eq!(applied, StatusCode::OK, "round {round}: {report}");
                    assert_eq!(
                        report["totals"], detail["totals"],
                        "round {round}: the stored plan is not the applied one"
                    );
                    assert_eq!(report["totals"]["members_added"], 1, "round {round}");
                    assert_eq!(stored_adds, 1, "round {round}: {detail}");
                }
                "approved" => {
                    // The apply saw the drift; the approval then stored the plan of now.
                    assert_eq!(applied, StatusCode::CONFLICT, "round {round}: {report}");
                    assert_eq!(approved, StatusCode::OK, "round {round}");
                    assert_eq!(detail["totals"]["members_added"], 1, "round {round}");
                }
                other => panic!("round {round}: {other}"),
            }
            *outcomes
                .entry((approved.as_u16(), applied.as_u16()))
                .or_insert(0) += 1;
        }
        eprintln!("approve/apply outcomes over 50 rounds: {outcomes:?}");
    })
    .await;
}

/// Submits `file` as admin with `options`, approves and applies it; returns the report.
async fn apply_file(site: &Site, file: &str, options: Value) -> Value {
    let (status, body) = site.submit(&site.admin, file, options).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (status, body) = site.act(&site.admin, id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, report) = site.act(&site.admin, id, "apply").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

async fn enrolments(site: &Site) -> Vec<(i64, String, i64)> {
    sqlx::query_as::<_, (i64, String, i64)>(
        "SELECT user_id, status, role_removed FROM enrolments ORDER BY user_id",
    )
    .fetch_all(site.db.pool())
    .await
    .unwrap()
}

async fn group_members(site: &Site) -> Vec<i64> {
    sqlx::query_scalar("SELECT user_id FROM group_members ORDER BY user_id")
        .fetch_all(site.db.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bindings_enrol_members_and_leaving_a_cohort_unenrols_or_suspends() {
    on_every_database(|site| async move {
        apply_file(&site, GOOD, json!({})).await;
        let report = apply_file(
            &site,
            "cmd;cohort;course;role;makegroup\nadd;COH001;PHARMA-L2;student;TD1\n",
            json!({}),
        )
        .await;
        assert_eq!(report["totals"]["bindings_created"], 1);
        assert_eq!(report["totals"]["enrolments"], 2);
        let active = |ids: &[i64]| -> Vec<(i64, String, i64)> {
            ids.iter().map(|&id| (id, "active".to_owned(), 0)).collect()
        };
        assert_eq!(enrolments(&site).await, active(&[1, 2]));
        assert_eq!(group_members(&site).await, [1, 2]);

        // A new member is enrolled and put in the group.
        apply_file(
            &site,
            "cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;U0003;COH001\n",
            json!({}),
        )
        .await;
        assert_eq!(enrolments(&site).await, active(&[1, 2, 3]));
        assert_eq!(group_members(&site).await, [1, 2, 3]);

        // Leaving: unenrolled (the default) and out of the group…
        apply_file(
            &site,
            "cmd;cname;userid;cidnumber\ndel;L2 Pharmacie;U0003;COH001\n",
            json!({}),
        )
        .await;
        assert_eq!(enrolments(&site).await, active(&[1, 2]));
        assert_eq!(group_members(&site).await, [1, 2]);
        // …or suspended with the role removed, when the site says so.
        apply_file(
            &site,
            "cmd;cname;userid;cidnumber\ndel;L2 Pharmacie;U0002;COH001\n",
            json!({"unenrol_action": "suspend_and_remove_roles"}),
        )
        .await;
        assert_eq!(
            enrolments(&site).await,
            [(1, "active".to_owned(), 0), (2, "suspended".to_owned(), 1)]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_binding_changes_role_and_outlives_its_cohort_deleted_under_suspend() {
    on_every_database(|site| async move {
        apply_file(&site, GOOD, json!({})).await;
        apply_file(
            &site,
            "cmd;cohort;course;role\nadd;COH001;PHARMA-L2;student\n",
            json!({}),
        )
        .await;
        let role_of_binding = || async {
            sqlx::query_scalar::<_, String>(
                "SELECT r.shortname FROM bindings b JOIN roles r ON r.id = b.role_id",
            )
            .fetch_all(site.db.pool())
            .await
            .unwrap()
        };
        // Moodle's update_instance with a new role: the members' role changes, their
        // enrolments stay.
        let report = apply_file(
            &site,
            "cmd;cohort;course;role;newrole\nadd;COH001;PHARMA-L2;student;teacher\n",
            json!({}),
        )
        .await;
        assert_eq!(report["totals"]["bindings_updated"], 1, "{report}");
        assert_eq!(report["totals"]["roles_removed"], 2, "{report}");
        assert_eq!(report["totals"]["roles_assigned"], 2, "{report}");
        assert_eq!(role_of_binding().await, ["teacher"]);
        let active = vec![(1, "active".to_owned(), 0), (2, "active".to_owned(), 0)];
        assert_eq!(enrolments(&site).await, active);
        // Reverted through the binding rules: the role goes back.
        let (status, body) = site
            .act(&site.admin, report["id"].as_i64().unwrap(), "revert")
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(role_of_binding().await, ["student"]);
        assert_eq!(enrolments(&site).await, active);

        // Deleting the bound cohort under *suspend*: the binding stays, disabled, and its
        // members are suspended with their role (Moodle's cases 08 and 18).
        let report = apply_file(
            &site,
            "cmd;cidnumber;userid\ndel;COH001;\n",
            json!({"unenrol_action": "suspend"}),
        )
        .await;
        assert_eq!(report["totals"]["cohorts_deleted"], 1, "{report}");
        assert_eq!(report["totals"]["suspensions"], 2, "{report}");
        assert_eq!(
            bindings(&site).await,
            [(String::new(), "disabled".to_owned())]
        );
        let suspended = vec![
            (1, "suspended".to_owned(), 0),
            (2, "suspended".to_owned(), 0),
        ];
        assert_eq!(enrolments(&site).await, suspended);
        let orphan: i64 = sqlx::query_scalar("SELECT cohort_id FROM bindings")
            .fetch_one(site.db.pool())
            .await
            .unwrap();

        // A cohort made next never takes the deleted one's id (SQLite would give it), so
        // it does not inherit the binding.
        apply_file(
            &site,
            "cmd;cname;userid;cidnumber\nadd;Nouvelle;U0003;NEW01\n",
            json!({}),
        )
        .await;
        let new: i64 = sqlx::query_scalar("SELECT id FROM cohorts WHERE idnumber = 'NEW01'")
            .fetch_one(site.db.pool())
            .await
            .unwrap();
        assert_ne!(new, orphan);
        assert_eq!(enrolments(&site).await, suspended);
        // The snapshot still serves the binding of the deleted cohort.
        let snapshot = site.snapshot_json().await;
        assert_eq!(snapshot["bindings"][0]["cohort"], orphan, "{snapshot}");
    })
    .await;
}

async fn bindings(site: &Site) -> Vec<(String, String)> {
    sqlx::query_as::<_, (String, String)>("SELECT name, status FROM bindings ORDER BY id")
        .fetch_all(site.db.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_binding_created_disabled_with_a_name_enrols_nobody_until_enabled() {
    on_every_database(|site| async move {
        apply_file(&site, GOOD, json!({})).await;
        let report = apply_file(
            &site,
            "cmd;cohort;course;role;makegroup;name;status
\
             add;COH001;CHIMIE-L1;student;0;\"Chimie; L2 Pharmacie\";disabled\n",
            json!({}),
        )
        .await;
        assert_eq!(report["totals"]["bindings_created"], 1);
        assert_eq!(report["totals"]["enrolments"], 0);
        let named = |status: &str| vec![("Chimie; L2 Pharmacie".to_owned(), status.to_owned())];
        assert_eq!(bindings(&site).await, named("disabled"));
        assert_eq!(enrolments(&site).await, []);

        // Enabled by the status column (no name column: the name stays).
        apply_file(
            &site,
            "cmd;cohort;course;status\nadd;COH001;CHIMIE-L1;active\n",
            json!({}),
        )
        .await;
        assert_eq!(bindings(&site).await, named("active"));
        let all = |status: &str| -> Vec<(i64, String, i64)> {
            [1, 2]
                .iter()
                .map(|&id| (id, status.to_owned(), 0))
                .collect()
        };
        assert_eq!(enrolments(&site).await, all("active"));

        // Disabled again: as in Moodle, members stay enrolled and lose the binding's role.
        let report = apply_file(
            &site,
            "cmd;cohort;course;status\nadd;COH001;CHIMIE-L1;disabled\n",
            json!({}),
        )
        .await;
        assert_eq!(report["totals"]["roles_removed"], 2, "{report}");
        assert_eq!(bindings(&site).await, named("disabled"));
        let without_role: Vec<(i64, String, i64)> = [1, 2]
            .iter()
            .map(|&id| (id, "active".to_owned(), 1))
            .collect();
        assert_eq!(enrolments(&site).await, without_role);
        let mut conn = site.db.pool().acquire().await.unwrap();
        let snapshot = site::load_snapshot(&mut conn).await.unwrap();
        assert_eq!(snapshot.bindings[0].name, "Chimie; L2 Pharmacie");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn binding_changesets_are_reverted_through_the_binding_rules() {
    on_every_database(|site| async move {
        apply_file(&site, GOOD, json!({})).await;
        let header = "cmd;cohort;course;role;makegroup;name;status\n";
        let revert = |id: i64| {
            let site = &site;
            async move { site.act(&site.admin, id, "revert").await }
        };
        let active = |status: &str| -> Vec<(i64, String, i64)> {
            [1, 2].iter().map(|&u| (u, status.to_owned(), 0)).collect()
        };

        // A binding created, then reverted: deleted, enrolments and group places gone.
        let created = apply_file(
            &site,
            &format!("{header}add;COH001;PHARMA-L2;student;TD1;L2 en TD;\n"),
            json!({}),
        )
        .await;
        assert_eq!(enrolments(&site).await, active("active"));
        assert_eq!(group_members(&site).await, [1, 2]);
        let (status, body) = revert(created["id"].as_i64().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["totals"]["bindings_deleted"], 1, "{body}");
        assert_eq!(bindings(&site).await, []);
        assert_eq!(enrolments(&site).await, []);
        assert_eq!(group_members(&site).await, Vec::<i64>::new());
        // The revert is a changeset like any other, with the binding file it amounts to.
        let (_, list) = site
            .call(
                Method::GET,
                "/api/changesets?limit=1",
                Some(&site.admin),
                None,
            )
            .await;
        assert_eq!(list[0]["reverts"], created["id"]);
        assert_eq!(list[0]["kind"], "bindings");

        // Bound again, then disabled and renamed, then that reverted: active, named back.
        apply_file(
            &site,
            &format!("{header}add;COH001;PHARMA-L2;student;TD1;L2 en TD;\n"),
            json!({}),
        )
        .await;
        let disabled = apply_file(
            &site,
            &format!("{header}add;COH001;PHARMA-L2;student;TD1;Fermé;disabled\n"),
            json!({}),
        )
        .await;
        assert_eq!(
            bindings(&site).await,
            [("Fermé".to_owned(), "disabled".to_owned())]
        );
        // Disabled: enrolled still, without the role (Moodle's update_status).
        let without_role: Vec<(i64, String, i64)> = [1, 2]
            .iter()
            .map(|&u| (u, "active".to_owned(), 1))
            .collect();
        assert_eq!(enrolments(&site).await, without_role);
        let (status, body) = revert(disabled["id"].as_i64().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            bindings(&site).await,
            [("L2 en TD".to_owned(), "active".to_owned())]
        );
        assert_eq!(enrolments(&site).await, active("active"));

        // Deleted, then that reverted: bound again as it was.
        let deleted = apply_file(
            &site,
            "cmd;cohort;course;role\nfulldel;COH001;PHARMA-L2;student\n",
            json!({}),
        )
        .await;
        assert_eq!(bindings(&site).await, []);
        let (status, body) = revert(deleted["id"].as_i64().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            bindings(&site).await,
            [("L2 en TD".to_owned(), "active".to_owned())]
        );
        assert_eq!(enrolments(&site).await, active("active"));
        assert_eq!(group_members(&site).await, [1, 2]);

        // Changed again since: not reverted automatically.
        let first = apply_file(
            &site,
            &format!("{header}add;COH001;PHARMA-L2;student;TD1;Un;\n"),
            json!({}),
        )
        .await;
        apply_file(
            &site,
            &format!("{header}add;COH001;PHARMA-L2;student;TD1;Deux;\n"),
            json!({}),
        )
        .await;
        let (status, body) = revert(first["id"].as_i64().unwrap()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("changed_since")),
            "{body}"
        );
        assert_eq!(
            bindings(&site).await,
            [("Deux".to_owned(), "active".to_owned())]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_site_loads_once_and_its_example_files_check_as_their_readme_says() {
    let dir = tempfile::tempdir().unwrap();
    let mut urls = vec![format!("sqlite://{}", dir.path().join("demo.db").display())];
    if let Ok(base) = std::env::var("COHORTSYNC_TEST_POSTGRES_URL")
        && !base.is_empty()
    {
        urls.push(
            cohortsync_backend::store::create_scratch_database(&base)
                .await
                .unwrap(),
        );
    }
    for url in urls {
        let db = Database::connect(&url).await.unwrap();
        let examples = dir.path().join("examples");
        let said = cohortsync_backend::demo::load(&db, &examples)
            .await
            .unwrap();
        assert!(said.contains("admin / admin-demo"), "{said}");
        let said = cohortsync_backend::demo::load(&db, &examples)
            .await
            .unwrap();
        assert!(said.contains("nothing was generated"), "{said}");
        let mut conn = db.pool().acquire().await.unwrap();
        let snapshot = site::load_snapshot(&mut conn).await.unwrap();
        drop(conn);
        assert_eq!(snapshot.users.len(), 4000);
        assert!(snapshot.users.iter().any(|u| u.suspended));
        assert_eq!(snapshot.courses.len(), 40);
        assert!(snapshot.cohorts.iter().any(|c| c.component == "auth_ldap"));

        let check = |name: &str, options: Value| {
            let bytes = std::fs::read(examples.join(name)).unwrap();
            let options = serde_json::from_value(options).unwrap();
            let checked = cohortsync_shared::check(&bytes, &snapshot, &options);
            let codes: Vec<(u32, &str)> = checked
                .report
                .diagnostics
                .iter()
                .filter(|d| d.severity == cohortsync_shared::report::Severity::Error)
                .map(|d| (d.line, d.code.as_str()))
                .collect();
            (checked.changeset.map(|c| c.totals()), codes)
        };
        for clean in [
            "01-add-students.csv",
            "02-new-cohort-and-binding.csv",
            "03-bind-courses.csv",
            "08-excel-windows-1252.csv",
            "09-moodle-cohort-upload.csv",
            "10-moodle-user-upload.csv",
        ] {
            let (plan, errors) = check(clean, json!({}));
            assert!(errors.is_empty() && plan.is_some(), "{clean}: {errors:?}");
        }
        let (plan, _) = check("01-add-students.csv", json!({}));
        assert_eq!(plan.unwrap().members_added, 3);
        assert_eq!(snapshot.categories.len(), 10);
        let (plan, _) = check("09-moodle-cohort-upload.csv", json!({}));
        assert_eq!(plan.unwrap().cohorts_created, 2);
        let (plan, _) = check("10-moodle-user-upload.csv", json!({}));
        assert!(plan.unwrap().members_added >= 2);
        assert_eq!(
            check("04-mistakes.csv", json!({})).1,
            [
                (3, "user_not_found"),
                (6, "conflicting_rows"),
                (7, "invalid_command"),
                (8, "cohort_protected"),
                (9, "ragged_row")
            ]
        );
        assert_eq!(
            check("05-cohort-names-in-the-idnumber-column.csv", json!({})).1,
            [(2, "cohort_not_found")]
        );
        assert_eq!(
            check(
                "06-emails-shared-by-a-family.csv",
                json!({"user_identifier": "email"})
            )
            .1,
            [(2, "user_ambiguous")]
        );
        assert_eq!(
            check("07-nightly-export-full-mode.csv", json!({"mode": "full"})).1,
            [(1, "limit_exceeded")]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_applied_changeset_is_reverted_unless_what_it_touched_changed_since() {
    on_every_database(|site| async move {
        let initial = site.snapshot_json().await;
        let first = apply_file(&site, GOOD, json!({})).await;
        let id = first["id"].as_i64().unwrap();
        let after_first = site.snapshot_json().await;
        // Teachers may not revert; a changeset not applied cannot be.
        let (status, _) = site.act(&site.teacher, id, "revert").await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Reverting the creation deletes the cohort: the site is as before.
        let (status, report) = site.act(&site.admin, id, "revert").await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["totals"]["cohorts_deleted"], 1);
        let mut now = site.snapshot_json().await;
        let mut expected = initial.clone();
        now["revision"] = Value::Null;
        expected["revision"] = Value::Null;
        assert_eq!(now, expected);
        let (_, detail) = site
            .call(
                Method::GET,
                &format!("/api/changesets/{id}"),
                Some(&site.admin),
                None,
            )
            .await;
        assert_eq!(detail["status"], "reverted");
        let (status, body) = site.act(&site.admin, id, "revert").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("wrong_status"))
        );

        // Reverting the revert brings the cohort back with its members.
        let revert_id = report["id"].as_i64().unwrap();
        let (status, _) = site.act(&site.admin, revert_id, "revert").await;
        assert_eq!(status, StatusCode::OK);
        let cohorts = site.snapshot_json().await["cohorts"].clone();
        assert_eq!(
            cohorts[0]["idnumber"],
            after_first["cohorts"][0]["idnumber"]
        );
        assert_eq!(cohorts[0]["members"], json!([1, 2]));

        // A removal, then someone else changes that cohort: the removal cannot be reverted.
        let removal = apply_file(
            &site,
            "cmd;cname;userid;cidnumber\ndel;L2 Pharmacie;U0001;COH001\n",
            json!({}),
        )
        .await;
        apply_file(
            &site,
            "cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;U0003;COH001\n",
            json!({}),
        )
        .await;
        let revision = site.revision().await;
        let (status, body) = site
            .act(&site.admin, removal["id"].as_i64().unwrap(), "revert")
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("changed_since")),
            "{body}"
        );
        assert_eq!(body["error"]["details"]["changed"][0]["change"], "members");
        assert_eq!(site.revision().await, revision);

        // A cohort hidden, moved or taken over by another component since: no revert either.
        for change in [
            "visible = 0",
            "category = 'Archives'",
            "component = 'auth_ldap'",
        ] {
            let added = apply_file(
                &site,
                "cmd;cname;userid;cidnumber\nadd;L2 Pharmacie;U0004;COH001\n",
                json!({}),
            )
            .await;
            sqlx::query(&format!(
                "UPDATE cohorts SET {change} WHERE idnumber = 'COH001'"
            ))
            .execute(site.db.pool())
            .await
            .unwrap();
            let (status, body) = site
                .act(&site.admin, added["id"].as_i64().unwrap(), "revert")
                .await;
            assert_eq!(
                (
                    status,
                    body["error"]["details"]["changed"][0]["change"].as_str()
                ),
                (StatusCode::CONFLICT, Some("fields")),
                "{change}: {body}"
            );
            sqlx::query(
                "UPDATE cohorts SET visible = 1, category = '', component = 'cohortsync' \
                 WHERE idnumber = 'COH001'",
            )
            .execute(site.db.pool())
            .await
            .unwrap();
            // Take the member out again for the next round.
            apply_file(
                &site,
                "cmd;cname;userid;cidnumber\ndel;L2 Pharmacie;U0004;COH001\n",
                json!({}),
            )
            .await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_another_write_took_is_a_409_that_names_it() {
    use axum::response::IntoResponse;
    use cohortsync_backend::error::ApiError;
    use cohortsync_backend::store::StoreError;
    use cohortsync_shared::changeset::{Changeset, NewCohort, Operation, Step};
    on_every_database(|site| async move {
        let mut tx = site.db.begin_write().await.unwrap();
        // A cohort written by someone else after the plan was made.
        sqlx::query(
            "INSERT INTO cohorts (idnumber, name, description, visible, category, component) \
             VALUES ('TAKEN', 'Elsewhere', '', 1, '', '')",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        let plan = Changeset {
            base_revision: 0,
            operations: vec![Step {
                line: Some(2),
                op: Operation::CreateCohort(Box::new(NewCohort {
                    cohort: 0,
                    idnumber: "TAKEN".into(),
                    name: "Mine".into(),
                    description: String::new(),
                    category: String::new(),
                    category_id: None,
                    component: "cohortsync".into(),
                    visible: true,
                })),
            }],
            effects: Vec::new(),
        };
        let error = site::write_changeset(&mut tx, &plan).await.unwrap_err();
        assert!(
            matches!(&error, StoreError::Taken { what: "cohort idnumber", value } if value == "TAKEN"),
            "{error:?}"
        );
        let response = ApiError::from(error).into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "taken");
        assert!(
            body["error"]["message"].as_str().unwrap().contains("\"TAKEN\""),
            "{body}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn categories_are_imported_and_a_moodle_cohort_upload_file_creates_cohorts_in_them() {
    on_every_database(|site| async move {
        let file = "name,idnumber,parent\nSciences,SCI,\nMathématiques,,SCI\n\
                    Algèbre,ALG,Sciences / Mathématiques\nLost,,NOWHERE\n";
        let report = import(&site.db, ImportKind::Categories, file.as_bytes())
            .await
            .unwrap();
        assert_eq!((report.created, report.updated), (3, 0));
        let found: Vec<_> = report
            .diagnostics
            .iter()
            .map(|d| (d.line, d.code.as_str()))
            .collect();
        assert_eq!(found, [(5, "category_not_found")]);
        let again = import(&site.db, ImportKind::Categories, file.as_bytes())
            .await
            .unwrap();
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
        let categories = site.snapshot_json().await["categories"].clone();
        assert_eq!(
            categories,
            json!([
                {"id": 1, "name": "Sciences", "idnumber": "SCI", "parent": 0},
                {"id": 2, "name": "Mathématiques", "parent": 1},
                {"id": 3, "name": "Algèbre", "idnumber": "ALG", "parent": 2}
            ])
        );

        let before = site.snapshot_json().await;
        let upload = "name,idnumber,description,category,visible\n\
                      L1 Maths,L1-MATHS,Licence 1,Sciences / Mathématiques,\n\
                      L1 Algèbre,,,ALG,no\n\
                      Ailleurs,,,Nowhere,\n";
        let report = apply_file(&site, upload, json!({})).await;
        assert_eq!(report["totals"]["cohorts_created"], 3, "{report}");
        let cohorts = site.snapshot_json().await["cohorts"].clone();
        let made: Vec<_> = cohorts
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["component"] == "")
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_owned(),
                    c["category"].as_str().unwrap_or("").to_owned(),
                    c["visible"].as_bool().unwrap(),
                )
            })
            .collect();
        assert!(
            made.contains(&("L1 Maths".into(), "Mathématiques".into(), true))
                && made.contains(&("L1 Algèbre".into(), "ALG".into(), false))
                && made.contains(&("Ailleurs".into(), String::new(), true)),
            "{made:?}"
        );
        let (_, detail) = site
            .call(
                Method::GET,
                &format!("/api/changesets/{}", report["id"]),
                Some(&site.admin),
                None,
            )
            .await;
        assert_eq!(detail["kind"], "moodle_cohorts", "{detail}");

        // Reverting deletes the cohorts it made: the site is as before.
        let (status, revert) = site
            .act(&site.admin, report["id"].as_i64().unwrap(), "revert")
            .await;
        assert_eq!(status, StatusCode::OK, "{revert}");
        let mut now = site.snapshot_json().await;
        let mut expected = before;
        now["revision"] = Value::Null;
        expected["revision"] = Value::Null;
        assert_eq!(now, expected);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moodle_user_and_course_upload_files_apply_and_revert_like_the_others() {
    on_every_database(|site| async move {
        let before = site.snapshot_json().await;
        // Moodle's user upload: jdupont joins a cohort the file creates (manual, as Moodle
        // makes it); the other columns are noted, not used.
        let users = "username,password,firstname,cohort1\njdupont,Secret1!,Jean,L2-PHARMA\n\
                     mmartin,Secret1!,Marie,L2-PHARMA\n";
        let added = apply_file(&site, users, json!({})).await;
        assert_eq!(added["totals"]["cohorts_created"], 1, "{added}");
        assert_eq!(added["totals"]["members_added"], 2, "{added}");
        let cohorts = site.snapshot_json().await["cohorts"].clone();
        assert_eq!(cohorts[0]["idnumber"], "L2-PHARMA");
        assert_eq!(cohorts[0]["name"], "L2-PHARMA");
        assert_eq!(cohorts[0]["component"], "");
        assert_eq!(cohorts[0]["members"], json!([1, 2]));

        // The changeset as Moodle's upload files (admins only).
        let id = added["id"].as_i64().unwrap();
        let mut exported = Vec::new();
        for (file, expected) in [
            (
                "cohorts.csv",
                "name,idnumber,description,visible,category_id\nL2-PHARMA,L2-PHARMA,,1,\n",
            ),
            (
                "users.csv",
                "username,cohort1\njdupont,L2-PHARMA\nmmartin,L2-PHARMA\n",
            ),
        ] {
            let path = format!("/api/changesets/{id}/moodle/{file}");
            let (status, text) = site.call(Method::GET, &path, Some(&site.admin), None).await;
            assert_eq!(status, StatusCode::OK, "{text}");
            assert_eq!(text.as_str(), Some(expected));
            exported.push(expected);
        }
        let after_users = site.snapshot_json().await["cohorts"].clone();

        // Moodle's course upload: the cohort bound to PHARMA-L2 with a new group; its
        // members are enrolled.
        let courses = "shortname,fullname,enrolment_1,enrolment_1_cohortidnumber,\
                       enrolment_1_role,enrolment_1_addtogroup\n\
                       PHARMA-L2,Pharmacie L2,cohort,L2-PHARMA,student,1\n";
        let bound = apply_file(&site, courses, json!({})).await;
        assert_eq!(bound["totals"]["bindings_created"], 1, "{bound}");
        assert_eq!(bound["totals"]["groups_created"], 1, "{bound}");
        assert_eq!(bound["totals"]["enrolments"], 2, "{bound}");
        assert_eq!(enrolments(&site).await.len(), 2);
        let (_, detail) = site
            .call(
                Method::GET,
                &format!("/api/changesets/{}", bound["id"]),
                Some(&site.admin),
                None,
            )
            .await;
        assert_eq!(detail["kind"], "moodle_course_cohorts", "{detail}");

        // Reverted, latest first: the site is as it was (the group Moodle's way stays).
        for id in [&bound["id"], &added["id"]] {
            let (status, revert) = site.act(&site.admin, id.as_i64().unwrap(), "revert").await;
            assert_eq!(status, StatusCode::OK, "{revert}");
        }
        assert!(enrolments(&site).await.is_empty());
        let mut now = site.snapshot_json().await;
        let mut expected = before;
        for snapshot in [&mut now, &mut expected] {
            snapshot["revision"] = Value::Null;
            snapshot["groups"] = Value::Null;
        }
        assert_eq!(now, expected);

        // The exported files, read back by the readers of Moodle's formats, make the same
        // cohort with the same members again.
        for file in exported {
            apply_file(&site, file, json!({})).await;
        }
        let mut again = site.snapshot_json().await["cohorts"].clone();
        let mut first = after_users;
        for cohorts in [&mut again, &mut first] {
            cohorts[0]["id"] = Value::Null;
        }
        assert_eq!(again, first);
    })
    .await;
}
