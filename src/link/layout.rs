//! Layout: output index spaces and memory.
//!
//! Index spaces, in this order: types (deduplicated, in wasm-ld's first-use order: the types
//! of live `TYPE_INDEX` relocations in relocation order, then imports, then defined
//! functions); imports (the memory with `--import-memory`, the table
//! `env.__indirect_function_table` with `--import-table`, then functions, globals and tables,
//! each deduplicated by module, field and type); functions (imports, the synthesized ones:
//! `__wasm_call_ctors`, tag-name functions, weak-undefined stubs, `__wasm_init_memory`; then
//! each input's live functions in input order; then the command-export wrappers); globals (imports, `__stack_pointer`, the
//! other linker globals that are used, input globals, internal GOT entries, one global per
//! exported data symbol holding its address); the table (slot 0 null, then every function a
//! live `TABLE_INDEX` relocation or GOT entry names, in scan order). The table exists when
//! asked for (`--export-table`, `--import-table`), when a live symbol names it, or when an
//! input imports it (as wasm-ld); its maximum is its size unless `--growable-table`.
//! Exports: the memory, then exported symbols in symbol order (a function under its
//! `export_name` when it has one, as wasm-ld), then the table; in a command link, exported
//! functions are exported through their command-export wrappers, after all the others.
//!
//! Memory, as wasm-ld 22's `layoutMemory`. Stack first (the default): the shadow stack
//! `[0, stack_size)`, then the data from `--global-base` (which must not be below the stack
//! top) or right after the stack. `--no-stack-first`: the data from `--global-base` (1024 by
//! default), then the stack, 16-aligned. The output data segments are ordered `.tdata`,
//! `.rodata`, `.data`, other names in first-seen order, `.bss` (a stable sort), then kiln's
//! `.kiln.tag_names`; each input segment at its alignment, strings merged (see `merge`).
//! `__data_end` after the data, `__heap_base` 16-aligned after data and stack, plus
//! `--initial-heap`; `--initial-memory` replaces that when big enough; the result rounded up
//! to a page is the initial memory and `__heap_end`. `--initial-memory`/`--max-memory`
//! are checked as wasm-ld checks them, with its messages. `__tls_base` (immutable, as
//! wasm-ld without shared memory) is the address of `.tdata`; `__tls_size`/`__tls_align` are
//! defined with shared memory only, when referenced (as wasm-ld 22: without, a reference to
//! them is an undefined symbol). With shared memory, the 4-byte `__wasm_init_memory` flag follows the
//! data (4-aligned) and precedes `__data_end`; `__tls_base` is mutable (set at run time) and
//! exists whenever `__wasm_init_memory` does.

use indexmap::{IndexMap, IndexSet};
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::merge::{PieceMap, merge_strings};

use super::resolve::{self, Def, LinkerSym, Live, SymKind, SymbolDb, bad, output_segment_name};
use super::synth;
use super::{LinkError, LinkOptions};
use crate::object::{FuncType, ImportKind, Object, RelocType, SEG_STRINGS, SegmentData, ValType};

/// Not assigned.
pub(crate) const NONE: u32 = u32::MAX;

/// A wasm page.
pub(crate) const PAGE: u64 = 65536;

/// A defined output function.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum OutFunc {
    CallCtors,
    /// Tag-name function of enum `e`.
    TagName(u32),
    /// Trapping stub for the weak undefined function symbol.
    WeakStub(u32),
    /// `__wasm_init_memory`, the start function: with shared memory, initializes the passive
    /// segments once (a flag in memory); otherwise zeroes `.bss` in an imported memory
    /// (`memory.fill`), as wasm-ld with bulk memory.
    InitMemory,
    /// `__wasm_init_tls(ptr)` (shared memory): points `__tls_base` at `ptr` and copies the
    /// TLS segment there.
    InitTls,
    /// Command-export wrapper of output function `f` (`NAME.command_export`): calls
    /// `__wasm_call_ctors`, `f`, then `__wasm_call_dtors`, and is exported in `f`'s place.
    CommandExport(u32),
    Input {
        input: u32,
        index: u32,
    },
}

/// What an output import brings in.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) enum OutImportKind {
    Func(u32),
    Global {
        ty: ValType,
        mutable: bool,
    },
    Table {
        elem: ValType,
        min: u64,
        max: Option<u64>,
    },
}

/// An output import.
#[derive(Clone, Debug)]
pub(crate) struct OutImport<'a> {
    pub module: &'a str,
    pub field: &'a str,
    pub kind: OutImportKind,
    /// The symbol's name, for the `name` section.
    pub sym_name: &'a str,
}

/// A defined output global.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum OutGlobal<'a> {
    Linker(LinkerSym<'a>),
    Input {
        input: u32,
        index: u32,
    },
    /// The address of exported data symbol `sid`.
    DataAddr(u32),
    /// Internal GOT entry of data or function symbol `sid` (`GOT.data.internal.NAME`,
    /// `GOT.func.internal.NAME`): its address or table slot, for `GLOBAL_INDEX` relocations
    /// against it.
    Got(u32),
}

/// A piece of an output data segment.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Chunk {
    Input {
        input: u32,
        seg: u32,
        addr: u64,
    },
    /// Name table of enum `e`.
    TagNames {
        e: u32,
        addr: u64,
    },
    /// The merged strings [`Layout::merged`]`[index]`.
    Merged {
        index: u32,
        addr: u64,
    },
}

/// An output data segment.
#[derive(Clone, Debug)]
pub(crate) struct OutSeg<'a> {
    pub name: &'a str,
    pub addr: u64,
    pub size: u64,
    pub align_log2: u32,
    pub chunks: Vec<Chunk>,
}

/// Linker-defined addresses.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Memory {
    pub stack_top: u64,
    pub global_base: u64,
    pub data_end: u64,
    pub heap_base: u64,
    pub heap_end: u64,
    pub pages: u64,
    pub tls_base: u64,
    pub tls_size: u64,
    pub tls_align: u64,
    pub stack_low: u64,
    /// With shared memory: address of the 4-byte `__wasm_init_memory` flag (0 when there is
    /// no segment to initialize).
    pub init_flag: u64,
    /// Maximum pages (`--max-memory`).
    pub max_pages: Option<u64>,
}

/// An export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Export<'a> {
    pub name: &'a str,
    pub kind: wasm_encoder::ExportKind,
    pub index: u32,
}

/// The output's shape.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layout<'a> {
    pub types: IndexSet<FuncType, FxBuildHasher>,
    /// Per input: input type index -> output type index (`NONE` when unused).
    pub type_map: Vec<Vec<u32>>,
    pub imports: Vec<OutImport<'a>>,
    pub num_func_imports: u32,
    pub num_global_imports: u32,
    pub num_table_imports: u32,
    /// Defined functions, after the imported ones.
    pub funcs: Vec<OutFunc>,
    /// Output type of every function, imports included.
    pub func_types: Vec<u32>,
    /// Name of every function, imports included.
    pub func_names: Vec<&'a str>,
    /// Per input: defined function -> output index (`NONE` when dropped).
    pub input_funcs: Vec<Vec<u32>>,
    pub globals: Vec<OutGlobal<'a>>,
    /// Per input: defined global -> output index.
    pub input_globals: Vec<Vec<u32>>,
    /// Per symbol: output function, global or table index (`NONE` when not one).
    pub sym_index: Vec<u32>,
    /// Per symbol: data address (0 for weak undefined data).
    pub sym_addr: Vec<u64>,
    /// Per symbol: reached by garbage collection.
    pub live_syms: Vec<bool>,
    /// Data or function symbol -> its internal GOT global.
    pub got: IndexMap<u32, u32, FxBuildHasher>,
    /// Whether the module has the indirect function table, and its index.
    pub table: Option<u32>,
    /// The indirect function table is imported (`env.__indirect_function_table`, the first
    /// table import) rather than defined.
    pub table_imported: bool,
    /// The memory's export name, when it is exported.
    pub memory_export: Option<String>,
    /// Table slots 1.. : output function indices.
    pub elems: Vec<u32>,
    /// Per output function: its table slot, 0 for none.
    pub func_slot: Vec<u32>,
    pub segs: Vec<OutSeg<'a>>,
    /// Per input: segment -> address (`u64::MAX` when dropped; for a merged string segment,
    /// the address of its merged chunk).
    pub seg_addr: Vec<Vec<u64>>,
    /// Merged string chunks: address and bytes.
    pub merged: Vec<(u64, Vec<u8>)>,
    /// Merged input segments: (input, segment) -> (merged chunk, where its strings went).
    pub pieces: FxHashMap<(u32, u32), (u32, PieceMap)>,
    /// Per enum: address of its name table chunk.
    pub tag_tables: Vec<u64>,
    pub mem: Memory,
    pub exports: Vec<Export<'a>>,
    pub start: Option<u32>,
    /// Output index of `__wasm_call_ctors`, when there is one.
    pub ctors: Option<u32>,
    /// Output index of libc's `__wasm_call_dtors`, when command-export wrappers call it.
    pub call_dtors: Option<u32>,
    /// Output index of the `__tls_base` global, when there is one.
    pub tls_base_global: Option<u32>,
    /// `.bss` is zeroed by `__wasm_init_memory` rather than written.
    pub bss_zeroed: bool,
    /// `__wasm_init_memory` ends by calling `__wasm_call_ctors` (which would otherwise have
    /// been the start function).
    pub ctors_from_init_memory: bool,
}

/// Where data starts when the stack does not come first, as wasm-ld.
const DEFAULT_GLOBAL_BASE: u64 = 1024;

/// What the layout needs from the relocations of one input's live code and data, found in
/// one pass over them (the inputs scanned in parallel) instead of a pass per question.
struct RelocRefs {
    /// The types `TYPE_INDEX_LEB` relocations of live functions name, in relocation order.
    types: Vec<u32>,
    /// Undefined functions live code calls (`FUNCTION_INDEX_LEB`).
    calls_undefined: Vec<u32>,
    /// The symbols of `GLOBAL_INDEX` and `TABLE_INDEX` relocations, in scan order (live
    /// functions, then live segments).
    slots: Vec<SlotRef>,
}

/// A `GLOBAL_INDEX` or `TABLE_INDEX` relocation's symbol, with what the serial passes over
/// them need of it (so that they need not read the symbol table at random).
#[derive(Copy, Clone)]
struct SlotRef {
    sid: u32,
    /// A `GLOBAL_INDEX` relocation (a GOT entry when the symbol is data or a function).
    got: bool,
    kind: SymKind,
    undefined: bool,
}

fn scan_relocs(
    obj: &Object<'_>,
    i: usize,
    db: &SymbolDb<'_>,
    live: &Live,
) -> Result<RelocRefs, LinkError> {
    let mut refs = RelocRefs {
        types: Vec::new(),
        calls_undefined: Vec::new(),
        slots: Vec::new(),
    };
    let syms = &db.inputs[i].syms;
    let sym = |index: u32| syms.get(index as usize).copied();
    let slot = |refs: &mut RelocRefs, r: &crate::object::Reloc| {
        let got = match r.ty {
            RelocType::GlobalIndexLeb | RelocType::GlobalIndexI32 => true,
            RelocType::TableIndexSleb
            | RelocType::TableIndexI32
            | RelocType::TableIndexSleb64
            | RelocType::TableIndexI64
            | RelocType::TableIndexRelSleb
            | RelocType::TableIndexRelSleb64 => false,
            _ => return,
        };
        if let Some(sid) = sym(r.index) {
            let s = &db.syms[sid as usize];
            refs.slots.push(SlotRef {
                sid,
                got,
                kind: s.kind,
                undefined: s.def.is_undefined(),
            });
        }
    };
    for (j, (f, _)) in obj
        .funcs
        .iter()
        .zip(&live.funcs[i])
        .enumerate()
        .filter(|(_, (_, live))| **live)
    {
        for r in obj.relocs_in(f.relocs) {
            match r.ty {
                RelocType::TypeIndexLeb => {
                    if r.index as usize >= obj.types.len() {
                        return Err(bad(
                            obj,
                            format!(
                                "type relocation at offset {} in function {j} names type {}, but there are {}",
                                r.offset,
                                r.index,
                                obj.types.len()
                            ),
                        ));
                    }
                    refs.types.push(r.index);
                }
                RelocType::FunctionIndexLeb => {
                    if let Some(sid) = sym(r.index)
                        && db.syms[sid as usize].def.is_undefined()
                    {
                        refs.calls_undefined.push(sid);
                    }
                }
                _ => slot(&mut refs, r),
            }
        }
    }
    for (sg, _) in obj
        .segments
        .iter()
        .zip(&live.segs[i])
        .filter(|(_, live)| **live)
    {
        for r in obj.relocs_in(sg.relocs) {
            slot(&mut refs, r);
        }
    }
    Ok(refs)
}

/// wasm-ld's checks of `--initial-memory` and `--max-memory`: page-aligned, at least
/// `needed`, at most 4 GiB.
fn check_memory_option(what: &str, value: u64, needed: u64) -> Result<(), LinkError> {
    let msg = if !value.is_multiple_of(PAGE) {
        format!("{what} memory must be {PAGE}-byte aligned")
    } else if needed > value {
        format!("{what} memory too small, {needed} bytes needed")
    } else if value > 1 << 32 {
        format!(
            "{what} memory too large, cannot be greater than {}",
            1u64 << 32
        )
    } else {
        return Ok(());
    };
    Err(LinkError::BadOption(msg))
}

fn align_up(x: u64, log2: u32) -> Option<u64> {
    let a = 1u64.checked_shl(log2)?;
    x.checked_next_multiple_of(a)
}

fn too_large(what: &str) -> LinkError {
    LinkError::TooLarge(what.to_string())
}

fn to_u32(n: usize, what: &str) -> Result<u32, LinkError> {
    u32::try_from(n).map_err(|_| too_large(what))
}

/// Computes the output's index spaces and memory layout.
pub(crate) fn compute_layout<'a>(
    inputs: &'a [Object<'a>],
    db: &SymbolDb<'a>,
    live: &Live,
    opts: &LinkOptions,
) -> Result<Layout<'a>, LinkError> {
    let mut l = Layout {
        type_map: inputs.iter().map(|o| vec![NONE; o.types.len()]).collect(),
        input_funcs: inputs.iter().map(|o| vec![NONE; o.funcs.len()]).collect(),
        input_globals: inputs.iter().map(|o| vec![NONE; o.globals.len()]).collect(),
        sym_index: vec![NONE; db.syms.len()],
        sym_addr: vec![0; db.syms.len()],
        live_syms: live.syms.clone(),
        seg_addr: inputs
            .iter()
            .map(|o| vec![u64::MAX; o.segments.len()])
            .collect(),
        ..Layout::default()
    };
    let intern =
        |types: &mut IndexSet<FuncType, FxBuildHasher>, t: &FuncType| -> Result<u32, LinkError> {
            let i = match types.get_index_of(t) {
                Some(i) => i,
                None => types.insert_full(t.clone()).0,
            };
            to_u32(i, "types")
        };

    let refs: Vec<RelocRefs> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, obj)| scan_relocs(obj, i, db, live))
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<Result<_, _>>()?;

    // Types, as wasm-ld: first the types `TYPE_INDEX` relocations of live code use (in
    // relocation order, per input), then those of imports and of defined functions as they
    // come.
    for (i, (obj, refs)) in inputs.iter().zip(&refs).enumerate() {
        for &t in &refs.types {
            // One relocation per `call_indirect`: most name a type already interned.
            if l.type_map[i][t as usize] == NONE {
                l.type_map[i][t as usize] = intern(&mut l.types, &obj.types[t as usize])?;
            }
        }
    }

    // Imports: functions, globals, tables; deduplicated by (module, field, type).
    let mut import_keys: IndexMap<(&str, &str, OutImportKind), u32> = IndexMap::new();
    if opts.import_table {
        if opts.export_table {
            return Err(LinkError::BadOption(
                "--import-table and --export-table may not be used together".into(),
            ));
        }
        l.num_table_imports = 1;
        l.table_imported = true;
    }
    let mut weak_stubs = Vec::new();
    // As wasm-ld, a weak undefined function gets its trapping stub only when something calls
    // it; taking its address gives 0.
    let mut called = vec![false; db.syms.len()];
    for &sid in refs.iter().flat_map(|r| &r.calls_undefined) {
        called[sid as usize] = true;
    }
    // The symbols several passes below look for, found in one scan of the symbol table
    // (each scan of it reads megabytes): live undefined ones, live linker-defined ones,
    // exported defined data.
    let mut live_undefined = Vec::new();
    let mut live_linker = Vec::new();
    let mut live_exported_data = Vec::new();
    for (sid, sym) in db.syms.iter().enumerate() {
        if live.exported[sid] && sym.kind == SymKind::Data && !sym.def.is_undefined() {
            live_exported_data.push(sid);
        }
        if !live.syms[sid] {
            continue;
        }
        if sym.def.is_undefined() {
            live_undefined.push(sid);
        } else if let Def::Linker(g) = sym.def {
            live_linker.push(g);
        }
    }
    let linker_live = |g: LinkerSym<'_>| live_linker.contains(&g);
    let import_of = |sid: usize| -> Option<&'a crate::object::Import<'a>> {
        let (i, p) = db.syms[sid].import?;
        inputs.get(i as usize)?.imports.get(p as usize)
    };
    for pass in [SymKind::Function, SymKind::Global, SymKind::Table] {
        for &sid in &live_undefined {
            let sym = &db.syms[sid];
            if sym.kind != pass {
                continue;
            }
            let importable = sym.explicit_import || opts.import_undefined;
            if pass == SymKind::Function
                && (!importable || (sym.is_weak_undefined() && !sym.explicit_import))
            {
                if called[sid] || !sym.is_weak_undefined() || sym.local {
                    weak_stubs.push(sid as u32);
                }
                continue;
            }
            let Some(imp) = import_of(sid) else { continue };
            let (i, _) = sym.import.unwrap_or_default();
            let obj = &inputs[i as usize];
            let kind = match (&imp.kind, pass) {
                (ImportKind::Func(t), SymKind::Function) => {
                    let ty = obj
                        .types
                        .get(*t as usize)
                        .ok_or_else(|| bad(obj, format!("import type {t} out of range")))?;
                    OutImportKind::Func(intern(&mut l.types, ty)?)
                }
                (ImportKind::Global { ty, mutable }, SymKind::Global) => OutImportKind::Global {
                    ty: *ty,
                    mutable: *mutable,
                },
                (ImportKind::Table { elem, min, max }, SymKind::Table) => OutImportKind::Table {
                    elem: *elem,
                    min: *min,
                    max: *max,
                },
                _ => continue,
            };
            let key = (&*imp.module, &*imp.name, kind.clone());
            let idx = match import_keys.get(&key) {
                Some(&idx) => idx,
                None => {
                    let idx = match pass {
                        SymKind::Function => l.num_func_imports,
                        SymKind::Global => l.num_global_imports,
                        _ => l.num_table_imports,
                    };
                    match pass {
                        SymKind::Function => {
                            l.num_func_imports += 1;
                            if let OutImportKind::Func(t) = kind {
                                l.func_types.push(t);
                            }
                            l.func_names.push(sym.name);
                        }
                        SymKind::Global => l.num_global_imports += 1,
                        _ => l.num_table_imports += 1,
                    }
                    l.imports.push(OutImport {
                        module: &imp.module,
                        field: &imp.name,
                        kind,
                        sym_name: sym.name,
                    });
                    import_keys.insert(key, idx);
                    idx
                }
            };
            l.sym_index[sid] = idx;
        }
    }

    // Functions: synthesized first, then the inputs' live ones.
    let ctors_sym_live = linker_live(LinkerSym::CallCtors);
    let mut next = l.num_func_imports;
    // Without garbage collection wasm-ld keeps its synthetic `__wasm_call_ctors` too.
    if live.has_ctors || ctors_sym_live || !opts.gc {
        l.funcs.push(OutFunc::CallCtors);
        l.func_types
            .push(intern(&mut l.types, &FuncType::default())?);
        l.func_names.push("__wasm_call_ctors");
        l.ctors = Some(next);
        next += 1;
    }
    let mut init_tls = None;
    let init_tls_live = linker_live(LinkerSym::InitTls);
    if opts.shared_memory && init_tls_live {
        let ty = resolve::linker_func_type(db, LinkerSym::InitTls).unwrap_or_default();
        l.funcs.push(OutFunc::InitTls);
        l.func_types.push(intern(&mut l.types, &ty)?);
        l.func_names.push("__wasm_init_tls");
        init_tls = Some(next);
        next += 1;
    }
    let mut tag_funcs = vec![NONE; db.enums.len()];
    for (e, desc) in db.enums.iter().enumerate() {
        if !live.syms[desc.sym as usize] {
            continue;
        }
        let ty = resolve::linker_func_type(db, LinkerSym::TagName(e as u32)).unwrap_or_default();
        l.funcs.push(OutFunc::TagName(e as u32));
        l.func_types.push(intern(&mut l.types, &ty)?);
        l.func_names.push(db.syms[desc.sym as usize].name);
        tag_funcs[e] = next;
        next += 1;
    }
    for &sid in &weak_stubs {
        let ty = resolve::func_type(inputs, db, sid)
            .cloned()
            .unwrap_or_default();
        l.funcs.push(OutFunc::WeakStub(sid));
        l.func_types.push(intern(&mut l.types, &ty)?);
        l.func_names.push(db.syms[sid as usize].name);
        l.sym_index[sid as usize] = next;
        next = next.checked_add(1).ok_or_else(|| too_large("functions"))?;
    }
    let zero_bss = opts.import_memory.is_some()
        && opts.features.bulk_memory
        && inputs.iter().enumerate().any(|(i, o)| {
            o.segments
                .iter()
                .enumerate()
                .any(|(j, s)| live.segs[i][j] && output_segment_name(s).starts_with(".bss"))
        });
    // With shared memory every segment is passive: `__wasm_init_memory` initializes them.
    let passive = opts.shared_memory
        && (live.segs.iter().flatten().any(|&s| s)
            || db.enums.iter().any(|d| live.syms[d.sym as usize]));
    let mut init_memory = None;
    if zero_bss || passive {
        l.funcs.push(OutFunc::InitMemory);
        l.func_types
            .push(intern(&mut l.types, &FuncType::default())?);
        l.func_names.push("__wasm_init_memory");
        init_memory = Some(next);
        next = next.checked_add(1).ok_or_else(|| too_large("functions"))?;
    }
    l.bss_zeroed = zero_bss || opts.shared_memory;
    let live_funcs: usize = live.funcs.iter().flatten().filter(|&&b| b).count();
    l.funcs.reserve(live_funcs);
    l.func_types.reserve(live_funcs);
    l.func_names.reserve(live_funcs);
    let mut input_func_names: Vec<Vec<&str>> =
        inputs.iter().map(|o| vec![""; o.funcs.len()]).collect();
    for s in db.syms.iter().rev() {
        if let Def::Func { input, index } = s.def
            && s.kind == SymKind::Function
            && let Some(n) = input_func_names
                .get_mut(input as usize)
                .and_then(|v| v.get_mut(index as usize))
        {
            *n = s.name;
        }
    }
    for (i, obj) in inputs.iter().enumerate() {
        for (j, f) in obj.funcs.iter().enumerate() {
            if !live.funcs[i][j] {
                continue;
            }
            // An input type is interned once; the map remembers its output index.
            let ti = f.type_index as usize;
            let ty = match l.type_map[i][ti] {
                NONE => {
                    let t = intern(&mut l.types, &obj.types[ti])?;
                    l.type_map[i][ti] = t;
                    t
                }
                t => t,
            };
            l.funcs.push(OutFunc::Input {
                input: i as u32,
                index: j as u32,
            });
            l.func_types.push(ty);
            l.func_names.push(input_func_names[i][j]);
            l.input_funcs[i][j] = next;
            next = next.checked_add(1).ok_or_else(|| too_large("functions"))?;
        }
    }

    // Globals.
    let mut gnext = l.num_global_imports;
    let mut linker_globals: Vec<LinkerSym> = vec![LinkerSym::StackPointer];
    for extra in [LinkerSym::TlsBase, LinkerSym::TlsSize, LinkerSym::TlsAlign] {
        // With shared memory, `__wasm_init_memory` sets `__tls_base` (as wasm-ld).
        let needed = extra == LinkerSym::TlsBase && passive;
        if needed || linker_live(extra) {
            linker_globals.push(extra);
        }
    }
    let mut linker_global_index = Vec::new();
    for g in linker_globals {
        l.globals.push(OutGlobal::Linker(g));
        linker_global_index.push((g, gnext));
        if g == LinkerSym::TlsBase {
            l.tls_base_global = Some(gnext);
        }
        gnext += 1;
    }
    for (i, obj) in inputs.iter().enumerate() {
        for j in 0..obj.globals.len() {
            if live.globals[i][j] {
                l.globals.push(OutGlobal::Input {
                    input: i as u32,
                    index: j as u32,
                });
                l.input_globals[i][j] = gnext;
                gnext = gnext.checked_add(1).ok_or_else(|| too_large("globals"))?;
            }
        }
    }
    // Internal GOT entries: `GLOBAL_INDEX` relocations against data or functions, in scan
    // order (functions, then segments, per input).
    for slot in refs.iter().flat_map(|r| &r.slots) {
        let sid = slot.sid;
        if slot.got
            && matches!(slot.kind, SymKind::Data | SymKind::Function)
            && !l.got.contains_key(&sid)
        {
            l.globals.push(OutGlobal::Got(sid));
            l.got.insert(sid, gnext);
            gnext = gnext.checked_add(1).ok_or_else(|| too_large("globals"))?;
        }
    }
    let mut data_export_globals = Vec::new();
    for &sid in &live_exported_data {
        l.globals.push(OutGlobal::DataAddr(sid as u32));
        data_export_globals.push((sid, gnext));
        gnext = gnext.checked_add(1).ok_or_else(|| too_large("globals"))?;
    }

    // Table.
    let table_index = if l.table_imported {
        0
    } else {
        l.num_table_imports
    };
    // Every symbol's output index, from what is laid out so far (in parallel: each symbol
    // reads only its own definition).
    let mut sym_index = std::mem::take(&mut l.sym_index);
    let input_funcs = &l.input_funcs;
    let input_globals = &l.input_globals;
    let ctors = l.ctors;
    sym_index
        .par_iter_mut()
        .zip(db.syms.par_iter())
        .zip(live.syms.par_iter())
        .for_each(|((slot, s), &is_live)| {
            // Linker globals that exist anyway (`__stack_pointer`) keep their index for the
            // relocations in debug info, as in wasm-ld.
            // So do kept definitions that no relocation reached (`--no-gc-sections`).
            let present = match (s.kind, s.def) {
                (SymKind::Global, Def::Linker(g)) => {
                    linker_global_index.iter().any(|(x, _)| *x == g)
                }
                (SymKind::Function, Def::Func { input, index }) => {
                    input_funcs[input as usize][index as usize] != NONE
                }
                (SymKind::Global, Def::Global { input, index }) => {
                    input_globals[input as usize][index as usize] != NONE
                }
                _ => false,
            };
            if !is_live && !present {
                return;
            }
            *slot = match (s.kind, s.def) {
                (SymKind::Function, Def::Func { input, index }) => {
                    input_funcs[input as usize][index as usize]
                }
                (SymKind::Function, Def::Linker(LinkerSym::CallCtors)) => ctors.unwrap_or(NONE),
                (SymKind::Function, Def::Linker(LinkerSym::InitTls)) => init_tls.unwrap_or(NONE),
                (SymKind::Function, Def::Linker(LinkerSym::TagName(e))) => {
                    tag_funcs.get(e as usize).copied().unwrap_or(NONE)
                }
                (SymKind::Global, Def::Global { input, index }) => {
                    input_globals[input as usize][index as usize]
                }
                (SymKind::Global, Def::Linker(g)) => linker_global_index
                    .iter()
                    .find(|(x, _)| *x == g)
                    .map_or(NONE, |(_, i)| *i),
                (SymKind::Table, Def::Linker(LinkerSym::Table)) => table_index,
                _ => *slot,
            };
        });
    l.sym_index = sym_index;
    for &(sid, g) in &data_export_globals {
        // Data symbols keep their address in `sym_addr`; the export uses this global.
        l.sym_index[sid] = g;
    }
    l.func_slot = vec![0; next as usize];
    // As wasm-ld: the table exists when exported, when a live symbol names it, or when any
    // input imports it (LLVM 14 objects import it whenever they take a function's address,
    // even in code garbage collection drops). `--import-table` alone does not make one.
    let mut table_needed = opts.export_table
        || inputs.iter().any(|o| {
            o.imports.iter().any(|i| {
                matches!(i.kind, ImportKind::Table { .. }) && i.name == "__indirect_function_table"
            })
        })
        || linker_live(LinkerSym::Table);
    for slot in refs.iter().flat_map(|r| &r.slots) {
        let sid = slot.sid;
        if slot.kind != SymKind::Function {
            continue;
        }
        if slot.undefined && weak_stubs.contains(&sid) {
            // No slot; a GOT entry for it (which holds 0) still makes the table
            // exist, as in wasm-ld 22.
            table_needed |= slot.got;
            continue;
        }
        let f = l.sym_index[sid as usize];
        if let Some(slot) = l.func_slot.get_mut(f as usize)
            && *slot == 0
        {
            l.elems.push(f);
            *slot = to_u32(l.elems.len(), "table")?;
            table_needed = true;
        }
    }
    if table_needed {
        l.table = Some(table_index);
    } else if l.table_imported {
        // `--import-table` with nothing using the table: no import (as wasm-ld 22).
        l.table_imported = false;
        l.num_table_imports = l.num_table_imports.saturating_sub(1);
    }

    layout_memory(inputs, db, live, opts, &mut l)?;

    // Exports.
    // The memory comes first (`memory`, or `--export-memory=NAME`) unless it is imported.
    l.memory_export = (opts.import_memory.is_none() || opts.export_memory.is_some()).then(|| {
        opts.export_memory
            .as_deref()
            .unwrap_or("memory")
            .to_string()
    });
    let memory_export = l.memory_export.clone();
    // Export name -> (kind, index, the symbol's name: a command-export wrapper's name).
    let mut exports: IndexMap<&str, (wasm_encoder::ExportKind, u32, &'a str), FxBuildHasher> =
        IndexMap::default();
    let mut add = |name: &'a str, kind, index, sym: &'a str| -> Result<(), LinkError> {
        if memory_export.as_deref() == Some(name) {
            return Err(LinkError::DuplicateExport(name.to_string()));
        }
        match exports.get(name) {
            Some(&(k, i, _)) if (k, i) != (kind, index) => {
                Err(LinkError::DuplicateExport(name.to_string()))
            }
            Some(_) => Ok(()),
            None => {
                exports.insert(name, (kind, index, sym));
                Ok(())
            }
        }
    };
    use wasm_encoder::ExportKind as K;
    // A function the object exports under another name (`export_name`) is exported under
    // that name only, as wasm-ld.
    let export_name = |input: u32, index: u32| -> Option<&'a str> {
        let obj = inputs.get(input as usize)?;
        let nimp = obj.num_imported_funcs();
        obj.exports
            .iter()
            .find(|(_, f)| f.checked_sub(nimp) == Some(index))
            .map(|(n, _)| &**n)
    };
    // wasm-ld creates some linker symbols before reading the inputs: their exports come
    // first, in its order.
    let early = |d: Def<'_>| match d {
        Def::Linker(LinkerSym::CallCtors) => 0,
        Def::Linker(LinkerSym::StackPointer) => 1,
        Def::Linker(LinkerSym::TlsBase) if opts.shared_memory => 2,
        Def::Linker(LinkerSym::TlsSize) if opts.shared_memory => 3,
        Def::Linker(LinkerSym::TlsAlign) if opts.shared_memory => 4,
        Def::Linker(LinkerSym::InitTls) => 5,
        _ => 6,
    };
    // Exported defined symbols in symbol order, then (stably) the early ones first.
    let mut order: Vec<usize> = (0..db.syms.len())
        .filter(|&sid| live.exported[sid] && !db.syms[sid].def.is_undefined())
        .collect();
    order.sort_by_key(|&sid| early(db.syms[sid].def));
    for sid in order {
        let s = &db.syms[sid];
        let kind = match s.kind {
            SymKind::Function => K::Func,
            SymKind::Global | SymKind::Data => K::Global,
            SymKind::Table => K::Table,
            SymKind::Section => continue,
        };
        let name = match s.def {
            Def::Func { input, index } => export_name(input, index).unwrap_or(s.name),
            _ => s.name,
        };
        let index = l.sym_index[sid];
        if index != NONE {
            add(name, kind, index, s.name)?;
        }
    }
    for (i, obj) in inputs.iter().enumerate() {
        let nimp = obj.num_imported_funcs();
        for (name, idx) in &obj.exports {
            let j = idx.saturating_sub(nimp) as usize;
            if let Some(&f) = l.input_funcs[i].get(j) {
                let sym = l.func_names.get(f as usize).copied().unwrap_or(name);
                add(name, K::Func, f, sym)?;
            }
        }
    }
    if opts.export_table
        && let Some(t) = l.table
    {
        add("__indirect_function_table", K::Table, t, "")?;
    }
    let wrap = command_exports(inputs, db, live, opts, &mut l)?;
    let mut wrapped = Vec::new();
    for (name, (kind, index, sym)) in exports {
        let e = Export { name, kind, index };
        if wrap && kind == K::Func {
            wrapped.push((e, sym));
        } else {
            l.exports.push(e);
        }
    }
    // wasm-ld's `createCommandExportWrappers`: every exported function is exported through a
    // wrapper appended after the other functions; the wrappers' exports follow the others,
    // in the same order.
    for (mut e, sym) in wrapped {
        let ty = l
            .func_types
            .get(e.index as usize)
            .copied()
            .ok_or_else(|| LinkError::Internal("exported function without a type".into()))?;
        l.funcs.push(OutFunc::CommandExport(e.index));
        l.func_types.push(ty);
        l.func_names.push(sym);
        l.func_slot.push(0);
        e.index = next;
        next = next.checked_add(1).ok_or_else(|| too_large("functions"))?;
        l.exports.push(e);
    }

    if live.entry.is_none() && !ctors_sym_live && live.has_ctors {
        l.start = l.ctors;
    }
    if init_memory.is_some() {
        // `__wasm_init_memory` is the start function; it calls `__wasm_call_ctors` itself
        // when that would have been the start function.
        l.ctors_from_init_memory = l.start.is_some();
        l.start = init_memory;
    }
    Ok(l)
}

/// Whether exported functions get command-export wrappers, and checks libc's
/// `__wasm_call_dtors` (setting [`Layout::call_dtors`]). wasm-ld wraps them in a link where no
/// input references `__wasm_call_ctors` and nothing exports it (`--export`,
/// `--export-if-defined`, `--export-all`), when there are init functions or libc defines
/// `__wasm_call_dtors` (a new-style WASI command, whose `_start` calls neither). kiln does so
/// only in a link with an entry function; without one it makes `__wasm_call_ctors` the start
/// function instead.
fn command_exports(
    inputs: &[Object<'_>],
    db: &SymbolDb<'_>,
    live: &Live,
    opts: &LinkOptions,
    l: &mut Layout<'_>,
) -> Result<bool, LinkError> {
    if resolve::ctors_called(db, opts) || opts.export_all {
        return Ok(false);
    }
    if let Some(&sid) = db.globals.get(resolve::CALL_DTORS) {
        let s = &db.syms[sid as usize];
        let file = || {
            inputs
                .get(s.file as usize)
                .map_or_else(String::new, |o| o.path.clone())
        };
        match (s.kind, s.def) {
            (_, Def::Undefined) => {}
            (SymKind::Function, Def::Func { .. }) => {
                let ty = resolve::func_type(inputs, db, sid)
                    .cloned()
                    .unwrap_or_default();
                if !ty.params.is_empty() || !ty.results.is_empty() {
                    return Err(LinkError::BadObject {
                        file: file(),
                        msg: "__wasm_call_dtors must have no argument or return values".into(),
                    });
                }
                l.call_dtors = Some(l.sym_index[sid as usize]).filter(|&f| f != NONE);
            }
            _ => {
                return Err(LinkError::BadObject {
                    file: file(),
                    msg: "__wasm_call_dtors must be a function".into(),
                });
            }
        }
    }
    if live.entry.is_none() {
        l.call_dtors = None;
        return Ok(false);
    }
    let has_init = !synth::init_funcs(inputs, db, l).is_empty();
    if !has_init && l.call_dtors.is_none() {
        return Ok(false);
    }
    Ok(true)
}

/// Places the stack, the data segments and the heap, and gives every data symbol its address.
fn layout_memory<'a>(
    inputs: &'a [Object<'a>],
    db: &SymbolDb<'a>,
    live: &Live,
    opts: &LinkOptions,
    l: &mut Layout<'a>,
) -> Result<(), LinkError> {
    let limit = 1u64 << 32;
    let mut segs: IndexMap<&'a str, OutSeg<'a>, FxBuildHasher> = IndexMap::default();
    for (i, obj) in inputs.iter().enumerate() {
        for (j, seg) in obj.segments.iter().enumerate() {
            if !live.segs[i][j] {
                continue;
            }
            if seg.align_log2 > 31 {
                return Err(bad(
                    obj,
                    format!(
                        "segment `{}` alignment 2^{} too large",
                        seg.name, seg.align_log2
                    ),
                ));
            }
            let name = output_segment_name(seg);
            let out = segs.entry(name).or_insert_with(|| OutSeg {
                name,
                addr: 0,
                size: 0,
                align_log2: 0,
                chunks: Vec::new(),
            });
            out.align_log2 = out.align_log2.max(seg.align_log2);
            out.chunks.push(Chunk::Input {
                input: i as u32,
                seg: j as u32,
                addr: 0,
            });
        }
    }
    let rank = |name: &str| match name {
        ".tdata" => 0,
        n if n.starts_with(".rodata") => 1,
        n if n.starts_with(".data") => 2,
        n if n.starts_with(".bss") => 4,
        _ => 3,
    };
    let mut list: Vec<OutSeg<'a>> = segs.into_values().collect();
    list.sort_by_key(|s| rank(s.name));
    // String merging (wasm-ld at -O1): the `STRINGS` segments of alignment 1 of an output
    // segment become one chunk where the first of them was.
    for seg in &mut list {
        let mut datas: Vec<&[u8]> = Vec::new();
        let mut members = Vec::new();
        let mut first = None;
        let mut kept = Vec::with_capacity(seg.chunks.len());
        for (k, c) in seg.chunks.iter().enumerate() {
            if let Chunk::Input { input, seg: j, .. } = *c {
                let sg = &inputs[input as usize].segments[j as usize];
                if let (true, SegmentData::Bytes(b)) = (
                    opts.merge_strings
                        && sg.flags & SEG_STRINGS != 0
                        && sg.align_log2 == 0
                        && sg.relocs.is_empty()
                        && !sg.is_tls(),
                    &sg.data,
                ) {
                    datas.push(b);
                    members.push((input, j));
                    if first.is_none() {
                        first = Some(k);
                        kept.push(Chunk::Merged {
                            index: l.merged.len() as u32,
                            addr: 0,
                        });
                    }
                    continue;
                }
            }
            kept.push(*c);
        }
        if first.is_none() {
            continue;
        }
        let (data, maps) = merge_strings(&datas);
        let index = l.merged.len() as u32;
        for (m, map) in members.into_iter().zip(maps) {
            l.pieces.insert(m, (index, map));
        }
        l.merged.push((0, data));
        seg.chunks = kept;
    }
    let tag_chunks: Vec<Chunk> = db
        .enums
        .iter()
        .enumerate()
        .filter(|(_, d)| live.syms[d.sym as usize])
        .map(|(e, _)| Chunk::TagNames {
            e: e as u32,
            addr: 0,
        })
        .collect();
    if !tag_chunks.is_empty() {
        list.push(OutSeg {
            name: ".kiln.tag_names",
            addr: 0,
            size: 0,
            align_log2: 2,
            chunks: tag_chunks,
        });
    }

    let mem = &mut l.mem;
    // wasm-ld's `layoutMemory`: the stack first (by default), or the data at
    // `--global-base` (1024 by default) with the stack after it.
    let mut cursor = if opts.stack_first {
        mem.stack_low = 0;
        mem.stack_top = opts.stack_size;
        match opts.global_base {
            Some(base) if base < opts.stack_size => {
                return Err(LinkError::BadOption(
                    "--global-base cannot be less than stack size when --stack-first is used"
                        .into(),
                ));
            }
            Some(base) => base,
            None => opts.stack_size,
        }
    } else {
        opts.global_base.unwrap_or(DEFAULT_GLOBAL_BASE)
    };
    if cursor > limit {
        return Err(too_large("--global-base beyond 4 GiB"));
    }
    mem.global_base = cursor;
    l.tag_tables = vec![0; db.enums.len()];
    for seg in &mut list {
        seg.addr = align_up(cursor, seg.align_log2).ok_or_else(|| too_large("memory"))?;
        cursor = seg.addr;
        for chunk in &mut seg.chunks {
            let (align, size) = match *chunk {
                Chunk::Input { input, seg, .. } => {
                    let s = &inputs[input as usize].segments[seg as usize];
                    (s.align_log2, s.size())
                }
                Chunk::TagNames { e, .. } => (2, synth::tag_table_size(db.enums[e as usize].info)),
                Chunk::Merged { index, .. } => (
                    0,
                    l.merged.get(index as usize).map_or(0, |m| m.1.len() as u64),
                ),
            };
            let at = align_up(cursor, align).ok_or_else(|| too_large("memory"))?;
            cursor = at
                .checked_add(size)
                .filter(|&c| c <= limit)
                .ok_or_else(|| too_large("data exceeds 4 GiB"))?;
            match chunk {
                Chunk::Input { input, seg, addr } => {
                    *addr = at;
                    l.seg_addr[*input as usize][*seg as usize] = at;
                }
                Chunk::TagNames { e, addr } => {
                    *addr = at;
                    l.tag_tables[*e as usize] = at;
                }
                Chunk::Merged { index, addr } => {
                    *addr = at;
                    if let Some(m) = l.merged.get_mut(*index as usize) {
                        m.0 = at;
                    }
                }
            }
        }
        seg.size = cursor - seg.addr;
        if seg.name == ".tdata" {
            mem.tls_base = seg.addr;
            mem.tls_size = seg.size;
            mem.tls_align = 1u64 << seg.align_log2;
        }
    }
    for (&(i, j), (index, _)) in &l.pieces {
        if let (Some(slot), Some(m)) = (
            l.seg_addr
                .get_mut(i as usize)
                .and_then(|v| v.get_mut(j as usize)),
            l.merged.get(*index as usize),
        ) {
            *slot = m.0;
        }
    }
    // With shared memory, the flag `__wasm_init_memory` sets once the segments are
    // initialized, after the data (as wasm-ld).
    if opts.shared_memory && !list.is_empty() {
        mem.init_flag = align_up(cursor, 2).ok_or_else(|| too_large("memory"))?;
        cursor = mem
            .init_flag
            .checked_add(4)
            .filter(|&c| c <= limit)
            .ok_or_else(|| too_large("data exceeds 4 GiB"))?;
    }
    mem.data_end = cursor;
    if !opts.stack_first {
        mem.stack_low = align_up(cursor, 4).ok_or_else(|| too_large("memory"))?;
        cursor = mem
            .stack_low
            .checked_add(opts.stack_size)
            .filter(|&c| c <= limit)
            .ok_or_else(|| too_large("stack beyond 4 GiB"))?;
        mem.stack_top = cursor;
    }
    mem.heap_base = align_up(cursor, 4).ok_or_else(|| too_large("memory"))?;
    let mut end = mem.heap_base;
    if opts.initial_heap != 0 {
        if !opts.initial_heap.is_multiple_of(PAGE) {
            return Err(LinkError::BadOption(
                "initial heap must be aligned to the page size (65536 bytes)".into(),
            ));
        }
        end = end
            .checked_add(opts.initial_heap)
            .filter(|&e| e <= limit)
            .ok_or_else(|| {
                LinkError::BadOption(format!(
                    "initial heap too large, cannot be greater than {}",
                    limit - mem.heap_base
                ))
            })?;
    }
    if let Some(initial) = opts.initial_memory {
        check_memory_option("initial", initial, end)?;
        end = initial;
    }
    let end = end
        .checked_next_multiple_of(PAGE)
        .filter(|&e| e <= limit)
        .ok_or_else(|| too_large("memory exceeds 4 GiB"))?;
    mem.heap_end = end;
    mem.pages = end / PAGE;
    if let Some(max) = opts.max_memory {
        check_memory_option("maximum", max, end)?;
        mem.max_pages = Some(max / PAGE);
    } else if opts.shared_memory {
        // A shared memory needs a maximum: without `--max-memory`, its initial size (as
        // wasm-ld 22).
        mem.max_pages = Some(mem.pages);
    }
    let mem = l.mem;
    let seg_bounds = |name: &str| {
        list.iter()
            .find(|s| s.name == name)
            .map(|s| (s.addr, s.addr + s.size))
    };
    for (sid, s) in db.syms.iter().enumerate() {
        if !live.syms[sid] || s.kind != SymKind::Data {
            continue;
        }
        l.sym_addr[sid] = match s.def {
            Def::Data {
                input,
                segment,
                offset,
            } => l
                .data_address(input, segment, offset)
                .ok_or_else(|| too_large("memory"))?,
            Def::AbsData(a) => a,
            Def::Linker(k) => match k {
                LinkerSym::HeapBase => mem.heap_base,
                LinkerSym::HeapEnd => mem.heap_end,
                LinkerSym::DataEnd => mem.data_end,
                LinkerSym::GlobalBase | LinkerSym::DsoHandle => mem.global_base,
                LinkerSym::StackLow => mem.stack_low,
                LinkerSym::StackHigh => mem.stack_top,
                LinkerSym::SegStart(n) => seg_bounds(n).map_or(0, |b| b.0),
                LinkerSym::SegStop(n) => seg_bounds(n).map_or(0, |b| b.1),
                _ => 0,
            },
            _ => 0,
        };
    }
    l.segs = list;
    Ok(())
}

impl Layout<'_> {
    /// The address of `offset` in segment `seg` of input `input`; `None` when the segment
    /// was dropped.
    pub(crate) fn data_address(&self, input: u32, seg: u32, offset: u64) -> Option<u64> {
        if !self.pieces.is_empty()
            && let Some((index, map)) = self.pieces.get(&(input, seg))
        {
            let base = self.merged.get(*index as usize)?.0;
            return base.checked_add(map.translate(offset)?);
        }
        let base = *self.seg_addr.get(input as usize)?.get(seg as usize)?;
        (base != u64::MAX).then(|| base.wrapping_add(offset))
    }

    /// Output type of function `f`.
    pub(crate) fn func_type(&self, f: u32) -> Option<&FuncType> {
        let t = *self.func_types.get(f as usize)?;
        self.types.get_index(t as usize)
    }
}
