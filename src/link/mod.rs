//! The link stage: relocatable [`Object`]s and static archives in, one final wasm module out.
//!
//! Straight-line stages, each a function over the previous one's result:
//!
//! 0. `archive::load` (for [`link_inputs`]): objects in command-line order, plus the
//!    archive members they need, loaded lazily as wasm-ld does (a member is read only when a
//!    strong undefined reference meets a name its archive's index gives it; weak references
//!    never load members; `--whole-archive` loads all). Loaded members join in load order.
//! 1. `resolve::resolve`: one symbol table over all inputs. Comdat groups are
//!    deduplicated first (the first input with a group keeps it; later inputs' members are
//!    dropped and their definitions become references to the kept ones). Local symbols stay
//!    per input; global ones are merged by name (defined beats undefined, strong beats weak,
//!    the first of two weak definitions wins, two strong definitions are an error). Names the
//!    linker defines (`__stack_pointer`, `__heap_base`, `__wasm_call_ctors`,
//!    `__kiln_tag_name.E`, ...) bind what stays undefined. A file that calls a function with
//!    another type than its definition's gets a trapping stub and a warning (wasm-ld's
//!    `signature_mismatch:`); calls that disagree on an undefined function are an error.
//! 2. `resolve::mark_live`: garbage collection from the roots (exported and
//!    no-strip symbols, `--export`, `--export-if-defined`, `--export-all`/`--export-dynamic`,
//!    the entry, and the init functions and retained segments of live inputs: every input
//!    given directly, and an archive member once one of its symbols is live) over relocation
//!    edges; then every live symbol left undefined is imported, stubbed or reported.
//! 3. `layout::compute_layout`: output index spaces (types deduplicated,
//!    imports deduplicated, functions, globals, table slots) and memory (stack first, then the
//!    merged data segments, then the heap).
//! 4. `synth::synthesize`: bodies of `__wasm_call_ctors`, the tag-name
//!    functions and their name tables, stubs for weak undefined functions,
//!    `__wasm_init_memory` and the command-export wrappers.
//! 5. `emit::emit`: every size computed first, then bodies and segments copied and
//!    their relocations patched in place, into one buffer of the final size or (the command
//!    line, [`link_inputs_into`]) straight into the output file.
//!
//! What kiln synthesizes (the bodies are built by `synth`; each matches wasm-ld 22's unless a
//! deliberate difference below says otherwise):
//! - `__wasm_call_ctors`: calls every init function of a live input, by priority, then in
//!   input order, dropping results.
//! - Command-export wrappers `NAME.command_export` (wasm-ld's `createCommandExportWrappers`,
//!   for new-style WASI commands whose `_start` calls neither constructors nor destructors):
//!   in a link with an entry function where no input references `__wasm_call_ctors` and
//!   nothing exports it, when there are init functions or libc defines `__wasm_call_dtors`
//!   (which must be a `() -> ()` function), every exported function `F` (the entry included;
//!   symbol order) gets a wrapper appended after all other functions that calls
//!   `__wasm_call_ctors` (when it exists), `F` with the wrapper's arguments, then
//!   `__wasm_call_dtors` (when defined), and is exported under `F`'s export name instead of
//!   `F`; the wrappers' exports come after all other exports. In the `name` section the
//!   wrapper is `F.command_export`, `F` keeps its name.
//! - `__wasm_init_memory` (shared memory, or an imported memory with `.bss`) and
//!   `__wasm_init_tls` (shared memory): see below. No `__wasm_start`: wasm-ld makes it only
//!   to chain `__wasm_apply_global_relocs` (PIC) with `__wasm_init_memory`. Tag-name functions and their name
//!   tables, trapping stubs for weak undefined functions (`undefined_weak:NAME`) and
//!   signature mismatches (`signature_mismatch:NAME`): see `synth`.
//!
//! Invariants: no input makes the stage panic (indices out of range, relocations past the
//! end of their chunk, symbols of the wrong kind are [`LinkError`]s); the output depends only
//! on the inputs and options (no hash-map iteration order reaches it).
//!
//! Warnings (signature mismatches) come back in [`LinkOutput::warnings`] from
//! [`link_inputs_with_warnings`]; [`link_inputs`] and [`link`] print them to standard error
//! as `warning: MESSAGE`, as wasm-ld does.
//!
//! Deliberate differences from wasm-ld 22:
//! - When no input references `__wasm_call_ctors` and there is no entry function
//!   (`--no-entry`, IR programs), the synthesized `__wasm_call_ctors` becomes the module's
//!   start function; wasm-ld wraps every exported function in a command-export wrapper there
//!   too. With an entry, kiln wraps the exports as wasm-ld does (see below). When
//!   `__wasm_init_memory` is the start function, it ends by calling `__wasm_call_ctors`
//!   instead; with shared memory that is once per instance (thread), as wasm-ld's wrappers
//!   would call it once per exported call.
//! - A signature-mismatch stub appears in the name section under the function's own name
//!   (wasm-ld: `signature_mismatch:NAME`).
//! - With `--no-gc-sections`, the members of dropped comdat groups are not emitted (wasm-ld
//!   22 emits them, unreachable).
//! - Archive members are found through the archive's symbol index (wasm-ld 22 parses every
//!   member); the index llvm-ar/ranlib write lists the same defined global names.
//! - `--print-gc-sections` lists what inputs lose, not the linker's own unused functions
//!   (wasm-ld also lists `<internal>:(__wasm_call_ctors)`).
//! - Target feature names kiln does not know are kept by name in `target_features`, but
//!   features LLVM 22 knows are the only ones the rest of the link looks at.
//! - Thread-local storage does not need the `atomics` and `bulk-memory` features (wasm-ld
//!   requires them): IR programs use thread-locals as single-threaded data in any build.
//! - The enum name tables form their own read-only output segment `.kiln.tag_names`, placed
//!   after `.bss`, as the interpreter lays memory out (`ir/README.md`).
//!
//! Shared memory (`--shared-memory`), as wasm-ld 22: atomics and bulk memory must be enabled
//! and no input may disallow `shared-mem`; the memory is shared, its maximum `--max-memory`
//! or else its initial size; every data segment is passive (`.bss` is not written); the
//! start function `__wasm_init_memory` initializes them once (a 4-byte flag after the data,
//! before `__data_end`) and points the mutable `__tls_base` at the TLS segment for the first
//! thread; `__wasm_init_tls(ptr)` gives another thread its copy. `__tls_size`/`__tls_align`
//! are immutable.
//!
//! Limits: wasm32 only; no PIC linking (`-shared`, `-pie`); tags (relocation 10) and tables
//! in comdat groups are refused.

mod archive;
#[cfg(test)]
mod clang_tests;
mod custom;
mod emit;
#[cfg(test)]
mod fixtures;
mod layout;
mod merge;
#[cfg(test)]
mod reloc_tests;
mod resolve;
#[cfg(test)]
mod resolve_tests;
mod synth;
#[cfg(test)]
mod tests;

use thiserror::Error;

use crate::object::{Archive, Object, ObjectError};
use crate::target::Features;
use crate::timing::phase;

/// What the link stage is asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkOptions {
    /// The entry function: a root, exported under its name. `None` for IR programs.
    pub entry: Option<String>,
    /// Further symbols to export (`--export NAME`); each must be defined.
    pub exports: Vec<String>,
    /// Names treated as undefined references from the command line (`-u NAME`,
    /// `--undefined=NAME`): archive members defining them are loaded. Not an error when
    /// nothing defines them, and not kept alive by themselves (as wasm-ld).
    pub undefined: Vec<String>,
    /// List what garbage collection removes in [`LinkOutput::removed`]
    /// (`--print-gc-sections`).
    pub print_gc_sections: bool,
    /// Merge identical strings of `STRINGS` data segments and of `.debug_str` and friends, as
    /// wasm-ld at `-O1` and above (its default); `-O0` turns it off.
    pub merge_strings: bool,
    /// Two strong definitions of a name are no error: the first wins
    /// (`--allow-multiple-definition`, `-z muldefs`).
    pub allow_multiple_definition: bool,
    /// `--wrap=NAME`: references to NAME resolve to `__wrap_NAME`, and references to
    /// `__real_NAME` to the original NAME (as wasm-ld; nothing happens when no input has NAME).
    pub wrap: Vec<String>,
    /// Undefined functions and globals become imports (`env.NAME`, or their explicit import
    /// module and name) instead of errors, as wasm-ld's `--allow-undefined`.
    pub import_undefined: bool,
    /// Shadow stack size in bytes, a multiple of 16 (`-z stack-size=N`; default 64 KiB).
    pub stack_size: u64,
    /// Free bytes guaranteed after `__heap_base` in the initial memory (`--initial-heap`).
    pub initial_heap: u64,
    /// The target features: what IR inputs are lowered with and, unless `infer_features`,
    /// exactly the output's features (`--features=`): an input that uses another one is an
    /// error (unless `check_features` is off). Written to `target_features`.
    pub features: Features,
    /// Further feature names given to `--features=` that kiln does not know (wasm-ld accepts
    /// any name): allowed and written to `target_features` as `features` are.
    pub extra_features: Vec<String>,
    /// The output's features are the union of the features the inputs use, as wasm-ld's
    /// without `--features=` (`features` then only says how IR inputs are lowered).
    pub infer_features: bool,
    /// Check the inputs' features against each other and the output's (`--check-features`,
    /// the default; `--no-check-features` turns it off).
    pub check_features: bool,
    /// Export the function table as `__indirect_function_table`.
    pub export_table: bool,
    /// Drop functions, data and globals nothing live references (`--gc-sections`).
    pub gc: bool,
    /// Export these symbols when they are defined; no error when not (`--export-if-defined`).
    pub export_if_defined: Vec<String>,
    /// Export every defined global symbol that is not hidden (`--export-all`).
    pub export_all: bool,
    /// Export every defined global symbol with default visibility (`--export-dynamic`).
    pub export_dynamic: bool,
    /// What to do with symbols that stay undefined (`--unresolved-symbols=`).
    pub unresolved_symbols: UnresolvedSymbols,
    /// Import the function table as `env.__indirect_function_table` (`--import-table`).
    pub import_table: bool,
    /// Give the table no maximum (`--growable-table`).
    pub growable_table: bool,
    /// Import the memory from this module and field, `env.memory` by default
    /// (`--import-memory[=MODULE,NAME]`).
    pub import_memory: Option<(String, String)>,
    /// Export the memory under this name (`--export-memory[=NAME]`); by default the memory
    /// is exported as `memory` unless it is imported.
    pub export_memory: Option<String>,
    /// Shared memory (`--shared-memory`): needs `max_memory`, atomics and bulk memory.
    pub shared_memory: bool,
    /// Place the stack before the data (`--stack-first`, the default since LLD 22;
    /// `--no-stack-first` puts the data first).
    pub stack_first: bool,
    /// Where data starts when the stack does not come first (`--global-base=`).
    pub global_base: Option<u64>,
    /// Initial memory in bytes, a multiple of 64 KiB (`--initial-memory=`).
    pub initial_memory: Option<u64>,
    /// Maximum memory in bytes, a multiple of 64 KiB (`--max-memory=`).
    pub max_memory: Option<u64>,
    /// Drop debug-info custom sections (`--strip-debug`).
    pub strip_debug: bool,
    /// Drop debug info and the name, producers and target_features sections (`--strip-all`).
    pub strip_all: bool,
    /// Write a `build_id` section (`--build-id[=STYLE]`).
    pub build_id: Option<BuildId>,
}

/// What happens to symbols that stay undefined (`--unresolved-symbols=`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum UnresolvedSymbols {
    /// An error naming each symbol and the files that reference it (`report-all`).
    #[default]
    ReportAll,
    /// No error: undefined functions become trapping stubs, data addresses 0
    /// (`ignore-all`).
    IgnoreAll,
    /// Undefined functions and globals become imports (`import-dynamic`).
    ImportDynamic,
}

/// The contents of the `build_id` section (`--build-id=`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildId {
    /// A fast hash of the output (`fast`, the default style).
    Fast,
    /// SHA-1 of the output (`sha1`, `tree`).
    Sha1,
    /// A random UUID (`uuid`).
    Uuid,
    /// These bytes (`0xHEX`).
    Bytes(Vec<u8>),
}

impl Default for LinkOptions {
    fn default() -> LinkOptions {
        LinkOptions {
            entry: None,
            exports: Vec::new(),
            undefined: Vec::new(),
            wrap: Vec::new(),
            allow_multiple_definition: false,
            print_gc_sections: false,
            merge_strings: true,
            import_undefined: false,
            stack_size: 65536,
            initial_heap: 0,
            features: Features::default(),
            extra_features: Vec::new(),
            infer_features: false,
            check_features: true,
            export_table: false,
            gc: true,
            export_if_defined: Vec::new(),
            export_all: false,
            export_dynamic: false,
            unresolved_symbols: UnresolvedSymbols::ReportAll,
            import_table: false,
            growable_table: false,
            import_memory: None,
            export_memory: None,
            shared_memory: false,
            stack_first: true,
            global_base: None,
            initial_memory: None,
            max_memory: None,
            strip_debug: false,
            strip_all: false,
            build_id: None,
        }
    }
}

/// One undefined symbol and the files that reference it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndefinedSymbol {
    /// Symbol name.
    pub name: String,
    /// Every input that references it, in input order.
    pub referenced_by: Vec<String>,
    /// When IR lowering calls it for an intrinsic: which one, and who calls it.
    pub intrinsic: Option<IntrinsicUse>,
}

/// An IR intrinsic lowered to a call of a runtime function (compiler-rt or libc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntrinsicUse {
    /// The intrinsic's text name (`i128.mul`).
    pub intrinsic: String,
    /// The IR functions that use it, as `@name in FILE`, in input order.
    pub callers: Vec<String>,
}

/// Why a link failed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum LinkError {
    /// Two strong definitions of one global symbol.
    #[error("duplicate symbol `{name}`: defined in {first} and in {second}")]
    DuplicateSymbol {
        /// Symbol.
        name: String,
        /// The file of the first definition.
        first: String,
        /// The file of the second.
        second: String,
    },
    /// Live symbols nothing defines.
    #[error("{}", undefined_message(.0))]
    Undefined(Vec<UndefinedSymbol>),
    /// One name used for two kinds of symbol.
    #[error(
        "symbol type mismatch: `{name}` is {first_kind} in {first} but {second_kind} in {second}"
    )]
    KindMismatch {
        /// Symbol.
        name: String,
        /// Kind in the first file.
        first_kind: &'static str,
        /// The first file.
        first: String,
        /// Kind in the second file.
        second_kind: &'static str,
        /// The second file.
        second: String,
    },
    /// A reference and the definition disagree on a function's or global's type.
    #[error("type mismatch for `{name}`: {first_type} in {first}, {second_type} in {second}")]
    TypeMismatch {
        /// Symbol.
        name: String,
        /// Type in the first file.
        first_type: String,
        /// The first file.
        first: String,
        /// Type in the second file.
        second_type: String,
        /// The second file.
        second: String,
    },
    /// Two references import one symbol under different module/field names.
    #[error(
        "import name mismatch for `{name}`: `{first_import}` in {first}, `{second_import}` in {second}"
    )]
    ImportMismatch {
        /// Symbol.
        name: String,
        /// `module.field` in the first file.
        first_import: String,
        /// The first file.
        first: String,
        /// `module.field` in the second file.
        second_import: String,
        /// The second file.
        second: String,
    },
    /// An input defines a name the linker defines.
    #[error("symbol `{name}` is defined by the linker; {file} must not define it")]
    Reserved {
        /// Symbol.
        name: String,
        /// The input defining it.
        file: String,
    },
    /// Two inputs describe one enum differently.
    #[error("enum description mismatch for `{name}` between {first} and {second}")]
    EnumMismatch {
        /// The tag-name symbol.
        name: String,
        /// The first file.
        first: String,
        /// The second file.
        second: String,
    },
    /// A relocation type a static wasm32 link cannot apply.
    #[error("unsupported relocation type {ty} in {file} at offset {offset}")]
    UnsupportedReloc {
        /// Type, name and number.
        ty: String,
        /// The input.
        file: String,
        /// Offset in its chunk.
        offset: u32,
    },
    /// A feature the input uses or a construct it contains that this link does not support.
    #[error("{file}: unsupported: {what}")]
    Unsupported {
        /// The input.
        file: String,
        /// What.
        what: String,
    },
    /// An inconsistent input: an index out of range, a relocation past its chunk, ...
    #[error("{file}: invalid object: {msg}")]
    BadObject {
        /// The input.
        file: String,
        /// What is wrong.
        msg: String,
    },
    /// A name given in the options does not name a defined symbol.
    #[error("{what} `{name}` is not defined")]
    NotDefined {
        /// `entry symbol` or `exported symbol`.
        what: &'static str,
        /// Symbol.
        name: String,
    },
    /// Two different things exported under one name.
    #[error("duplicate export `{0}`")]
    DuplicateExport(String),
    /// The inputs' target features disagree with each other or with the options (wasm-ld's
    /// wording, which names the files).
    #[error("{0}")]
    Features(String),
    /// A bad option value.
    #[error("invalid option: {0}")]
    BadOption(String),
    /// The output exceeds a wasm32 limit.
    #[error("output too large: {0}")]
    TooLarge(String),
    /// An input object or archive member that cannot be read; its path names the member
    /// as `lib.a(member.o)`.
    #[error("{0}")]
    Read(Box<ObjectError>),
    /// Writing the output file failed (when the link writes it).
    #[error("cannot write the output: {0}")]
    Write(String),
    /// A bug in the linker: an invariant it keeps itself does not hold.
    #[error("internal linker error: {0}")]
    Internal(String),
}

impl From<ObjectError> for LinkError {
    fn from(e: ObjectError) -> LinkError {
        LinkError::Read(Box::new(e))
    }
}

fn undefined_message(list: &[UndefinedSymbol]) -> String {
    let mut out = String::new();
    for (i, u) in list.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match &u.intrinsic {
            None => out.push_str(&format!(
                "undefined symbol `{}` (referenced by {})",
                u.name,
                u.referenced_by.join(", ")
            )),
            Some(i) => {
                let library = if u.name.starts_with("__") {
                    "compiler-rt's builtins (libclang_rt.builtins-wasm32.a)"
                } else {
                    "libc (-lc)"
                };
                out.push_str(&format!(
                    "undefined symbol `{}`: intrinsic `{}`, used by {}, is lowered to a call of \
                     `{}`, which no input defines; link {library}",
                    u.name,
                    i.intrinsic,
                    i.callers.join(", "),
                    u.name
                ));
            }
        }
    }
    out
}

/// One input of a link, in command-line order.
// Inputs are few and moved once; boxing the object would only add an allocation per input.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Input<'a> {
    /// A relocatable object: always linked.
    Object(Object<'a>),
    /// A static archive: members are loaded when they define a symbol still strongly
    /// needed (every member with `whole`, as `--whole-archive`).
    Archive {
        /// The archive.
        archive: Archive<'a>,
        /// Load every member.
        whole: bool,
    },
}

/// A finished link: the module and the warnings wasm-ld would print.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkOutput {
    /// The final wasm module.
    pub wasm: Vec<u8>,
    /// Warnings, one line each without a `warning:` prefix (for example function signature
    /// mismatches, which link a trapping `signature_mismatch:NAME` stub).
    pub warnings: Vec<String>,
    /// With `print_gc_sections`: one line per function, data segment and global garbage
    /// collection removed, as wasm-ld prints them (`removing unused section FILE:(NAME)`).
    pub removed: Vec<String>,
}

/// Links `inputs` (objects and archives, in command-line order) into a final wasm module.
/// Warnings are written to standard error as `warning: MESSAGE`, as wasm-ld does; use
/// [`link_inputs_with_warnings`] to receive them instead.
pub fn link_inputs(inputs: Vec<Input<'_>>, opts: &LinkOptions) -> Result<Vec<u8>, LinkError> {
    let out = link_inputs_with_warnings(inputs, opts)?;
    for w in &out.warnings {
        eprintln!("warning: {w}");
    }
    Ok(out.wasm)
}

/// Links `inputs` as [`link_inputs`] does and returns the warnings with the module.
pub fn link_inputs_with_warnings(
    inputs: Vec<Input<'_>>,
    opts: &LinkOptions,
) -> Result<LinkOutput, LinkError> {
    link_inputs_to(inputs, opts, None)
}

/// Links `inputs` as [`link_inputs_with_warnings`] does, writing the module into `file` (from
/// its start; the file should be empty) instead of memory: the code and custom sections are
/// written in parallel, and the whole module is never held in memory. The returned
/// [`LinkOutput::wasm`] is empty. On error the file holds a partial module.
pub fn link_inputs_into(
    inputs: Vec<Input<'_>>,
    opts: &LinkOptions,
    file: &std::fs::File,
) -> Result<LinkOutput, LinkError> {
    link_inputs_to(inputs, opts, Some(file))
}

/// [`link_inputs_into`] for a process that exits right after (the command line): the
/// objects read from the inputs are left for the exit to reclaim at once, rather than freed
/// one vector at a time (several milliseconds for hundreds of objects).
pub(crate) fn link_inputs_into_before_exit(
    inputs: Vec<Input<'_>>,
    opts: &LinkOptions,
    file: &std::fs::File,
) -> Result<LinkOutput, LinkError> {
    let objects = load_objects(inputs, opts)?;
    let out = link_objects_then(&objects.0, &objects.1, opts, Some(file), Teardown::Exit);
    std::mem::forget(objects);
    out
}

fn link_inputs_to(
    inputs: Vec<Input<'_>>,
    opts: &LinkOptions,
    file: Option<&std::fs::File>,
) -> Result<LinkOutput, LinkError> {
    let (objects, lazy) = load_objects(inputs, opts)?;
    link_objects(&objects, &lazy, opts, file)
}

/// The objects to link (archive members loaded as needed) and which are lazy members.
fn load_objects<'a>(
    inputs: Vec<Input<'a>>,
    opts: &LinkOptions,
) -> Result<(Vec<Object<'a>>, Vec<bool>), LinkError> {
    check_options(opts)?;
    let loaded = phase("archives", || archive::load(inputs, opts))?;
    let lazy: Vec<bool> = loaded.iter().map(|l| l.lazy_member).collect();
    let objects: Vec<Object<'_>> = loaded.into_iter().map(|l| l.object).collect();
    Ok((objects, lazy))
}

/// Links `inputs` into a final wasm module (every object is linked; warnings go to standard
/// error as with [`link_inputs`]).
pub fn link(inputs: &[Object<'_>], opts: &LinkOptions) -> Result<Vec<u8>, LinkError> {
    check_options(opts)?;
    let out = link_objects(inputs, &vec![false; inputs.len()], opts, None)?;
    for w in &out.warnings {
        eprintln!("warning: {w}");
    }
    Ok(out.wasm)
}

fn check_options(opts: &LinkOptions) -> Result<(), LinkError> {
    if !opts.stack_size.is_multiple_of(16) {
        return Err(LinkError::BadOption(format!(
            "stack size {} is not a multiple of 16",
            opts.stack_size
        )));
    }
    Ok(())
}

/// The pipeline over loaded objects; `lazy_member[i]` says input `i` is an archive member
/// loaded on demand (its init functions are roots only once something in it is live).
fn link_objects(
    inputs: &[Object<'_>],
    lazy_member: &[bool],
    opts: &LinkOptions,
    file: Option<&std::fs::File>,
) -> Result<LinkOutput, LinkError> {
    link_objects_then(inputs, lazy_member, opts, file, Teardown::Free)
}

/// What becomes of the link's tables (symbols, liveness, layout) once the module is written.
#[derive(Clone, Copy, PartialEq)]
enum Teardown {
    /// Freed, as a library call must.
    Free,
    /// Left for the process's exit, which is about to reclaim everything at once (freeing
    /// them vector by vector took a millisecond for 400 objects).
    Exit,
}

fn link_objects_then(
    inputs: &[Object<'_>],
    lazy_member: &[bool],
    opts: &LinkOptions,
    file: Option<&std::fs::File>,
    teardown: Teardown,
) -> Result<LinkOutput, LinkError> {
    // The output's features are decided once, here (from the inputs when inferred).
    // `import-dynamic` imports what stays undefined, as `--import-undefined` does in a
    // static link; the later stages only look at `import_undefined`. `--export-all` exports
    // the function table when its symbol exists: when an input names it (then it is exported
    // as any symbol is) or when an LLVM 14 input imports the table without a symbol (wasm-ld
    // then defines the symbol).
    let mvp_table = inputs.iter().any(|o| {
        let imports_table = o.imports.iter().any(|i| {
            matches!(i.kind, crate::object::ImportKind::Table { .. })
                && i.name == "__indirect_function_table"
        });
        imports_table
            && !o
                .symbols
                .iter()
                .any(|s| matches!(s.kind, crate::object::SymbolKind::Table(_)))
    });
    let import_dynamic = opts.unresolved_symbols == UnresolvedSymbols::ImportDynamic;
    let (features, extra_features) = resolve::target_features(inputs, opts)?;
    let opts = &LinkOptions {
        import_undefined: opts.import_undefined || import_dynamic,
        export_table: opts.export_table || (opts.export_all && mvp_table && !opts.import_table),
        features,
        extra_features,
        infer_features: false,
        ..opts.clone()
    };
    let wrap_names = resolve::wrap_names(opts);
    let db = phase("resolve", || resolve::resolve(inputs, opts, &wrap_names))?;
    // Grouping the custom sections and merging the strings of `.debug_str` and friends need
    // only resolution: they run beside garbage collection and layout.
    let (laid_out, customs) = rayon::join(
        || {
            let live = phase("gc", || resolve::mark_live(inputs, &db, lazy_member, opts))?;
            let layout = phase("layout", || {
                layout::compute_layout(inputs, &db, &live, opts)
            })?;
            Ok::<_, LinkError>((live, layout))
        },
        || emit::custom_sections(inputs, &db, opts),
    );
    let (live, layout) = laid_out?;
    let synth = phase("synthesize", || {
        synth::synthesize(inputs, &db, &layout, opts)
    })?;
    let wasm = phase("emit", || {
        emit::emit(inputs, &db, &layout, &synth, customs, opts, file)
    })?;
    let removed = if opts.print_gc_sections {
        resolve::gc_report(inputs, &db, &live)
    } else {
        Vec::new()
    };
    let mut db = db;
    let warnings = std::mem::take(&mut db.warnings);
    if teardown == Teardown::Exit {
        std::mem::forget((db, live, layout, synth));
    }
    Ok(LinkOutput {
        removed,
        wasm,
        warnings,
    })
}
