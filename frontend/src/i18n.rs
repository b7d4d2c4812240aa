//! The app's own words in English and French. Diagnostic messages are not here: they come
//! from the shared codes, in the same language.

use cohortsync_shared::report::Lang;

/// The language of the browser (`fr…` → French, anything else → English), unless the person
/// chose one before (kept in local storage).
pub fn initial_lang() -> Lang {
    let window = web_sys::window();
    let saved = window
        .as_ref()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item("cohortsync-lang").ok().flatten());
    let wanted = saved.or_else(|| window.and_then(|w| w.navigator().language()));
    match wanted {
        Some(l) if l.to_lowercase().starts_with("fr") => Lang::Fr,
        _ => Lang::En,
    }
}

/// Remembers the person's choice.
pub fn save_lang(lang: Lang) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item("cohortsync-lang", code(lang));
    }
}

/// `en` or `fr`, for `lang` attributes.
pub fn code(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Fr => "fr",
    }
}

/// The text of `key` in `lang`; the key itself when unknown (a visible bug, not a crash).
pub fn t(lang: Lang, key: &'static str) -> &'static str {
    let fr = lang == Lang::Fr;
    macro_rules! pick {
        ($($k:literal => $en:literal, $fr:literal;)*) => {
            match key {
                $($k => if fr { $fr } else { $en },)*
                _ => key,
            }
        };
    }
    pick! {
        "nav.check" => "Check a file", "Vérifier un fichier";
        "nav.changesets" => "Changesets", "Modifications";
        "nav.login" => "Sign in", "Se connecter";
        "nav.cohorts" => "Cohorts", "Cohortes";
        "nav.courses" => "Courses", "Cours";
        "cohorts.search" => "Search by name or idnumber", "Chercher par nom ou idnumber";
        "cohorts.owner" => "Owner", "Propriétaire";
        "cohorts.owner.manual" => "made by hand", "faite à la main";
        "cohorts.owner.cohortsync" => "managed by files (cohortsync)", "gérée par fichiers (cohortsync)";
        "cohorts.owner.other" => "another system, read-only", "autre système, lecture seule";
        "cohorts.members" => "Members", "Membres";
        "cohorts.unbound" => "Not bound to any course.", "Liée à aucun cours.";
        "cohorts.not_found" => "No such cohort in the snapshot.", "Cette cohorte n’est pas dans l’instantané.";
        "courses.fullname" => "Full name", "Nom complet";
        "bind.title" => "Bind to a course", "Lier à un cours";
        "bind.role" => "Role", "Rôle";
        "bind.group" => "Group", "Groupe";
        "bind.group.none" => "none", "aucun";
        "bind.group.create" => "create a group named after the cohort", "créer un groupe au nom de la cohorte";
        "bind.name" => "Custom name", "Nom personnalisé";
        "bind.name.help" => "Empty: Moodle's default name (Cohort sync, then the cohort).", "Vide : le nom par défaut de Moodle (Synchro des cohortes, puis la cohorte).";
        "bind.active" => "Active: members are enrolled now", "Active : les membres sont inscrits dès maintenant";
        "bind.status.active" => "active", "active";
        "bind.status.disabled" => "disabled", "désactivée";
        "bind.submit" => "Submit for review", "Soumettre pour relecture";
        "nav.logout" => "Sign out", "Se déconnecter";
        "nav.lang" => "Français", "English";
        "nav.lang.label" => "Language", "Langue";
        "snapshot" => "Snapshot", "Instantané";
        "snapshot.none" => "No snapshot yet: sign in once to fetch the site's data.", "Pas encore d’instantané : connectez-vous une fois pour récupérer les données du site.";
        "snapshot.refresh" => "Refresh", "Actualiser";
        "snapshot.revision" => "revision", "révision";
        "snapshot.fetched" => "fetched", "récupéré";
        "snapshot.online" => "online", "en ligne";
        "snapshot.offline" => "offline", "hors ligne";
        "snapshot.ago.now" => "just now", "à l’instant";
        "snapshot.ago.min" => "min ago", "min";
        "snapshot.ago.h" => "h ago", "h";
        "check.title" => "Check a file", "Vérifier un fichier";
        "check.drop" => "Drop a CSV file here, or choose one:", "Déposez un fichier CSV ici, ou choisissez-en un :";
        "check.file" => "File", "Fichier";
        "check.options" => "Options", "Options";
        "check.running" => "Checking…", "Vérification…";
        "check.phase.checking" => "Reading, validating and planning the file…", "Lecture, validation et planification du fichier…";
        "check.phase.summarising" => "Summarising the changes…", "Résumé des changements…";
        "check.phase.reading" => "Reading the file…", "Lecture du fichier…";
        "check.unreadable" => "The file cannot be read", "Le fichier ne peut pas être lu";
        "check.summary" => "Summary", "Résumé";
        "check.kind" => "Kind", "Type";
        "check.kind.unknown" => "not recognised", "non reconnu";
        "check.rows" => "Rows", "Lignes";
        "check.errors" => "Errors", "Erreurs";
        "check.warnings" => "Warnings", "Avertissements";
        "check.omitted" => "The first {listed} problems are listed; {omitted} more are counted above but not listed. Fix these and check again.", "Les {listed} premiers problèmes sont listés ; {omitted} autres sont comptés ci-dessus sans être listés. Corrigez ceux-ci et vérifiez à nouveau.";
        "check.encoding" => "Encoding", "Encodage";
        "check.delimiter" => "Delimiter", "Séparateur";
        "check.checked_in" => "Checked in", "Vérifié en";
        "check.ok" => "No errors: this file can be submitted.", "Aucune erreur : ce fichier peut être soumis.";
        "check.has_errors" => "This file has errors: fix them and check it again.", "Ce fichier contient des erreurs : corrigez-les puis vérifiez-le à nouveau.";
        "check.diagnostics" => "Diagnostics", "Diagnostics";
        "check.none" => "Nothing to report.", "Rien à signaler.";
        "check.filter.severity" => "Severity", "Gravité";
        "check.filter.code" => "Code", "Code";
        "check.filter.all" => "all", "toutes";
        "col.line" => "Line", "Ligne";
        "col.column" => "Column", "Colonne";
        "col.value" => "Value", "Valeur";
        "col.code" => "Code", "Code";
        "col.severity" => "Severity", "Gravité";
        "col.message" => "Message", "Message";
        "col.original" => "Original line", "Ligne d’origine";
        "severity.error" => "error", "erreur";
        "severity.warning" => "warning", "avertissement";
        "severity.info" => "note", "remarque";
        "check.page.previous" => "Previous rows", "Lignes précédentes";
        "check.page.next" => "Next rows", "Lignes suivantes";
        "check.page.of" => "of", "sur";
        "check.page.none" => "No diagnostic passes these filters.", "Aucun diagnostic ne passe ces filtres.";
        "check.download" => "Download the annotated file", "Télécharger le fichier annoté";
        "dry.title" => "Dry run: what would change", "Simulation : ce qui changerait";
        "dry.nothing" => "Nothing would change.", "Rien ne changerait.";
        "dry.cohorts" => "Cohorts", "Cohortes";
        "dry.courses" => "Courses", "Cours";
        "dry.cohort" => "Cohort", "Cohorte";
        "dry.course" => "Course", "Cours";
        "dry.created" => "created", "créée";
        "dry.updated" => "updated", "modifiée";
        "dry.deleted" => "deleted", "supprimée";
        "dry.members_before" => "Members before", "Membres avant";
        "dry.added" => "Added", "Ajoutés";
        "dry.removed" => "Removed", "Retirés";
        "dry.enrolled" => "Enrolled", "Inscrits";
        "dry.unenrolled" => "Unenrolled", "Désinscrits";
        "dry.suspended" => "Suspended", "Suspendus";
        "dry.groups" => "Groups", "Groupes";
        "dry.roles" => "Roles (enrolment kept)", "Rôles (inscription gardée)";
        "dry.left" => "Last enrolment gone", "Dernière inscription retirée";
        "dry.left_help" => "Moodle also takes their other roles and group memberships in the course, manual ones included", "Moodle leur retire aussi leurs autres rôles et groupes dans le cours, y compris manuels";
        "dry.totals" => "Totals", "Totaux";
        "dry.members" => "members", "membres";
        "dry.show_all" => "Show every cohort and course", "Afficher toutes les cohortes et tous les cours";
        "dry.limits" => "Safety limits", "Limites de sécurité";
        "submit" => "Submit for review", "Soumettre pour relecture";
        "submit.login" => "Sign in to submit this file.", "Connectez-vous pour soumettre ce fichier.";
        "submit.beyond_site" => "A teacher cannot submit these options beyond the site's settings:", "Un enseignant ne peut soumettre ces options au-delà des réglages du site :";
        "nav.settings" => "Settings", "Réglages";
        "waiting.errors" => "(rows with errors left out)", "(lignes en erreur écartées)";
        "waiting.limit" => "(beyond a safety limit: approving overrides it)", "(au-delà d’une limite de sécurité : approuver la lève)";
        "waiting.policy" => "(the sync policy waits for an admin)", "(la politique de synchronisation attend un administrateur)";
        "nav.sync" => "Sync folder", "Dossier de synchronisation";
        "sync.title" => "Sync folder", "Dossier de synchronisation";
        "sync.intro" => "Files dropped in the sync folder (the cohort file first, then the binding file) go through the same rules, limits and changesets as an upload. Each is applied at once or waits for an admin under the policy below; its input is archived, its report and tryback file written beside it.", "Les fichiers déposés dans le dossier de synchronisation (le fichier de cohortes d’abord, puis celui des liaisons) passent par les mêmes règles, limites et modifications qu’un dépôt. Chacun est appliqué aussitôt ou attend un administrateur selon la politique ci-dessous ; le fichier est archivé, son rapport et son fichier de reprise écrits à côté.";
        "sync.folder" => "Folder:", "Dossier :";
        "sync.next" => "Next scheduled run:", "Prochaine exécution prévue :";
        "sync.next.none" => "none (the schedule is off)", "aucune (la planification est désactivée)";
        "sync.run" => "Run now", "Lancer maintenant";
        "sync.simulate" => "Simulate", "Simuler";
        "sync.no_file" => "No file in the folder.", "Aucun fichier dans le dossier.";
        "sync.report" => "This run", "Cette exécution";
        "sync.report.simulated" => "Simulated run: nothing was stored, applied or moved", "Exécution simulée : rien n’a été enregistré, appliqué ni déplacé";
        "sync.history" => "Last files taken", "Derniers fichiers traités";
        "sync.history.none" => "The task has taken no file yet.", "La tâche n’a encore traité aucun fichier.";
        "sync.col.time" => "Time", "Heure";
        "sync.col.file" => "File", "Fichier";
        "sync.col.outcome" => "Outcome", "Résultat";
        "sync.col.message" => "What happened", "Ce qui s’est passé";
        "sync.col.changeset" => "Changeset", "Modification";
        "sync.col.files" => "Archive, report, tryback", "Archive, rapport, reprise";
        "sync.outcome.applied" => "applied", "appliqué";
        "sync.outcome.waiting" => "waits for an admin", "attend un administrateur";
        "sync.outcome.already_applied" => "already applied", "déjà appliqué";
        "sync.outcome.nothing_to_do" => "nothing to do", "rien à faire";
        "sync.outcome.nothing_planned" => "nothing planned (errors)", "rien de planifié (erreurs)";
        "sync.outcome.failed" => "failed", "échoué";
        "sync.outcome.unreadable" => "unreadable", "illisible";
        "sync.outcome.not_settled" => "still being written", "en cours d’écriture";
        "sync.schedule" => "Schedule", "Planification";
        "sync.enabled" => "Run on the schedule", "Exécuter selon la planification";
        "sync.cron" => "When (cron expression)", "Quand (expression cron)";
        "sync.cron.help" => "Minute, hour, day of month, month, day of week, in the server's time zone. tool_sync's default, 15 */12 * * *, runs at 00:15 and 12:15.", "Minute, heure, jour du mois, mois, jour de la semaine, dans le fuseau du serveur. La valeur de tool_sync, 15 */12 * * *, s’exécute à 00 h 15 et 12 h 15.";
        "sync.files" => "Files", "Fichiers";
        "sync.cohorts_file" => "Cohort file name", "Nom du fichier de cohortes";
        "sync.bindings_file" => "Course binding file name", "Nom du fichier de liaisons aux cours";
        "sync.retention" => "Keep archives, reports and tryback files (days, 0 = for ever)", "Garder archives, rapports et fichiers de reprise (jours, 0 = toujours)";
        "sync.lang" => "Language of the reports", "Langue des rapports";
        "sync.policy" => "Policy", "Politique";
        "sync.auto_apply" => "Apply automatically when a file has no errors and stays within the safety limits", "Appliquer automatiquement quand un fichier n’a pas d’erreur et reste dans les limites de sécurité";
        "sync.on_errors" => "A file with errors", "Un fichier avec des erreurs";
        "sync.on_errors.hold" => "waits: nothing of it is applied", "attend : rien n’en est appliqué";
        "sync.on_errors.apply_valid_rows" => "its valid rows are applied, the others go to the tryback file", "ses lignes valides sont appliquées, les autres vont au fichier de reprise";
        "sync.site_options" => "Check the files with the site's default options", "Vérifier les fichiers avec les options par défaut du site";
        "sync.saved" => "Saved.", "Enregistré.";
        "settings.title" => "Site settings", "Réglages du site";
        "settings.intro" => "Every check starts from these options. A teacher cannot choose another unenrol action, nor looser safety limits.", "Chaque vérification part de ces options. Un enseignant ne peut pas choisir une autre action de désinscription, ni des limites de sécurité plus lâches.";
        "opt.unenrol.moodle" => "On this Moodle site the unenrol action is Moodle's own setting (Site administration › Plugins › Enrolments › Cohort sync): change it there.", "Sur ce site Moodle, l'action de désinscription est le réglage de Moodle (Administration du site › Plugins › Inscriptions › Synchronisation des cohortes) : c'est là qu'elle se change.";
        "settings.admins" => "Only an admin can change the site's settings.", "Seul un administrateur peut modifier les réglages du site.";
        "settings.save" => "Save the settings", "Enregistrer les réglages";
        "settings.saved" => "Saved: the next snapshot carries them.", "Enregistrés : le prochain instantané les porte.";
        "submit.refused.report" => "The server checked the file against the site as it is now and refused it. Errors:", "Le serveur a vérifié le fichier avec le site tel qu’il est maintenant et l’a refusé. Erreurs :";
        "submit.done" => "Submitted as changeset", "Soumis comme modification";
        "submit.refused" => "The server refused the file", "Le serveur a refusé le fichier";
        "login.title" => "Sign in", "Connexion";
        "login.username" => "Username", "Identifiant";
        "login.password" => "Password", "Mot de passe";
        "login.submit" => "Sign in", "Se connecter";
        "login.as" => "Signed in as", "Connecté en tant que";
        "list.title" => "Changesets", "Modifications";
        "list.status" => "Status", "Statut";
        "list.all" => "all", "tous";
        "list.empty" => "No changesets.", "Aucune modification.";
        "list.id" => "#", "n°";
        "list.author" => "Author", "Auteur";
        "list.file" => "File", "Fichier";
        "list.created" => "Created", "Créée le";
        "list.changes" => "Changes", "Changements";
        "status.submitted" => "submitted", "soumise";
        "status.approved" => "approved", "approuvée";
        "status.rejected" => "rejected", "refusée";
        "status.applied" => "applied", "appliquée";
        "status.failed" => "failed", "échouée";
        "status.reverted" => "reverted", "annulée";
        "detail.written" => "Written", "Écrit";
        "detail.failed" => "The apply failed", "L’application a échoué";
        "detail.history" => "History", "Historique";
        "detail.title" => "Changeset", "Modification";
        "detail.report" => "Report", "Rapport";
        "detail.plan" => "Plan: what applying it would change now", "Plan : ce que l’appliquer changerait maintenant";
        "detail.drift" => "Drift", "Dérive";
        "detail.drift.none" => "Planning this file now gives the same plan.", "Planifier ce fichier maintenant donne le même plan.";
        "detail.drift.changed" => "The site changed: planning this file now gives a different plan.", "Le site a changé : planifier ce fichier maintenant donne un autre plan.";
        "detail.comment" => "Comment", "Commentaire";
        "detail.approve" => "Approve", "Approuver";
        "detail.reject" => "Reject", "Refuser";
        "detail.apply" => "Apply", "Appliquer";
        "detail.revert" => "Revert", "Annuler";
        "detail.moodle" => "For Moodle's upload screens", "Pour les écrans d’import de Moodle";
        "detail.moodle.help" => "Where cohortsync may not write into Moodle, load these files through Moodle's own screens: the cohorts first (Users › Cohorts › Upload cohorts), then the members (Users › Upload users, upload type “Update existing users only”). Removals and bindings are not in them.", "Là où cohortsync ne peut pas écrire dans Moodle, chargez ces fichiers par les écrans de Moodle : d’abord les cohortes (Utilisateurs › Cohortes › Importer des cohortes), puis les membres (Utilisateurs › Importer des utilisateurs, type d’import « Mettre à jour les utilisateurs existants seulement »). Les retraits et les liaisons n’y sont pas.";
        "detail.moodle.cohorts" => "New cohorts, as Moodle's cohort upload file", "Nouvelles cohortes, en fichier d’import de cohortes de Moodle";
        "detail.moodle.users" => "Members added, as Moodle's user upload file", "Membres ajoutés, en fichier d’import d’utilisateurs de Moodle";
        "detail.applied" => "Applied: revision", "Appliquée : révision";
        "detail.review" => "Review", "Relecture";
        "loading" => "Loading…", "Chargement…";
        "opt.user" => "Users are found by", "Les utilisateurs sont trouvés par";
        "opt.cohort" => "Cohorts are found by", "Les cohortes sont trouvées par";
        "opt.course" => "Courses are found by", "Les cours sont trouvés par";
        "opt.role" => "Roles are found by", "Les rôles sont trouvés par";
        "opt.mode" => "Mode", "Mode";
        "opt.mode.incremental" => "incremental: only what the file says", "incrémental : seulement ce que dit le fichier";
        "opt.mode.full" => "full: members absent from the file leave", "complet : les membres absents du fichier sont retirés";
        "opt.create_missing" => "Create missing cohorts", "Créer les cohortes manquantes";
        "opt.cleanup_empty" => "Delete cohorts that end up empty", "Supprimer les cohortes qui finissent vides";
        "opt.unenrol" => "When a member leaves", "Quand un membre part";
        "opt.unenrol.unenrol" => "unenrol", "désinscrire";
        "opt.unenrol.suspend" => "suspend", "suspendre";
        "opt.unenrol.suspend_and_remove_roles" => "suspend and remove roles", "suspendre et retirer les rôles";
        "opt.max_removals" => "At most this many removals", "Au plus ce nombre de retraits";
        "opt.max_removals_percent" => "At most this % of members removed (full mode)", "Au plus ce % de membres retirés (mode complet)";
        "opt.min_rows" => "At least this many rows", "Au moins ce nombre de lignes";
        "opt.default_category" => "Default category of Moodle's cohort upload (path, id or idnumber; empty: system)", "Catégorie par défaut de l’import de cohortes Moodle (chemin, identifiant ou numéro ; vide : système)";
        "opt.override_limits" => "Override the safety limits (admin)", "Passer outre les limites de sécurité (admin)";
        "opt.encoding" => "Encoding", "Encodage";
        "opt.delimiter" => "Delimiter", "Séparateur";
        "opt.auto" => "detect", "détecter";
    }
}
