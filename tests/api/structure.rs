//! The layering rule of the README's "How it is built", checked on the source: every
//! `crate::` and `super::` path of every file under `src/` is resolved to the module (file) it
//! names, and then
//! - nothing in `domain/` names a module outside `domain/`;
//! - nothing in `store/` names `app/`, `http/` or a channel;
//! - nothing in `app/` names `http/` or a channel, nothing in `integrations/` names the store,
//!   the application or a channel (outbound clients only);
//! - no two modules import each other, directly or through others (a module declaring or
//!   re-exporting its own submodules is not an import).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// Every source file as its module path (`src/store/thread.rs` → `store::thread`).
fn modules(src: &Path) -> BTreeMap<Module, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = rel.iter().map(|c| c.to_string_lossy().into()).collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            out.insert(module, std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

/// The source without comments (doc comments name paths too).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Expands a use tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or(tree).trim().to_owned()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|p| format!("{prefix}{p}"))
        .collect()
}

/// Every path a file names: its `use` trees and the `crate::…` / `super::…` paths in code.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        let tail = &rest[i + 4..];
        let end = tail.find(';').unwrap_or(tail.len());
        if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
            out.extend(expand(&tail[..end].replace(['\n', ' '], "")));
        }
        rest = &tail[end..];
    }
    for start in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(i) = rest.find(start) {
            let before = rest[..i].chars().last();
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            let path = tail[..end].trim_end_matches(':');
            // `super::{…}` is a use tree, read whole above.
            if before.is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != ':')
                && path.contains("::")
            {
                out.push(path.to_owned());
            }
            rest = &tail[end..];
        }
    }
    out
}

/// The module a path names: the longest prefix that is a file, from the crate root
/// (`crate::`) or from the file's own module (`super::`, `self::`); `None` for other crates.
fn resolve(from: &Module, path: &str, all: &BTreeMap<Module, String>) -> Option<Module> {
    let mut segments = path.split("::").filter(|s| !s.is_empty()).peekable();
    let mut at: Module = match *segments.peek()? {
        "crate" => {
            segments.next();
            vec![]
        }
        "super" | "self" => from.clone(),
        _ => return None,
    };
    let mut found = None;
    for s in segments {
        match s {
            "super" => {
                at.pop();
            }
            "self" => {}
            name => at.push(name.to_owned()),
        }
        if all.contains_key(&at) {
            found = Some(at.clone());
        }
    }
    found.or_else(|| all.contains_key(&at).then_some(at))
}

fn imports(all: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    all.iter()
        .map(|(module, text)| {
            let targets = paths(&code(text))
                .iter()
                .filter_map(|p| resolve(module, p, all))
                .filter(|t| !t.starts_with(module))
                .collect();
            (module.clone(), targets)
        })
        .collect()
}

fn show(m: &Module) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

fn src() -> BTreeMap<Module, String> {
    modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

/// The modules under `folder` that name a module under one of `forbidden`.
fn crossings(folder: &str, forbidden: &[&str]) -> Vec<String> {
    let all = src();
    imports(&all)
        .into_iter()
        .filter(|(m, _)| m.first().is_some_and(|f| f == folder))
        .flat_map(|(m, targets)| {
            targets
                .into_iter()
                .filter(|t| t.first().is_some_and(|f| forbidden.contains(&f.as_str())))
                .map(move |t| format!("{} -> {}", show(&m), show(&t)))
        })
        .collect()
}

#[test]
fn domain_imports_nothing_outside_it() {
    let all = src();
    let outside: Vec<String> = imports(&all)
        .into_iter()
        .filter(|(m, _)| m.first().is_some_and(|f| f == "domain"))
        .flat_map(|(m, targets)| {
            targets
                .into_iter()
                .filter(|t| t.first().is_none_or(|f| f != "domain"))
                .map(move |t| format!("{} -> {}", show(&m), show(&t)))
        })
        .collect();
    assert!(outside.is_empty(), "{outside:#?}");
}

#[test]
fn each_layer_imports_only_what_is_below_it() {
    let mut wrong = crossings("store", &["app", "http", "channels", "startup", "cli"]);
    wrong.extend(crossings("app", &["http", "channels", "startup", "cli"]));
    wrong.extend(crossings("channels", &["http", "startup", "cli"]));
    wrong.extend(crossings(
        "integrations",
        &["store", "app", "http", "channels", "startup", "cli"],
    ));
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn no_two_modules_import_each_other() {
    let graph = imports(&src());
    // Depth-first search for a back edge; the first cycle found is reported whole.
    fn visit(
        m: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        path: &mut Vec<Module>,
        done: &mut BTreeSet<Module>,
    ) -> Option<Vec<Module>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            return Some(path[i..].iter().chain([m]).cloned().collect());
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.clone());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(m.clone());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut vec![], &mut done) {
            let shown: Vec<String> = cycle.iter().map(show).collect();
            panic!("import cycle: {}", shown.join(" -> "));
        }
    }
}

#[test]
fn the_checker_sees_use_trees_inline_paths_and_cycles() {
    assert_eq!(
        expand("crate::store::{Store, tables::{META, encode}}"),
        [
            "crate::store::Store",
            "crate::store::tables::META",
            "crate::store::tables::encode"
        ]
    );
    let found = paths("use super::{a, b::C};\nfn f() { crate::x::y(); let z = super::w::V; }");
    assert_eq!(
        found,
        ["super::a", "super::b::C", "crate::x::y", "super::w::V"]
    );
    let all: BTreeMap<Module, String> = [
        (vec![], String::new()),
        (vec!["a".into()], "use crate::b::thing;".into()),
        (vec!["b".into()], "use super::a::Other;".into()),
        (vec!["b".into(), "c".into()], "use super::super::a;".into()),
    ]
    .into_iter()
    .collect();
    let graph = imports(&all);
    assert!(graph[&vec!["a".to_owned()]].contains(&vec!["b".to_owned()]));
    assert!(graph[&vec!["b".to_owned()]].contains(&vec!["a".to_owned()]));
    assert!(graph[&vec!["b".to_owned(), "c".to_owned()]].contains(&vec!["a".to_owned()]));
}
