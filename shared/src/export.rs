//! Files made for people: the annotated copy of a checked file, safe to open in a
//! spreadsheet, and a file cut into its good and bad rows (the sync folder's tryback).

use crate::decode::decode;
use crate::formats::FileKind;
use crate::options::Options;
use crate::report::{Diagnostic, Lang, Severity, kind_name};

/// Makes a cell safe for spreadsheets: a value starting with `=`, `+`, `-`, `@` (or their
/// full-width forms `＝ ＋ － ＠`, which some spreadsheets read the same), after any spaces
/// or tabs, or with a tab or a carriage return, would be run as a formula, so it gets a
/// leading `'`.
///
/// ```
/// use cohortsync_shared::export::neutralise;
/// assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
/// assert_eq!(neutralise("-1"), "'-1");
/// assert_eq!(neutralise("  =1+1"), "'  =1+1");
/// assert_eq!(neutralise("\t@SUM(A1)"), "'\t@SUM(A1)");
/// assert_eq!(neutralise("＝1+1"), "'＝1+1");
/// assert_eq!(neutralise("L2 Pharmacie"), "L2 Pharmacie");
/// assert_eq!(neutralise("  L2"), "  L2");
/// ```
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let first = cell
        .trim_start_matches([' ', '\t', '\u{3000}'])
        .chars()
        .next();
    let runs = matches!(
        first,
        Some('=' | '+' | '-' | '@' | '\r' | '\u{ff1d}' | '\u{ff0b}' | '\u{ff0d}' | '\u{ff20}')
    ) || cell.starts_with(['\t', '\r']);
    if runs {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The annotated copy of a checked file: its header and data rows with two more columns,
/// `status` (`ok`, or the most serious severity on that line) and `messages` (every
/// diagnostic of the line, in `lang`), as UTF-8 with a byte-order mark (so that spreadsheets
/// read accents right), with the file's delimiter. Every cell is [`neutralise`]d. Comment
/// and blank lines are left out; the kind of file, when it was recognised, is a first
/// comment line (`# cohorts: cohort file`), which cohortsync skips if the copy is checked
/// again; problems of the header line (a missing column…) are in a first row whose first
/// cell is `#header`.
///
/// ```
/// use cohortsync_shared::export::annotate;
/// use cohortsync_shared::formats::FileKind;
/// use cohortsync_shared::options::Options;
/// use cohortsync_shared::report::{Code, Diagnostic, Lang};
///
/// let file = b"cmd;userid\nadd;=1+1\n";
/// let diagnostic = Diagnostic::new(Code::UserNotFound, 2).column("userid").value("=1+1").arg("idnumber");
/// let out = annotate(file, Some(FileKind::Cohorts), &[diagnostic], Lang::En, &Options::default());
/// let out = String::from_utf8(out).unwrap();
/// assert_eq!(out, "\u{feff}# cohorts: cohort file\r\ncmd;userid;status;messages\r\nadd;'=1+1;error;No user has idnumber “=1+1”.\r\n");
/// ```
pub fn annotate(
    bytes: &[u8],
    kind: Option<FileKind>,
    diagnostics: &[Diagnostic],
    lang: Lang,
    options: &Options,
) -> Vec<u8> {
    let mut ignored = crate::report::Diagnostics::keeping(0);
    let Some(table) = decode(bytes, options.encoding, options.delimiter, &mut ignored) else {
        return Vec::new();
    };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(table.delimiter.byte())
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(match kind {
            // Kind names hold no delimiter, quote or line break: the line stays a comment.
            Some(kind) => {
                format!("\u{feff}# {}: {}\r\n", kind.as_str(), kind_name(kind, lang)).into_bytes()
            }
            None => Vec::from("\u{feff}".as_bytes()),
        });
    // Grouped once by line: looking them up per row would be rows × diagnostics.
    let mut by_line: std::collections::BTreeMap<u32, Vec<&Diagnostic>> = Default::default();
    for d in diagnostics {
        by_line.entry(d.line).or_default().push(d);
    }
    let on_line = |line: u32| by_line.get(&line).map_or(&[][..], Vec::as_slice);
    // `Severity` orders from the most serious: the first is the line's status.
    let status = |line: u32| {
        on_line(line)
            .iter()
            .map(|d| d.severity)
            .min()
            .map_or("ok", Severity::as_str)
    };
    let messages = |line: u32| {
        on_line(line)
            .iter()
            .map(|d| d.message(lang))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    // Writing to a Vec cannot fail.
    let mut header: Vec<String> = table
        .header
        .iter()
        .map(|h| neutralise(h).into_owned())
        .collect();
    header.push("status".into());
    header.push("messages".into());
    let _ = writer.write_record(&header);
    if !on_line(table.header_line).is_empty() {
        let mut first = vec!["#header".to_owned(); 1];
        first.resize(table.header.len().max(1), String::new());
        first.push(status(table.header_line).into());
        first.push(neutralise(&messages(table.header_line)).into_owned());
        let _ = writer.write_record(&first);
    }
    for row in table.rows() {
        let mut cells: Vec<String> = row.cells().map(|c| neutralise(c).into_owned()).collect();
        cells.resize(cells.len().max(table.header.len()), String::new());
        cells.push(status(row.line).into());
        cells.push(neutralise(&messages(row.line)).into_owned());
        let _ = writer.write_record(&cells);
    }
    writer.into_inner().unwrap_or_default()
}

/// A checked file cut in two: the rows without errors, and the rows with errors (a
/// "tryback" file, to be fixed and run again), each with the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitFile {
    /// The header and the rows no error names.
    pub kept: Vec<u8>,
    /// How many data rows `kept` has.
    pub kept_rows: usize,
    /// The header and the rows with errors.
    pub set_aside: Vec<u8>,
    /// How many data rows `set_aside` has.
    pub set_aside_rows: usize,
}

/// Cuts a file by the lines of its errors: every data row whose line is in `bad_lines`
/// goes to [`SplitFile::set_aside`], the others to [`SplitFile::kept`], both after the
/// header, as UTF-8 with the file's delimiter (comment and blank lines left out). The
/// cells are written as they were, not [`neutralise`]d: these files are to be run again,
/// not opened as reports. An error on the header line or before it (a missing column, an
/// unreadable file) is every row's: all of them are set aside. `None`: the file cannot
/// be read as a table at all.
///
/// ```
/// use cohortsync_shared::export::split_rows;
/// use cohortsync_shared::options::Options;
///
/// let file = b"cmd;cidnumber;userid\nadd;L2;U1\n# a comment\nadd;L2;U404\nadd;L2;U3\n";
/// let split = split_rows(file, &[4].into(), &Options::default()).unwrap();
/// assert_eq!(split.kept, b"cmd;cidnumber;userid\r\nadd;L2;U1\r\nadd;L2;U3\r\n");
/// assert_eq!(split.set_aside, b"cmd;cidnumber;userid\r\nadd;L2;U404\r\n");
/// assert_eq!((split.kept_rows, split.set_aside_rows), (2, 1));
/// ```
pub fn split_rows(
    bytes: &[u8],
    bad_lines: &std::collections::BTreeSet<u32>,
    options: &Options,
) -> Option<SplitFile> {
    let mut ignored = crate::report::Diagnostics::keeping(0);
    let table = decode(bytes, options.encoding, options.delimiter, &mut ignored)?;
    let whole_file_bad = bad_lines
        .first()
        .is_some_and(|&first| first <= table.header_line);
    let writer = || {
        csv::WriterBuilder::new()
            .delimiter(table.delimiter.byte())
            .terminator(csv::Terminator::CRLF)
            .flexible(true)
            .from_writer(Vec::new())
    };
    let (mut kept, mut set_aside) = (writer(), writer());
    // Writing to a Vec cannot fail.
    let _ = kept.write_record(&table.header);
    let _ = set_aside.write_record(&table.header);
    let (mut kept_rows, mut set_aside_rows) = (0, 0);
    for row in table.rows() {
        if whole_file_bad || bad_lines.contains(&row.line) {
            let _ = set_aside.write_record(row.cells());
            set_aside_rows += 1;
        } else {
            let _ = kept.write_record(row.cells());
            kept_rows += 1;
        }
    }
    Some(SplitFile {
        kept: kept.into_inner().unwrap_or_default(),
        kept_rows,
        set_aside: set_aside.into_inner().unwrap_or_default(),
        set_aside_rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Code;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_line_takes_its_most_serious_status_and_every_message() {
        let file = b"cmd;userid\nadd;U1\nadd;U2\n";
        let diagnostics = [
            Diagnostic::new(Code::UserSuspended, 2).column("userid"),
            Diagnostic::new(Code::MissingColumn, 1)
                .column("cname")
                .arg(""),
            Diagnostic::new(Code::UserNotFound, 2)
                .column("userid")
                .value("U1")
                .arg("idnumber"),
        ];
        let out = String::from_utf8(annotate(
            file,
            None,
            &diagnostics,
            Lang::En,
            &Options::default(),
        ))
        .unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert!(lines[1].starts_with("#header;;error;"), "{}", lines[1]);
        assert!(lines[2].starts_with("add;U1;error;"), "{}", lines[2]);
        assert!(
            lines[2].contains(" | "),
            "both messages of line 2: {}",
            lines[2]
        );
        assert_eq!(lines[3], "add;U2;ok;");
    }
}
