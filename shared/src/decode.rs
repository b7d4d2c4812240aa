//! Bytes → a table of cells: encoding, delimiter, RFC 4180 quoting, comments and exact lines.
//!
//! Parsing is done by the `csv` crate. Its own line counter does not count the comment and
//! blank lines it skips, so the physical line of each record is computed here from the
//! record's byte offset: `line` is what a text editor shows, counting from 1, with CR, LF and
//! CRLF each ending one line.

use std::borrow::Cow;
use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use crate::options::{DelimiterChoice, EncodingChoice};
use crate::report::diagnostic::{Code, Diagnostic, Diagnostics};

/// The text encoding a file was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoding {
    /// UTF-8 (with or without a byte-order mark).
    #[serde(rename = "utf-8")]
    Utf8,
    /// UTF-16 little-endian.
    #[serde(rename = "utf-16le")]
    Utf16le,
    /// UTF-16 big-endian.
    #[serde(rename = "utf-16be")]
    Utf16be,
    /// Windows-1252 (Western European, what Excel writes in France).
    #[serde(rename = "windows-1252")]
    Windows1252,
}

impl Encoding {
    /// The encoding's label: `utf-8`, `utf-16le`, `utf-16be`, `windows-1252`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16le => "utf-16le",
            Encoding::Utf16be => "utf-16be",
            Encoding::Windows1252 => "windows-1252",
        }
    }
}

/// The cell delimiter of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delimiter {
    /// `,`
    #[serde(rename = ",")]
    Comma,
    /// `;`
    #[serde(rename = ";")]
    Semicolon,
    /// Tab.
    #[serde(rename = "\t")]
    Tab,
}

impl Delimiter {
    /// The delimiter byte.
    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
        }
    }

    /// A readable name: `,` `;` or `tab`.
    pub fn name(self) -> &'static str {
        match self {
            Delimiter::Comma => ",",
            Delimiter::Semicolon => ";",
            Delimiter::Tab => "tab",
        }
    }
}

/// One data row: the physical line where it starts and its cells, borrowed from its
/// [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'t> {
    /// Physical line where the record starts, from 1.
    pub line: u32,
    text: &'t str,
    /// False when the table holds no NUL character at all.
    may_hold_nul: bool,
    /// Where the row's first cell starts in `text`.
    start: u32,
    /// Bytes between a cell's end and the next cell's start: 1 (the delimiter) for a row
    /// read in place in the file's text, 0 for one the parser wrote out.
    gap: u32,
    /// Where each cell ends in `text`.
    ends: &'t [u32],
}

impl<'t> Row<'t> {
    /// The cell at `index`, or `""` when the row is shorter.
    pub fn cell(&self, index: usize) -> &'t str {
        let Some(&end) = self.ends.get(index) else {
            return "";
        };
        let start = match index {
            0 => self.start,
            _ => self.ends[index - 1] + self.gap,
        };
        &self.text[start as usize..end as usize]
    }

    /// Bytes from the start of the row's first cell to the end of its last, the delimiters
    /// between them included when the row is read in place: no cell of the row is longer.
    pub fn text_len(&self) -> usize {
        self.ends
            .last()
            .map_or(0, |&end| (end - self.start) as usize)
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the row has no cells.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Whether a cell of this row may hold a NUL character (false when none of the file
    /// does).
    pub fn may_hold_nul(&self) -> bool {
        self.may_hold_nul
    }

    /// The cells in order.
    pub fn cells(&self) -> impl Iterator<Item = &'t str> + '_ {
        (0..self.len()).map(|i| self.cell(i))
    }
}

/// Where one row lives in a table's buffers. 32-bit offsets (the text is under 2 GiB):
/// a table of a 45 MB file of one-letter lines holds 23 million rows, and every byte per row
/// counts.
#[derive(Debug, Clone, PartialEq)]
struct RowSpan {
    line: u32,
    /// Where the row's first cell starts, in the file's text or, for a row the parser
    /// wrote out ([`WRITTEN_OUT`] set in `cells`), in `Table::written`.
    start: u32,
    /// Index of the row's first cell in `Table::ends`.
    first: u32,
    /// The number of cells, and [`WRITTEN_OUT`].
    cells: u32,
}

/// The bit of [`RowSpan::cells`] that says the row's cells are in `Table::written`.
const WRITTEN_OUT: u32 = 1 << 31;

/// A decoded file: header and rows, before any format is applied.
///
/// Most rows are read in place: their cells are where they are in the file's text (as
/// decoded), and the table keeps where each ends. A row the parser has to rewrite (a quoted
/// cell, a lone CR) is written out, unquoted, in one buffer beside it. Either way a
/// million-row file costs a few allocations, not millions, and a file without quotes is
/// not copied at all.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<'a> {
    /// The encoding the file was read with.
    pub encoding: Encoding,
    /// The delimiter used.
    pub delimiter: Delimiter,
    /// Header names, trimmed and lowercased, in file order.
    pub header: Vec<String>,
    /// The line of the header.
    pub header_line: u32,
    /// The file's text, as decoded: the cells of the rows read in place.
    text: Cow<'a, str>,
    /// The cells' text of the rows the parser wrote out.
    written: String,
    ends: Vec<u32>,
    spans: Vec<RowSpan>,
    /// Whether any cell holds a NUL character: found once for the whole text, so that
    /// rows need not look for one in every cell.
    has_nul: bool,
}

impl<'a> Table<'a> {
    /// The number of data rows (comments, blank lines and rows of empty cells left out).
    pub fn row_count(&self) -> usize {
        self.spans.len()
    }

    /// The data row at `index`.
    pub fn row(&self, index: usize) -> Option<Row<'_>> {
        self.spans.get(index).map(|span| self.view(span))
    }

    /// The data rows in file order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> + '_ {
        self.spans.iter().map(|span| self.view(span))
    }

    fn view(&self, span: &RowSpan) -> Row<'_> {
        let first = span.first as usize;
        let (text, gap) = match span.cells & WRITTEN_OUT {
            0 => (&*self.text, 1),
            _ => (self.written.as_str(), 0),
        };
        Row {
            line: span.line,
            text,
            may_hold_nul: self.has_nul,
            start: span.start,
            gap,
            ends: &self.ends[first..first + (span.cells & !WRITTEN_OUT) as usize],
        }
    }

    /// Adds the record `records` has just read, on `line`; the caller has checked that the
    /// whole text fits 32-bit offsets.
    fn push_row(&mut self, line: u32, records: &Records<'_>) {
        let first = self.ends.len() as u32;
        let start = records.record_at;
        self.ends
            .extend(records.ends().iter().map(|&end| (start + end) as u32));
        let written = if records.in_place { 0 } else { WRITTEN_OUT };
        self.spans.push(RowSpan {
            line,
            start: start as u32,
            first,
            cells: records.ends().len() as u32 | written,
        });
    }

    /// Drops the last row, and its cells from `written` (the parser's text, not yet moved
    /// into the table) if it was written out.
    fn pop_row(&mut self, written: &mut Vec<u8>) {
        if let Some(span) = self.spans.pop() {
            self.ends.truncate(span.first as usize);
            if span.cells & WRITTEN_OUT != 0 {
                written.truncate(span.start as usize);
            }
        }
    }
}

/// Decodes `bytes` into a table, adding any problem to `diagnostics`.
///
/// Returns `None` when the file has no header line (an `empty_file` error is added).
///
/// ```
/// use cohortsync_shared::decode::{decode, Delimiter, Encoding};
/// use cohortsync_shared::options::{DelimiterChoice, EncodingChoice};
///
/// let mut diagnostics = cohortsync_shared::report::Diagnostics::new();
/// let bytes = b"# exported nightly\r\nCmd;cName;userid\r\n\r\nadd;\"L2; Pharma\";U1\r\n";
/// let table = decode(bytes, EncodingChoice::Auto, DelimiterChoice::Auto, &mut diagnostics).unwrap();
/// assert_eq!(table.delimiter, Delimiter::Semicolon);
/// assert_eq!(table.encoding, Encoding::Utf8);
/// assert_eq!(table.header, ["cmd", "cname", "userid"]);
/// assert_eq!(table.header_line, 2);
/// assert_eq!(table.row(0).unwrap().line, 4);
/// assert_eq!(table.row(0).unwrap().cell(1), "L2; Pharma");
/// assert!(diagnostics.is_empty());
/// ```
pub fn decode<'a>(
    bytes: &'a [u8],
    encoding: EncodingChoice,
    delimiter: DelimiterChoice,
    diagnostics: &mut Diagnostics,
) -> Option<Table<'a>> {
    decode_reporting(bytes, encoding, delimiter, diagnostics, &mut |_, _| {})
}

/// Records read between two progress reports.
pub(crate) const PROGRESS_EVERY: usize = 16_384;

/// [`decode`], calling `progress(done, total)` with the text read so far (in bytes) every
/// [`PROGRESS_EVERY`] records.
pub(crate) fn decode_reporting<'a>(
    bytes: &'a [u8],
    encoding: EncodingChoice,
    delimiter: DelimiterChoice,
    diagnostics: &mut Diagnostics,
    progress: &mut dyn FnMut(usize, usize),
) -> Option<Table<'a>> {
    let (encoding, text) = decode_text(bytes, encoding, diagnostics);
    let mut scan = Scan::of(text.as_bytes());
    let text = if scan.carriage_returns && scan.line_feeds == 0 {
        let text = normalise_classic_mac_line_ends(text);
        scan = Scan::of(text.as_bytes());
        text
    } else {
        text
    };
    // Offsets in the text are 32 bits, and a row's number of cells shares its 32 bits with
    // the flag `WRITTEN_OUT`: a row kept has a visible byte, so fewer cells than the text
    // has bytes, and a text under 2 GiB keeps that bit free.
    if text.len() >= WRITTEN_OUT as usize {
        diagnostics.push(Diagnostic::new(Code::FileTooLarge, 1).arg(text.len()));
        return None;
    }
    let delimiter = match delimiter {
        DelimiterChoice::Auto => detect_delimiter(&text),
        DelimiterChoice::Comma => Delimiter::Comma,
        DelimiterChoice::Semicolon => Delimiter::Semicolon,
        DelimiterChoice::Tab => Delimiter::Tab,
    };
    let bytes = text.as_bytes();
    let mut lines = LineCounter::default();
    let mut header: Option<(Vec<String>, u32)> = None;
    // Data text is at most the file's text, and rows at most its lines: reserving both
    // avoids regrowing large buffers.
    let lines_upper_bound = scan.line_feeds + 1;
    let mut table = Table {
        encoding,
        delimiter,
        header: Vec::new(),
        header_line: 0,
        text: Cow::Borrowed(""),
        written: String::new(),
        ends: Vec::new(),
        spans: Vec::with_capacity(lines_upper_bound),
        has_nul: false,
    };
    // The reader splits the text at ASCII bytes (and drops the quotes' ASCII), so the cells
    // it writes out are valid UTF-8 like the text; they are validated once at the end.
    let mut last_start = None;
    let mut count = 0usize;
    // Line feeds are counted as records are read (`Records::line`); a lone CR (a line end of
    // old Mac software, in a file that also has line feeds) is not, and then lines are
    // counted here.
    let lone_cr = scan.carriage_returns
        && bytes
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
    let mut records = Records::new(bytes, delimiter.byte(), !lone_cr);
    while let Some(record) = records.next_record() {
        let reported = record.after;
        count += 1;
        if count.is_multiple_of(PROGRESS_EVERY) {
            progress(reported, bytes.len());
        }
        // The reader's offset is where the previous record ended: skip the line ends (and
        // blank lines) it passed over to find where this record really starts.
        let start = reported
            + bytes[reported..]
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
        let line = if lone_cr {
            lines.line_at(bytes, start)
        } else {
            // The reader's line is where the previous record ended, before the line ends
            // skipped above.
            let skipped = bytes[reported..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            record.line + skipped as u32
        };
        last_start = Some((start, line));
        if bytes.get(start) == Some(&b'#') || records.cells().all(is_blank) {
            records.forget_record(); // a comment line, a blank line, or a row of empty cells
            continue;
        }
        match header {
            None => {
                let names = records
                    .cells()
                    .map(|name| String::from_utf8_lossy(name).trim().to_lowercase())
                    .collect::<Vec<String>>();
                records.forget_record();
                // Most rows have as many cells as the header has names; no file has more
                // cells than bytes (each ends with a delimiter or a line end), which bounds
                // what a header of 100,000 names over a million short lines reserves (and
                // the product saturates: `usize` is 32 bits in WebAssembly).
                let cells = lines_upper_bound.saturating_mul(names.len().max(1));
                table.ends.reserve(cells.min(bytes.len() + 1));
                header = Some((names, line));
            }
            Some(_) => table.push_row(line, &records),
        }
    }
    let mut written = records.into_written();

    if let Some((start, line)) = last_start
        && let Some((quote_line, swallowed)) = unclosed_quote(&bytes[start..], delimiter.byte())
    {
        let quote_line = line + quote_line;
        diagnostics.push(Diagnostic::new(Code::UnclosedQuote, quote_line).arg(swallowed));
        // The broken record holds the rest of the file in one cell: checking it would only
        // add noise after the real error.
        if table.spans.last().is_some_and(|row| row.line == line) {
            table.pop_row(&mut written);
        }
    }
    // A NUL anywhere in the text may be in a cell: rows then look for it in theirs.
    table.has_nul = scan.nul;
    table.written = match String::from_utf8(written) {
        Ok(written) => written,
        // Cannot happen (see above); replacing is still better than trusting it blindly.
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    };
    table.text = text;

    let Some((header, header_line)) = header else {
        diagnostics.push(Diagnostic::new(Code::EmptyFile, 1));
        return None;
    };
    table.header = header;
    table.header_line = header_line;
    Some(table)
}

/// Where a record starts, as [`Records::next_record`] tells it.
#[derive(Debug, Clone, Copy)]
struct RecordStart {
    /// Offset in the text where the previous record ended (the line ends and blank lines
    /// before this record included).
    after: usize,
    /// The reader's line there, from 1.
    line: u32,
}

/// The records of a text in memory. A plain line (no quote, and no CR but the one of its
/// `\r\n`: most lines of most files) after the first record is read in place: split at its
/// delimiters by a loop that looks each byte up in a table of the four that end a cell or
/// need the parser, its cells left where they are in the text. Any other record is read by
/// `csv_core` (the `csv` crate's parser), which writes its cells out, unquoted, into one
/// buffer. Either way the cells are those the parser would give: quotes, doubled quotes,
/// line ends (`\r\n`, `\n`, `\r`) and a leading UTF-8 BOM are the `csv` crate's.
struct Records<'b> {
    input: &'b [u8],
    consumed: usize,
    /// The line at `consumed`, from 1: line feeds passed, as the parser counts them.
    line: u32,
    /// Whether plain lines may be read in place: not in a text with a lone CR, a line end
    /// the parser knows and this split does not.
    plain: bool,
    /// Per byte value, whether it ends a cell or needs the parser: the delimiter, LF, CR
    /// and the quote.
    special: [bool; 256],
    delimiter: u8,
    reader: csv_core::Reader,
    /// The cells' text the parser wrote out, of the rows kept and then of the record just
    /// read; `written` bytes used.
    out: Vec<u8>,
    written: usize,
    /// Where the cells of the record just read end, from where it starts; `cells` used.
    ends: Vec<usize>,
    cells: usize,
    /// Whether the record just read was read in place (its cells are in `input`, a
    /// delimiter apart) rather than written out into `out`.
    in_place: bool,
    /// Where the record just read starts: in `input` when read in place, else in `out`.
    record_at: usize,
    done: bool,
}

impl<'b> Records<'b> {
    fn new(input: &'b [u8], delimiter: u8, plain: bool) -> Self {
        let mut special = [false; 256];
        for byte in [delimiter, b'\n', b'\r', b'"'] {
            special[usize::from(byte)] = true;
        }
        Records {
            input,
            consumed: 0,
            line: 1,
            plain,
            special,
            delimiter,
            reader: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            // Grown by the parser as it needs (most records are read in place).
            out: vec![0; 1024],
            written: 0,
            ends: vec![0; 16],
            cells: 0,
            in_place: false,
            record_at: 0,
            done: false,
        }
    }

    /// Reads the next record; `None` at the end of the text.
    fn next_record(&mut self) -> Option<RecordStart> {
        if self.done {
            return None;
        }
        let start = RecordStart {
            after: self.consumed,
            line: self.line,
        };
        self.cells = 0;
        // The first record goes through the parser, which passes over a byte-order mark.
        if self.plain && self.consumed > 0 && self.plain_record() {
            return Some(start);
        }
        self.in_place = false;
        self.record_at = self.written;
        let before = self.consumed;
        let record = self.parse_record();
        let passed = &self.input[before..self.consumed];
        let feeds = passed.iter().filter(|&&b| b == b'\n').count();
        self.line = self.line.saturating_add(feeds as u32);
        record.then_some(start)
    }

    /// Reads the record at `consumed` in place if its line is plain (see [`Records`]): true
    /// when it did; nothing is read otherwise. Blank lines before it are passed over, as the
    /// parser passes over them.
    fn plain_record(&mut self) -> bool {
        let input = self.input;
        let mut at = self.consumed;
        let mut feeds = 0u32;
        while let Some(&b) = input.get(at).filter(|&&b| b == b'\n' || b == b'\r') {
            feeds += u32::from(b == b'\n');
            at += 1;
        }
        if at == input.len() {
            return false; // nothing but line ends left: the parser says the text has ended
        }
        let record_at = at;
        let next = loop {
            let special = &self.special;
            at += input[at..]
                .iter()
                .position(|&b| special[usize::from(b)])
                .unwrap_or(input.len() - at);
            let end = match input.get(at) {
                None => input.len(),
                Some(&b) if b == self.delimiter => at,
                Some(b'\n') => at,
                Some(b'\r') if input.get(at + 1) == Some(&b'\n') => at,
                Some(_) => {
                    // A quote or a lone CR: the parser reads this record.
                    self.cells = 0;
                    return false;
                }
            };
            if self.cells == self.ends.len() {
                self.ends.resize(self.ends.len() * 2, 0);
            }
            self.ends[self.cells] = end - record_at;
            self.cells += 1;
            match input.get(at) {
                None => break input.len(),
                Some(b'\n') => break at + 1,
                Some(b'\r') => break at + 2,
                Some(_) => at += 1,
            }
        };
        self.line = self
            .line
            .saturating_add(feeds + u32::from(input[next - 1] == b'\n'));
        self.consumed = next;
        self.in_place = true;
        self.record_at = record_at;
        true
    }

    /// Reads the record at `consumed` with the parser: false at the end of the text.
    fn parse_record(&mut self) -> bool {
        use csv_core::ReadRecordResult as Read;
        loop {
            // An empty input tells the reader the text has ended.
            let (result, read, wrote, ended) = self.reader.read_record(
                &self.input[self.consumed..],
                &mut self.out[self.written..],
                &mut self.ends[self.cells..],
            );
            self.consumed += read;
            self.written += wrote;
            self.cells += ended;
            match result {
                Read::InputEmpty => {}
                Read::OutputFull => self.out.resize(self.out.len() * 2, 0),
                Read::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                Read::Record => return true,
                Read::End => {
                    self.done = true;
                    return false;
                }
            }
        }
    }

    /// Where the cells of the record just read end, from where it starts.
    fn ends(&self) -> &[usize] {
        &self.ends[..self.cells]
    }

    /// The cells of the record just read.
    fn cells(&self) -> impl Iterator<Item = &[u8]> {
        let (text, gap) = match self.in_place {
            true => (&self.input[self.record_at..], 1),
            false => (&self.out[self.record_at..], 0),
        };
        let mut from = 0;
        self.ends().iter().map(move |&end| {
            let cell = &text[from..end];
            from = end + gap;
            cell
        })
    }

    /// Drops the record just read (a header, a comment, a blank line) from the cells'
    /// text written out.
    fn forget_record(&mut self) {
        if !self.in_place {
            self.written = self.record_at;
        }
    }

    /// The cells' text the parser wrote out, of the records kept.
    fn into_written(mut self) -> Vec<u8> {
        self.out.truncate(self.written);
        self.out
    }
}

/// What one pass over a file's text finds: line feeds, whether it has any CR, any NUL.
struct Scan {
    line_feeds: usize,
    carriage_returns: bool,
    nul: bool,
}

impl Scan {
    /// One pass, in blocks the compiler turns into vector instructions, rather than a
    /// pass per question.
    fn of(bytes: &[u8]) -> Scan {
        let mut scan = Scan {
            line_feeds: 0,
            carriage_returns: false,
            nul: false,
        };
        // Counted in bytes, 16 or 32 to a vector: a block of 255 cannot overflow one.
        for block in bytes.chunks(255) {
            let (mut lf, mut cr, mut nul) = (0u8, 0u8, 0u8);
            for &b in block {
                lf += u8::from(b == b'\n');
                cr |= u8::from(b == b'\r');
                nul |= u8::from(b == 0);
            }
            scan.line_feeds += lf as usize;
            scan.carriage_returns |= cr != 0;
            scan.nul |= nul != 0;
        }
        scan
    }
}

/// Whether a cell (bytes of valid UTF-8) is empty once trimmed as [`trim`] trims.
fn is_blank(cell: &[u8]) -> bool {
    match cell.iter().position(|b| !b.is_ascii_whitespace()) {
        None => true,
        Some(at) if cell[at].is_ascii_graphic() => false,
        Some(at) => std::str::from_utf8(&cell[at..]).is_ok_and(|rest| rest.trim().is_empty()),
    }
}

/// `value` without leading and trailing white space (Unicode, so the no-break spaces of
/// spreadsheets go too), with a fast path for the usual cell that has none.
pub fn trim(value: &str) -> &str {
    match value.as_bytes() {
        [] => value,
        [first, .., last] | [first @ last]
            if first.is_ascii()
                && !first.is_ascii_whitespace()
                && last.is_ascii()
                && !last.is_ascii_whitespace() =>
        {
            value
        }
        _ => value.trim(),
    }
}

/// A file's physical lines, numbered as diagnostics number them: decoded once like
/// [`decode`] does and split at `\r\n`, `\n` or a lone `\r`. A line is then looked up
/// without copying, so a table of diagnostics can show any page of a million-line file.
///
/// Lines are found as far as one is asked for, not all when the file is read: a report
/// shows the first page of its diagnostics without a million lines being split first.
///
/// ```
/// use cohortsync_shared::decode::PhysicalLines;
/// use cohortsync_shared::options::EncodingChoice;
/// let lines = PhysicalLines::new(b"a\r\nb\rc\nd", EncodingChoice::Auto);
/// assert_eq!((lines.line(1), lines.line(3), lines.line(5)), (Some("a"), Some("c"), None));
/// assert_eq!(lines.len(), 4);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PhysicalLines {
    text: String,
    /// The lines found so far.
    found: RefCell<FoundLines>,
}

/// The lines of a text found so far, and where the search goes on.
#[derive(Debug, Clone, Default)]
struct FoundLines {
    /// Where each line found starts and ends in the text.
    spans: Vec<(usize, usize)>,
    /// Where the next line starts.
    next: usize,
}

impl FoundLines {
    /// Finds lines of `text` until there are `count`, or no more.
    fn find(&mut self, text: &[u8], count: usize) {
        while self.spans.len() < count && self.next < text.len() {
            let start = self.next;
            match memchr::memchr2(b'\n', b'\r', &text[start..]) {
                None => {
                    self.spans.push((start, text.len()));
                    self.next = text.len();
                }
                Some(length) => {
                    let end = start + length;
                    self.spans.push((start, end));
                    let crlf = text[end] == b'\r' && text.get(end + 1) == Some(&b'\n');
                    self.next = end + if crlf { 2 } else { 1 };
                }
            }
        }
    }
}

impl PhysicalLines {
    /// Decodes `bytes`; its lines are found when asked for.
    pub fn new(bytes: &[u8], encoding: EncodingChoice) -> Self {
        let (_, text) = decode_text(bytes, encoding, &mut Diagnostics::keeping(0));
        PhysicalLines {
            text: text.into_owned(),
            found: RefCell::default(),
        }
    }

    /// Line `number` (from 1), if the file has it.
    pub fn line(&self, number: u32) -> Option<&str> {
        let index = (number as usize).checked_sub(1)?;
        let (start, end) = {
            let mut found = self.found.borrow_mut();
            found.find(self.text.as_bytes(), index + 1);
            *found.spans.get(index)?
        };
        self.text.get(start..end)
    }

    /// How many lines the file has.
    pub fn len(&self) -> usize {
        let mut found = self.found.borrow_mut();
        found.find(self.text.as_bytes(), usize::MAX);
        found.spans.len()
    }

    /// Whether the file has no line at all.
    pub fn is_empty(&self) -> bool {
        self.line(1).is_none()
    }
}

/// Picks the encoding and returns the text without a byte-order mark.
fn decode_text<'a>(
    bytes: &'a [u8],
    choice: EncodingChoice,
    diagnostics: &mut Diagnostics,
) -> (Encoding, Cow<'a, str>) {
    let choice = match choice {
        EncodingChoice::Auto => {
            if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
                EncodingChoice::Utf8
            } else if bytes.starts_with(&[0xFF, 0xFE]) {
                EncodingChoice::Utf16le
            } else if bytes.starts_with(&[0xFE, 0xFF]) {
                EncodingChoice::Utf16be
            } else {
                match std::str::from_utf8(bytes) {
                    Ok(text) => return (Encoding::Utf8, Cow::Borrowed(text)),
                    Err(error) => {
                        let line = line_of_offset(bytes, error.valid_up_to());
                        diagnostics.push(Diagnostic::new(Code::EncodingFallback, line));
                        EncodingChoice::Windows1252
                    }
                }
            }
        }
        explicit => explicit,
    };
    match choice {
        EncodingChoice::Utf16le => {
            let body = bytes.strip_prefix(&[0xFF, 0xFE]).unwrap_or(bytes);
            let (text, _) = encoding_rs::UTF_16LE.decode_without_bom_handling(body);
            (Encoding::Utf16le, text)
        }
        EncodingChoice::Utf16be => {
            let body = bytes.strip_prefix(&[0xFE, 0xFF]).unwrap_or(bytes);
            let (text, _) = encoding_rs::UTF_16BE.decode_without_bom_handling(body);
            (Encoding::Utf16be, text)
        }
        EncodingChoice::Windows1252 => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            (Encoding::Windows1252, text)
        }
        EncodingChoice::Utf8 | EncodingChoice::Auto => {
            let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            if let Err(error) = std::str::from_utf8(body) {
                let line = line_of_offset(body, error.valid_up_to());
                diagnostics.push(
                    Diagnostic::new(Code::InvalidValue, line)
                        .value("utf-8")
                        .column("encoding")
                        .arg("utf8"),
                );
            }
            (Encoding::Utf8, String::from_utf8_lossy(body))
        }
    }
}

/// Files from old Mac software end lines with CR alone. The `csv` reader handles that,
/// except for its offsets; turning lone CRs into LFs (the caller has found CRs and no LF)
/// keeps both the cells and the line numbers right.
fn normalise_classic_mac_line_ends(text: Cow<'_, str>) -> Cow<'_, str> {
    Cow::Owned(text.replace('\r', "\n"))
}

/// The delimiter that occurs most in the first line that is neither blank nor a comment,
/// outside quotes; `;` wins ties (French exports), a single column means `,`.
fn detect_delimiter(text: &str) -> Delimiter {
    let Some(line) = text
        .split(['\n', '\r'])
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
    else {
        return Delimiter::Comma;
    };
    let (mut commas, mut semicolons, mut tabs) = (0, 0, 0);
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            '\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if semicolons > 0 && semicolons >= commas && semicolons >= tabs {
        Delimiter::Semicolon
    } else if tabs > commas {
        Delimiter::Tab
    } else {
        Delimiter::Comma
    }
}

/// If the record starting at `raw[0]` opens a quote that is never closed, returns the line
/// (relative to the record's first line) where the quote opened and how many lines follow.
fn unclosed_quote(raw: &[u8], delimiter: u8) -> Option<(u32, u32)> {
    let mut at_field_start = true;
    let mut open: Option<usize> = None;
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        match open {
            Some(_) => {
                if b == b'"' {
                    if raw.get(i + 1) == Some(&b'"') {
                        i += 1;
                    } else {
                        open = None;
                    }
                }
            }
            None => {
                if b == b'"' && at_field_start {
                    open = Some(i);
                } else if b == b'\n' || b == b'\r' {
                    return None; // the record ended with every quote closed
                }
                at_field_start = b == delimiter;
            }
        }
        i += 1;
    }
    let opened_at = open?;
    let mut counter = LineCounter::default();
    let quote_line = counter.line_at(raw, opened_at) - 1;
    let last_line = counter.line_at(raw, raw.len()) - 1;
    Some((quote_line, last_line - quote_line))
}

/// The 1-based line of byte `offset` in `bytes`.
fn line_of_offset(bytes: &[u8], offset: usize) -> u32 {
    LineCounter::default().line_at(bytes, offset)
}

/// Counts line breaks incrementally: offsets must be asked in increasing order.
#[derive(Debug, Default)]
struct LineCounter {
    offset: usize,
    breaks: u32,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], offset: usize) -> u32 {
        let offset = offset.min(bytes.len());
        if offset > self.offset {
            let passed = &bytes[self.offset..offset];
            // Counting one byte value is a loop the compiler vectorises; lone CRs are rare.
            let newlines = passed.iter().filter(|&&b| b == b'\n').count();
            let lone_crs = if passed.contains(&b'\r') {
                (self.offset..offset)
                    .filter(|&i| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
                    .count()
            } else {
                0
            };
            self.breaks += (newlines + lone_crs) as u32;
            self.offset = offset;
        }
        self.breaks + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn read(bytes: &[u8]) -> (Option<Table<'_>>, Vec<Diagnostic>) {
        let mut diagnostics = Diagnostics::new();
        let table = decode(
            bytes,
            EncodingChoice::Auto,
            DelimiterChoice::Auto,
            &mut diagnostics,
        );
        (table, diagnostics.finish().0)
    }

    fn lines_and_cells<'t>(table: &'t Table<'_>) -> Vec<(u32, Vec<&'t str>)> {
        table
            .rows()
            .map(|row| (row.line, row.cells().collect()))
            .collect()
    }

    #[test]
    fn physical_lines_of_a_file_of_line_feeds_only() {
        let lines = PhysicalLines::new(b"a\n\nb;c\nd\n", EncodingChoice::Auto);
        assert_eq!(lines.len(), 4);
        let all: Vec<_> = (1..=5).map(|n| lines.line(n)).collect();
        assert_eq!(all, [Some("a"), Some(""), Some("b;c"), Some("d"), None]);
        let unterminated = PhysicalLines::new(b"a\nb", EncodingChoice::Auto);
        assert_eq!((unterminated.len(), unterminated.line(2)), (2, Some("b")));
    }

    /// Lines are found as far as asked: asked in any order, past the end, or counted first,
    /// they are those of the whole file split at once.
    #[test]
    fn physical_lines_asked_in_any_order_are_the_files_lines() {
        let text = "h;c\r\n\r\na\rb\n\nlast";
        let whole: Vec<&str> = text
            .split("\r\n")
            .flat_map(|l| l.split(['\r', '\n']))
            .collect();
        assert_eq!(whole, ["h;c", "", "a", "b", "", "last"]);
        let lines = PhysicalLines::new(text.as_bytes(), EncodingChoice::Auto);
        for n in [4u32, 1, 7, 6, 2, 3, 5] {
            assert_eq!(
                lines.line(n),
                whole.get(n as usize - 1).copied(),
                "line {n}"
            );
        }
        assert_eq!(lines.len(), 6);
        let counted_first = PhysicalLines::new(text.as_bytes(), EncodingChoice::Auto);
        assert_eq!(
            (counted_first.len(), counted_first.line(6)),
            (6, Some("last"))
        );
        assert!(PhysicalLines::new(b"", EncodingChoice::Auto).is_empty());
        assert!(!counted_first.is_empty());
    }

    /// A header far wider than the rows under it reserves no more than the file needs: a
    /// reservation per line for every header name would ask for 120 GB here.
    #[test]
    fn a_wide_header_over_many_short_lines_stays_within_the_files_size() {
        let mut file = (0..100_000)
            .map(|n| format!("c{n}"))
            .collect::<Vec<_>>()
            .join(",");
        file.push('\n');
        file.push_str(&"a\n".repeat(300_000));
        let (table, _) = read(file.as_bytes());
        let table = table.unwrap();
        assert_eq!((table.header.len(), table.row_count()), (100_000, 300_000));
        assert!(table.ends.capacity() <= file.len() + 1);
    }

    /// Cells of every length from one byte to past 16, in plain lines (read in place), with
    /// two-byte characters.
    #[test]
    fn cells_of_every_length_are_read_whole() {
        let cells: Vec<String> = (1..=20)
            .map(|len| "é".repeat(len / 2) + &"x".repeat(len % 2))
            .collect();
        let mut file = String::from("a;b\n");
        for cell in &cells {
            file.push_str(&format!("{cell};{cell}{cell}\n"));
        }
        let (table, _) = read(file.as_bytes());
        let table = table.unwrap();
        let rows: Vec<(u32, Vec<&str>)> = lines_and_cells(&table);
        let doubled: Vec<String> = cells.iter().map(|cell| cell.repeat(2)).collect();
        let expected: Vec<(u32, Vec<&str>)> = (0..cells.len())
            .map(|at| {
                (
                    at as u32 + 2,
                    vec![cells[at].as_str(), doubled[at].as_str()],
                )
            })
            .collect();
        assert_eq!(rows, expected);
    }

    /// The reader's own line count and ours agree: line feeds, CRLF, blank lines, comments
    /// and quoted cells over several lines, with and without a lone CR somewhere.
    #[test]
    fn rows_keep_their_physical_line_whatever_the_line_ends() {
        let body = "a;b\r\n\r\n# note\r\n1;\"two\r\nlines\"\r\n\n\n3;x\n\"4\n\n\";y\n5;z";
        let expected = [
            (4, vec!["1", "two\r\nlines"]),
            (8, vec!["3", "x"]),
            (9, vec!["4\n\n", "y"]),
            (12, vec!["5", "z"]),
        ];
        let (table, _) = read(body.as_bytes());
        assert_eq!(lines_and_cells(&table.unwrap()), expected);
        // A lone CR ends a line too: every row after it is one line further.
        let with_cr = body.replacen("3;x\n", "3;x\r\n\r", 1);
        let (table, _) = read(with_cr.as_bytes());
        let shifted: Vec<_> = expected
            .iter()
            .map(|(l, c)| (if *l > 8 { l + 1 } else { *l }, c.clone()))
            .collect();
        assert_eq!(lines_and_cells(&table.unwrap()), shifted);
    }

    #[test]
    fn lines_count_comments_blank_lines_and_quoted_line_breaks() {
        for ending in ["\n", "\r\n", "\r"] {
            let text = "# comment\na;b\n\n1;2\n\"x\ny\";3\n# again\n4;5\n".replace('\n', ending);
            let (table, diagnostics) = read(text.as_bytes());
            let table = table.unwrap();
            assert!(diagnostics.is_empty(), "{diagnostics:?}");
            assert_eq!(table.header_line, 2, "{ending:?}");
            // Classic Mac files (CR only) are read with LF line ends.
            let x_y = if ending == "\r" {
                "x\ny".to_owned()
            } else {
                format!("x{ending}y")
            };
            assert_eq!(
                lines_and_cells(&table),
                vec![
                    (4, vec!["1", "2"]),
                    (5, vec![x_y.as_str(), "3"]),
                    (8, vec!["4", "5"])
                ],
                "{ending:?}"
            );
        }
    }

    #[test]
    fn header_names_are_trimmed_and_lowercased() {
        let (table, _) = read(b" CMD , CName,userid \nadd,c,u\n");
        assert_eq!(table.unwrap().header, ["cmd", "cname", "userid"]);
    }

    #[test]
    fn delimiter_is_detected_from_the_header_outside_quotes() {
        assert_eq!(detect_delimiter("a;b;c\n1,2;3"), Delimiter::Semicolon);
        assert_eq!(detect_delimiter("# x,y,z,w\na\tb\tc"), Delimiter::Tab);
        assert_eq!(detect_delimiter("\"a;b\",c"), Delimiter::Comma);
        assert_eq!(detect_delimiter("single"), Delimiter::Comma);
    }

    #[test]
    fn delimiter_override_wins() {
        let mut diagnostics = Diagnostics::new();
        let table = decode(
            b"a;b,c\n1;2,3\n",
            EncodingChoice::Auto,
            DelimiterChoice::Comma,
            &mut diagnostics,
        )
        .unwrap();
        assert_eq!(table.header, ["a;b", "c"]);
    }

    #[test]
    fn utf8_bom_and_utf16_with_bom_are_read() {
        let (table, diagnostics) = read("\u{feff}cname\nÉlèves\n".as_bytes());
        assert!(diagnostics.is_empty());
        let table = table.unwrap();
        assert_eq!(table.header, ["cname"]);
        assert_eq!(table.row(0).unwrap().cell(0), "Élèves");

        for (bom, big_endian) in [([0xFF, 0xFE], false), ([0xFE, 0xFF], true)] {
            let mut bytes = bom.to_vec();
            for unit in "cname\r\nÉlèves\r\n".encode_utf16() {
                let pair = if big_endian {
                    unit.to_be_bytes()
                } else {
                    unit.to_le_bytes()
                };
                bytes.extend_from_slice(&pair);
            }
            let (table, diagnostics) = read(&bytes);
            assert!(diagnostics.is_empty());
            let table = table.unwrap();
            assert_eq!(
                table.encoding,
                if big_endian {
                    Encoding::Utf16be
                } else {
                    Encoding::Utf16le
                }
            );
            assert_eq!(table.row(0).unwrap().cell(0), "Élèves");
            assert_eq!(table.row(0).unwrap().line, 2);
        }
    }

    #[test]
    fn windows_1252_is_the_fallback_with_a_warning_on_the_first_bad_line() {
        let (table, diagnostics) = read(b"cname;userid\nL2;U1\n\xc9l\xe8ves;U2\n");
        let table = table.unwrap();
        assert_eq!(table.encoding, Encoding::Windows1252);
        assert_eq!(table.row(1).unwrap().cell(0), "Élèves");
        assert_eq!(
            diagnostics,
            vec![Diagnostic::new(Code::EncodingFallback, 3)]
        );
    }

    #[test]
    fn unclosed_quote_is_reported_where_it_opens() {
        let (table, diagnostics) = read(b"a;b\n1;2\n3;\"4\n5;6\n7;8\n");
        assert_eq!(
            diagnostics,
            vec![Diagnostic::new(Code::UnclosedQuote, 3).arg(3)]
        );
        assert_eq!(lines_and_cells(&table.unwrap()), vec![(2, vec!["1", "2"])]);
    }

    #[test]
    fn closed_quotes_with_escapes_are_fine() {
        let (table, diagnostics) = read(b"a;b\n\"say \"\"hi\"\"\";\"x;\ny\"\n");
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(
            lines_and_cells(&table.unwrap()),
            vec![(2, vec!["say \"hi\"", "x;\ny"])]
        );
    }

    #[test]
    fn empty_files_have_no_header() {
        for bytes in [&b""[..], b"\n\n", b"# only a comment\n", b";;;\n"] {
            let (table, diagnostics) = read(bytes);
            assert!(table.is_none());
            assert_eq!(diagnostics, vec![Diagnostic::new(Code::EmptyFile, 1)]);
        }
    }
}
