//! Each crate reads in the order data flows: no module imports one that imports it back.
//!
//! Every `.rs` file of a crate's `src/` is a module; each `crate::…` or `super::…` path in
//! its code (comments and unit tests aside) is an edge to the deepest module the path
//! names. The test fails on any cycle, naming it, and `--nocapture` prints each graph:
//! `cargo test -p cohortsync-e2e --test layers -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`report::page`) of each source file of `crate_dir`, and its code without
/// comments and unit tests.
fn modules(crate_dir: &str) -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(crate_dir)
        .join("src");
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts
                .last()
                .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
            {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            found.insert(parts.join("::"), code);
        }
    }
    found
}

/// The modules `code` (of module `this`) refers to, other than itself and the crate root.
fn edges(this: &str, code: &str, all: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent(this))] {
        let mut from = 0;
        while let Some(at) = code[from..].find(prefix) {
            let start = from + at;
            from = start + prefix.len();
            if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
                continue;
            }
            // The path's segments, including a `{` group's first names.
            let rest = &code[from..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segments = base.clone();
            segments.extend(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
            let mut heads = vec![segments.clone()];
            if let Some(group) = rest[path.len()..].strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for name in group.split(',') {
                    let mut with = segments.clone();
                    with.extend(name.trim().split("::").map(str::to_owned));
                    heads.push(with);
                }
            }
            for segments in heads {
                let target = (0..=segments.len())
                    .rev()
                    .map(|n| segments[..n].join("::"))
                    .find(|m| all.contains_key(m))
                    .unwrap_or_default();
                if !target.is_empty() && target != this {
                    out.insert(target);
                }
            }
        }
    }
    out
}

fn parent(module: &str) -> Vec<String> {
    let mut parts: Vec<String> = module.split("::").map(str::to_owned).collect();
    parts.pop();
    parts
}

#[test]
fn no_module_of_shared_imports_one_that_imports_it_back() {
    assert_no_cycle("shared");
}

#[test]
fn no_module_of_the_server_imports_one_that_imports_it_back() {
    assert_no_cycle("backend");
}

#[test]
fn no_module_of_the_web_app_imports_one_that_imports_it_back() {
    assert_no_cycle("frontend");
}

fn assert_no_cycle(crate_dir: &str) {
    let all = modules(crate_dir);
    let graph: BTreeMap<&str, BTreeSet<String>> = all
        .iter()
        .filter(|(m, _)| !m.is_empty())
        .map(|(m, code)| (m.as_str(), edges(m, code, &all)))
        .collect();
    println!("{crate_dir}:");
    for (module, uses) in &graph {
        println!(
            "{module} -> {}",
            uses.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    // Depth-first search for a back edge.
    fn visit<'g>(
        module: &'g str,
        graph: &'g BTreeMap<&str, BTreeSet<String>>,
        path: &mut Vec<&'g str>,
        done: &mut BTreeSet<&'g str>,
        cycles: &mut Vec<String>,
    ) {
        if done.contains(module) {
            return;
        }
        if let Some(at) = path.iter().position(|m| *m == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module);
            cycles.push(cycle.join(" -> "));
            return;
        }
        path.push(module);
        for next in graph.get(module).into_iter().flatten() {
            visit(next, graph, path, done, cycles);
        }
        path.pop();
        done.insert(module);
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(module, &graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(
        cycles.is_empty(),
        "import cycles in {crate_dir}:\n{}",
        cycles.join("\n")
    );
}
