//! Mail to admins when a scheduled file needs them (it waits, it failed, nothing could be
//! planned from it, it cannot be read): SMTP through `lettre` (`--smtp-url`,
//! `--mail-from`), to the addresses on the admins' accounts. A mail that cannot be sent
//! is logged; it never stops a run.

use cohortsync_shared::folder::FileRun;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::RunBy;

/// Sends the task's mail.
#[derive(Debug, Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `url` (`smtp://host:25`, `smtp://user:password@host:587?tls=required`,
    /// `smtps://host:465`), sending as `from`.
    pub fn new(url: &str, from: &str) -> anyhow::Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("--smtp-url {}: {e}", crate::store::redact(url)))?
            .build();
        let from = from
            .parse()
            .map_err(|e| anyhow::anyhow!("--mail-from {from} is not an address: {e}"))?;
        Ok(Mailer { transport, from })
    }

    /// Tells `to` what became of `file`, with a link to its changeset under `public_url`.
    pub async fn send_file_run(
        &self,
        to: &[String],
        file: &FileRun,
        run_by: RunBy,
        public_url: Option<&str>,
    ) {
        if to.is_empty() {
            tracing::warn!(
                file = %file.file_name,
                "no admin account has an email address (account add --email): no mail sent"
            );
            return;
        }
        let message = match self.message(to, file, run_by, public_url) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "cannot write the sync folder's mail");
                return;
            }
        };
        if let Err(error) = self.transport.send(message).await {
            tracing::warn!(%error, "cannot send the sync folder's mail");
        }
    }

    fn message(
        &self,
        to: &[String],
        file: &FileRun,
        run_by: RunBy,
        public_url: Option<&str>,
    ) -> anyhow::Result<Message> {
        let mut builder = Message::builder().from(self.from.clone());
        for address in to {
            match address.parse::<Mailbox>() {
                Ok(mailbox) => builder = builder.to(mailbox),
                Err(error) => tracing::warn!(%error, address, "an admin's address does not read"),
            }
        }
        let what = match file.waiting {
            Some(reason) => format!("waits for an admin ({})", reason.as_str()),
            None => file.outcome.as_str().replace('_', " "),
        };
        let subject = match file.changeset {
            Some(id) => format!("cohortsync: {} {what} (changeset {id})", file.file_name),
            None => format!("cohortsync: {} {what}", file.file_name),
        };
        let mut body = format!(
            "The sync folder's {} run took {}.\n\n{}\n\n",
            run_by.as_str(),
            file.file_name,
            file.message
        );
        body.push_str(&format!(
            "Errors: {}\nRows set aside (tryback file): {}\n",
            file.errors, file.rows_set_aside
        ));
        for (label, path) in [
            ("Archive", &file.archive),
            ("Report", &file.report),
            ("Tryback file", &file.tryback),
        ] {
            if !path.is_empty() {
                body.push_str(&format!("{label}: {path}\n"));
            }
        }
        if let Some(id) = file.changeset {
            match public_url {
                Some(url) => body.push_str(&format!(
                    "\nChangeset: {}/changesets/{id}\n",
                    url.trim_end_matches('/')
                )),
                None => body.push_str(&format!("\nChangeset: {id} (Changesets page)\n")),
            }
        }
        Ok(builder.subject(subject).body(body)?)
    }
}
