//! Symbol resolution and garbage collection.
//!
//! [`resolve`] builds one [`SymbolDb`] over all inputs: every local symbol gets its own
//! entry, global symbols are merged by name. Each input's symbols are checked and turned
//! into records, with their names' hashes, in parallel; the merge by name is parallel too,
//! over [`Names`] tables split by hash, each worker walking its names' occurrences in read
//! order; one pass without strings then numbers the symbols in order of first appearance.
//! Comdat groups are kept from the first input that has them ([`Discarded`] lists the
//! members of later copies; a definition in a dropped member is treated as an undefined
//! reference, so it resolves to the kept copy). Each input symbol is checked against its
//! object (index in range, defined/undefined consistent with the index, data inside its
//! segment). Names the linker defines bind the global symbols that stay undefined.
//! Function types are checked last: a direct call with another type than the
//! definition's is redirected to a trapping stub (a weak-undefined-like local symbol with
//! the caller's type) and a warning is recorded in [`SymbolDb::warnings`].
//!
//! [`mark_live`] marks from the roots over relocation edges (in rounds: the relocations of
//! all pending functions and segments are read in parallel, then what they reach is marked in
//! order, so the result does not depend on the threads) and then requires every live
//! undefined symbol to be importable, weak, or ignored (`--unresolved-symbols=ignore-all`);
//! the rest are reported in one error, each with every file that references it. Inputs
//! become live when given directly or when one of their symbols is marked; a live input's
//! init functions and retained segments are roots (wasm-ld's rule, which keeps
//! constructor-only objects given on the command line).

use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasher;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};

use indexmap::IndexMap;
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::{IntrinsicUse, LinkError, LinkOptions, UndefinedSymbol, UnresolvedSymbols};
use crate::object::{
    ComdatMember, EnumInfo, FuncType, ImportKind, Object, RelocType, SEG_RETAIN, SYM_EXPLICIT_NAME,
    SYM_EXPORTED, SYM_HIDDEN, SYM_NO_STRIP, SYM_TLS, Segment, SymbolKind,
};
use crate::target::Features;

/// The constructor-calling function the linker synthesizes.
pub(crate) const CALL_CTORS: &str = "__wasm_call_ctors";
/// libc's destructor-calling function, which command-export wrappers call.
pub(crate) const CALL_DTORS: &str = "__wasm_call_dtors";

/// Whether some input calls `__wasm_call_ctors` itself or the options name it (otherwise
/// wasm-ld wraps the exports in command-export wrappers, which call `__wasm_call_dtors`).
pub(crate) fn ctors_called(db: &SymbolDb<'_>, opts: &LinkOptions) -> bool {
    opts.entry.as_deref() == Some(CALL_CTORS)
        || opts.exports.iter().any(|e| e == CALL_CTORS)
        || opts.export_if_defined.iter().any(|e| e == CALL_CTORS)
        || db.ctors_referenced
}

/// Prefix of the tag-name function symbols.
pub(crate) const TAG_NAME_PREFIX: &str = "__kiln_tag_name.";

/// Kind of a symbol.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum SymKind {
    Function,
    Data,
    Global,
    Table,
    Section,
}

impl SymKind {
    fn describe(self) -> &'static str {
        match self {
            SymKind::Function => "a function",
            SymKind::Data => "data",
            SymKind::Global => "a global",
            SymKind::Table => "a table",
            SymKind::Section => "a section",
        }
    }
}

/// Something the linker defines.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum LinkerSym<'a> {
    StackPointer,
    TlsBase,
    TlsSize,
    TlsAlign,
    Table,
    CallCtors,
    /// `__wasm_init_tls(ptr)`, with `--shared-memory` only.
    InitTls,
    /// Index into [`SymbolDb::enums`].
    TagName(u32),
    HeapBase,
    HeapEnd,
    DataEnd,
    GlobalBase,
    DsoHandle,
    StackLow,
    StackHigh,
    /// `__start_NAME` of an output segment.
    SegStart(&'a str),
    /// `__stop_NAME` of an output segment.
    SegStop(&'a str),
}

/// Where a symbol is defined.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Def<'a> {
    Undefined,
    /// Defined function `index` of `Object::funcs`.
    Func {
        input: u32,
        index: u32,
    },
    /// Data at `offset` in segment `segment`.
    Data {
        input: u32,
        segment: u32,
        offset: u64,
    },
    /// Data at an absolute address.
    AbsData(u64),
    /// Defined global `index` of `Object::globals`.
    Global {
        input: u32,
        index: u32,
    },
    /// Custom section `index` of `Object::customs`.
    Section {
        input: u32,
        index: u32,
    },
    Linker(LinkerSym<'a>),
}

impl Def<'_> {
    /// No input defines the symbol (yet).
    #[inline]
    pub(crate) fn is_undefined(self) -> bool {
        matches!(self, Def::Undefined)
    }
}

/// One linker-wide symbol.
#[derive(Clone, Debug)]
pub(crate) struct Sym<'a> {
    pub name: &'a str,
    pub kind: SymKind,
    pub def: Def<'a>,
    /// The defining input, or the first referencing one while undefined.
    pub file: u32,
    pub weak_def: bool,
    /// Some undefined reference is strong.
    pub strong_ref: bool,
    pub local: bool,
    /// Hidden visibility (of the definition once there is one).
    pub hidden: bool,
    pub exported: bool,
    pub no_strip: bool,
    pub tls: bool,
    /// The first undefined reference's import: (input, position in `Object::imports`).
    pub import: Option<(u32, u32)>,
    /// Some reference names its import explicitly (or with a module other than `env`).
    pub explicit_import: bool,
    /// A signature-mismatch stub standing for a losing definition: its type, as (input,
    /// type index); stubs for undefined references take theirs from `import`.
    pub stub_type: Option<(u32, u32)>,
}

impl Sym<'_> {
    /// An undefined symbol only weak references name.
    pub(crate) fn is_weak_undefined(&self) -> bool {
        self.def.is_undefined() && !self.strong_ref
    }
}

/// Per-input maps.
#[derive(Clone, Debug, Default)]
pub(crate) struct InputMaps {
    /// Input symbol index -> linker symbol id.
    pub syms: Vec<u32>,
    /// Function import number -> position in `Object::imports`.
    pub func_imports: Vec<u32>,
    /// Global import number -> position in `Object::imports`.
    pub global_imports: Vec<u32>,
    /// Table import number -> position in `Object::imports`.
    pub table_imports: Vec<u32>,
}

/// An enum whose tag-name function is synthesized.
#[derive(Clone, Debug)]
pub(crate) struct EnumDesc<'a> {
    /// The `__kiln_tag_name.E` symbol.
    pub sym: u32,
    pub info: &'a EnumInfo,
}

/// The members of one input that comdat deduplication drops (an earlier input keeps the
/// group); indices into `Object::funcs`, `segments`, `globals` and `customs`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Discarded {
    pub funcs: Vec<bool>,
    pub segs: Vec<bool>,
    pub globals: Vec<bool>,
    pub customs: Vec<bool>,
}

fn flag(v: &[bool], i: u32) -> bool {
    v.get(i as usize).copied().unwrap_or(false)
}

/// Global symbol names and their symbols, in insertion order: `2^bits` open-addressing
/// tables (linear probing, at most half full), a name going to the one its hash's high
/// `bits` pick, each of entry numbers tagged with part of the name's hash, and the order in
/// which the names were added. Resolution fills the tables in parallel, one worker per
/// table at a time, each small enough to stay in cache; names are compared only when tags
/// match.
#[derive(Clone, Debug, Default)]
pub(crate) struct Names<'a> {
    /// How many high bits of a name's hash pick its table (0 to 32).
    bits: u32,
    tables: Vec<Table<'a>>,
    /// (table, entry) of every name, in the order the names were added.
    order: Vec<(u32, u32)>,
}

/// One table of [`Names`].
#[derive(Clone, Debug, Default)]
struct Table<'a> {
    /// The `bits` of [`Names`] (the home slot is taken from the hash's next bits).
    bits: u32,
    /// Per slot: (tag, entry number + 1), or (0, 0) when empty. A power of two long.
    slots: Vec<(u32, u32)>,
    entries: Vec<NameEntry<'a>>,
}

#[derive(Clone, Debug)]
struct NameEntry<'a> {
    hash: u64,
    name: &'a str,
    sid: u32,
}

/// The table of `hash` among `2^bits` (its high bits).
pub(super) fn table_of(hash: u64, bits: u32) -> usize {
    // Two shifts, so that `bits == 0` shifts by 32 and not 64.
    ((hash >> 32) >> (32 - bits)) as usize
}

impl<'a> Table<'a> {
    fn with_capacity(bits: u32, names: usize) -> Self {
        Table {
            bits,
            slots: vec![(0, 0); (names * 2).next_power_of_two().max(16)],
            entries: Vec::with_capacity(names),
        }
    }

    /// The first slot for `hash` (the high bits after those picking the table, the best
    /// mixed in a multiplicative hash) and its tag (the low half).
    fn home(&self, hash: u64) -> (usize, u32) {
        let slot_bits = self.slots.len().trailing_zeros();
        (
            ((hash << self.bits) >> (64 - slot_bits)) as usize,
            hash as u32,
        )
    }

    /// The entry of `name` (`Ok`) or the empty slot where it would go (`Err`).
    fn find(&self, hash: u64, name: &str) -> Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let (mut slot, tag) = self.home(hash);
        loop {
            match self.slots[slot] {
                (_, 0) => return Err(slot),
                (t, e) if t == tag => {
                    let entry = &self.entries[e as usize - 1];
                    if entry.hash == hash && entry.name == name {
                        return Ok(e - 1);
                    }
                }
                _ => {}
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The entry of `name` (`Ok`) or the empty slot it takes (`Err`), with room made for
    /// one more entry first.
    fn find_for_insert(&mut self, hash: u64, name: &str) -> Result<u32, usize> {
        if (self.entries.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.find(hash, name)
    }

    /// Adds `name` as `sid` in the empty `slot`; returns its entry number.
    fn add(&mut self, slot: usize, hash: u64, name: &'a str, sid: u32) -> u32 {
        self.entries.push(NameEntry { hash, name, sid });
        let e = self.entries.len() as u32;
        self.slots[slot] = (hash as u32, e);
        e - 1
    }

    fn grow(&mut self) {
        let len = (self.slots.len() * 2).max(16);
        self.slots = vec![(0, 0); len];
        let mask = len - 1;
        for (e, entry) in self.entries.iter().enumerate() {
            let (mut slot, tag) = self.home(entry.hash);
            while self.slots[slot].1 != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = (tag, e as u32 + 1);
        }
    }
}

impl<'a> Names<'a> {
    /// An empty set of `2^bits` tables.
    fn new(bits: u32) -> Self {
        Names {
            bits,
            tables: (0..1usize << bits)
                .map(|_| Table::with_capacity(bits, 0))
                .collect(),
            order: Vec::new(),
        }
    }

    /// The hash of a global symbol's name; never 0 (resolution marks locals with 0).
    pub(super) fn hash(name: &str) -> u64 {
        FxBuildHasher.hash_one(name) | 1
    }

    pub(crate) fn get(&self, name: &str) -> Option<&u32> {
        let hash = Self::hash(name);
        let table = self.tables.get(table_of(hash, self.bits))?;
        let e = table.find(hash, name).ok()?;
        Some(&table.entries[e as usize].sid)
    }

    pub(crate) fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets the symbol of `name` (a new name goes last in the order).
    pub(crate) fn insert(&mut self, name: &'a str, sid: u32) {
        if self.tables.is_empty() {
            *self = Names::new(0);
        }
        let hash = Self::hash(name);
        let t = table_of(hash, self.bits);
        let table = &mut self.tables[t];
        match table.find_for_insert(hash, name) {
            Ok(e) => table.entries[e as usize].sid = sid,
            Err(slot) => {
                let e = table.add(slot, hash, name, sid);
                self.order.push((t as u32, e));
            }
        }
    }

    /// Every name's symbol, in the order the names were added.
    pub(crate) fn values(&self) -> impl Iterator<Item = &u32> {
        self.order
            .iter()
            .map(|&(t, e)| &self.tables[t as usize].entries[e as usize].sid)
    }
}

/// The symbol table of a link.
#[derive(Clone, Debug, Default)]
pub(crate) struct SymbolDb<'a> {
    pub syms: Vec<Sym<'a>>,
    pub inputs: Vec<InputMaps>,
    pub globals: Names<'a>,
    pub enums: Vec<EnumDesc<'a>>,
    /// Per input: members of comdat groups another input keeps.
    pub discarded: Vec<Discarded>,
    /// Warnings for the user (signature mismatches).
    pub warnings: Vec<String>,
    /// Some input has an undefined non-local `__wasm_call_ctors` symbol (it calls it).
    pub ctors_referenced: bool,
}

impl SymbolDb<'_> {
    /// Whether custom section `index` of input `input` is dropped with its comdat group.
    pub(crate) fn custom_discarded(&self, input: usize, index: usize) -> bool {
        self.discarded
            .get(input)
            .and_then(|d| d.customs.get(index))
            .copied()
            .unwrap_or(false)
    }
}

/// Marks the members of every comdat group of `obj` that an earlier input keeps.
fn comdat_discards<'a>(
    obj: &'a Object<'a>,
    input: u32,
    kept: &mut FxHashMap<&'a str, u32>,
) -> Result<Discarded, LinkError> {
    let mut d = Discarded {
        funcs: vec![false; obj.funcs.len()],
        segs: vec![false; obj.segments.len()],
        globals: vec![false; obj.globals.len()],
        customs: vec![false; obj.customs.len()],
    };
    let nfunc = obj.num_imported_funcs();
    let nglob = obj.num_imported_globals();
    for c in &obj.comdats {
        let owner = *kept.entry(&c.name).or_insert(input);
        if owner == input {
            continue;
        }
        for m in &c.members {
            let (list, index, what) = match *m {
                ComdatMember::Function(f) => (&mut d.funcs, f.checked_sub(nfunc), "function"),
                ComdatMember::Data(s) => (&mut d.segs, Some(s), "data segment"),
                ComdatMember::Global(g) => (&mut d.globals, g.checked_sub(nglob), "global"),
                ComdatMember::Section(c) => (&mut d.customs, Some(c), "custom section"),
                ComdatMember::Tag(_) | ComdatMember::Table(_) => {
                    return Err(LinkError::Unsupported {
                        file: obj.path.clone(),
                        what: format!("tag or table in comdat `{}`", c.name),
                    });
                }
            };
            let slot = index
                .and_then(|i| list.get_mut(i as usize))
                .ok_or_else(|| {
                    bad(
                        obj,
                        format!(
                            "comdat `{}` names {what} {m:?}, which is not defined",
                            c.name
                        ),
                    )
                })?;
            *slot = true;
        }
    }
    Ok(d)
}

pub(crate) fn bad(obj: &Object<'_>, msg: String) -> LinkError {
    LinkError::BadObject {
        file: obj.path.clone(),
        msg,
    }
}

/// The output segment an input segment goes to, as wasm-ld names it.
pub(crate) fn output_segment_name<'s>(seg: &'s Segment<'_>) -> &'s str {
    let name: &str = &seg.name;
    if seg.is_tls() || name.starts_with(".tdata") || name.starts_with(".tbss") {
        return ".tdata";
    }
    for prefix in [".text", ".data", ".bss", ".rodata"] {
        if let Some(rest) = name.strip_prefix(prefix)
            && (rest.is_empty() || rest.starts_with('.'))
        {
            return prefix;
        }
    }
    name
}

/// Whether `name` is a C identifier (segments with such names get `__start_`/`__stop_`).
fn is_c_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn reserved(name: &str) -> bool {
    matches!(
        name,
        "__stack_pointer"
            | "__indirect_function_table"
            | "__tls_base"
            | "__tls_size"
            | "__tls_align"
            | "__wasm_call_ctors"
            | "__heap_base"
            | "__heap_end"
            | "__data_end"
            | "__global_base"
            | "__dso_handle"
            | "__stack_low"
            | "__stack_high"
    ) || name.starts_with(TAG_NAME_PREFIX)
}

/// The type of function symbol `sid`: its definition's, else its first import's.
pub(crate) fn func_type<'o>(
    inputs: &'o [Object<'_>],
    db: &SymbolDb<'_>,
    sid: u32,
) -> Option<&'o FuncType> {
    let sym = db.syms.get(sid as usize)?;
    match sym.def {
        Def::Func { input, index } => {
            let obj = inputs.get(input as usize)?;
            let f = obj.funcs.get(index as usize)?;
            obj.types.get(f.type_index as usize)
        }
        _ => {
            if let Some((input, t)) = sym.stub_type {
                return inputs.get(input as usize)?.types.get(t as usize);
            }
            let (input, imp) = sym.import?;
            let obj = inputs.get(input as usize)?;
            match obj.imports.get(imp as usize)?.kind {
                ImportKind::Func(t) => obj.types.get(t as usize),
                _ => None,
            }
        }
    }
}

/// Builds the symbol table.
///
/// `wrap_names` holds `__wrap_NAME` and `__real_NAME` for each `--wrap=NAME`, in that order
/// (see [`wrap_names`]).
pub(crate) fn resolve<'a>(
    inputs: &'a [Object<'a>],
    opts: &'a LinkOptions,
    wrap_names: &'a [String],
) -> Result<SymbolDb<'a>, LinkError> {
    let mut db = SymbolDb::default();
    let symbols: usize = inputs.iter().map(|o| o.symbols.len()).sum();
    if u32::try_from(symbols).is_err() {
        return Err(LinkError::TooLarge("symbol table".into()));
    }
    // Comdat groups are kept from the first input that has them: one cheap serial pass in
    // input order, up to the first bad group (whose error a serial pass over the symbols
    // would raise before that input's symbols).
    let mut kept_comdats: FxHashMap<&str, u32> = FxHashMap::default();
    let mut discarded: Vec<Discarded> = Vec::with_capacity(inputs.len());
    let mut comdat_error = None;
    for (i, obj) in inputs.iter().enumerate() {
        match comdat_discards(obj, i as u32, &mut kept_comdats) {
            Ok(d) => discarded.push(d),
            Err(e) => {
                comdat_error = Some(e);
                break;
            }
        }
    }
    // Each input symbol's record and its name's hash are worked out in parallel, in place in
    // one array (what needs no other input but the comdat groups); the global ones are then
    // merged by name in parallel ([`merge_globals`]), and a serial pass numbers the symbols
    // and compacts the array into the symbol table, never writing past what it has read.
    // The array is written once, by the workers (filling it first cost a serial pass over
    // memory as large as the symbol table, 2 ms for 100,000 symbols).
    let mut all: Vec<Sym<'a>> = Vec::with_capacity(symbols);
    let mut hashes = vec![0u64; symbols];
    let mut slices: Vec<(&mut [MaybeUninit<Sym<'a>>], &mut [u64])> =
        Vec::with_capacity(inputs.len());
    let (mut rest, mut rest_hashes) = (
        &mut all.spare_capacity_mut()[..symbols],
        hashes.as_mut_slice(),
    );
    for obj in inputs {
        let (slice, after) = std::mem::take(&mut rest).split_at_mut(obj.symbols.len());
        let (h, after_h) = std::mem::take(&mut rest_hashes).split_at_mut(obj.symbols.len());
        slices.push((slice, h));
        (rest, rest_hashes) = (after, after_h);
    }
    let mut prepared: Vec<Prepared> = inputs
        .par_iter()
        .zip(slices)
        .enumerate()
        .map(|(i, (obj, (slice, h)))| prepare(obj, i as u32, discarded.get(i), slice, h))
        .collect();
    // SAFETY: the slices cover the first `symbols` slots of the spare capacity, and
    // `prepare` initializes every slot of its slice (placeholders after an error). A panic
    // in a worker propagates before this line, leaving the vector empty.
    #[allow(unsafe_code)]
    unsafe {
        all.set_len(symbols);
    }
    // Where a serial pass would stop: before the symbols of the first input with a bad
    // comdat group, or after the good symbols of the first input with a bad symbol.
    let mut cutoff = 0;
    let mut error = None;
    for (i, (obj, p)) in inputs.iter().zip(&mut prepared).enumerate() {
        if i == discarded.len() {
            error = comdat_error.take();
            break;
        }
        if let Some(e) = p.error.take() {
            cutoff += p.ready;
            error = Some(e);
            break;
        }
        cutoff += obj.symbols.len();
    }
    // The symbols before the stop are merged first: an error they raise comes first, as in
    // a serial pass.
    let Merged {
        bits,
        mut tables,
        mut repeats,
        records,
    } = merge_globals(
        inputs,
        &all[..cutoff],
        &hashes[..cutoff],
        opts.allow_multiple_definition,
    )?;
    if let Some(e) = error {
        return Err(e);
    }
    // Symbol numbers in order of first appearance, input by input: each local symbol and
    // each name's first occurrence gets the next one (its read position less the repeats
    // before it), a repeat its name's. Worked out per input in parallel; alongside, the
    // symbol table is the array without the repeats, and the names' order is found.
    repeats.sort_unstable();
    let rank = |p: usize| repeats.partition_point(|&(r, _)| (r as usize) < p);
    let first_sid = |q: u32| q - rank(q as usize) as u32;
    let is_repeat = |k: usize, p: usize| repeats.get(k).is_some_and(|&(r, _)| r as usize == p);
    db.ctors_referenced = prepared.iter().any(|p| p.ctors_referenced);
    let mut starts = Vec::with_capacity(inputs.len());
    let mut start = 0;
    for obj in inputs {
        starts.push(start);
        start += obj.symbols.len();
    }
    // A small link stays on this thread.
    let parallel = all.len() >= PARALLEL_MERGE;
    let number_input = |((obj, p), start): ((&Object<'_>, Prepared), usize)| {
        let mut maps = p.maps;
        maps.syms.reserve_exact(obj.symbols.len());
        let mut skipped = rank(start);
        for read in start..start + obj.symbols.len() {
            let sid = if is_repeat(skipped, read) {
                skipped += 1;
                first_sid(repeats[skipped - 1].1)
            } else {
                (read - skipped) as u32
            };
            maps.syms.push(sid);
        }
        maps
    };
    let number = || -> Vec<InputMaps> {
        if parallel {
            inputs
                .par_iter()
                .zip(prepared)
                .zip(starts)
                .map(number_input)
                .collect()
        } else {
            inputs
                .iter()
                .zip(prepared)
                .zip(starts)
                .map(number_input)
                .collect()
        }
    };
    // The entries of the names, in order of their first occurrences.
    let order = || {
        let mut next_entry = vec![0u32; tables.len()];
        let mut order = Vec::with_capacity(tables.iter().map(|t| t.entries.len()).sum());
        let mut skipped = 0;
        for (read, &hash) in hashes.iter().enumerate() {
            if is_repeat(skipped, read) {
                skipped += 1;
            } else if hash != 0 {
                let t = table_of(hash, bits);
                order.push((t as u32, next_entry[t]));
                next_entry[t] += 1;
            }
        }
        order
    };
    // The repeats leave the array, in place, in parallel by chunks: each symbol moves down
    // to its number. A chunk moves its own symbols within itself; those whose numbers fall
    // below it (at most as many as the repeats before it) are kept aside and placed after.
    let compact_all = |all: &mut Vec<Sym<'a>>| {
        if repeats.is_empty() {
            return;
        }
        let compact = |(c, chunk): (usize, &mut [Sym<'a>])| {
            let first = c * COMPACT_CHUNK;
            let mut aside = Vec::new();
            let mut skipped = rank(first);
            for k in 0..chunk.len() {
                let read = first + k;
                if is_repeat(skipped, read) {
                    skipped += 1;
                } else if read - skipped < first {
                    aside.push(chunk[k].clone());
                } else if read - skipped != read {
                    chunk[read - skipped - first] = chunk[k].clone();
                }
            }
            aside
        };
        let aside: Vec<Vec<Sym<'a>>> = if parallel {
            all.par_chunks_mut(COMPACT_CHUNK)
                .enumerate()
                .map(compact)
                .collect()
        } else {
            all.chunks_mut(COMPACT_CHUNK)
                .enumerate()
                .map(compact)
                .collect()
        };
        for (c, aside) in aside.into_iter().enumerate() {
            let first = c * COMPACT_CHUNK;
            let to = first - rank(first);
            for (k, sym) in aside.into_iter().enumerate() {
                all[to + k] = sym;
            }
        }
        all.truncate(all.len() - repeats.len());
    };
    let (maps, order) = if parallel {
        rayon::join(|| compact_all(&mut all), || rayon::join(number, order)).1
    } else {
        compact_all(&mut all);
        (number(), order())
    };
    db.inputs = maps;
    db.syms = all;
    for (q, record) in records {
        db.syms[first_sid(q) as usize] = record;
    }
    // The tables' entries hold their names' first read positions until here.
    if !repeats.is_empty() {
        // (In read order within a table: the count of repeats before each only grows.)
        let renumber = |t: &mut Table<'_>| {
            let mut skipped = 0;
            for e in &mut t.entries {
                while repeats.get(skipped).is_some_and(|&(r, _)| r < e.sid) {
                    skipped += 1;
                }
                e.sid -= skipped as u32;
            }
        };
        if parallel {
            tables.par_iter_mut().for_each(renumber);
        } else {
            tables.iter_mut().for_each(renumber);
        }
    }
    db.discarded = discarded;
    db.globals = Names {
        bits,
        tables,
        order,
    };

    wrap_symbols(&mut db, opts, wrap_names);

    // Enum descriptions, merged by symbol name.
    let mut by_name: IndexMap<&str, u32> = IndexMap::new();
    for (i, obj) in inputs.iter().enumerate() {
        for info in &obj.enums {
            let sid = *db.inputs[i].syms.get(info.symbol as usize).ok_or_else(|| {
                bad(
                    obj,
                    format!(
                        "enum description refers to symbol {}, but there are {}",
                        info.symbol,
                        obj.symbols.len()
                    ),
                )
            })?;
            let sym = &db.syms[sid as usize];
            if sym.kind != SymKind::Function || !sym.name.starts_with(TAG_NAME_PREFIX) {
                return Err(bad(
                    obj,
                    format!(
                        "enum description refers to `{}`, which is not a `{TAG_NAME_PREFIX}` function symbol",
                        sym.name
                    ),
                ));
            }
            match by_name.get(sym.name) {
                Some(&e) => {
                    let first = &db.enums[e as usize];
                    if first.info.tag != info.tag || first.info.variants != info.variants {
                        let first_file = enum_file(inputs, first.info);
                        return Err(LinkError::EnumMismatch {
                            name: sym.name.to_string(),
                            first: first_file,
                            second: obj.path.clone(),
                        });
                    }
                }
                None => {
                    by_name.insert(sym.name, db.enums.len() as u32);
                    db.enums.push(EnumDesc { sym: sid, info });
                }
            }
        }
    }

    // wasm-ld never imports a weak undefined symbol in a static link, explicit import name
    // or not: it becomes a trapping stub (functions) or address 0 (data).
    for sym in &mut db.syms {
        if sym.is_weak_undefined() {
            sym.explicit_import = false;
        }
    }

    // Linker-defined symbols bind what stays undefined.
    // The output segment of that name (searched only for `__start_`/`__stop_` names).
    let segment_named = |name: &str| {
        inputs
            .iter()
            .flat_map(|o| o.segments.iter().map(output_segment_name))
            .find(|s| *s == name)
    };
    for sid in 0..db.syms.len() {
        let sym = &db.syms[sid];
        if !sym.def.is_undefined() || sym.local {
            continue;
        }
        let name = sym.name;
        let bound = match (sym.kind, name) {
            (SymKind::Global, "__stack_pointer") => Some(LinkerSym::StackPointer),
            (SymKind::Global, "__tls_base") => Some(LinkerSym::TlsBase),
            // As wasm-ld 22: only with shared memory (`__wasm_init_tls` needs them).
            (SymKind::Global, "__tls_size") if opts.shared_memory => Some(LinkerSym::TlsSize),
            (SymKind::Global, "__tls_align") if opts.shared_memory => Some(LinkerSym::TlsAlign),
            (SymKind::Table, "__indirect_function_table") => Some(LinkerSym::Table),
            (SymKind::Function, "__wasm_call_ctors") => Some(LinkerSym::CallCtors),
            (SymKind::Function, "__wasm_init_tls") if opts.shared_memory => {
                Some(LinkerSym::InitTls)
            }
            (SymKind::Function, n) if n.starts_with(TAG_NAME_PREFIX) => {
                by_name.get(n).map(|&e| LinkerSym::TagName(e))
            }
            (SymKind::Data, "__heap_base") => Some(LinkerSym::HeapBase),
            (SymKind::Data, "__heap_end") => Some(LinkerSym::HeapEnd),
            (SymKind::Data, "__data_end") => Some(LinkerSym::DataEnd),
            (SymKind::Data, "__global_base") => Some(LinkerSym::GlobalBase),
            (SymKind::Data, "__dso_handle") => Some(LinkerSym::DsoHandle),
            (SymKind::Data, "__stack_low") => Some(LinkerSym::StackLow),
            (SymKind::Data, "__stack_high") => Some(LinkerSym::StackHigh),
            // wasm-ld defines these as absolute data symbols in a non-PIC link: 0, 1 and the
            // end of the first page. PIC code reads `__memory_base` and `__table_base` as
            // globals; those references then go through internal GOT entries holding the
            // values, as in wasm-ld.
            (SymKind::Data | SymKind::Global, "__memory_base" | "__table_base")
            | (SymKind::Data, "__wasm_first_page_end") => {
                let s = &mut db.syms[sid];
                s.kind = SymKind::Data;
                s.import = None;
                s.explicit_import = false;
                s.def = Def::AbsData(match name {
                    "__memory_base" => 0,
                    "__table_base" => 1,
                    _ => 65536,
                });
                None
            }
            (SymKind::Data, n) => {
                let find = |prefix: &str| {
                    let rest = n.strip_prefix(prefix)?;
                    let found = segment_named(rest)?;
                    is_c_identifier(found).then_some(found)
                };
                find("__start_")
                    .map(LinkerSym::SegStart)
                    .or_else(|| find("__stop_").map(LinkerSym::SegStop))
            }
            _ => None,
        };
        if let Some(l) = bound {
            db.syms[sid].def = Def::Linker(l);
        }
    }

    add_exportable_linker_symbols(&mut db, opts.shared_memory, |name| {
        opts.export_all
            || opts.exports.iter().any(|e| e == name)
            || opts.export_if_defined.iter().any(|e| e == name)
    });
    // wasm-ld's `__stack_pointer` has default visibility: `--export-dynamic` exports it too
    // (when the output may export mutable globals).
    let named = |n: &str| {
        opts.exports
            .iter()
            .chain(&opts.export_if_defined)
            .any(|e| e == n)
    };
    if !db.globals.contains_key("__stack_pointer")
        && (named("__stack_pointer")
            || ((opts.export_all || opts.export_dynamic) && opts.features.mutable_globals))
    {
        let mut sp = linker_defined(
            "__stack_pointer",
            SymKind::Global,
            Def::Linker(LinkerSym::StackPointer),
        );
        sp.hidden = false;
        db.syms.push(sp);
        db.globals
            .insert("__stack_pointer", (db.syms.len() - 1) as u32);
    }
    // `__start_SEG` and `__stop_SEG` nothing references exist when `--export` or
    // `--export-if-defined` names them (wasm-ld's optional symbols).
    for name in opts.exports.iter().chain(&opts.export_if_defined) {
        if db.globals.contains_key(name.as_str()) {
            continue;
        }
        let find = |prefix: &str| {
            let rest = name.strip_prefix(prefix)?;
            let found = segment_named(rest)?;
            is_c_identifier(found).then_some(found)
        };
        let Some(def) = find("__start_")
            .map(LinkerSym::SegStart)
            .or_else(|| find("__stop_").map(LinkerSym::SegStop))
        else {
            continue;
        };
        db.syms
            .push(linker_defined(name, SymKind::Data, Def::Linker(def)));
        db.globals.insert(name, (db.syms.len() - 1) as u32);
    }
    check_types(inputs, &mut db)?;
    Ok(db)
}

/// Links with at least this many symbols merge the global ones in `2^MERGE_BITS` tables in
/// parallel, having sorted their read positions by table in chunks of [`MERGE_CHUNK`] (under
/// test, small ones, so that the tests cross tables and chunks).
const PARALLEL_MERGE: usize = if cfg!(test) { 8 } else { 16384 };
pub(super) const MERGE_BITS: u32 = if cfg!(test) { 2 } else { 6 };
const MERGE_CHUNK: usize = if cfg!(test) { 5 } else { 32768 };
/// The symbol table is compacted in parallel in chunks of this many symbols.
const COMPACT_CHUNK: usize = if cfg!(test) { 4 } else { 16384 };

/// The global symbols merged by name.
struct Merged<'a> {
    /// How many high bits of a name's hash pick its table.
    bits: u32,
    /// The names of each table, each with the read position of its first occurrence in
    /// place of its symbol number; per table, the entries are in read order.
    tables: Vec<Table<'a>>,
    /// (read position, its name's first read position) of every later occurrence of a name.
    repeats: Vec<(u32, u32)>,
    /// (first read position, merged record) of every name that occurs more than once.
    records: Vec<(u32, Sym<'a>)>,
}

/// A global symbol to merge: its name's hash, its name and its read position.
type Item<'a> = (u64, &'a str, u32);

/// Fills one table of [`merge_globals`] with `items` (at most `n`), in order: a name's
/// first occurrence adds it, a later one is merged into its record (copied out of `all`
/// at the second occurrence). Stops at the first error, with its read position.
fn fill_table<'a>(
    inputs: &[Object<'_>],
    all: &[Sym<'a>],
    bits: u32,
    n: usize,
    items: impl Iterator<Item = Item<'a>>,
    allow_multiple: bool,
) -> Result<Merged<'a>, Box<(usize, LinkError)>> {
    let mut out = Merged {
        bits,
        tables: vec![Table::with_capacity(bits, n)],
        repeats: Vec::new(),
        records: Vec::new(),
    };
    let table = &mut out.tables[0];
    // Entry -> position in `out.records`, for the names seen more than once.
    let mut merged: FxHashMap<u32, usize> = FxHashMap::default();
    for (hash, name, p) in items {
        match table.find(hash, name) {
            Ok(e) => {
                let q = table.entries[e as usize].sid;
                let m = *merged.entry(e).or_insert_with(|| {
                    out.records.push((q, all[q as usize].clone()));
                    out.records.len() - 1
                });
                let sym = &all[p as usize];
                let obj = &inputs[sym.file as usize];
                merge(
                    inputs,
                    &mut out.records[m].1,
                    sym.clone(),
                    obj,
                    allow_multiple,
                )
                .map_err(|err| Box::new((p as usize, err)))?;
                out.repeats.push((p, q));
            }
            Err(slot) => {
                table.add(slot, hash, name, p);
            }
        }
    }
    Ok(out)
}

/// Merges the global symbols of `all` (those with a nonzero hash) by name, each name's
/// occurrences in read order. The names are split among tables by hash, and each table is
/// filled by one worker, walking the read positions of its names in order; of the errors the
/// workers stop at, the first by read position is the one a serial pass would raise.
fn merge_globals<'a>(
    inputs: &[Object<'_>],
    all: &[Sym<'a>],
    hashes: &[u64],
    allow_multiple: bool,
) -> Result<Merged<'a>, LinkError> {
    let bits = if all.len() >= PARALLEL_MERGE {
        MERGE_BITS
    } else {
        0
    };
    let ntables = 1usize << bits;
    let filled: Vec<Result<Merged<'a>, Box<(usize, LinkError)>>> = if ntables == 1 {
        // One table: the symbols straight from the array.
        let items = hashes
            .iter()
            .zip(all)
            .enumerate()
            .filter(|(_, (h, _))| **h != 0)
            .map(|(p, (&h, sym))| (h, sym.name, p as u32));
        vec![fill_table(
            inputs,
            all,
            bits,
            all.len(),
            items,
            allow_multiple,
        )]
    } else {
        // The global symbols (hash, name, read position), by table within each chunk of
        // the reading order: chunk c's of table t are
        // `chunks[c].1[chunks[c].0[t]..chunks[c].0[t + 1]]`. Copied out in read order, so
        // that each worker reads its symbols from memory in order.
        let bucket = |first: usize, hashes: &[u64], all: &[Sym<'a>]| {
            let mut starts = vec![0u32; ntables + 1];
            for &h in hashes.iter().filter(|&&h| h != 0) {
                starts[table_of(h, bits) + 1] += 1;
            }
            for t in 0..ntables {
                starts[t + 1] += starts[t];
            }
            let mut items: Vec<Item<'a>> = vec![(0, "", 0); starts[ntables] as usize];
            let mut next = starts.clone();
            for (k, (&h, sym)) in hashes.iter().zip(all).enumerate() {
                if h != 0 {
                    let t = table_of(h, bits);
                    items[next[t] as usize] = (h, sym.name, (first + k) as u32);
                    next[t] += 1;
                }
            }
            (starts, items)
        };
        let chunks: Vec<(Vec<u32>, Vec<Item<'a>>)> = if all.len() > MERGE_CHUNK {
            hashes
                .par_chunks(MERGE_CHUNK)
                .zip(all.par_chunks(MERGE_CHUNK))
                .enumerate()
                .map(|(c, (hashes, all))| bucket(c * MERGE_CHUNK, hashes, all))
                .collect()
        } else {
            vec![bucket(0, hashes, all)]
        };
        (0..ntables)
            .into_par_iter()
            .map(|t| {
                let n = chunks.iter().map(|(s, _)| (s[t + 1] - s[t]) as usize).sum();
                let items = chunks
                    .iter()
                    .flat_map(|(s, items)| items[s[t] as usize..s[t + 1] as usize].iter().copied());
                fill_table(inputs, all, bits, n, items, allow_multiple)
            })
            .collect()
    };
    let mut merged = Merged {
        bits,
        tables: Vec::with_capacity(ntables),
        repeats: Vec::new(),
        records: Vec::new(),
    };
    let mut first_error: Option<(usize, LinkError)> = None;
    for f in filled {
        match f {
            Ok(m) => {
                merged.tables.extend(m.tables);
                merged.repeats.extend(m.repeats);
                merged.records.extend(m.records);
            }
            Err(err) => {
                let (p, e) = *err;
                if first_error.as_ref().is_none_or(|(q, _)| p < *q) {
                    first_error = Some((p, e));
                }
            }
        }
    }
    match first_error {
        Some((_, e)) => Err(e),
        None => Ok(merged),
    }
}

/// What resolution learns from one input and the comdat groups: its import maps (without
/// `syms`), and in the caller's array the records of its first `ready` symbols; then the
/// first error, if any.
struct Prepared {
    maps: InputMaps,
    ready: usize,
    /// Some symbol is an undefined reference to `__wasm_call_ctors`.
    ctors_referenced: bool,
    error: Option<LinkError>,
}

/// Writes the record of each of `obj`'s symbols into `out` (one slot per symbol; every
/// slot is initialized when this returns: those from the first bad symbol on with
/// placeholders) and the hash of each global one's name into `hashes` (0 for a local one).
/// A definition in a member of `discarded` becomes a reference (to the kept copy).
fn prepare<'a>(
    obj: &'a Object<'a>,
    input: u32,
    discarded: Option<&Discarded>,
    out: &mut [MaybeUninit<Sym<'a>>],
    hashes: &mut [u64],
) -> Prepared {
    let mut p = Prepared {
        maps: InputMaps::default(),
        ready: 0,
        ctors_referenced: false,
        error: None,
    };
    if let Err(e) = prepare_into(obj, input, discarded, out, hashes, &mut p) {
        p.error = Some(e);
    }
    for slot in out.iter_mut().skip(p.ready) {
        slot.write(linker_defined("", SymKind::Data, Def::Undefined));
    }
    p
}

fn prepare_into<'a>(
    obj: &'a Object<'a>,
    input: u32,
    discarded: Option<&Discarded>,
    out: &mut [MaybeUninit<Sym<'a>>],
    hashes: &mut [u64],
    p: &mut Prepared,
) -> Result<(), LinkError> {
    let maps = &mut p.maps;
    for (pos, imp) in obj.imports.iter().enumerate() {
        match imp.kind {
            ImportKind::Func(t) => {
                if t as usize >= obj.types.len() {
                    return Err(bad(
                        obj,
                        format!(
                            "import `{}.{}` has type {t}, but there are {} types",
                            imp.module,
                            imp.name,
                            obj.types.len()
                        ),
                    ));
                }
                maps.func_imports.push(pos as u32);
            }
            ImportKind::Global { .. } => maps.global_imports.push(pos as u32),
            ImportKind::Table { .. } => maps.table_imports.push(pos as u32),
            ImportKind::Memory { memory64, .. } => {
                if memory64 {
                    return Err(LinkError::Unsupported {
                        file: obj.path.clone(),
                        what: "64-bit memory".into(),
                    });
                }
            }
            ImportKind::Tag(_) => {
                return Err(LinkError::Unsupported {
                    file: obj.path.clone(),
                    what: "exception tags".into(),
                });
            }
        }
    }
    for (j, f) in obj.funcs.iter().enumerate() {
        if f.type_index as usize >= obj.types.len() {
            return Err(bad(
                obj,
                format!(
                    "function {j} has type {}, but there are {} types",
                    f.type_index,
                    obj.types.len()
                ),
            ));
        }
    }
    // The records are independent of each other: a large input's are made in parallel.
    let maps = &p.maps;
    let fill = |first: usize, out: &mut [MaybeUninit<Sym<'a>>], hashes: &mut [u64]| {
        let mut ready = 0;
        let mut ctors = false;
        for (((k, slot), hash), sym) in out
            .iter_mut()
            .enumerate()
            .zip(hashes)
            .zip(&obj.symbols[first..])
        {
            match record(obj, input, maps, discarded, first + k, sym) {
                Ok((record, name_hash, calls_ctors)) => {
                    slot.write(record);
                    *hash = name_hash;
                    ctors |= calls_ctors;
                    ready += 1;
                }
                Err(e) => return (ready, ctors, Some(e)),
            }
        }
        (ready, ctors, None)
    };
    let chunks: Vec<(usize, bool, Option<LinkError>)> = if out.len() >= PARALLEL_SYMBOLS {
        out.par_chunks_mut(SYMBOL_CHUNK)
            .zip(hashes.par_chunks_mut(SYMBOL_CHUNK))
            .enumerate()
            .map(|(c, (out, hashes))| fill(c * SYMBOL_CHUNK, out, hashes))
            .collect()
    } else {
        vec![fill(0, out, hashes)]
    };
    // The records before the first bad symbol count, in order (the caller gives every slot
    // from there on a placeholder).
    for (ready, ctors, error) in chunks {
        p.ready += ready;
        p.ctors_referenced |= ctors;
        if let Some(e) = error {
            return Err(e);
        }
    }
    Ok(())
}

/// Inputs with at least this many symbols have their records made in parallel, in chunks of
/// [`SYMBOL_CHUNK`] (under test, small ones, so that the tests cross chunks).
const PARALLEL_SYMBOLS: usize = if cfg!(test) { 8 } else { 8192 };
const SYMBOL_CHUNK: usize = if cfg!(test) { 3 } else { 4096 };

/// The record of symbol `j` of `obj` (a reference if it defines a member of `discarded`),
/// the hash of its name (0 for a local one), and whether it is an undefined reference to
/// `__wasm_call_ctors`.
fn record<'a>(
    obj: &'a Object<'a>,
    input: u32,
    maps: &InputMaps,
    discarded: Option<&Discarded>,
    j: usize,
    sym: &'a crate::object::Symbol<'a>,
) -> Result<(Sym<'a>, u64, bool), LinkError> {
    let (kind, def, import) = classify(obj, input, maps, j, sym)?;
    let hash = if sym.is_local() {
        0
    } else {
        Names::hash(&sym.name)
    };
    let flags = sym.flags;
    let calls_ctors = sym.is_undefined() && !sym.is_local() && sym.name == CALL_CTORS;
    let undefined = def.is_undefined();
    if !sym.is_undefined() && !sym.is_local() && reserved(&sym.name) {
        return Err(LinkError::Reserved {
            name: sym.name.to_string(),
            file: obj.path.clone(),
        });
    }
    let explicit = import.is_some_and(|pos| {
        flags & SYM_EXPLICIT_NAME != 0
            || obj
                .imports
                .get(pos as usize)
                .is_some_and(|imp| imp.module != "env")
    });
    let mut record = Sym {
        name: &sym.name,
        kind,
        def,
        file: input,
        weak_def: !undefined && sym.is_weak(),
        strong_ref: undefined && !sym.is_weak(),
        local: sym.is_local(),
        hidden: flags & SYM_HIDDEN != 0,
        exported: flags & SYM_EXPORTED != 0,
        no_strip: flags & SYM_NO_STRIP != 0,
        tls: flags & SYM_TLS != 0,
        import: import.map(|pos| (input, pos)),
        explicit_import: explicit,
        stub_type: None,
    };
    let dropped = discarded.is_some_and(|d| match def {
        Def::Func { index, .. } => flag(&d.funcs, index),
        Def::Data { segment, .. } => flag(&d.segs, segment),
        Def::Global { index, .. } => flag(&d.globals, index),
        Def::Section { index, .. } => flag(&d.customs, index),
        _ => false,
    });
    if dropped {
        record.def = Def::Undefined;
        record.weak_def = false;
        record.strong_ref = !sym.is_weak();
    }
    Ok((record, hash, calls_ctors))
}

/// The names `--wrap` needs: `__wrap_NAME` and `__real_NAME` for each wrapped NAME.
pub(crate) fn wrap_names(opts: &LinkOptions) -> Vec<String> {
    opts.wrap
        .iter()
        .flat_map(|n| [format!("__wrap_{n}"), format!("__real_{n}")])
        .collect()
}

/// `--wrap=NAME`, as wasm-ld's `wrapSymbols`: in every input, references to NAME (its
/// definition's own file included) go to `__wrap_NAME` and references to `__real_NAME` go to
/// NAME; looking NAME up (exports, the entry) finds `__wrap_NAME`. Nothing happens when no
/// input has NAME. `__wrap_NAME` nothing defines is an undefined symbol like any other.
fn wrap_symbols<'a>(db: &mut SymbolDb<'a>, opts: &'a LinkOptions, wrap_names: &'a [String]) {
    for (name, pair) in opts.wrap.iter().zip(wrap_names.chunks(2)) {
        let [wrap_name, real_name] = pair else {
            continue;
        };
        let Some(&orig) = db.globals.get(name.as_str()) else {
            continue;
        };
        let kind = db.syms[orig as usize].kind;
        let symbol = |db: &mut SymbolDb<'a>, n: &'a String| match db.globals.get(n.as_str()) {
            Some(&sid) => sid,
            None => {
                let mut sym = linker_defined(n, kind, Def::Undefined);
                sym.hidden = false;
                sym.strong_ref = true;
                db.syms.push(sym);
                let sid = (db.syms.len() - 1) as u32;
                db.globals.insert(n, sid);
                sid
            }
        };
        let wrap = symbol(db, wrap_name);
        let real = db.globals.get(real_name.as_str()).copied();
        for maps in &mut db.inputs {
            for s in &mut maps.syms {
                if *s == orig {
                    *s = wrap;
                } else if Some(*s) == real {
                    *s = orig;
                }
            }
        }
        db.globals.insert(name, wrap);
        if real.is_some() {
            db.globals.insert(real_name, orig);
        }
    }
}

/// The output's target features, decided and checked as wasm-ld's `populateTargetFeatures`:
/// with `infer_features`, the union of the features the inputs use (`+`); otherwise exactly
/// `features` and `extra_features`, and (when checking) an input that uses a feature outside
/// them is an error. When checking: a feature one input uses and another disallows (`-`) is an
/// error naming both; a feature an input requires (`=`, LLVM 14 and older) must be in every
/// input; `--shared-memory` needs `atomics` and `bulk-memory` and no input disallowing
/// `shared-mem`. Returns the known features and the other names, sorted.
pub(crate) fn target_features(
    inputs: &[Object<'_>],
    opts: &LinkOptions,
) -> Result<(Features, Vec<String>), LinkError> {
    let mut used: IndexMap<&str, &str> = IndexMap::new();
    let mut disallowed: IndexMap<&str, &str> = IndexMap::new();
    let mut required: IndexMap<&str, &str> = IndexMap::new();
    for obj in inputs {
        for f in &obj.features {
            let map = match f.prefix {
                b'+' => &mut used,
                b'-' => &mut disallowed,
                b'=' => &mut required,
                other => {
                    return Err(bad(
                        obj,
                        format!(
                            "target feature `{}` has the unknown policy prefix {other:#04x}",
                            f.name
                        ),
                    ));
                }
            };
            map.entry(&f.name).or_insert(&obj.path);
        }
    }
    let mut allowed: BTreeSet<String> = BTreeSet::new();
    if opts.infer_features {
        allowed.extend(used.keys().chain(required.keys()).map(|n| n.to_string()));
    } else {
        allowed.extend(
            opts.features
                .flags()
                .iter()
                .filter(|(_, on)| *on)
                .map(|(n, _)| n.to_string()),
        );
        allowed.extend(opts.extra_features.iter().cloned());
    }
    if opts.check_features {
        let fail = |msg: String| Err(LinkError::Features(msg));
        if opts.shared_memory {
            if let Some(file) = disallowed.get("shared-mem") {
                return fail(format!(
                    "--shared-memory is disallowed by {file} because it was not compiled with \
                     'atomics' or 'bulk-memory' features."
                ));
            }
            for f in ["atomics", "bulk-memory"] {
                if !allowed.contains(f) {
                    return fail(format!(
                        "'{f}' feature must be used in order to use shared memory"
                    ));
                }
            }
        }
        if !opts.infer_features {
            for (name, file) in used.iter().chain(&required) {
                if !allowed.contains(*name) {
                    return fail(format!(
                        "Target feature '{name}' used by {file} is not allowed."
                    ));
                }
            }
        }
        for obj in inputs {
            for f in obj.features.iter().filter(|f| f.prefix != b'-') {
                if let Some(by) = disallowed.get(f.name.as_str()) {
                    return fail(format!(
                        "Target feature '{}' used in {} is disallowed by {by}. \
                         Use --no-check-features to suppress.",
                        f.name, obj.path
                    ));
                }
            }
            for (name, by) in &required {
                if !obj.features.iter().any(|f| f.name == *name) {
                    return fail(format!(
                        "Missing target feature '{name}' in {}, required by {by}. \
                         Use --no-check-features to suppress.",
                        obj.path
                    ));
                }
            }
        }
    }
    let mut features = Features::MVP;
    let extra = allowed
        .into_iter()
        .filter(|name| !features.set(name, true))
        .collect();
    Ok((features, extra))
}

/// The symbols wasm-ld 22 defines in every non-PIC link, so that `--export-all` and
/// `--export=NAME` export them even when no input references them (hidden; the mutable
/// `__stack_pointer` is never exported by `--export-all`). `wanted` picks the names.
/// With shared memory, `__wasm_init_tls` too.
fn add_exportable_linker_symbols(
    db: &mut SymbolDb<'_>,
    shared_memory: bool,
    wanted: impl Fn(&str) -> bool,
) {
    let init_tls = shared_memory.then_some((
        "__wasm_init_tls",
        SymKind::Function,
        Def::Linker(LinkerSym::InitTls),
    ));
    let list = [
        (
            "__wasm_call_ctors",
            SymKind::Function,
            Def::Linker(LinkerSym::CallCtors),
        ),
        ("__data_end", SymKind::Data, Def::Linker(LinkerSym::DataEnd)),
        (
            "__dso_handle",
            SymKind::Data,
            Def::Linker(LinkerSym::DsoHandle),
        ),
        (
            "__global_base",
            SymKind::Data,
            Def::Linker(LinkerSym::GlobalBase),
        ),
        (
            "__heap_base",
            SymKind::Data,
            Def::Linker(LinkerSym::HeapBase),
        ),
        ("__heap_end", SymKind::Data, Def::Linker(LinkerSym::HeapEnd)),
        ("__memory_base", SymKind::Data, Def::AbsData(0)),
        (
            "__stack_high",
            SymKind::Data,
            Def::Linker(LinkerSym::StackHigh),
        ),
        (
            "__stack_low",
            SymKind::Data,
            Def::Linker(LinkerSym::StackLow),
        ),
        ("__table_base", SymKind::Data, Def::AbsData(1)),
        ("__wasm_first_page_end", SymKind::Data, Def::AbsData(65536)),
    ];
    for (name, kind, def) in list.into_iter().chain(init_tls) {
        if !wanted(name) || db.globals.contains_key(name) {
            continue;
        }
        db.syms.push(linker_defined(name, kind, def));
        db.globals.insert(name, (db.syms.len() - 1) as u32);
    }
}

/// A hidden global symbol the linker defines that no input references.
fn linker_defined<'a>(name: &'a str, kind: SymKind, def: Def<'a>) -> Sym<'a> {
    Sym {
        name,
        kind,
        def,
        file: 0,
        weak_def: false,
        strong_ref: false,
        local: false,
        hidden: true,
        exported: false,
        no_strip: false,
        tls: false,
        import: None,
        explicit_import: false,
        stub_type: None,
    }
}

fn enum_file(inputs: &[Object<'_>], info: &EnumInfo) -> String {
    inputs
        .iter()
        .find(|o| o.enums.iter().any(|e| std::ptr::eq(e, info)))
        .map(|o| o.path.clone())
        .unwrap_or_default()
}

type Classified<'a> = (SymKind, Def<'a>, Option<u32>);

/// Checks one input symbol against its object and says what it is.
fn classify<'a>(
    obj: &'a Object<'a>,
    input: u32,
    maps: &InputMaps,
    j: usize,
    sym: &'a crate::object::Symbol<'a>,
) -> Result<Classified<'a>, LinkError> {
    let undefined = sym.is_undefined();
    let err = |what: String| bad(obj, format!("symbol {j} `{}`: {what}", sym.name));
    Ok(match sym.kind {
        SymbolKind::Function(idx) => {
            let nimp = maps.func_imports.len() as u32;
            if undefined {
                let pos = maps.func_imports.get(idx as usize).ok_or_else(|| {
                    err(format!(
                        "undefined, but function {idx} is not an import ({nimp} imports)"
                    ))
                })?;
                (SymKind::Function, Def::Undefined, Some(*pos))
            } else {
                let index = idx.checked_sub(nimp).filter(|&k| (k as usize) < obj.funcs.len()).ok_or_else(|| {
                    err(format!("defined, but function {idx} is not a defined function ({nimp} imports, {} functions)", obj.funcs.len()))
                })?;
                (SymKind::Function, Def::Func { input, index }, None)
            }
        }
        SymbolKind::Global(idx) => {
            let nimp = maps.global_imports.len() as u32;
            if undefined {
                let pos = maps.global_imports.get(idx as usize).ok_or_else(|| {
                    err(format!(
                        "undefined, but global {idx} is not an import ({nimp} imports)"
                    ))
                })?;
                (SymKind::Global, Def::Undefined, Some(*pos))
            } else {
                let index = idx.checked_sub(nimp).filter(|&k| (k as usize) < obj.globals.len()).ok_or_else(|| {
                    err(format!("defined, but global {idx} is not a defined global ({nimp} imports, {} globals)", obj.globals.len()))
                })?;
                (SymKind::Global, Def::Global { input, index }, None)
            }
        }
        SymbolKind::Table(idx) => {
            if !undefined {
                return Err(LinkError::Unsupported {
                    file: obj.path.clone(),
                    what: format!("defined table `{}`", sym.name),
                });
            }
            let pos = maps
                .table_imports
                .get(idx as usize)
                .ok_or_else(|| err(format!("undefined, but table {idx} is not an import")))?;
            (SymKind::Table, Def::Undefined, Some(*pos))
        }
        SymbolKind::Data(None) => {
            if !undefined {
                return Err(err("defined data symbol without a segment".into()));
            }
            (SymKind::Data, Def::Undefined, None)
        }
        SymbolKind::Data(Some(d)) => {
            if undefined {
                return Err(err("undefined data symbol with a segment".into()));
            }
            if sym.flags & crate::object::SYM_ABSOLUTE != 0 {
                (SymKind::Data, Def::AbsData(d.offset), None)
            } else {
                let seg = obj.segments.get(d.segment as usize).ok_or_else(|| {
                    err(format!(
                        "segment {} out of range ({} segments)",
                        d.segment,
                        obj.segments.len()
                    ))
                })?;
                if d.offset
                    .checked_add(d.size)
                    .is_none_or(|end| end > seg.size())
                {
                    return Err(err(format!(
                        "offset {} size {} past the end of segment `{}` ({} bytes)",
                        d.offset,
                        d.size,
                        seg.name,
                        seg.size()
                    )));
                }
                (
                    SymKind::Data,
                    Def::Data {
                        input,
                        segment: d.segment,
                        offset: d.offset,
                    },
                    None,
                )
            }
        }
        SymbolKind::Section(idx) => {
            if (idx as usize) >= obj.customs.len() {
                return Err(err(format!(
                    "custom section {idx} out of range ({} custom sections)",
                    obj.customs.len()
                )));
            }
            (SymKind::Section, Def::Section { input, index: idx }, None)
        }
        SymbolKind::Tag(_) => {
            return Err(LinkError::Unsupported {
                file: obj.path.clone(),
                what: format!("exception tag `{}`", sym.name),
            });
        }
    })
}

/// Merges a further occurrence of a global symbol into its entry.
/// With `allow_multiple`, a second strong definition is ignored (the first wins, as
/// wasm-ld's `--allow-multiple-definition`).
fn merge<'a>(
    inputs: &[Object<'_>],
    s: &mut Sym<'a>,
    new: Sym<'a>,
    obj: &Object<'_>,
    allow_multiple: bool,
) -> Result<(), LinkError> {
    let file_of = |i: u32| {
        inputs
            .get(i as usize)
            .map(|o| o.path.clone())
            .unwrap_or_default()
    };
    if s.kind != new.kind {
        return Err(LinkError::KindMismatch {
            name: s.name.to_string(),
            first_kind: s.kind.describe(),
            first: file_of(s.file),
            second_kind: new.kind.describe(),
            second: obj.path.clone(),
        });
    }
    if !new.def.is_undefined() {
        if s.def.is_undefined() || (s.weak_def && !new.weak_def) {
            s.def = new.def;
            s.file = new.file;
            s.weak_def = new.weak_def;
            s.tls = new.tls;
            s.hidden = new.hidden;
        } else if !s.weak_def && !new.weak_def && !allow_multiple {
            return Err(LinkError::DuplicateSymbol {
                name: s.name.to_string(),
                first: file_of(s.file),
                second: obj.path.clone(),
            });
        }
    } else {
        s.strong_ref |= new.strong_ref;
        if let (Some(first), Some(second)) = (s.import, new.import)
            && s.explicit_import
            && new.explicit_import
        {
            let key = |(i, p): (u32, u32)| {
                inputs
                    .get(i as usize)
                    .and_then(|o| o.imports.get(p as usize))
                    .map(|imp| format!("{}.{}", imp.module, imp.name))
                    .unwrap_or_default()
            };
            let (a, b) = (key(first), key(second));
            if a != b {
                return Err(LinkError::ImportMismatch {
                    name: s.name.to_string(),
                    first_import: a,
                    first: file_of(first.0),
                    second_import: b,
                    second: obj.path.clone(),
                });
            }
        }
        if s.import.is_none() || (!s.explicit_import && new.explicit_import) {
            s.import = new.import;
        }
        s.explicit_import |= new.explicit_import;
    }
    s.exported |= new.exported;
    s.no_strip |= new.no_strip;
    Ok(())
}

fn show_type(t: &FuncType) -> String {
    let list = |v: &[crate::object::ValType]| {
        v.iter()
            .map(|t| format!("{t:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(&t.params), list(&t.results))
}

/// The type the linker gives a synthesized function.
pub(crate) fn linker_func_type(db: &SymbolDb<'_>, l: LinkerSym<'_>) -> Option<FuncType> {
    use crate::object::ValType;
    match l {
        LinkerSym::CallCtors => Some(FuncType::default()),
        LinkerSym::InitTls => Some(FuncType {
            params: vec![ValType::I32],
            results: Vec::new(),
        }),
        LinkerSym::TagName(e) => {
            let info = db.enums.get(e as usize)?.info;
            let tag = if info.tag.bits == 64 {
                ValType::I64
            } else {
                ValType::I32
            };
            Some(FuncType {
                params: vec![tag],
                results: vec![ValType::I32],
            })
        }
        _ => None,
    }
}

/// Whether some function of `obj` calls symbol `j` (a `FUNCTION_INDEX_LEB` relocation);
/// `called` caches the answer for every symbol, filled on first use.
fn directly_called(obj: &Object<'_>, called: &mut Vec<bool>, j: usize) -> bool {
    if called.is_empty() {
        *called = vec![false; obj.symbols.len()];
        for r in obj.funcs.iter().flat_map(|f| obj.relocs_in(f.relocs)) {
            if r.ty == RelocType::FunctionIndexLeb
                && let Some(c) = called.get_mut(r.index as usize)
            {
                *c = true;
            }
        }
    }
    called.get(j).copied().unwrap_or(false)
}

/// A type as wasm-ld prints it in warnings: `(i32, i32) -> i32`, `() -> void`.
fn lld_type(t: &FuncType) -> String {
    let name = |v: &crate::object::ValType| format!("{v:?}").to_lowercase();
    let params: Vec<String> = t.params.iter().map(name).collect();
    let results = match t.results.as_slice() {
        [] => "void".to_string(),
        [one] => name(one),
        many => format!(
            "{{{}}}",
            many.iter().map(name).collect::<Vec<_>>().join(", ")
        ),
    };
    format!("({}) -> {results}", params.join(", "))
}

/// Every function reference must have its definition's type. As wasm-ld does, a file that
/// calls an undefined function directly with another type, or defines a function another
/// file's definition wins over with another type, gets a trapping stub instead (one per
/// name and type, named `signature_mismatch:NAME` in the name section) and a warning; a file
/// that only takes an undefined function's address is not checked. A mismatch with a
/// function the linker defines, or between undefined references only, is an error.
fn check_types(inputs: &[Object<'_>], db: &mut SymbolDb<'_>) -> Result<(), LinkError> {
    let mut stubs: HashMap<(u32, FuncType), u32> = HashMap::new();
    for (i, obj) in inputs.iter().enumerate() {
        let mut called: Vec<bool> = Vec::new();
        let nimp = obj.num_imported_funcs();
        for (j, sym) in obj.symbols.iter().enumerate() {
            let SymbolKind::Function(idx) = sym.kind else {
                continue;
            };
            let Some(&sid) = db.inputs[i].syms.get(j) else {
                continue;
            };
            let s = &db.syms[sid as usize];
            // What this file says the type is, and where a stub takes its type from.
            let (have, source) = if sym.is_undefined() {
                let pos = db.inputs[i].func_imports.get(idx as usize).copied();
                let have = pos
                    .and_then(|p| obj.imports.get(p as usize))
                    .and_then(|imp| match imp.kind {
                        ImportKind::Func(t) => obj.types.get(t as usize),
                        _ => None,
                    });
                match (have, pos) {
                    (Some(have), Some(pos)) => (have, Stub::Import(pos)),
                    _ => continue,
                }
            } else {
                // A definition that lost to another input's (weak, or a later copy).
                let Some(index) = idx.checked_sub(nimp) else {
                    continue;
                };
                let own = Def::Func {
                    input: i as u32,
                    index,
                };
                if sym.is_local()
                    || s.def == own
                    || !matches!(s.def, Def::Func { .. })
                    || flag(&db.discarded[i].funcs, index)
                {
                    continue;
                }
                let Some(f) = obj.funcs.get(index as usize) else {
                    continue;
                };
                let Some(have) = obj.types.get(f.type_index as usize) else {
                    continue;
                };
                (have, Stub::Type(f.type_index))
            };
            let want = match s.def {
                Def::Func { .. } => func_type(inputs, db, sid).cloned(),
                Def::Linker(l) => linker_func_type(db, l),
                // Undefined: every direct call must agree with the first reference (whose
                // type the import or stub gets).
                Def::Undefined => func_type(inputs, db, sid).cloned(),
                _ => None,
            };
            let Some(want) = want else { continue };
            if *have == want {
                continue;
            }
            let def_file = match s.def {
                Def::Linker(_) => "the linker".to_string(),
                _ => inputs
                    .get(s.file as usize)
                    .map(|o| o.path.clone())
                    .unwrap_or_default(),
            };
            let undefined_only = s.def.is_undefined();
            if matches!(s.def, Def::Linker(_)) || undefined_only {
                if undefined_only && !directly_called(obj, &mut called, j) {
                    continue;
                }
                let first = match s.import {
                    Some((f, _)) if undefined_only => inputs
                        .get(f as usize)
                        .map(|o| o.path.clone())
                        .unwrap_or_default(),
                    _ => def_file,
                };
                return Err(LinkError::TypeMismatch {
                    name: s.name.to_string(),
                    first_type: show_type(&want),
                    first,
                    second_type: show_type(have),
                    second: obj.path.clone(),
                });
            }
            if matches!(source, Stub::Import(_)) && !directly_called(obj, &mut called, j) {
                continue;
            }
            // wasm-ld's wording and order: this file's type first, then the definition's.
            db.warnings.push(format!(
                "function signature mismatch: {}\n>>> defined as {} in {}\n>>> defined as {} in {}",
                s.name,
                lld_type(have),
                obj.path,
                lld_type(&want),
                def_file,
            ));
            let stub = match stubs.get(&(sid, have.clone())) {
                Some(&stub) => stub,
                None => {
                    let (import, stub_type) = match source {
                        Stub::Import(pos) => (Some((i as u32, pos)), None),
                        Stub::Type(t) => (None, Some((i as u32, t))),
                    };
                    let stub = Sym {
                        def: Def::Undefined,
                        file: i as u32,
                        weak_def: false,
                        strong_ref: false,
                        local: true,
                        hidden: true,
                        exported: false,
                        no_strip: false,
                        tls: false,
                        import,
                        explicit_import: false,
                        stub_type,
                        ..s.clone()
                    };
                    db.syms.push(stub);
                    let id = (db.syms.len() - 1) as u32;
                    stubs.insert((sid, have.clone()), id);
                    id
                }
            };
            db.inputs[i].syms[j] = stub;
        }
    }
    Ok(())
}

/// Where a signature-mismatch stub's type comes from.
#[derive(Copy, Clone)]
enum Stub {
    /// The referencing file's function import (position in `Object::imports`).
    Import(u32),
    /// The losing definition's type index.
    Type(u32),
}

/// What garbage collection keeps.
#[derive(Clone, Debug, Default)]
pub(crate) struct Live {
    pub funcs: Vec<Vec<bool>>,
    pub segs: Vec<Vec<bool>>,
    pub globals: Vec<Vec<bool>>,
    pub syms: Vec<bool>,
    /// Symbols exported by name (`SYM_EXPORTED`, `LinkOptions::exports`, the entry).
    pub exported: Vec<bool>,
    /// The entry function's symbol.
    pub entry: Option<u32>,
    /// Some input has init functions.
    pub has_ctors: bool,
}

#[derive(Copy, Clone)]
enum Work {
    Func(u32, u32),
    Seg(u32, u32),
}

struct Marker<'x, 'a> {
    inputs: &'x [Object<'a>],
    db: &'x SymbolDb<'a>,
    live: Live,
    /// Per input, its functions and segments marked live whose relocations are not visited
    /// yet.
    pending: Vec<Vec<Work>>,
    /// The inputs with pending work, each once.
    pending_inputs: Vec<u32>,
    /// Inputs something live comes from; their init functions and retained segments are
    /// roots.
    input_live: Vec<bool>,
    /// Inputs that became live and whose roots are not marked yet.
    new_inputs: Vec<u32>,
}

impl Marker<'_, '_> {
    fn symbol(&mut self, sid: u32) {
        let Some(flag) = self.live.syms.get_mut(sid as usize) else {
            return;
        };
        if *flag {
            return;
        }
        *flag = true;
        let def = self.db.syms[sid as usize].def;
        if let Def::Func { input, .. } | Def::Data { input, .. } | Def::Global { input, .. } = def {
            self.input(input);
        }
        match def {
            Def::Func { input, index } => self.func(input, index),
            Def::Data { input, segment, .. } => self.seg(input, segment),
            Def::Global { input, index } => {
                if let Some(g) = self
                    .live
                    .globals
                    .get_mut(input as usize)
                    .and_then(|v| v.get_mut(index as usize))
                {
                    *g = true;
                }
            }
            _ => {}
        }
    }

    /// Makes input `input` live (once).
    fn input(&mut self, input: u32) {
        if let Some(l) = self.input_live.get_mut(input as usize)
            && !*l
        {
            *l = true;
            self.new_inputs.push(input);
        }
    }

    /// The roots a live input brings: its retained segments and init functions (those not in
    /// a discarded comdat member).
    fn input_roots(&mut self, input: u32) -> Result<(), LinkError> {
        let obj = &self.inputs[input as usize];
        let discarded = &self.db.discarded[input as usize];
        for (j, seg) in obj.segments.iter().enumerate() {
            if seg.flags & SEG_RETAIN != 0 && !flag(&discarded.segs, j as u32) {
                self.seg(input, j as u32);
            }
        }
        let nimp = obj.num_imported_funcs();
        for (k, init) in obj.init_funcs.iter().enumerate() {
            let in_dropped = match obj.symbols.get(init.symbol as usize) {
                Some(sym) if !sym.is_undefined() => match sym.kind {
                    SymbolKind::Function(f) => f
                        .checked_sub(nimp)
                        .is_some_and(|f| flag(&discarded.funcs, f)),
                    _ => false,
                },
                _ => false,
            };
            if in_dropped {
                continue;
            }
            let sid = self.input_symbol(input, init.symbol, &|| format!("init function {k}"))?;
            if self.db.syms[sid as usize].kind != SymKind::Function {
                return Err(bad(
                    obj,
                    format!(
                        "init function {k} names `{}`, which is not a function",
                        self.db.syms[sid as usize].name
                    ),
                ));
            }
            self.live.has_ctors = true;
        }
        Ok(())
    }

    fn func(&mut self, input: u32, index: u32) {
        if let Some(f) = self
            .live
            .funcs
            .get_mut(input as usize)
            .and_then(|v| v.get_mut(index as usize))
            && !*f
        {
            *f = true;
            self.push_work(input, Work::Func(input, index));
        }
    }

    fn seg(&mut self, input: u32, index: u32) {
        if let Some(f) = self
            .live
            .segs
            .get_mut(input as usize)
            .and_then(|v| v.get_mut(index as usize))
            && !*f
        {
            *f = true;
            self.push_work(input, Work::Seg(input, index));
        }
    }

    fn push_work(&mut self, input: u32, w: Work) {
        let list = &mut self.pending[input as usize];
        if list.is_empty() {
            self.pending_inputs.push(input);
        }
        list.push(w);
    }

    fn input_symbol(
        &mut self,
        input: u32,
        index: u32,
        what: &dyn Fn() -> String,
    ) -> Result<u32, LinkError> {
        let obj = &self.inputs[input as usize];
        let sid = *self.db.inputs[input as usize]
            .syms
            .get(index as usize)
            .ok_or_else(|| {
                bad(
                    obj,
                    format!(
                        "{} refers to symbol {index}, but there are {}",
                        what(),
                        obj.symbols.len()
                    ),
                )
            })?;
        self.symbol(sid);
        Ok(sid)
    }

    /// Marks until nothing new is reached. Each round takes all pending work: the
    /// relocations of its functions and segments are read in parallel, each reached symbol
    /// reported once (the `seen` bit set), and the reached symbols are then marked in order.
    fn run(&mut self) -> Result<(), LinkError> {
        let seen: Vec<AtomicU64> = (0..self.db.syms.len().div_ceil(64))
            .map(|_| AtomicU64::new(0))
            .collect();
        let mut batch: Vec<Work> = Vec::new();
        loop {
            if let Some(input) = self.new_inputs.pop() {
                self.input_roots(input)?;
                continue;
            }
            if self.pending_inputs.is_empty() {
                break;
            }
            // Input by input in input order: each object's functions and relocations are
            // then read together rather than at random.
            let mut inputs = std::mem::take(&mut self.pending_inputs);
            inputs.sort_unstable();
            batch.clear();
            for input in inputs {
                batch.append(&mut self.pending[input as usize]);
            }
            let this: &Self = self;
            let reached: Vec<Result<Vec<u32>, LinkError>> = batch
                .par_chunks(256)
                .map(|chunk| {
                    let mut out = Vec::new();
                    for &w in chunk {
                        this.reached(w, &seen, &mut out)?;
                    }
                    Ok(out)
                })
                .collect();
            for sids in reached {
                for sid in sids? {
                    self.symbol(sid);
                }
            }
        }
        Ok(())
    }

    /// Adds to `out` the symbols the relocations of a live function or segment reach that
    /// no call has reported yet.
    fn reached(&self, w: Work, seen: &[AtomicU64], out: &mut Vec<u32>) -> Result<(), LinkError> {
        let (input, n, relocs, what): (u32, u32, &[crate::object::Reloc], &str) = match w {
            Work::Func(i, j) => (
                i,
                j,
                self.inputs[i as usize].func_relocs(j as usize),
                "function",
            ),
            Work::Seg(i, j) => (
                i,
                j,
                self.inputs[i as usize].segment_relocs(j as usize),
                "segment",
            ),
        };
        let syms = &self.db.inputs[input as usize].syms;
        for r in relocs {
            if r.ty == RelocType::TypeIndexLeb {
                continue;
            }
            let Some(&sid) = syms.get(r.index as usize) else {
                let obj = &self.inputs[input as usize];
                return Err(bad(
                    obj,
                    format!(
                        "relocation at offset {} in {what} {n} refers to symbol {}, but there are {}",
                        r.offset,
                        r.index,
                        obj.symbols.len()
                    ),
                ));
            };
            let Some(word) = seen.get(sid as usize / 64) else {
                continue;
            };
            let bit = 1u64 << (sid % 64);
            if word.load(Ordering::Relaxed) & bit == 0
                && word.fetch_or(bit, Ordering::Relaxed) & bit == 0
            {
                out.push(sid);
            }
        }
        Ok(())
    }
}

/// Whether `--export-all` / `--export-dynamic` export `sym`, as wasm-ld's
/// `Symbol::isExported`: defined, not local, not hidden for `--export-dynamic`; never TLS
/// data or sections; the linker's mutable globals only with the mutable-globals feature.
fn exported_by_option(sym: &Sym<'_>, opts: &LinkOptions) -> bool {
    if sym.local || sym.def.is_undefined() || sym.kind == SymKind::Section || sym.tls {
        return false;
    }
    // The linker's mutable globals only when the output may export mutable globals (wasm-ld
    // 22: otherwise `--export-all` would need a feature no input asked for).
    match sym.def {
        Def::Linker(LinkerSym::TagName(_)) => return false,
        // An imported table is not a definition (`--import-table`).
        Def::Linker(LinkerSym::Table) if opts.import_table => return false,
        Def::Linker(LinkerSym::StackPointer | LinkerSym::TlsBase)
            if !opts.features.mutable_globals =>
        {
            return false;
        }
        _ => {}
    }
    // Linker symbols are hidden, except `__stack_pointer` (whatever the references say).
    let hidden = match sym.def {
        Def::Linker(LinkerSym::StackPointer) => false,
        Def::Linker(_) => true,
        _ => {
            sym.hidden
                || matches!(
                    sym.name,
                    "__table_base" | "__wasm_first_page_end" | "__memory_base"
                )
        }
    };
    opts.export_all || (opts.export_dynamic && !hidden)
}

/// Garbage collection, then the undefined-symbol check. `lazy_member[i]` says input `i`
/// is an archive member loaded on demand: its init functions and retained segments are roots
/// only once one of its symbols is live (every other input's are roots from the start).
pub(crate) fn mark_live(
    inputs: &[Object<'_>],
    db: &SymbolDb<'_>,
    lazy_member: &[bool],
    opts: &LinkOptions,
) -> Result<Live, LinkError> {
    let mut m = Marker {
        inputs,
        db,
        live: Live {
            funcs: inputs.iter().map(|o| vec![false; o.funcs.len()]).collect(),
            segs: inputs
                .iter()
                .map(|o| vec![false; o.segments.len()])
                .collect(),
            globals: inputs
                .iter()
                .map(|o| vec![false; o.globals.len()])
                .collect(),
            syms: vec![false; db.syms.len()],
            exported: vec![false; db.syms.len()],
            entry: None,
            has_ctors: false,
        },
        pending: vec![Vec::new(); inputs.len()],
        pending_inputs: Vec::new(),
        input_live: vec![false; inputs.len()],
        new_inputs: Vec::new(),
    };
    for (i, obj) in inputs.iter().enumerate() {
        let input = i as u32;
        let discarded = &db.discarded[i];
        if !opts.gc {
            for j in 0..obj.funcs.len() {
                if !flag(&discarded.funcs, j as u32) {
                    m.func(input, j as u32);
                }
            }
            for j in 0..obj.segments.len() {
                if !flag(&discarded.segs, j as u32) {
                    m.seg(input, j as u32);
                }
            }
            for (j, g) in m.live.globals[i].iter_mut().enumerate() {
                *g = !flag(&discarded.globals, j as u32);
            }
        }
        if !opts.gc || !lazy_member.get(i).copied().unwrap_or(false) {
            m.input(input);
        }
        for (j, sym) in obj.symbols.iter().enumerate() {
            if sym.flags & (SYM_EXPORTED | SYM_NO_STRIP) != 0 {
                let sid = db.inputs[i].syms[j];
                m.symbol(sid);
                if sym.flags & SYM_EXPORTED != 0 {
                    m.live.exported[sid as usize] = true;
                }
            }
        }
        let nimp = obj.num_imported_funcs();
        for (name, idx) in &obj.exports {
            let index = idx
                .checked_sub(nimp)
                .filter(|&k| (k as usize) < obj.funcs.len())
                .ok_or_else(|| {
                    bad(
                        obj,
                        format!(
                            "export `{name}` names function {idx}, which is not a defined function"
                        ),
                    )
                })?;
            if !flag(&discarded.funcs, index) {
                m.input(input);
                m.func(input, index);
            }
        }
    }
    for name in &opts.export_if_defined {
        if let Some(&sid) = db.globals.get(name.as_str())
            && !db.syms[sid as usize].def.is_undefined()
        {
            m.symbol(sid);
            m.live.exported[sid as usize] = true;
        }
    }
    if opts.export_all || opts.export_dynamic {
        for &sid in db.globals.values() {
            if exported_by_option(&db.syms[sid as usize], opts) {
                m.symbol(sid);
                m.live.exported[sid as usize] = true;
            }
        }
    }
    for name in &opts.exports {
        let sid = *db
            .globals
            .get(name.as_str())
            .ok_or_else(|| LinkError::NotDefined {
                what: "exported symbol",
                name: name.clone(),
            })?;
        if db.syms[sid as usize].def.is_undefined() {
            return Err(LinkError::NotDefined {
                what: "exported symbol",
                name: name.clone(),
            });
        }
        m.symbol(sid);
        m.live.exported[sid as usize] = true;
    }
    if let Some(entry) = &opts.entry {
        let sid = db
            .globals
            .get(entry.as_str())
            .copied()
            .filter(|&s| {
                let s = &db.syms[s as usize];
                s.kind == SymKind::Function && matches!(s.def, Def::Func { .. })
            })
            .ok_or_else(|| LinkError::NotDefined {
                what: "entry symbol",
                name: entry.clone(),
            })?;
        m.symbol(sid);
        m.live.exported[sid as usize] = true;
        m.live.entry = Some(sid);
    }
    // The command-export wrappers call libc's `__wasm_call_dtors`: a root when defined and
    // nothing calls `__wasm_call_ctors` itself (wasm-ld's rule).
    if !ctors_called(db, opts)
        && let Some(&sid) = db.globals.get(CALL_DTORS)
        && matches!(db.syms[sid as usize].def, Def::Func { .. })
    {
        m.symbol(sid);
    }
    m.run()?;
    let live = m.live;

    let mut undefined = Vec::new();
    for (sid, sym) in db.syms.iter().enumerate() {
        if !live.syms[sid] || !sym.def.is_undefined() {
            continue;
        }
        let importable = sym.explicit_import || opts.import_undefined;
        let ignore = opts.unresolved_symbols == UnresolvedSymbols::IgnoreAll;
        let ok = match sym.kind {
            // A name only the linker made (`__wrap_NAME` nothing has) has nothing to import.
            SymKind::Function if sym.import.is_none() && sym.stub_type.is_none() => {
                sym.is_weak_undefined()
            }
            SymKind::Function => {
                sym.is_weak_undefined()
                    || ignore
                    || (importable && !sym.name.starts_with(TAG_NAME_PREFIX))
            }
            SymKind::Data => sym.is_weak_undefined() || ignore,
            SymKind::Global | SymKind::Table => importable && sym.import.is_some(),
            SymKind::Section => true,
        };
        if !ok {
            undefined.push(UndefinedSymbol {
                name: sym.name.to_string(),
                referenced_by: referencing_files(inputs, db, sid as u32),
                intrinsic: intrinsic_use(inputs, db, sid as u32),
            });
        }
    }
    if !undefined.is_empty() {
        return Err(LinkError::Undefined(undefined));
    }
    Ok(live)
}

/// What garbage collection removed, as wasm-ld's `--print-gc-sections` prints it: for each
/// input in order, its dead functions, data segments and globals (`removing unused section
/// FILE:(NAME)`, NAME from the defining symbol, or the segment's name). Members of comdat
/// groups another input keeps are not listed (they were never part of the link).
pub(crate) fn gc_report(inputs: &[Object<'_>], db: &SymbolDb<'_>, live: &Live) -> Vec<String> {
    let mut out = Vec::new();
    for (i, obj) in inputs.iter().enumerate() {
        let discarded = &db.discarded[i];
        let nfunc = obj.num_imported_funcs();
        let nglob = obj.num_imported_globals();
        let name_of = |kind: &dyn Fn(&SymbolKind) -> bool| {
            obj.symbols
                .iter()
                .find(|s| !s.is_undefined() && kind(&s.kind))
                .map(|s| s.name.to_string())
        };
        for j in 0..obj.funcs.len() {
            if live.funcs[i][j] || flag(&discarded.funcs, j as u32) {
                continue;
            }
            let index = nfunc + j as u32;
            let name = name_of(&|k| *k == SymbolKind::Function(index))
                .unwrap_or_else(|| format!("function {index}"));
            out.push(format!("removing unused section {}:({name})", obj.path));
        }
        for (j, seg) in obj.segments.iter().enumerate() {
            if live.segs[i][j] || flag(&discarded.segs, j as u32) {
                continue;
            }
            out.push(format!(
                "removing unused section {}:({})",
                obj.path, seg.name
            ));
        }
        for j in 0..obj.globals.len() {
            if live.globals[i][j] || flag(&discarded.globals, j as u32) {
                continue;
            }
            let index = nglob + j as u32;
            let name = name_of(&|k| *k == SymbolKind::Global(index))
                .unwrap_or_else(|| format!("global {index}"));
            out.push(format!("removing unused section {}:({name})", obj.path));
        }
    }
    out
}

/// When IR lowering made `sid` the runtime function of an intrinsic: the intrinsic and the
/// IR functions that call it (`@name in FILE`, from the call relocations).
fn intrinsic_use(inputs: &[Object<'_>], db: &SymbolDb<'_>, sid: u32) -> Option<IntrinsicUse> {
    let mut intrinsic = None;
    let mut callers = Vec::new();
    for (i, obj) in inputs.iter().enumerate() {
        for &(sym, name) in &obj.intrinsics {
            if db.inputs[i].syms.get(sym as usize) != Some(&sid) {
                continue;
            }
            intrinsic.get_or_insert(name);
            let nimp = obj.num_imported_funcs();
            for (j, f) in obj.funcs.iter().enumerate() {
                if !obj
                    .relocs_in(f.relocs)
                    .iter()
                    .any(|r| r.ty == RelocType::FunctionIndexLeb && r.index == sym)
                {
                    continue;
                }
                let index = nimp + j as u32;
                let fname = obj
                    .symbols
                    .iter()
                    .find(|s| !s.is_undefined() && s.kind == SymbolKind::Function(index))
                    .map_or_else(|| format!("function {index}"), |s| format!("@{}", s.name));
                callers.push(format!("{fname} in {}", obj.path));
            }
        }
    }
    Some(IntrinsicUse {
        intrinsic: intrinsic?.to_string(),
        callers,
    })
}

/// The inputs holding an undefined reference to `sid`, in input order.
fn referencing_files(inputs: &[Object<'_>], db: &SymbolDb<'_>, sid: u32) -> Vec<String> {
    let mut files = Vec::new();
    for (i, obj) in inputs.iter().enumerate() {
        let refs = obj
            .symbols
            .iter()
            .zip(&db.inputs[i].syms)
            .any(|(s, &id)| id == sid && s.is_undefined());
        if refs {
            files.push(obj.path.clone());
        }
    }
    files
}

#[cfg(test)]
mod names_tests {
    use super::{Names, table_of};
    use indexmap::IndexMap;

    /// The tables against an `IndexMap` model, with one table and with four: lookups,
    /// replacement, growth from a small start, names whose hashes share their first slot,
    /// and the order of `values` across tables.
    #[test]
    fn names_behave_as_an_index_map() {
        let owned: Vec<String> = (0..5000).map(|i| format!("sym_{}", i % 3700)).collect();
        for bits in [0, 2] {
            let mut names = Names::new(bits);
            let mut model: IndexMap<&str, u32> = IndexMap::new();
            for (i, name) in owned.iter().enumerate() {
                names.insert(name, i as u32);
                model.insert(name, i as u32);
                let t = &names.tables[table_of(Names::hash(name), bits)];
                assert!(t.slots.len() >= 2 * t.entries.len());
            }
            for name in &owned {
                assert_eq!(names.get(name), model.get(name.as_str()));
            }
            assert!(!names.contains_key("sym_3700"));
            let ours: Vec<u32> = names.values().copied().collect();
            let theirs: Vec<u32> = model.values().copied().collect();
            assert_eq!(ours, theirs);
            let used = names
                .tables
                .iter()
                .filter(|t| !t.entries.is_empty())
                .count();
            assert_eq!(used, 1 << bits, "every table holds some names");
        }
        // A default (empty) set finds nothing and takes insertions.
        let mut empty = Names::default();
        assert!(!empty.contains_key("a"));
        empty.insert("a", 7);
        assert_eq!(empty.get("a"), Some(&7));
        // Every name in one table of 16 slots lands on a few home slots; probing finds them.
        let mut small = Names::new(0);
        for (i, name) in owned[..7].iter().enumerate() {
            small.insert(name, i as u32);
        }
        for (i, name) in owned[..7].iter().enumerate() {
            assert_eq!(small.get(name), Some(&(i as u32)));
        }
    }
}
