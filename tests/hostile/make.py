#!/usr/bin/env python3
"""Writes the hostile files of this folder (run from anywhere; deterministic).

Each file is built to break a reader: binary data, NUL bytes, huge lines and rows,
broken quoting, wrong encodings, formulas, archives renamed .csv... The test
tests/tests/hostile.rs sends every one through the command line and the API and compares
the diagnostic codes with expected.json.
"""
import gzip, io, os, random, zipfile

here = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261201)
H = "cmd;cname;userid;cidnumber\n"
B = "cmd;cohort;course;role;makegroup;enrolstart;enrolend\n"
files = {}

def t(name, text):
    files[name] = text.encode("utf-8")

def b(name, data):
    files[name] = data

b("binary_random.csv", bytes(rng.randrange(256) for _ in range(4096)))
b("nul_bytes.csv", (H + "add;L2\x00Pharma;U0001;C\x001\n").encode())
b("only_nuls.csv", b"\x00" * 10000)
b("single_line_1mb.csv", b"cmd;cname;userid;cidnumber" + b"x" * (1 << 20))
t("header_then_1mb_cell.csv", H + "add;" + "N" * (1 << 20) + ";U0001;C1\n")
t("columns_100k_header.csv", ";".join(f"c{i}" for i in range(100_000)) + "\nadd\n")
t("columns_100k_row.csv", H + ";".join("x" for _ in range(100_000)) + "\n")
t("unclosed_quote_at_start.csv", '"cmd;cname;userid;cidnumber\nadd;L2;U0001;C1\n')
t("unclosed_quote_in_row.csv", H + 'add;"L2 Pharmacie;U0001;C1\nadd;L2;U0002;C1\n')
b("utf16le_no_bom.csv", H.encode("utf-16-le") + "add;Élèves;U0001;C1\n".encode("utf-16-le"))
b("utf16be_no_bom.csv", H.encode("utf-16-be") + "add;Élèves;U0001;C1\n".encode("utf-16-be"))
b("utf16le_with_bom.csv", b"\xff\xfe" + (H + "add;Élèves;U0001;C1\n").encode("utf-16-le"))
b("mixed_line_ends.csv", b"cmd;cname;userid;cidnumber\r\nadd;A;U0001;C1\nadd;A;U0002;C1\radd;A;U0003;C1\r\n")
b("classic_mac_line_ends.csv", H.replace("\n", "\r").encode() + b"add;A;U0001;C1\radd;A;U0002;C1\r")
t("formula_cells.csv", H + "add;=HYPERLINK(\"http://evil\");U0001;C1\nadd;+1+1;@SUM(A1);-2\nadd; =cmd;\t=1;＝1\n")
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("cohorts.csv", b"0" * (100 << 20))
b("zip_bomb.csv", zbuf.getvalue())
b("gzip_of_a_csv.csv", gzip.compress((H + "add;A;U0001;C1\n").encode(), mtime=0))
b("pdf_renamed.csv", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
t("repeated_quotes_100k.csv", H + '"' * 100_000 + "\n")
t("deeply_repeated_quotes_cell.csv", H + 'add;"' + '""' * 50_000 + '";U0001;C1\n')
b("empty.csv", b"")
b("bom_only.csv", b"\xef\xbb\xbf")
t("whitespace_only.csv", "   \n\t\n  \r\n")
t("comments_only.csv", "# nothing\n# here\n")
t("header_only.csv", H)
t("blank_lines_100k.csv", H + "\n" * 100_000 + "add;A;U0001;C1\n")
t("delimiters_only.csv", H + ";;;\n" * 1000)
b("invalid_utf8.csv", H.encode() + b"add;\xc9l\xe8ves \xff\xfe;U0001;C1\n")
b("overlong_utf8.csv", H.encode() + b"add;\xc0\xaf\xe0\x80\xaf;U0001;C1\n")
b("cesu_surrogates.csv", H.encode() + b"add;\xed\xa0\x80\xed\xb0\x80;U0001;C1\n")
t("control_characters.csv", H + "add;A\x01\x02\x1b[31m;U0001;C1\n")
t("bidi_override.csv", H + "add;\u202eeivahc\u202c;U0001;C1\n")
t("emoji_and_combining.csv", H + "add;🎓 L2 e\u0301\u0301\u0301;U0001;C1\n")
t("huge_numbers.csv", "cmd;cname;userid;cid\nadd;A;99999999999999999999999;99999999999999999999\n")
t("negative_and_zero_ids.csv", "cmd;cname;userid;cid\nadd;A;-1;0\ndel;A;0;-9223372036854775808\n")
t("binding_date_overflow.csv", B + "add;COH001;PHARMA-L2;student;0;300000000000-03-01;99999999999-12-31\n")
t("binding_garbage.csv", B + "zap;;;;;;\nadd;\x00;\x00;\x00;\x00;\x00;\x00\n")
t("binding_makegroup_numbers.csv", B + "add;COH001;PHARMA-L2;student;99999999999999999999;;\n")
t("duplicate_header_columns.csv", "cmd;cname;cname;userid;userid\nadd;A;B;U1;U2\n")
t("header_with_spaces_and_case.csv", " CMD ; CName ;UserID; CIDNUMBER \nadd;A;U0001;C1\n")
t("unknown_commands.csv", H + "drop;A;U0001;C1\nDEL ;A;U0001;C1\n☠;A;U0001;C1\n")
t("sql_injection.csv", H + "add;'; DROP TABLE users;--;U0001' OR '1'='1;C1\n")
t("html_and_script.csv", H + 'add;<script>alert(1)</script>;<img src=x onerror=alert(1)>;C1\n')
t("path_traversal.csv", H + "add;../../etc/passwd;..\\..\\windows;C1\n")
t("long_cohort_name_100k.csv", H + "add;" + "é" * 100_000 + ";U0001;C1\n")
t("tab_and_semicolon_mixed.csv", "cmd\tcname;userid\tcidnumber\nadd\tA;U0001\tC1\n")
t("delimiter_inside_quotes.csv", H + 'add;"A;B;C";"U0001;U0002";C1\n')
t("quote_inside_unquoted_cell.csv", H + 'add;A"B;U"0001;C1\n')
t("garbage_after_closing_quote.csv", H + 'add;"A"B;U0001;C1\n')
b("bom_in_the_middle.csv", H.encode() + b"add;\xef\xbb\xbfA;U0001;C1\n\xef\xbb\xbfadd;B;U0002;C1\n")
t("non_breaking_spaces.csv", H + "add;\u00a0A\u00a0;\u00a0U0001\u2003;C1\n")
t("one_million_semicolons.csv", ";" * 1_000_000)
t("fifty_thousand_errors.csv", "cidnumber\n" + "x\n" * 50_000)
t("ragged_rows.csv", H + "add\nadd;A;U0001;C1;extra;more\n;\n")
t("moodle_cohort_upload.csv", "name,idnumber,description\nL2,COH9,x\n")
t("windows1252_accents.csv", "")
files["windows1252_accents.csv"] = (H + "add;Élèves de première;U0001;C1\n").encode("cp1252")
b("cr_inside_quotes.csv", H.encode() + b'add;"A\rB";U0001;C1\n')
t("every_error_in_one_row.csv", "cmd;cname;userid;cidnumber;course\nnope;;;;x\n")
t("sixty_thousand_columns_header_dupes.csv", ";".join("cname" for _ in range(60_000)) + "\nA\n")

for name, data in sorted(files.items()):
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
print(len(files), "files")
