//! wasm-ld's command line: response files, the option table, `-l` search.
//!
//! [`expand_response_files`] replaces each `@FILE` by the words of FILE (GNU quoting, nested
//! `@` allowed); [`parse_args`] turns the expanded words into [`LinkArgs`]: the
//! [`LinkOptions`], the output path and the inputs in command-line order, each with the
//! `--whole-archive` state in force where it appears. `-l NAME` is resolved against every
//! `-L` directory by [`find_library`] after parsing, as wasm-ld does (a `-L` after `-l` still
//! counts).
//!
//! Long options take one or two dashes (`-export=x` = `--export=x`) and their value either
//! joined by `=` or as the next word; single-letter options take the value joined (`-lc`,
//! `-oout.wasm`) or as the next word. Anything not in the table is an error naming it.

use std::path::PathBuf;

use crate::link::{BuildId, LinkOptions, UnresolvedSymbols};
use crate::lower::LowerOptions;
use crate::target::Features;

/// A command-line error: the message, without the `error:` prefix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArgError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ArgError> {
    Err(ArgError(msg.into()))
}

/// An input named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputArg {
    /// A file path.
    File {
        /// The path as given.
        path: PathBuf,
        /// `--whole-archive` was in force.
        whole_archive: bool,
    },
    /// `-l NAME`: `libNAME.a` in the `-L` directories (`-l:FILE`: FILE itself).
    Library {
        /// NAME as given.
        name: String,
        /// `--whole-archive` was in force.
        whole_archive: bool,
    },
}

/// What one command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkArgs {
    /// The link options.
    pub options: LinkOptions,
    /// `-o FILE` (required by `kiln link`, as by wasm-ld; `-` is standard output).
    pub output: Option<PathBuf>,
    /// Inputs in command-line order.
    pub inputs: Vec<InputArg>,
    /// `-L` directories in order.
    pub search_dirs: Vec<PathBuf>,
    /// `--features=` was given: the features are exactly the list.
    pub explicit_features: bool,
    /// `--fatal-warnings`: a link with warnings fails and writes nothing.
    pub fatal_warnings: bool,
    /// Warnings about the command line (an unknown `-z` value, as wasm-ld), one line each.
    pub warnings: Vec<String>,
    /// `--allow-undefined` was given: as wasm-ld, `--import-undefined` plus
    /// `--unresolved-symbols=ignore-all` whatever the order (undefined data is address 0).
    pub allow_undefined: bool,
    /// `--help` was given.
    pub help: bool,
    /// `--version` or `-v` was given: print the version.
    pub version: bool,
    /// `--version` was given: print the version and link nothing (`-v` links on).
    pub version_only: bool,
    /// `--threads=N` (`--no-threads`: 1): how many threads link; by default
    /// `RAYON_NUM_THREADS`, or one per core.
    pub threads: Option<usize>,
    /// `--split-budget=N`: node splitting for the irreducible functions of `.ir` inputs
    /// ([`LowerOptions::split_budget`](crate::lower::LowerOptions::split_budget)).
    pub split_budget: u32,
}

impl LinkArgs {
    /// How the `.ir` inputs are lowered: with the output's features (the default set
    /// unless `--features=` or `-m` says otherwise) and `--split-budget`.
    pub fn lower_options(&self) -> LowerOptions {
        LowerOptions {
            features: self.options.features,
            split_budget: self.split_budget,
            path: String::new(),
        }
    }
}

/// Which command is parsing: `kiln link` follows wasm-ld's defaults; `kiln build FILE.ir`
/// keeps the defaults IR programs want.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// wasm-ld: entry `_start`, no free heap beyond `__heap_base`.
    Link,
    /// `kiln build`: no entry, 64 KiB of initial heap; `--features=SPEC` and `-m SPEC`
    /// (other than `wasm32`) take a `Features::parse` spec (`mvp,+bulk-memory`), as before.
    Build,
}

/// How an option takes its value.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Arity {
    /// No value.
    Flag,
    /// A value, required: `--x=v` or `--x v`.
    Value,
    /// A value only in the joined form `--x=v`; `--x` alone is valid.
    OptionalJoined,
}

/// One option of the table.
struct Spec {
    /// Names without dashes; the first is the canonical one.
    names: &'static [&'static str],
    arity: Arity,
    /// One line for `--help`.
    help: &'static str,
}

const fn flag(names: &'static [&'static str], help: &'static str) -> Spec {
    Spec {
        names,
        arity: Arity::Flag,
        help,
    }
}

const fn value(names: &'static [&'static str], help: &'static str) -> Spec {
    Spec {
        names,
        arity: Arity::Value,
        help,
    }
}

const fn optional(names: &'static [&'static str], help: &'static str) -> Spec {
    Spec {
        names,
        arity: Arity::OptionalJoined,
        help,
    }
}

/// Every long option, wasm-ld's spelling. Single-letter options are in [`SHORT`].
const LONG: &[Spec] = &[
    value(&["output"], "=FILE: write the module to FILE (-o)"),
    value(&["library-path"], "=DIR: search DIR for -l libraries (-L)"),
    value(
        &["library"],
        "=NAME: link libNAME.a from the -L directories (-l)",
    ),
    value(&["entry"], "=SYM: the entry function (-e; default _start)"),
    flag(&["no-entry"], "no entry function"),
    value(
        &["export"],
        "=SYM: export SYM; an error if it is not defined",
    ),
    value(&["export-if-defined"], "=SYM: export SYM if it is defined"),
    value(
        &["undefined"],
        "=SYM: treat SYM as undefined, loading the archive member that defines it (-u)",
    ),
    flag(
        &["print-gc-sections"],
        "list the functions, data segments and globals garbage collection removes",
    ),
    flag(
        &["no-print-gc-sections"],
        "do not list what garbage collection removes (default)",
    ),
    flag(
        &["allow-multiple-definition"],
        "a name defined twice is no error: the first definition wins (-z muldefs)",
    ),
    flag(
        &["no-allow-multiple-definition"],
        "a name defined twice is an error (default)",
    ),
    value(
        &["wrap"],
        "=SYM: references to SYM go to __wrap_SYM, references to __real_SYM go to SYM",
    ),
    flag(
        &["export-all"],
        "export every defined symbol, hidden ones too",
    ),
    flag(
        &["export-dynamic"],
        "export every defined non-hidden symbol (-E)",
    ),
    flag(&["export-table"], "export the function table"),
    flag(&["import-table"], "import the function table"),
    flag(&["growable-table"], "give the function table no maximum"),
    optional(
        &["import-memory"],
        "[=MODULE,NAME]: import the memory (default env.memory)",
    ),
    optional(
        &["export-memory"],
        "[=NAME]: export the memory (default memory)",
    ),
    flag(&["shared-memory"], "make the memory shared"),
    flag(
        &["stack-first"],
        "place the stack before the data (default)",
    ),
    flag(&["no-stack-first"], "place the data before the stack"),
    value(&["global-base"], "=N: where data starts"),
    value(&["initial-memory"], "=N: initial memory in bytes (-i)"),
    value(&["max-memory"], "=N: maximum memory in bytes"),
    value(&["initial-heap"], "=N: free bytes after __heap_base"),
    flag(
        &["allow-undefined"],
        "import undefined functions and globals; undefined data is address 0",
    ),
    flag(
        &["import-undefined"],
        "import undefined symbols where possible",
    ),
    value(
        &["unresolved-symbols"],
        "=report-all|ignore-all|import-dynamic: what undefined symbols do",
    ),
    flag(
        &["error-unresolved-symbols"],
        "report undefined symbols (default)",
    ),
    flag(
        &["gc-sections"],
        "drop unreferenced code and data (default)",
    ),
    flag(&["no-gc-sections"], "keep everything"),
    flag(&["strip-debug"], "drop debug info (-S)"),
    flag(&["strip-all"], "drop debug info and symbol names (-s)"),
    optional(
        &["build-id"],
        "[=fast|sha1|tree|uuid|0xHEX|none]: write a build_id section",
    ),
    flag(
        &["whole-archive"],
        "load every member of the archives that follow",
    ),
    flag(
        &["no-whole-archive"],
        "load archive members on demand (default)",
    ),
    value(
        &["features"],
        "=A,B: the output's target features, exactly these (default: those the inputs use)",
    ),
    flag(&["check-features"], "check the inputs' features (default)"),
    flag(
        &["no-check-features"],
        "do not check the inputs' features against each other",
    ),
    flag(
        &["fatal-warnings"],
        "treat link warnings as errors (no output is written)",
    ),
    flag(
        &["no-fatal-warnings"],
        "link warnings are only printed (default)",
    ),
    flag(
        &["no-export-dynamic"],
        "do not export every symbol (default)",
    ),
    value(
        &["threads"],
        "=N: link with N threads (default: RAYON_NUM_THREADS, or one per core)",
    ),
    flag(&["no-threads"], "link with one thread"),
    value(
        &["split-budget"],
        "=N: .ir inputs: irreducible functions may copy N instructions each by node \
         splitting before dispatch blocks (default 0: dispatch only)",
    ),
    flag(&["help"], "print this help"),
    flag(
        &["version"],
        "print the version and exit (-v: print it and link)",
    ),
];

/// Single-letter options: the letter, the long option it means (or a special name), and
/// whether it takes a value.
const SHORT: &[(char, &str, bool)] = &[
    ('o', "output", true),
    ('L', "library-path", true),
    ('l', "library", true),
    ('e', "entry", true),
    ('u', "undefined", true),
    ('E', "export-dynamic", false),
    ('s', "strip-all", false),
    ('S', "strip-debug", false),
    ('i', "initial-memory", true),
    ('m', "-m", true),
    ('z', "-z", true),
    ('v', "-v", false),
];

/// Options clang or build systems pass that change nothing in kiln's output, accepted so
/// that `kiln link` runs wherever wasm-ld does.
const NO_EFFECT: &[(&str, &str)] = &[
    ("demangle", "kiln prints symbol names as they are"),
    ("no-demangle", "kiln prints symbol names as they are"),
    ("color-diagnostics", "kiln's diagnostics have no colour"),
    ("no-color-diagnostics", "kiln's diagnostics have no colour"),
];

/// wasm-ld options kiln knows but does not implement: refused with a message of their
/// own rather than "unknown option". Names without dashes.
const UNSUPPORTED: &[&str] = &[
    "shared",
    "pie",
    "no-pie",
    "relocatable",
    "r",
    "experimental-pic",
    "emit-relocs",
    "allow-undefined-file",
    "Map",
    "print-map",
    "M",
    "extra-features",
    "no-growable-memory",
    "page-size",
    "table-base",
    "compress-relocations",
    "keep-section",
    "merge-data-segments",
    "no-merge-data-segments",
    "start-lib",
    "end-lib",
    "Bsymbolic",
    "Bstatic",
    "Bdynamic",
    "static",
    "soname",
    "reproduce",
    "trace",
    "t",
    "trace-symbol",
    "y",
    "why-extract",
    "warn-unresolved-symbols",
    "rsp-quoting",
    "lto-O0",
    "lto-O1",
    "lto-O2",
    "lto-O3",
];

/// The `--help` text of `kiln link`.
pub fn help_text() -> String {
    let mut out = String::from(
        "Usage: kiln link [OPTIONS] INPUTS...   (also as `wasm-ld` / `kiln-ld`)\n\
         Inputs: relocatable wasm objects, archives (.a), IR files (.ir); @FILE reads arguments from FILE.\n\
         Long options take one or two dashes and `=VALUE` or a separate VALUE.\n\nOptions:\n",
    );
    for s in LONG {
        let (name, rest) = match s.help.split_once(": ") {
            Some((v, h)) if s.help.starts_with(['=', '[']) => (format!("--{}{v}", s.names[0]), h),
            _ => (format!("--{}", s.names[0]), s.help),
        };
        out.push_str(&format!("  {name:<44} {rest}\n"));
    }
    out.push_str(
        "  -m wasm32                                    the target (wasm64 is not supported)\n",
    );
    out.push_str(
        "  -z stack-size=N                              shadow stack size (default 65536)\n",
    );
    out.push_str(
        "  -O0, -O1, -O2, ...                           string merging off at -O0, on above (default -O1)\n",
    );
    out.push_str("Accepted with no effect:\n");
    for (name, why) in NO_EFFECT {
        out.push_str(&format!("  {:<44} {why}\n", format!("--{name}")));
    }
    out
}

/// Replaces every `@FILE` word by the words of FILE (GNU quoting; nested `@FILE` inside
/// allowed, up to a depth that catches cycles). A missing file is an error.
pub fn expand_response_files(args: &[String]) -> Result<Vec<String>, ArgError> {
    let mut out = Vec::with_capacity(args.len());
    expand_into(args, &mut out, 0)?;
    Ok(out)
}

fn expand_into(args: &[String], out: &mut Vec<String>, depth: u32) -> Result<(), ArgError> {
    for arg in args {
        match arg.strip_prefix('@') {
            Some(file) if !file.is_empty() => {
                if depth >= 20 {
                    return err(format!(
                        "response file {file}: nested too deeply (a cycle of @files?)"
                    ));
                }
                let text = std::fs::read_to_string(file)
                    .map_err(|e| ArgError(format!("cannot read response file {file}: {e}")))?;
                let words = split_gnu(&text)
                    .map_err(|ArgError(m)| ArgError(format!("response file {file}: {m}")))?;
                expand_into(&words, out, depth + 1)?;
            }
            _ => out.push(arg.clone()),
        }
    }
    Ok(())
}

/// Splits a response file's text as GNU tools do: words separated by whitespace; `'...'`
/// and `"..."` quote (no escapes inside single quotes); a backslash outside single quotes
/// takes the next character literally.
pub fn split_gnu(text: &str) -> Result<Vec<String>, ArgError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            '\'' | '"' => {
                in_word = true;
                let quote = c;
                loop {
                    match chars.next() {
                        None => return err(format!("unterminated {quote} quote")),
                        Some(q) if q == quote => break,
                        Some('\\') if quote == '"' => match chars.next() {
                            Some(n) => word.push(n),
                            None => return err(format!("unterminated {quote} quote")),
                        },
                        Some(ch) => word.push(ch),
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Parses an expanded command line (no program name) in `mode`.
pub fn parse_args(args: &[String], mode: Mode) -> Result<LinkArgs, ArgError> {
    let mut p = LinkArgs {
        options: LinkOptions::default(),
        output: None,
        inputs: Vec::new(),
        search_dirs: Vec::new(),
        explicit_features: false,
        fatal_warnings: false,
        allow_undefined: false,
        warnings: Vec::new(),
        help: false,
        version: false,
        version_only: false,
        threads: None,
        split_budget: 0,
    };
    match mode {
        Mode::Link => p.options.entry = Some("_start".into()),
        Mode::Build => p.options.initial_heap = 65536,
    }
    // Without `--features=` (or `-m SPEC` in `kiln build`), the output has the features the
    // inputs use, as wasm-ld's; IR inputs are lowered with the default set.
    p.options.infer_features = true;
    let mut whole = false;
    let mut i = 0;
    let mut only_inputs = false;
    while let Some(arg) = args.get(i) {
        i += 1;
        if only_inputs || arg == "-" || !arg.starts_with('-') {
            p.inputs.push(InputArg::File {
                path: PathBuf::from(arg),
                whole_archive: whole,
            });
            continue;
        }
        if arg == "--" {
            only_inputs = true;
            continue;
        }
        let body = arg
            .strip_prefix("--")
            .or_else(|| arg.strip_prefix('-'))
            .unwrap_or(arg);
        let (name, joined) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        if let Some(spec) = LONG.iter().find(|s| s.names.contains(&name)) {
            let value = match (spec.arity, joined) {
                (Arity::Flag, Some(_)) => return err(format!("option --{name} takes no value")),
                (Arity::Flag, None) | (Arity::OptionalJoined, None) => None,
                (_, Some(v)) => Some(v.to_string()),
                (Arity::Value, None) => match args.get(i) {
                    Some(v) => {
                        i += 1;
                        Some(v.clone())
                    }
                    None => return err(format!("option --{name} needs a value")),
                },
            };
            apply(&mut p, spec.names[0], value, &mut whole, mode)?;
            continue;
        }
        if UNSUPPORTED.contains(&name) {
            return err(format!(
                "{arg}: this wasm-ld option is not supported by kiln (static wasm32 executables only)"
            ));
        }
        // `-O<level>`: as wasm-ld, identical strings are merged from `-O1` on.
        if !arg.starts_with("--")
            && let Some(level) = body.strip_prefix('O')
            && !level.is_empty()
        {
            let level = number(arg, level)?;
            p.options.merge_strings = level > 0;
            continue;
        }
        if NO_EFFECT.iter().any(|(n, _)| *n == name) {
            continue;
        }
        // Single-letter options: `-oFILE`, `-o FILE`, `-E`.
        if !arg.starts_with("--") {
            let mut cs = body.chars();
            if let Some(letter) = cs.next()
                && let Some(&(_, long, takes)) = SHORT.iter().find(|(c, _, _)| *c == letter)
            {
                let rest = cs.as_str();
                if !takes {
                    if rest.is_empty() {
                        apply(&mut p, long, None, &mut whole, mode)?;
                        continue;
                    }
                } else {
                    let value = if rest.is_empty() {
                        match args.get(i) {
                            Some(v) => {
                                i += 1;
                                v.clone()
                            }
                            None => return err(format!("option -{letter} needs a value")),
                        }
                    } else {
                        rest.to_string()
                    };
                    apply(&mut p, long, Some(value), &mut whole, mode)?;
                    continue;
                }
            }
        }
        return err(format!("unknown option: {arg}"));
    }
    if p.allow_undefined {
        p.options.import_undefined = true;
        p.options.unresolved_symbols = UnresolvedSymbols::IgnoreAll;
    }
    Ok(p)
}

fn number(option: &str, v: &str) -> Result<u64, ArgError> {
    let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse::<u64>(),
    };
    parsed.map_err(|_| ArgError(format!("{option}: `{v}` is not a number")))
}

/// Applies one option; `name` is the canonical long name, or `-m`/`-z`.
fn apply(
    p: &mut LinkArgs,
    name: &str,
    value: Option<String>,
    whole: &mut bool,
    mode: Mode,
) -> Result<(), ArgError> {
    let o = &mut p.options;
    let v = value.unwrap_or_default();
    match name {
        "output" => p.output = Some(PathBuf::from(v)),
        "library-path" => p.search_dirs.push(PathBuf::from(v)),
        "library" => p.inputs.push(InputArg::Library {
            name: v,
            whole_archive: *whole,
        }),
        "entry" => o.entry = Some(v),
        "no-entry" => o.entry = None,
        "export" => o.exports.push(v),
        "export-if-defined" => o.export_if_defined.push(v),
        "undefined" => o.undefined.push(v),
        "print-gc-sections" => o.print_gc_sections = true,
        "no-print-gc-sections" => o.print_gc_sections = false,
        "allow-multiple-definition" => o.allow_multiple_definition = true,
        "no-allow-multiple-definition" => o.allow_multiple_definition = false,
        "wrap" => {
            if !o.wrap.contains(&v) {
                o.wrap.push(v);
            }
        }
        "export-all" => o.export_all = true,
        "export-dynamic" => o.export_dynamic = true,
        "no-export-dynamic" => o.export_dynamic = false,
        "fatal-warnings" => p.fatal_warnings = true,
        "no-fatal-warnings" => p.fatal_warnings = false,
        "export-table" => o.export_table = true,
        "import-table" => o.import_table = true,
        "growable-table" => o.growable_table = true,
        "import-memory" => {
            o.import_memory = Some(if v.is_empty() {
                ("env".into(), "memory".into())
            } else {
                match v.split_once(',') {
                    Some((m, n)) if !m.is_empty() && !n.is_empty() => (m.into(), n.into()),
                    _ => return err(format!("--import-memory={v}: expected MODULE,NAME")),
                }
            })
        }
        "export-memory" => o.export_memory = Some(if v.is_empty() { "memory".into() } else { v }),
        "shared-memory" => o.shared_memory = true,
        "stack-first" => o.stack_first = true,
        "no-stack-first" => o.stack_first = false,
        "global-base" => o.global_base = Some(number("--global-base", &v)?),
        "initial-memory" => o.initial_memory = Some(number("--initial-memory", &v)?),
        "max-memory" => o.max_memory = Some(number("--max-memory", &v)?),
        "initial-heap" => o.initial_heap = number("--initial-heap", &v)?,
        // Undefined functions and globals become imports; `--allow-undefined` also lets
        // undefined data be (address 0), see the end of `parse_args`.
        "allow-undefined" => p.allow_undefined = true,
        "import-undefined" => o.import_undefined = true,
        "unresolved-symbols" => {
            o.unresolved_symbols = match v.as_str() {
                "report-all" => UnresolvedSymbols::ReportAll,
                "ignore-all" => UnresolvedSymbols::IgnoreAll,
                "import-dynamic" => UnresolvedSymbols::ImportDynamic,
                _ => {
                    return err(format!(
                        "--unresolved-symbols={v}: expected report-all, ignore-all or import-dynamic"
                    ));
                }
            }
        }
        "error-unresolved-symbols" => o.unresolved_symbols = UnresolvedSymbols::ReportAll,
        "gc-sections" => o.gc = true,
        "no-gc-sections" => o.gc = false,
        "strip-debug" => o.strip_debug = true,
        "strip-all" => o.strip_all = true,
        "build-id" => o.build_id = parse_build_id(&v)?,
        "whole-archive" => *whole = true,
        "no-whole-archive" => *whole = false,
        "features" => {
            match mode {
                Mode::Link => (o.features, o.extra_features) = parse_feature_list(&v)?,
                Mode::Build => {
                    o.features =
                        Features::parse(&v).map_err(|e| ArgError(format!("--features={v}: {e}")))?
                }
            };
            p.explicit_features = true;
            o.infer_features = false;
        }
        "check-features" => o.check_features = true,
        "no-check-features" => o.check_features = false,
        "threads" => match number("--threads", &v)? {
            0 => {
                return Err(ArgError(
                    "--threads: expected a positive number, got 0".into(),
                ));
            }
            n => p.threads = Some(usize::try_from(n).unwrap_or(usize::MAX)),
        },
        "no-threads" => p.threads = Some(1),
        "split-budget" => {
            p.split_budget = u32::try_from(number("--split-budget", &v)?)
                .map_err(|_| ArgError(format!("--split-budget: {v} is too large")))?
        }
        "help" => p.help = true,
        "version" => {
            p.version = true;
            p.version_only = true;
        }
        "-v" => p.version = true,
        "-m" => match v.as_str() {
            "wasm32" => {}
            "wasm64" => return err("-m wasm64: 64-bit wasm is not supported (only wasm32)"),
            _ if mode == Mode::Build => {
                o.features = Features::parse(&v).map_err(|e| ArgError(format!("-m {v}: {e}")))?;
                p.explicit_features = true;
                o.infer_features = false;
            }
            _ => {
                return err(format!(
                    "-m {v}: unknown emulation (only wasm32 is supported)"
                ));
            }
        },
        "-z" => match v.split_once('=') {
            Some(("stack-size", n)) => o.stack_size = number("-z stack-size", n)?,
            None if v == "muldefs" => o.allow_multiple_definition = true,
            // As wasm-ld: a warning (an error with --fatal-warnings), so that build systems
            // passing ELF `-z` options still link.
            _ => p.warnings.push(format!("unknown -z value: {v}")),
        },
        _ => return err(format!("internal error: option --{name} has no handler")),
    }
    Ok(())
}

/// `--features=a,b`: exactly these features (wasm-ld's meaning), not added to a default.
/// As wasm-ld, any name is accepted: the ones kiln knows (every feature LLVM 22 has) set
/// their flag, the others are returned in order to be written as they are.
fn parse_feature_list(list: &str) -> Result<(Features, Vec<String>), ArgError> {
    let mut features = Features::MVP;
    let mut extra: Vec<String> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name.starts_with(['+', '-']) {
            return err(format!(
                "--features={list}: expected a list of feature names without +/-"
            ));
        }
        if !features.set(name, true) && !extra.iter().any(|e| e == name) {
            extra.push(name.to_string());
        }
    }
    Ok((features, extra))
}

fn parse_build_id(v: &str) -> Result<Option<BuildId>, ArgError> {
    Ok(match v {
        "" | "fast" => Some(BuildId::Fast),
        "sha1" | "tree" => Some(BuildId::Sha1),
        "uuid" => Some(BuildId::Uuid),
        "none" => None,
        _ => {
            let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) else {
                return err(format!(
                    "--build-id={v}: expected fast, sha1, tree, uuid, none or 0xHEX"
                ));
            };
            if hex.is_empty() || hex.len() % 2 != 0 {
                return err(format!(
                    "--build-id={v}: expected an even number of hex digits"
                ));
            }
            let mut bytes = Vec::with_capacity(hex.len() / 2);
            for pair in hex.as_bytes().chunks(2) {
                let digits = std::str::from_utf8(pair).unwrap_or("");
                let b = u8::from_str_radix(digits, 16)
                    .map_err(|_| ArgError(format!("--build-id={v}: not hex")))?;
                bytes.push(b);
            }
            Some(BuildId::Bytes(bytes))
        }
    })
}

/// Finds `-l NAME`: `libNAME.a` in each directory of `dirs` in order (`-l:FILE`: FILE). An
/// error names every directory searched.
pub fn find_library(name: &str, dirs: &[PathBuf]) -> Result<PathBuf, ArgError> {
    let file = match name.strip_prefix(':') {
        Some(exact) => exact.to_string(),
        None => format!("lib{name}.a"),
    };
    for dir in dirs {
        let candidate = dir.join(&file);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    if searched.is_empty() {
        err(format!(
            "unable to find library -l{name} ({file}): no -L directories given"
        ))
    } else {
        err(format!(
            "unable to find library -l{name} ({file}) in: {}",
            searched.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn parse(s: &str) -> Result<LinkArgs, ArgError> {
        parse_args(&words(s), Mode::Link)
    }

    fn opts(s: &str) -> LinkOptions {
        match parse(s) {
            Ok(a) => a.options,
            Err(e) => panic!("`{s}`: {e}"),
        }
    }

    fn error(s: &str) -> String {
        match parse(s) {
            Ok(_) => panic!("`{s}` parsed"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn defaults_follow_wasm_ld() {
        let a = parse("a.o").map_err(|e| e.0);
        let Ok(a) = a else { panic!("{a:?}") };
        assert_eq!(a.options.entry.as_deref(), Some("_start"));
        assert!(a.options.gc && a.options.stack_first);
        assert_eq!(a.output, None);
        let b = parse_args(&words("x.o"), Mode::Build).map_err(|e| e.0);
        let Ok(b) = b else { panic!("{b:?}") };
        assert_eq!(b.options.entry, None);
        assert_eq!(b.options.initial_heap, 65536);
    }

    #[test]
    fn inputs_output_and_paths_in_every_spelling() {
        let Ok(a) = parse("-o out.wasm a.o -L d1 -Ld2 --library-path=d3 -lc -l m --library=x b.o")
        else {
            panic!()
        };
        assert_eq!(a.output, Some(PathBuf::from("out.wasm")));
        assert_eq!(a.search_dirs, ["d1", "d2", "d3"].map(PathBuf::from));
        let lib = |n: &str| InputArg::Library {
            name: n.into(),
            whole_archive: false,
        };
        let file = |p: &str| InputArg::File {
            path: p.into(),
            whole_archive: false,
        };
        assert_eq!(
            a.inputs,
            vec![file("a.o"), lib("c"), lib("m"), lib("x"), file("b.o")]
        );
        for s in [
            "-oout.wasm",
            "--output=out.wasm",
            "--output out.wasm",
            "-output=out.wasm",
        ] {
            let Ok(a) = parse(s) else { panic!("{s}") };
            assert_eq!(a.output, Some(PathBuf::from("out.wasm")), "{s}");
        }
    }

    #[test]
    fn whole_archive_applies_to_what_follows() {
        let Ok(a) = parse("a.a --whole-archive b.a -lc --no-whole-archive c.a") else {
            panic!()
        };
        let wholes: Vec<bool> =
            a.inputs
                .iter()
                .map(|i| match i {
                    InputArg::File { whole_archive, .. }
                    | InputArg::Library { whole_archive, .. } => *whole_archive,
                })
                .collect();
        assert_eq!(wholes, [false, true, true, false]);
    }

    #[test]
    fn every_option_sets_its_field() {
        assert_eq!(opts("-e main").entry.as_deref(), Some("main"));
        assert_eq!(opts("--entry=main").entry.as_deref(), Some("main"));
        assert_eq!(opts("--entry main").entry.as_deref(), Some("main"));
        assert_eq!(opts("--no-entry").entry, None);
        assert_eq!(
            opts("--export=a -export b --export c").exports,
            ["a", "b", "c"]
        );
        assert_eq!(opts("--export-if-defined=a").export_if_defined, ["a"]);
        assert_eq!(
            opts("-u a -ub --undefined c --undefined=d").undefined,
            ["a", "b", "c", "d"]
        );
        assert_eq!(opts("--wrap=f -wrap g --wrap f").wrap, ["f", "g"]);
        assert!(opts("--print-gc-sections").print_gc_sections);
        assert!(!opts("--print-gc-sections --no-print-gc-sections").print_gc_sections);
        assert!(opts("--allow-multiple-definition").allow_multiple_definition);
        assert!(opts("-z muldefs").allow_multiple_definition);
        assert!(
            !opts("--allow-multiple-definition --no-allow-multiple-definition")
                .allow_multiple_definition
        );
        assert!(opts("--export-all").export_all);
        assert!(opts("--export-dynamic").export_dynamic);
        assert!(opts("-E").export_dynamic);
        assert!(!opts("-E --no-export-dynamic").export_dynamic);
        assert!(opts("--export-table").export_table);
        assert!(opts("--import-table").import_table);
        assert!(opts("--growable-table").growable_table);
        assert_eq!(
            opts("--import-memory").import_memory,
            Some(("env".into(), "memory".into()))
        );
        assert_eq!(
            opts("--import-memory=m,n").import_memory,
            Some(("m".into(), "n".into()))
        );
        assert_eq!(
            opts("--export-memory").export_memory.as_deref(),
            Some("memory")
        );
        assert_eq!(
            opts("--export-memory=mem").export_memory.as_deref(),
            Some("mem")
        );
        assert!(opts("--shared-memory").shared_memory);
        assert!(!opts("--no-stack-first").stack_first);
        assert!(opts("--no-stack-first --stack-first").stack_first);
        assert_eq!(opts("--global-base=1024").global_base, Some(1024));
        assert_eq!(opts("--initial-memory=131072").initial_memory, Some(131072));
        assert_eq!(opts("-i 0x20000").initial_memory, Some(131072));
        assert_eq!(opts("--max-memory 65536").max_memory, Some(65536));
        assert_eq!(opts("--initial-heap=4096").initial_heap, 4096);
        assert!(opts("--allow-undefined").import_undefined);
        assert_eq!(
            opts("--allow-undefined --unresolved-symbols=report-all").unresolved_symbols,
            UnresolvedSymbols::IgnoreAll
        );
        assert!(opts("--import-undefined").import_undefined);
        assert_eq!(
            opts("--import-undefined").unresolved_symbols,
            UnresolvedSymbols::ReportAll
        );
        assert_eq!(
            opts("--unresolved-symbols=ignore-all").unresolved_symbols,
            UnresolvedSymbols::IgnoreAll
        );
        assert_eq!(
            opts("--unresolved-symbols import-dynamic").unresolved_symbols,
            UnresolvedSymbols::ImportDynamic
        );
        assert_eq!(
            opts("--unresolved-symbols=ignore-all --error-unresolved-symbols").unresolved_symbols,
            UnresolvedSymbols::ReportAll
        );
        assert!(!opts("--no-gc-sections").gc);
        assert!(opts("--no-gc-sections --gc-sections").gc);
        assert!(opts("--strip-debug").strip_debug && opts("-S").strip_debug);
        assert!(opts("--strip-all").strip_all && opts("-s").strip_all);
        assert_eq!(opts("--build-id").build_id, Some(BuildId::Fast));
        assert_eq!(opts("--build-id=fast").build_id, Some(BuildId::Fast));
        assert_eq!(opts("--build-id=sha1").build_id, Some(BuildId::Sha1));
        assert_eq!(opts("--build-id=tree").build_id, Some(BuildId::Sha1));
        assert_eq!(opts("--build-id=uuid").build_id, Some(BuildId::Uuid));
        assert_eq!(opts("--build-id --build-id=none").build_id, None);
        assert_eq!(
            opts("--build-id=0xC0FFee").build_id,
            Some(BuildId::Bytes(vec![0xc0, 0xff, 0xee]))
        );
        let o = opts("--features=bulk-memory,atomics");
        assert!(o.features.bulk_memory && o.features.atomics);
        assert!(!o.features.sign_ext && !o.features.multivalue);
        assert!(!o.infer_features && o.extra_features.is_empty());
        assert!(opts("").infer_features && opts("").check_features);
        // Every name LLVM 22 knows, and (as wasm-ld) names it does not.
        let o = opts("--features=wide-arithmetic,fp16,gc,foo,relaxed-simd,bar,foo");
        assert!(o.features.wide_arithmetic && o.features.fp16 && o.features.gc);
        assert!(o.features.relaxed_simd && !o.features.bulk_memory);
        assert_eq!(o.extra_features, ["foo", "bar"]);
        let o = opts("--features=");
        assert_eq!((o.features, o.infer_features), (Features::MVP, false));
        assert!(!opts("--no-check-features").check_features);
        assert!(opts("--no-check-features --check-features").check_features);
        assert_eq!(opts("-z stack-size=1024").stack_size, 1024);
        assert_eq!(opts("-zstack-size=2048").stack_size, 2048);
        assert_eq!(opts("-m wasm32 -mwasm32 --check-features"), opts(""));
        assert_eq!(opts("-O0 -O2 --threads=4 --threads 2"), opts(""));
        assert!(!opts("-O1 -O0").merge_strings);
        assert!(opts("-O0 -O3").merge_strings);
        assert!(error("-Ofast").contains("not a number"));
        assert!(error("--threads=0").contains("positive"));
        let threads = |line: &str| parse(line).map(|a| a.threads).ok();
        assert_eq!(threads("--threads=3"), Some(Some(3)));
        assert_eq!(threads("--threads 3 --no-threads"), Some(Some(1)));
        assert_eq!(threads(""), Some(None));
        let Ok(a) = parse("--fatal-warnings") else {
            panic!()
        };
        assert!(a.fatal_warnings);
        let Ok(a) = parse("--fatal-warnings --no-fatal-warnings") else {
            panic!()
        };
        assert!(!a.fatal_warnings);
        let Ok(a) = parse("--help") else { panic!() };
        assert!(a.help);
        let Ok(a) = parse("-v") else { panic!() };
        assert!(a.version && !a.version_only);
        let Ok(a) = parse("--version") else { panic!() };
        assert!(a.version && a.version_only);
        assert_eq!(opts("--demangle --no-demangle"), opts(""));
    }

    #[test]
    fn bad_options_are_named() {
        assert_eq!(error("--frobnicate"), "unknown option: --frobnicate");
        assert_eq!(error("-q"), "unknown option: -q");
        assert_eq!(error("--Mop=x"), "unknown option: --Mop=x");
        for unsupported in [
            "-shared",
            "--shared",
            "-pie",
            "-r",
            "--relocatable",
            "--Map=x",
        ] {
            assert!(
                error(unsupported).starts_with(&format!(
                    "{unsupported}: this wasm-ld option is not supported"
                )),
                "{unsupported}"
            );
        }
        assert!(error("-m wasm64").contains("64-bit wasm is not supported"));
        assert!(error("-m elf_x86_64").contains("unknown emulation"));
        for z in ["-z now", "-z stack-size"] {
            let Ok(a) = parse(z) else { panic!("{z}") };
            assert_eq!(a.warnings, [format!("unknown -z value: {}", &z[3..])]);
        }
        assert!(error("-z stack-size=big").contains("not a number"));
        assert!(error("--export-all=1").contains("takes no value"));
        assert!(error("-o").contains("needs a value"));
        assert!(error("--entry").contains("needs a value"));
        assert!(error("--unresolved-symbols=warn").contains("report-all"));
        assert!(error("--import-memory=env").contains("MODULE,NAME"));
        assert!(error("--build-id=0xabc").contains("even number"));
        assert!(error("--build-id=md5").contains("expected fast"));
        assert!(error("--features=+atomics").contains("without +/-"));

        assert!(error("--threads=many").contains("not a number"));
    }

    #[test]
    fn double_dash_ends_options() {
        let Ok(a) = parse("-- -weird.o") else {
            panic!()
        };
        assert_eq!(
            a.inputs,
            vec![InputArg::File {
                path: "-weird.o".into(),
                whole_archive: false
            }]
        );
    }

    #[test]
    fn gnu_quoting() {
        let split = |s: &str| split_gnu(s).map_err(|e| e.0);
        assert_eq!(
            split("a  b\n\t'c d' \"e \\\"f\\\" g\" h\\ i 'j\\k' \"\"").as_deref(),
            Ok(&["a", "b", "c d", "e \"f\" g", "h i", "j\\k", ""].map(String::from)[..])
        );
        assert_eq!(split("x'y'z").as_deref(), Ok(&["xyz".to_string()][..]));
        assert_eq!(split("").as_deref(), Ok(&[][..]));
        assert!(split("'open").is_err_and(|e| e.contains("unterminated")));
        assert!(split("\"open\\\"").is_err_and(|e| e.contains("unterminated")));
    }

    #[test]
    fn response_files_nest_and_missing_ones_fail() {
        let dir = std::env::temp_dir().join(format!("kiln-rsp-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let inner = dir.join("inner.rsp");
        let outer = dir.join("outer.rsp");
        let looped = dir.join("loop.rsp");
        let write = |p: &PathBuf, s: &str| std::fs::write(p, s).is_ok();
        assert!(write(&inner, "'b c.o' --export=\"x y\""));
        assert!(write(&outer, &format!("a.o @{}\n-o out", inner.display())));
        assert!(write(&looped, &format!("@{}", looped.display())));
        let args = vec!["first".to_string(), format!("@{}", outer.display())];
        assert_eq!(
            expand_response_files(&args).map_err(|e| e.0),
            Ok(words("first a.o")
                .into_iter()
                .chain([
                    "b c.o".to_string(),
                    "--export=x y".into(),
                    "-o".into(),
                    "out".into()
                ])
                .collect())
        );
        let missing = vec![format!("@{}", dir.join("nope.rsp").display())];
        assert!(
            expand_response_files(&missing)
                .is_err_and(|e| e.0.contains("cannot read response file"))
        );
        let cyc = vec![format!("@{}", looped.display())];
        assert!(expand_response_files(&cyc).is_err_and(|e| e.0.contains("nested too deeply")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn library_search_order_and_error() {
        let dir = std::env::temp_dir().join(format!("kiln-lib-{}", std::process::id()));
        let (d1, d2) = (dir.join("one"), dir.join("two"));
        assert!(std::fs::create_dir_all(&d1).is_ok() && std::fs::create_dir_all(&d2).is_ok());
        assert!(std::fs::write(d2.join("libm.a"), "!<arch>\n").is_ok());
        assert!(std::fs::write(d1.join("libc.a"), "!<arch>\n").is_ok());
        assert!(std::fs::write(d2.join("libc.a"), "!<arch>\n").is_ok());
        assert!(std::fs::write(d1.join("libz.so"), "").is_ok());
        assert!(std::fs::write(d2.join("crt.o"), "").is_ok());
        let dirs = [d1.clone(), d2.clone()];
        assert_eq!(find_library("c", &dirs), Ok(d1.join("libc.a")));
        assert_eq!(find_library("m", &dirs), Ok(d2.join("libm.a")));
        assert_eq!(find_library(":crt.o", &dirs), Ok(d2.join("crt.o")));
        let e = find_library("z", &dirs).map_err(|e| e.0);
        assert_eq!(
            e,
            Err(format!(
                "unable to find library -lz (libz.a) in: {}, {}",
                d1.display(),
                d2.display()
            ))
        );
        assert!(find_library("c", &[]).is_err_and(|e| e.0.contains("no -L directories")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
