//! The bot's modules form layers: a module may use its own layer's modules (with no
//! cycle among them) and the layers below, never a layer above. Read from the source
//! (every `crate::<module>` path, grouped `use crate::{..}` included), so a new import
//! that climbs a layer or closes a cycle fails here, naming the file and the line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom first. Each top-level module of src/ (a file or a folder) is in one layer.
const LAYERS: &[(&str, &[&str])] = &[
    ("time and secrets", &["clock", "when", "lease", "vault"]),
    (
        "clients and store",
        &["store", "metrics", "outbound", "heroku", "github", "slack"],
    ),
    ("settings", &["config"]),
    ("vocabulary", &["command", "chat", "pages", "resolver"]),
    ("shared parts", &["bot"]),
    ("services", &["outbox", "sweeps", "webhooks", "workspaces"]),
    ("shared features", &["accounts", "locks", "channels"]),
    (
        "features",
        &["deploy", "pipelines", "history", "doctor", "home"],
    ),
    (
        "wiring",
        &["dispatch", "edge", "app", "cli", "rekey", "telemetry"],
    ),
];

/// One use of another module: where, and which module.
#[derive(Debug)]
struct Use {
    file: PathBuf,
    line: usize,
    module: String,
}

#[test]
fn modules_only_use_their_own_layer_and_the_layers_below() {
    let uses = uses_by_module(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let layer_of = layer_index();
    let mut wrong = Vec::new();
    for (module, uses) in &uses {
        let Some(&own) = layer_of.get(module.as_str()) else {
            wrong.push(format!("src/{module} is in no layer: add it to LAYERS"));
            continue;
        };
        for used in uses {
            match layer_of.get(used.module.as_str()) {
                Some(&layer) if layer <= own => {}
                Some(&layer) => wrong.push(format!(
                    "{}:{}: `{module}` ({}) uses `{}` ({}), a layer above it",
                    used.file.display(),
                    used.line,
                    LAYERS[own].0,
                    used.module,
                    LAYERS[layer].0,
                )),
                None => wrong.push(format!(
                    "{}:{}: `{}` is in no layer",
                    used.file.display(),
                    used.line,
                    used.module
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn no_cycle_among_the_modules_of_a_layer() {
    let uses = uses_by_module(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let graph: BTreeMap<&str, BTreeSet<&str>> = uses
        .iter()
        .map(|(module, uses)| {
            let targets = uses.iter().map(|used| used.module.as_str()).collect();
            (module.as_str(), targets)
        })
        .collect();
    if let Some(cycle) = find_cycle(&graph) {
        let witnesses: Vec<String> = cycle
            .windows(2)
            .map(|pair| witness(&uses, pair[0], pair[1]))
            .collect();
        panic!(
            "modules form a cycle: {}\n{}",
            cycle.join(" -> "),
            witnesses.join("\n")
        );
    }
}

#[test]
fn the_checker_sees_a_grouped_use_and_a_path_in_code() {
    let source = "use crate::{a::B, c};\nfn f() { crate::d::e(); }\n// crate::comment\n";
    let found: Vec<(usize, String)> = crate_paths(source).collect();
    assert_eq!(
        found,
        [
            (1, "a".to_owned()),
            (1, "c".to_owned()),
            (2, "d".to_owned())
        ]
    );
}

fn layer_index() -> BTreeMap<&'static str, usize> {
    let mut index = BTreeMap::new();
    for (layer, (_, modules)) in LAYERS.iter().enumerate() {
        for module in *modules {
            assert!(
                index.insert(*module, layer).is_none(),
                "{module} is listed twice"
            );
        }
    }
    index
}

/// Every top-level module of `src` (main.rs and lib.rs aside) with the other modules
/// it uses.
fn uses_by_module(src: &Path) -> BTreeMap<String, Vec<Use>> {
    let mut uses: BTreeMap<String, Vec<Use>> = BTreeMap::new();
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).expect("below src");
        let first = relative.components().next().expect("a path");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "main" || module == "lib" {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("read a source file");
        let entry = uses.entry(module.clone()).or_default();
        for (line, used) in crate_paths(&source) {
            if used != module {
                entry.push(Use {
                    file: relative.to_owned(),
                    line,
                    module: used,
                });
            }
        }
    }
    uses
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("list a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// `(line, module)` for every `crate::module` in code (comments skipped), with each
/// member of a grouped `crate::{a, b::c}` counted.
fn crate_paths(source: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    let mut found = Vec::new();
    let mut in_group: Option<usize> = None;
    for (index, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        if let Some(depth) = in_group {
            rest = group_members(rest, index + 1, depth, &mut found, &mut in_group);
        }
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                rest = group_members(group, index + 1, 1, &mut found, &mut in_group);
            } else {
                let name = leading_ident(rest);
                if !name.is_empty() {
                    found.push((index + 1, name.to_owned()));
                }
            }
        }
    }
    found.into_iter()
}

/// Reads the members of a `crate::{..}` group from `text` (which starts inside it at
/// nesting `depth`); returns what follows the group, or "" with `in_group` set when
/// the group goes on past this line.
fn group_members<'a>(
    text: &'a str,
    line: usize,
    mut depth: usize,
    found: &mut Vec<(usize, String)>,
    in_group: &mut Option<usize>,
) -> &'a str {
    let mut expect_name = depth == 1;
    for (at, character) in text.char_indices() {
        match character {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    *in_group = None;
                    return &text[at + 1..];
                }
            }
            ',' if depth == 1 => expect_name = true,
            c if expect_name && (c.is_alphanumeric() || c == '_') => {
                let name = leading_ident(&text[at..]);
                if name != "self" {
                    found.push((line, name.to_owned()));
                }
                expect_name = false;
            }
            c if c.is_whitespace() => {}
            _ => expect_name = false,
        }
    }
    *in_group = Some(depth);
    ""
}

fn leading_ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// A cycle in `graph` as `[a, b, .., a]`, if there is one.
fn find_cycle<'a>(graph: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Option<Vec<&'a str>> {
    let mut done = BTreeSet::new();
    for &start in graph.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(graph, start, &mut path, &mut done) {
            return Some(cycle);
        }
    }
    None
}

fn visit<'a>(
    graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    node: &'a str,
    path: &mut Vec<&'a str>,
    done: &mut BTreeSet<&'a str>,
) -> Option<Vec<&'a str>> {
    if let Some(at) = path.iter().position(|&seen| seen == node) {
        let mut cycle = path[at..].to_vec();
        cycle.push(node);
        return Some(cycle);
    }
    if done.contains(node) {
        return None;
    }
    path.push(node);
    for &next in graph.get(node).into_iter().flatten() {
        if let Some(cycle) = visit(graph, next, path, done) {
            return Some(cycle);
        }
    }
    path.pop();
    done.insert(node);
    None
}

/// The first place `from` uses `to`, to show with a cycle.
fn witness(uses: &BTreeMap<String, Vec<Use>>, from: &str, to: &str) -> String {
    uses[from]
        .iter()
        .find(|used| used.module == to)
        .map_or_else(String::new, |used| {
            format!("  {}:{}: {from} uses {to}", used.file.display(), used.line)
        })
}
