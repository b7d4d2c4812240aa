//! The English and French texts of every diagnostic code, and the languages they exist in.
//!
//! Parameters come from [`Diagnostic::args`]; their order per code is documented next to
//! each message and fixed by the rule that emits it.

use serde::{Deserialize, Serialize};

use super::diagnostic::{Code, Diagnostic, Hint, Severity};

/// A user interface language for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// French.
    Fr,
}

impl Lang {
    /// Every language messages exist in.
    pub const ALL: &'static [Lang] = &[Lang::En, Lang::Fr];

    /// The language's code, as on the wire and in flags: `en`, `fr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language an HTTP `Accept-Language` header asks for first, among those messages
    /// exist in (English when none fits).
    ///
    /// ```
    /// use cohortsync_shared::report::Lang;
    /// assert_eq!(Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr);
    /// assert_eq!(Lang::from_accept_language("de, fr;q=0.5"), Lang::Fr);
    /// assert_eq!(Lang::from_accept_language("en-GB, fr;q=0.2"), Lang::En);
    /// assert_eq!(Lang::from_accept_language(""), Lang::En);
    /// ```
    pub fn from_accept_language(header: &str) -> Lang {
        let mut wanted: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim().to_ascii_lowercase();
                let quality = pieces
                    .find_map(|p| p.trim().strip_prefix("q=")?.parse::<f32>().ok())
                    .unwrap_or(1.0);
                let lang = match tag.split('-').next()? {
                    "fr" => Lang::Fr,
                    "en" => Lang::En,
                    _ => return None,
                };
                Some((quality, lang))
            })
            .collect();
        // Stable: among equal qualities, the first listed wins.
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0));
        wanted.first().map_or(Lang::En, |w| w.1)
    }
}

/// What a kind of file is called, in `lang`: "cohort file", "Moodle cohort upload file"…
pub fn kind_name(kind: crate::formats::FileKind, lang: Lang) -> &'static str {
    use crate::formats::FileKind;
    match (kind, lang) {
        (FileKind::Cohorts, Lang::En) => "cohort file",
        (FileKind::Cohorts, Lang::Fr) => "fichier de cohortes",
        (FileKind::Bindings, Lang::En) => "course binding file",
        (FileKind::Bindings, Lang::Fr) => "fichier de liaisons aux cours",
        (FileKind::MoodleCohorts, Lang::En) => "Moodle cohort upload file",
        (FileKind::MoodleCohorts, Lang::Fr) => "fichier d’import de cohortes Moodle",
        (FileKind::MoodleUserCohorts, Lang::En) => "Moodle user upload file (cohort columns)",
        (FileKind::MoodleUserCohorts, Lang::Fr) => {
            "fichier d’import d’utilisateurs Moodle (colonnes de cohortes)"
        }
        (FileKind::MoodleCourseCohorts, Lang::En) => {
            "Moodle course upload file (cohort enrolments)"
        }
        (FileKind::MoodleCourseCohorts, Lang::Fr) => {
            "fichier d’import de cours Moodle (inscriptions par cohorte)"
        }
    }
}

/// The words of the text report (what `cohortsync validate` prints), in one language.
pub(crate) struct TextWords {
    pub(crate) delimiter: &'static str,
    pub(crate) rows: &'static str,
    pub(crate) errors: &'static str,
    pub(crate) warnings: &'static str,
    pub(crate) notes: &'static str,
    pub(crate) line: &'static str,
    pub(crate) no_plan: &'static str,
    pub(crate) plan: &'static str,
    pub(crate) nothing_to_change: &'static str,
    /// Cohorts created, updated, deleted; members added, removed; groups created; bindings
    /// created, updated, deleted; enrolments, unenrolments, suspensions.
    pub(crate) totals: [&'static str; 15],
}

impl TextWords {
    /// The words in `lang`.
    pub(crate) fn of(lang: Lang) -> &'static TextWords {
        match lang {
            Lang::En => &TEXT_EN,
            Lang::Fr => &TEXT_FR,
        }
    }

    /// "(the first N are listed; M more are counted, not listed)".
    pub(crate) fn omitted(&self, listed: usize, omitted: usize, lang: Lang) -> String {
        match lang {
            Lang::Fr => format!(
                "(les {listed} premiers sont listés ; {omitted} autres sont comptés sans être listés)"
            ),
            Lang::En => {
                format!("(the first {listed} are listed; {omitted} more are counted, not listed)")
            }
        }
    }
}

const TEXT_EN: TextWords = TextWords {
    delimiter: "delimiter",
    rows: "rows",
    errors: "error(s)",
    warnings: "warning(s)",
    notes: "note(s)",
    line: "line",
    no_plan: "No plan: fix the errors first.",
    plan: "Plan:",
    nothing_to_change: "nothing to change",
    totals: [
        "cohorts created",
        "cohorts updated",
        "cohorts deleted",
        "members added",
        "members removed",
        "groups created",
        "bindings created",
        "bindings updated",
        "bindings deleted",
        "enrolments",
        "unenrolments",
        "suspensions",
        "roles given back (enrolment kept)",
        "roles taken (enrolment kept)",
        "last enrolments in a course (their other roles and groups there go too)",
    ],
};

const TEXT_FR: TextWords = TextWords {
    delimiter: "séparateur",
    rows: "lignes",
    errors: "erreur(s)",
    warnings: "avertissement(s)",
    notes: "remarque(s)",
    line: "ligne",
    no_plan: "Aucun plan : corrigez d’abord les erreurs.",
    plan: "Plan :",
    nothing_to_change: "rien à changer",
    totals: [
        "cohortes créées",
        "cohortes modifiées",
        "cohortes supprimées",
        "membres ajoutés",
        "membres retirés",
        "groupes créés",
        "liaisons créées",
        "liaisons modifiées",
        "liaisons supprimées",
        "inscriptions",
        "désinscriptions",
        "suspensions",
        "rôles rendus (inscription gardée)",
        "rôles retirés (inscription gardée)",
        "dernières inscriptions dans un cours (leurs autres rôles et groupes y partent aussi)",
    ],
};

impl Diagnostic {
    /// The message, in `lang`, including the hint if any.
    pub fn message(&self, lang: Lang) -> String {
        let mut text = render(self, lang);
        if let Some(hint) = &self.hint {
            text.push(' ');
            text.push_str(&render_hint(hint, lang));
        }
        text
    }

    /// The diagnostic as shown to users and scripts: `{line, column, value, code,
    /// severity, message}`.
    pub fn to_view(&self, lang: Lang) -> DiagnosticView {
        DiagnosticView {
            line: self.line,
            column: self.column.clone(),
            value: self.value.clone(),
            code: self.code,
            severity: self.severity,
            message: self.message(lang),
        }
    }
}

/// A diagnostic with its message rendered in one language: the JSON shape of reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticView {
    /// Physical line where the record starts, from 1.
    pub line: u32,
    /// Column name, if the problem is in one cell.
    pub column: Option<String>,
    /// The cell's value, if any.
    pub value: Option<String>,
    /// Stable code.
    pub code: Code,
    /// Error, warning or info.
    pub severity: Severity,
    /// Human-readable message.
    pub message: String,
}

/// The message of `diagnostic` in `lang`, without its hint.
fn render(d: &Diagnostic, lang: Lang) -> String {
    let arg = |i: usize| d.args.get(i).map(String::as_str).unwrap_or("");
    let value = d.value.as_deref().unwrap_or("");
    let column = d.column.as_deref().unwrap_or("");
    let fr = lang == Lang::Fr;
    match d.code {
        Code::EmptyFile => if fr {
            "Le fichier est vide : il lui faut au moins une ligne d’en-tête.".into()
        } else {
            "The file is empty: it needs at least a header line.".into()
        },
        // args: [bytes]
        Code::FileTooLarge => if fr {
            format!("Le fichier est trop grand ({} octets) : coupez-le en plusieurs fichiers de moins de 2 Gio.", arg(0))
        } else {
            format!("The file is too large ({} bytes): split it into files under 2 GiB.", arg(0))
        },
        // args: []
        Code::MissingColumn => if fr {
            format!("La colonne « {column} » est nécessaire mais absente de l’en-tête.{}", reason(arg(0), lang))
        } else {
            format!("Column “{column}” is needed but missing from the header.{}", reason(arg(0), lang))
        },
        Code::UnknownColumn => if fr {
            format!("Colonne inconnue « {column} » : elle est ignorée.")
        } else {
            format!("Unknown column “{column}”: it is ignored.")
        },
        // args: [first position]
        Code::DuplicateColumn => if fr {
            format!("La colonne « {column} » apparaît deux fois dans l’en-tête (déjà en position {}).", arg(0))
        } else {
            format!("Column “{column}” appears twice in the header (already at position {}).", arg(0))
        },
        // args: [cells in row, cells in header]
        Code::RaggedRow => if fr {
            format!("Cette ligne a {} cellules alors que l’en-tête en a {}.", arg(0), arg(1))
        } else {
            format!("This row has {} cells where the header has {}.", arg(0), arg(1))
        },
        // args: [lines swallowed]
        Code::UnclosedQuote => if fr {
            format!("Un guillemet ouvert ici n’est jamais fermé : la suite du fichier ({} lignes) a été lue comme une seule cellule.", arg(0))
        } else {
            format!("A quote opened here is never closed: the rest of the file ({} lines) was read as one cell.", arg(0))
        },
        Code::EncodingFallback => if fr {
            "Le fichier n’est pas en UTF-8 (premier octet invalide sur cette ligne) : il a été lu en Windows-1252. Vérifiez les lettres accentuées, ou enregistrez-le en UTF-8.".into()
        } else {
            "The file is not UTF-8 (first invalid byte on this line): it was read as Windows-1252. Check accented letters, or save it as UTF-8.".into()
        },
        // args: [format key]
        Code::UnsupportedFormat => match (arg(0), fr) {
            (_, false) => "Unrecognised header. cohortsync reads: a cohort file (userid and a cohort column: cid, cidnumber or cname); a course binding file (course and cohort); Moodle’s cohort upload file (name, with idnumber, description, category…); Moodle’s user upload file with cohort columns (username and cohort1, cohort2…); Moodle’s course upload file with cohort enrolments (shortname and enrolment_1…).".into(),
            (_, true) => "En-tête non reconnu. cohortsync lit : un fichier de cohortes (userid et une colonne de cohorte : cid, cidnumber ou cname) ; un fichier de liaisons de cours (course et cohort) ; le fichier d’import de cohortes de Moodle (name, avec idnumber, description, category…) ; le fichier d’import d’utilisateurs de Moodle avec des colonnes de cohortes (username et cohort1, cohort2…) ; le fichier d’import de cours de Moodle avec des inscriptions par cohorte (shortname et enrolment_1…).".into(),
        },
        // args: [allowed commands]
        Code::InvalidCommand => if fr {
            format!("Commande inconnue « {value} » : utilisez {}.", arg(0))
        } else {
            format!("Unknown command “{value}”: use {}.", arg(0))
        },
        // args: [reason key]
        Code::EmptyValue => if fr {
            format!("La cellule « {column} » est vide alors que cette ligne en a besoin.{}", reason(arg(0), lang))
        } else {
            format!("Cell “{column}” is empty but this row needs it.{}", reason(arg(0), lang))
        },
        // args: [expected key]
        Code::InvalidValue => if fr {
            format!("« {value} » n’est pas une valeur valide pour « {column} » : {}.", expected(arg(0), lang))
        } else {
            format!("“{value}” is not a valid value for “{column}”: {}.", expected(arg(0), lang))
        },
        // args: [identifier]
        Code::UserNotFound => if fr {
            format!("Aucun utilisateur n’a {} « {value} ».", arg(0))
        } else {
            format!("No user has {} “{value}”.", arg(0))
        },
        // args: [identifier, count]
        Code::UserAmbiguous => if fr {
            format!("{} utilisateurs ont {} « {value} » : utilisez un identifiant unique (idnumber ou username).", arg(1), arg(0))
        } else {
            format!("{} users have {} “{value}”: use a unique identifier (idnumber or username).", arg(1), arg(0))
        },
        Code::UserSuspended => if fr {
            format!("Le compte de « {value} » est suspendu : il sera ajouté mais ne peut pas se connecter.")
        } else {
            format!("The account of “{value}” is suspended: it is added but cannot log in.")
        },
        // args: [identifier, reason key]
        Code::CohortNotFound => if fr {
            format!("Aucune cohorte n’a {} « {value} ».{}", arg(0), reason(arg(1), lang))
        } else {
            format!("No cohort has {} “{value}”.{}", arg(0), reason(arg(1), lang))
        },
        // args: [identifier, count]
        Code::CohortAmbiguous => if fr {
            format!("{} cohortes ont {} « {value} » : utilisez l’idnumber de la cohorte.", arg(1), arg(0))
        } else {
            format!("{} cohorts have {} “{value}”: use the cohort idnumber.", arg(1), arg(0))
        },
        // args: [cohort name, component]
        Code::CohortProtected => if fr {
            format!("La cohorte « {} » appartient à {} : elle ne peut pas être modifiée ici.", arg(0), arg(1))
        } else {
            format!("Cohort “{}” is owned by {}: it cannot be changed here.", arg(0), arg(1))
        },
        // args: ["disagree", field, other value, other line] or ["taken", field, other cohort]
        Code::CohortConflict => match (arg(0), fr) {
            ("taken", false) => format!("The {} “{value}” already belongs to cohort “{}”.", arg(1), arg(2)),
            ("taken", true) => format!("Le {} « {value} » appartient déjà à la cohorte « {} ».", arg(1), arg(2)),
            ("in_file", false) => format!("Line {} already creates a cohort with the {} “{value}”: Moodle refuses a second one.", arg(2), arg(1)),
            ("in_file", true) => format!("La ligne {} crée déjà une cohorte avec le {} « {value} » : Moodle en refuse une deuxième.", arg(2), arg(1)),
            (_, false) => format!("This row gives the cohort the {} “{value}” but line {} gives “{}”.", arg(1), arg(3), arg(2)),
            (_, true) => format!("Cette ligne donne à la cohorte le {} « {value} » mais la ligne {} donne « {} ».", arg(1), arg(3), arg(2)),
        },
        // args: [cohort name, courses]
        Code::CohortInUse => if fr {
            format!("La cohorte « {} » ne peut pas être supprimée : des cours y sont liés ({}). Avec l’action de désinscription « suspendre », supprimez d’abord ces liaisons.", arg(0), arg(1))
        } else {
            format!("Cohort “{}” cannot be deleted: courses are bound to it ({}). With the unenrol action “suspend”, remove those bindings first.", arg(0), arg(1))
        },
        // args: [identifier]
        Code::CourseNotFound => if fr {
            format!("Aucun cours n’a {} « {value} ».", arg(0))
        } else {
            format!("No course has {} “{value}”.", arg(0))
        },
        // args: [identifier, count]
        Code::CourseAmbiguous => if fr {
            format!("{} cours ont {} « {value} » : utilisez le nom abrégé (shortname).", arg(1), arg(0))
        } else {
            format!("{} courses have {} “{value}”: use the course shortname.", arg(1), arg(0))
        },
        // args: [identifier]
        Code::RoleNotFound => if fr {
            format!("Aucun rôle n’a {} « {value} ».", arg(0))
        } else {
            format!("No role has {} “{value}”.", arg(0))
        },
        // args: [course]
        // args: [how it was named: contextid, path, id, idnumber, category, default_category;
        //        the default category's name, empty for the system context]
        Code::CategoryNotFound => {
            let how = match (arg(0), fr) {
                ("contextid", false) => "the context id",
                ("contextid", true) => "l’identifiant de contexte",
                ("path", false) => "the path",
                ("path", true) => "le chemin",
                ("id", false) => "the id",
                ("id", true) => "l’identifiant",
                ("idnumber", false) => "the idnumber",
                ("idnumber", true) => "le numéro d’identification",
                (_, false) => "the path, id or idnumber",
                (_, true) => "le chemin, l’identifiant ou le numéro d’identification",
            };
            let default = match (arg(1), fr) {
                ("", false) => "the system context".to_owned(),
                ("", true) => "le contexte système".to_owned(),
                (name, false) => format!("the default category “{name}”"),
                (name, true) => format!("la catégorie par défaut « {name} »"),
            };
            match (arg(0), fr) {
                ("parent", false) => format!("No category has the idnumber or path “{value}”: a parent category comes above its children, or is already imported."),
                ("parent", true) => format!("Aucune catégorie n’a le numéro d’identification ou le chemin « {value} » : une catégorie parente vient avant ses enfants, ou est déjà importée."),
                ("default_category", false) => format!("The default category “{value}” (option default_category) is not a category of the site: cohorts without a context go to the system context."),
                ("default_category", true) => format!("La catégorie par défaut « {value} » (option default_category) n’est pas une catégorie du site : les cohortes sans contexte vont dans le contexte système."),
                (_, false) => format!("No category has {how} “{value}”: the cohort is created in {default}, as Moodle does."),
                (_, true) => format!("Aucune catégorie n’a {how} « {value} » : la cohorte est créée dans {default}, comme le fait Moodle."),
            }
        }
        // args: [why: not_set, user_upload]
        Code::IgnoredColumn => match (arg(0), fr) {
            ("user_upload", false) => format!("Column “{column}” is about the user: cohortsync does not create or change users, it only adds them to the cohorts of the cohort columns. The column is ignored."),
            ("user_upload", true) => format!("La colonne « {column} » concerne l’utilisateur : cohortsync ne crée ni ne modifie d’utilisateurs, il les ajoute seulement aux cohortes des colonnes de cohortes. La colonne est ignorée."),
            ("course_upload", false) => format!("Column “{column}” is about the course or another enrolment method: cohortsync does not create or change courses, it only binds cohorts to them (enrolment_N = cohort). The column is ignored."),
            ("course_upload", true) => format!("La colonne « {column} » concerne le cours ou une autre méthode d’inscription : cohortsync ne crée ni ne modifie de cours, il y lie seulement des cohortes (enrolment_N = cohort). La colonne est ignorée."),
            ("other_method", false) => format!("Enrolment method “{value}” is not cohort sync: cohortsync skips it, here and on every other row."),
            ("other_method", true) => format!("La méthode d’inscription « {value} » n’est pas la synchronisation de cohortes : cohortsync l’ignore, ici et sur toutes les autres lignes."),
            (_, true) => format!("La colonne « {column} » est de Moodle, mais cohortsync ne la renseigne pas : elle est ignorée et les cohortes ont la valeur par défaut de Moodle."),
            (_, false) => format!("Column “{column}” is Moodle’s, but cohortsync does not set it: it is ignored and cohorts get Moodle’s default."),
        },
        Code::GroupNotFound => if fr {
            format!("Le cours « {} » n’a pas de groupe « {value} ». Mettez 1 pour créer un groupe au nom de la cohorte.", arg(0))
        } else {
            format!("Course “{}” has no group “{value}”. Write 1 to create a group named after the cohort.", arg(0))
        },
        // args: [cohort, course, role]
        Code::BindingNotFound => if fr {
            format!("La cohorte « {} » n’est pas liée au cours « {} » avec le rôle « {} ».", arg(0), arg(1), arg(2))
        } else {
            format!("Cohort “{}” is not bound to course “{}” with role “{}”.", arg(0), arg(1), arg(2))
        },
        // args: [cohort, course, role]
        Code::BindingExists => if fr {
            format!("La cohorte « {} » est déjà liée au cours « {} » avec le rôle « {} » : une liaison ne peut prendre qu’un rôle que la cohorte n’a pas déjà dans ce cours.", arg(0), arg(1), arg(2))
        } else {
            format!("Cohort “{}” is already bound to course “{}” with role “{}”: a binding can only take a role the cohort does not already have in that course.", arg(0), arg(1), arg(2))
        },
        // args: [first line]
        Code::DuplicateRow => if fr {
            format!("Identique à la ligne {} : cette répétition est ignorée.", arg(0))
        } else {
            format!("Same as line {}: this repeat is ignored.", arg(0))
        },
        // args: [other line, reason key]
        Code::ConflictingRows => if fr {
            format!("Contredit la ligne {} :{}", arg(0), reason(arg(1), lang))
        } else {
            format!("Contradicts line {}:{}", arg(0), reason(arg(1), lang))
        },
        // args: [cohort]
        Code::AlreadyMember => if fr {
            format!("Déjà membre de « {} » : rien à faire.", arg(0))
        } else {
            format!("Already a member of “{}”: nothing to do.", arg(0))
        },
        // args: [cohort]
        Code::NotMember => if fr {
            format!("N’est pas membre de « {} » : rien à retirer.", arg(0))
        } else {
            format!("Not a member of “{}”: nothing to remove.", arg(0))
        },
        Code::NoChange => if fr {
            "Le site est déjà ainsi : rien à faire.".into()
        } else {
            "The site is already like this: nothing to do.".into()
        },
        // args: [cohort, members kept]
        Code::ManualCohortKept => if fr {
            format!("La cohorte « {} » a été créée à la main : le mode complet garde ses {} membres absents du fichier.", arg(0), arg(1))
        } else {
            format!("Cohort “{}” was made by hand: full mode keeps its {} members absent from the file.", arg(0), arg(1))
        },
        // args: [limit key, actual, limit, "overridden"?]
        Code::LimitExceeded => {
            let overridden = arg(3) == "overridden";
            let text = match (arg(0), fr) {
                ("max_removals", false) => format!("This file removes {} members (with their enrolments); the limit is {}.", arg(1), arg(2)),
                ("max_removals", true) => format!("Ce fichier retire {} membres (et leurs inscriptions) ; la limite est {}.", arg(1), arg(2)),
                ("max_removals_percent", false) => format!("This file removes {}% of the members of its cohorts; the limit is {}%.", arg(1), arg(2)),
                ("max_removals_percent", true) => format!("Ce fichier retire {} % des membres de ses cohortes ; la limite est {} %.", arg(1), arg(2)),
                (_, false) => format!("This file has {} rows; at least {} are expected (is the export truncated?).", arg(1), arg(2)),
                (_, true) => format!("Ce fichier a {} lignes ; au moins {} sont attendues (l’export est-il tronqué ?).", arg(1), arg(2)),
            };
            match (overridden, fr) {
                (false, _) => text,
                (true, false) => format!("{text} An admin overrode the limit."),
                (true, true) => format!("{text} Un administrateur a levé la limite."),
            }
        }
    }
}

/// A sentence (with its leading space) explaining why, from a reason key.
fn reason(key: &str, lang: Lang) -> &'static str {
    let fr = lang == Lang::Fr;
    match (key, fr) {
        ("", _) => "",
        ("cohort_key", false) => " It holds the cohort key for the chosen cohort identifier.",
        ("cohort_key", true) => {
            " Elle porte la clé de cohorte pour l’identifiant de cohorte choisi."
        }
        ("new_cohort_name", false) => " A new cohort needs a name.",
        ("new_cohort_name", true) => " Une nouvelle cohorte a besoin d’un nom.",
        ("role_required", false) => {
            " A cohort enrolment needs its role (Moodle tells two bindings of a cohort apart by it)."
        }
        ("role_required", true) => {
            " Une inscription par cohorte a besoin de son rôle (Moodle distingue par lui deux liaisons d’une cohorte)."
        }
        ("cohort_enrolment", false) => {
            " A cohort enrolment (enrolment_N = cohort) needs its cohort idnumber and its role."
        }
        ("cohort_enrolment", true) => {
            " Une inscription par cohorte (enrolment_N = cohort) a besoin du numéro d’identification de sa cohorte et de son rôle."
        }
        ("user_upload_user", false) => " It names the user who joins the row’s cohorts.",
        ("user_upload_user", true) => {
            " Elle désigne l’utilisateur qui rejoint les cohortes de la ligne."
        }
        ("nothing_deleted", false) => " Nothing is deleted or removed for this row.",
        ("nothing_deleted", true) => " Rien n’est supprimé ni retiré pour cette ligne.",
        ("create_missing_off", false) => " Creating missing cohorts is turned off.",
        ("create_missing_off", true) => " La création des cohortes manquantes est désactivée.",
        ("add_and_remove", false) => " the same member is added and removed.",
        ("add_and_remove", true) => " le même membre est ajouté et retiré.",
        ("cohort_deleted", false) => " the cohort is deleted there and changed here.",
        ("cohort_deleted", true) => " la cohorte y est supprimée et modifiée ici.",
        ("binding_settings", false) => " the same binding gets different settings.",
        ("binding_settings", true) => " la même liaison reçoit des réglages différents.",
        (_, false) => "",
        (_, true) => "",
    }
}

/// What a cell should have held, from an expectation key.
fn expected(key: &str, lang: Lang) -> &'static str {
    let fr = lang == Lang::Fr;
    match (key, fr) {
        ("id", false) => "a numeric id is expected",
        ("id", true) => "un identifiant numérique est attendu",
        ("date", false) => "a date is expected (YYYY-MM-DD, YYYY-MM-DD HH:MM, or a Unix timestamp)",
        ("date", true) => {
            "une date est attendue (AAAA-MM-JJ, AAAA-MM-JJ HH:MM, ou un horodatage Unix)"
        }
        ("date_order", false) => "the enrolment end is before its start",
        ("date_order", true) => "la fin d’inscription précède son début",
        ("component", false) => {
            "a file can only create cohorts owned by cohortsync (or empty: by hand)"
        }
        ("component", true) => {
            "un fichier ne peut créer que des cohortes gérées par cohortsync (ou vide : à la main)"
        }
        ("no_user_for_free", false) => "free empties the whole cohort, the user cell must be empty",
        ("no_user_for_free", true) => {
            "free vide toute la cohorte, la cellule utilisateur doit être vide"
        }
        ("binding_status", false) => "active or disabled is expected",
        ("binding_status", true) => "active ou disabled est attendu",
        ("status_with_add", false) => "a status goes with add only (del disables, restore enables)",
        ("status_with_add", true) => {
            "un statut ne va qu’avec add (del désactive, restore réactive)"
        }
        ("newrole_with_add", false) => "a new role goes with add only",
        ("newrole_with_add", true) => "un nouveau rôle ne va qu’avec add",
        ("no_nul", false) => "text cannot hold a NUL character (is this a binary file?)",
        ("no_nul", true) => {
            "un texte ne peut contenir de caractère NUL (est-ce un fichier binaire ?)"
        }
        ("name_254", false) => "at most 254 characters, as Moodle stores a cohort name",
        ("name_254", true) => "254 caractères au plus, comme Moodle stocke un nom de cohorte",
        ("idnumber_100", false) => "at most 100 characters, as Moodle stores a cohort idnumber",
        ("idnumber_100", true) => {
            "100 caractères au plus, comme Moodle stocke l’identifiant d’une cohorte"
        }
        ("name_length", false) => "at most 255 characters",
        ("name_length", true) => "255 caractères au plus",
        ("boolean", false) => "0 or 1 is expected (yes/no and true/false also work)",
        ("boolean", true) => "0 ou 1 est attendu (oui/non et true/false conviennent aussi)",
        ("yes_no", false) => "1 or 0 is expected (yes/no and true/false also work)",
        ("yes_no", true) => "1 ou 0 est attendu (oui/non et true/false conviennent aussi)",
        ("addtogroup", false) => {
            "0 (no group) or 1 (a new group named after the cohort) is expected; an existing group goes in enrolment_N_groupname"
        }
        ("addtogroup", true) => {
            "0 (pas de groupe) ou 1 (un nouveau groupe au nom de la cohorte) est attendu ; un groupe existant se met dans enrolment_N_groupname"
        }
        ("addtogroup_and_groupname", false) => {
            "a row gives addtogroup or groupname, not both (as Moodle says)"
        }
        ("addtogroup_and_groupname", true) => {
            "une ligne donne addtogroup ou groupname, pas les deux (comme le dit Moodle)"
        }
        (_, false) => "unexpected value",
        (_, true) => "valeur inattendue",
    }
}

/// The hint sentence: which option would fit.
fn render_hint(hint: &Hint, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "These values look like {}s: try the option {} = {}.",
            hint.value, hint.option, hint.value
        ),
        Lang::Fr => format!(
            "Ces valeurs ressemblent à des {} : essayez l’option {} = {}.",
            hint.value, hint.option, hint.value
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_code_has_a_message_in_both_languages() {
        for &code in Code::ALL {
            let diagnostic = Diagnostic::new(code, 3)
                .column("userid")
                .value("U1")
                .arg("a")
                .arg("b")
                .arg("c");
            let en = diagnostic.message(Lang::En);
            let fr = diagnostic.message(Lang::Fr);
            assert!(!en.is_empty() && !fr.is_empty(), "{code:?}");
            assert_ne!(en, fr, "{code:?} is not translated");
        }
    }
}
