// The JavaScript baseline of the WASM benchmarks: the checks the bench's cohort file
// exercises, as a plain JS implementation would do them (PapaParse, then `Map`/`Set`
// look-ups), returning milliseconds. The body of a function of (text, snapshot JSON, done),
// run by `tests/benches/browser.rs` in the page and by `shared/benches/wasm.mjs` in Node,
// with PapaParse as the global `Papa`.
const [text, snapshotJson, done] = arguments;
const snapshot = JSON.parse(snapshotJson);
const t0 = performance.now();
const parsed = Papa.parse(text, { delimiter: "", skipEmptyLines: "greedy", comments: "#" });
const rows = parsed.data;
const header = rows[0].map(h => h.trim().toLowerCase());
const col = name => header.indexOf(name);
const [cCmd, cKey, cName, cUser, cDesc] = ["cmd", "cidnumber", "cname", "userid", "cdescription"].map(col);
const users = new Map();
for (const u of snapshot.users) {
  const k = (u.idnumber || "").trim();
  if (!k) continue;
  const list = users.get(k);
  if (list) list.push(u); else users.set(k, [u]);
}
const cohorts = new Map();
for (const c of snapshot.cohorts) if (c.idnumber) cohorts.set(c.idnumber, c);
const memberSets = new Map();
const diagnostics = [], operations = [], pairs = new Map(), created = new Map();
for (let i = 1; i < rows.length; i++) {
  const r = rows[i], line = i + 1;
  const cmd = (r[cCmd] || "").trim().toLowerCase() || "add";
  if (cmd !== "add" && cmd !== "del" && cmd !== "free") { diagnostics.push({ line, code: "invalid_command" }); continue; }
  const key = (r[cKey] || "").trim();
  if (!key) { diagnostics.push({ line, code: "empty_value" }); continue; }
  let target, cohort = cohorts.get(key);
  if (cohort) {
    if (cohort.component && cohort.component !== "cohortsync") { diagnostics.push({ line, code: "cohort_protected" }); continue; }
    target = "e" + cohort.id;
  } else if (cmd === "add") {
    if (!created.has(key)) {
      const name = (r[cName] || "").trim();
      if (!name) { diagnostics.push({ line, code: "empty_value" }); continue; }
      created.set(key, created.size);
      operations.push({ line, op: "create_cohort", cohort: created.get(key), idnumber: key, name, description: (r[cDesc] || "").trim() });
    }
    target = "n" + created.get(key);
  } else { diagnostics.push({ line, code: "cohort_not_found" }); continue; }
  const value = (r[cUser] || "").trim();
  if (!value) continue;
  const found = users.get(value);
  if (!found) { diagnostics.push({ line, code: "user_not_found", value }); continue; }
  if (found.length > 1) { diagnostics.push({ line, code: "user_ambiguous", value }); continue; }
  const user = found[0], pair = target + "|" + user.id;
  const first = pairs.get(pair);
  if (first) { diagnostics.push({ line, code: first.cmd === cmd ? "duplicate_row" : "conflicting_rows" }); continue; }
  pairs.set(pair, { cmd, line });
  if (cmd === "add" && user.suspended) diagnostics.push({ line, code: "user_suspended" });
  if (cohort) {
    let set = memberSets.get(cohort.id);
    if (!set) { set = new Set(cohort.members); memberSets.set(cohort.id, set); }
    if (cmd === "add" && set.has(user.id)) { diagnostics.push({ line, code: "already_member" }); continue; }
  }
  operations.push({ line, op: cmd === "add" ? "add_member" : "remove_member", cohort: target, user: user.id });
}
const perCohort = new Map();
for (const o of operations) {
  const k = String(o.cohort);
  const c = perCohort.get(k) || { added: 0, removed: 0 };
  if (o.op === "add_member") c.added++; else if (o.op === "remove_member") c.removed++;
  perCohort.set(k, c);
}
diagnostics.sort((a, b) => a.line - b.line);
const ms = performance.now() - t0;
done({ ms, operations: operations.length, diagnostics: diagnostics.length, rows: rows.length - 1 });
