//! Writing the module: every section's size is computed first, then function bodies, data
//! and custom sections are copied and their relocations patched in place; a written size
//! other than the computed one is a [`LinkError::Internal`]. (The small sections before the
//! code section and after the custom ones are encoded first and copied.) The module goes
//! into one buffer allocated at its final size, or (the command line) straight into the
//! output file, the code and custom sections in parallel runs at their offsets, so the
//! whole module is never in memory ([`Writer`]); both give the same bytes. The data section
//! is built whole while the code section is written.
//!
//! Section order (wasm-ld's): type, import, function, table, memory, global, export, start,
//! elem, datacount, code, data, the inputs' custom sections (concatenated per name in input
//! order; `.debug_str`, `.debug_str.dwo`, `.debug_line_str` string-merged as wasm-ld at -O1;
//! `.debug_*` dropped by `--strip-debug`/`--strip-all`; `.llvmbc`/`.llvmcmd` dropped), then
//! `name` (functions, globals, data segments), `producers` (merged from the inputs, see
//! `custom`) and `target_features` (all three dropped by `--strip-all`), and `build_id`.
//!
//! Data segments: all but `.bss*` are written (active, `i32.const` offsets; no DataCount
//! section, which wasm-ld writes only for the passive segments of shared memory). With
//! `--shared-memory` they are passive (with a DataCount section) and the memory is shared;
//! `__wasm_init_memory` initializes them. With an imported
//! memory, `.bss` is zeroed by `__wasm_init_memory` (bulk memory) or written as zeros.
//!
//! Relocations 0 to 26 are applied with the values wasm-ld 22 writes
//! (`ObjFile::calcNewValue`), except 10 (tags: not supported, an error naming the type, the
//! file and the offset): function index, table slot (0 for none; `_REL` ones minus
//! `__table_base` = 1), addresses (0 for undefined data; `_REL` ones relative to
//! `__memory_base` = 0; TLS ones relative to `__tls_base` for thread-local symbols;
//! `LOCREL` minus the patched word's address), type index, global index (for data and
//! function symbols: their internal GOT global), function code offsets (after the body's
//! size), section offsets (through the string map for merged sections), table number. In 64-bit
//! encodings too. A relocation against a symbol garbage collection dropped (its function,
//! segment or global is gone) can only come from a custom section and gets wasm-ld's
//! tombstone: -2 in `.debug_ranges`/`.debug_loc`, -1 in other `.debug_*` and
//! `llvm.func_attr.*`, the addend elsewhere.

use std::borrow::Cow;

use indexmap::IndexMap;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use wasm_encoder::{
    ConstExpr, DataCountSection, EntityType, ExportSection, GlobalSection, GlobalType, HeapType,
    ImportSection, MemorySection, MemoryType, NameMap, NameSection, RawSection, RefType, Section,
    StartSection, TableSection, TableType, TypeSection,
};

use super::custom;
use super::layout::{Chunk, Layout, NONE, OutFunc, OutGlobal, OutImportKind};
use super::merge::{self, PieceMap};
use super::resolve::{Def, LinkerSym, SymKind, SymbolDb, bad};
use super::synth::Synth;
use super::{LinkError, LinkOptions};
use crate::object::{
    self, ConstExpr as ObjConst, Object, Reloc, RelocType, SegmentData, ValType, put_sleb, put_uleb,
};

fn val_type(t: ValType) -> wasm_encoder::ValType {
    match t {
        ValType::I32 => wasm_encoder::ValType::I32,
        ValType::I64 => wasm_encoder::ValType::I64,
        ValType::F32 => wasm_encoder::ValType::F32,
        ValType::F64 => wasm_encoder::ValType::F64,
        ValType::V128 => wasm_encoder::ValType::V128,
        ValType::FuncRef => wasm_encoder::ValType::Ref(RefType::FUNCREF),
        ValType::ExternRef => wasm_encoder::ValType::Ref(RefType::EXTERNREF),
    }
}

fn ref_type(t: ValType) -> RefType {
    if t == ValType::ExternRef {
        RefType::EXTERNREF
    } else {
        RefType::FUNCREF
    }
}

fn uleb_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Writes `v` as an unsigned LEB128 at the start of `buf` (long enough: [`uleb_len`]);
/// returns its length.
fn write_uleb(buf: &mut [u8], mut v: u64) -> usize {
    let mut n = 0;
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let more = v != 0;
        buf[n] = byte | if more { 0x80 } else { 0 };
        n += 1;
        if !more {
            return n;
        }
    }
}

/// Where the module goes: into memory, or straight into a file (the command line), so the
/// whole module is never held at once. Serial parts are staged in `buf`; in file mode `buf`
/// is written out ([`Writer::flush`]) before each parallel part and whenever it grows large,
/// and the parallel parts write each run of items at its own offset from worker threads.
struct Writer<'f> {
    /// Bytes not yet in the file; in memory mode the whole module.
    buf: Vec<u8>,
    file: Option<&'f std::fs::File>,
    /// Bytes already written to the file.
    flushed: u64,
}

/// In file mode, staged bytes beyond this are written out between items (under test, a
/// few bytes, so that the tests cross every flush point).
const FLUSH_AT: usize = if cfg!(test) { 64 } else { 1 << 20 };

impl Writer<'_> {
    /// Bytes written so far (staged included).
    fn position(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    /// File mode: writes the staged bytes out.
    fn flush(&mut self) -> Result<(), LinkError> {
        if let Some(file) = self.file
            && !self.buf.is_empty()
        {
            write_at(file, &self.buf, self.flushed)?;
            self.flushed += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// File mode: writes the staged bytes out once there are many.
    fn flush_if_large(&mut self) -> Result<(), LinkError> {
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }
}

fn write_at(file: &std::fs::File, bytes: &[u8], offset: u64) -> Result<(), LinkError> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
        .map_err(|e| LinkError::Write(e.to_string()))
}

/// The parallel parts are cut into this many runs of consecutive items. In file mode each
/// run is one `pwrite` from a worker thread: fewer, larger writes contend less for the file's
/// lock than many small ones (measured on ext4 with 2 threads: 256 runs made emitting
/// `many` and `large` about a fifth slower than 32).
const RUNS: usize = 32;

/// Appends items `0..n` back to back, `len(k)` bytes each, filled by `write` in parallel
/// (copying a chunk and applying its relocations touches only its own bytes). The items are
/// cut into [`RUNS`] runs of consecutive items, one task each, so nothing is allocated per
/// item; in file mode each task fills one buffer per worker and writes it at the run's
/// offset. The first error in item order is returned, so failures are deterministic.
fn write_parallel(
    w: &mut Writer<'_>,
    n: usize,
    len: impl Fn(usize) -> usize + Sync,
    write: impl Fn(usize, &mut [u8]) -> Result<(), LinkError> + Sync,
) -> Result<(), LinkError> {
    let per_run = n.div_ceil(RUNS).max(16);
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    let mut total = 0;
    for first in (0..n).step_by(per_run) {
        let end = (first + per_run).min(n);
        let bytes: usize = (first..end).map(&len).sum();
        runs.push((first, end, bytes));
        total += bytes;
    }
    let fill = |&(first, end, _): &(usize, usize, usize), mut buf: &mut [u8]| {
        for k in first..end {
            let (slot, tail) = std::mem::take(&mut buf).split_at_mut(len(k));
            if let Err(e) = write(k, slot) {
                return Some((k, e));
            }
            buf = tail;
        }
        None
    };
    let first_error = if let Some(file) = w.file {
        w.flush()?;
        let mut offsets = Vec::with_capacity(runs.len());
        let mut at = w.flushed;
        for &(_, _, bytes) in &runs {
            offsets.push(at);
            at += bytes as u64;
        }
        w.flushed = at;
        runs.par_iter()
            .zip(offsets)
            .map_init(Vec::new, |buf, (run, offset)| {
                // `fill` writes every byte of the run, so the buffer is zeroed only when it
                // grows, not per run.
                if buf.len() < run.2 {
                    buf.resize(run.2, 0);
                }
                let buf = &mut buf[..run.2];
                if let Some(failed) = fill(run, buf) {
                    return Some(failed);
                }
                write_at(file, buf, offset).err().map(|e| (run.0, e))
            })
            .flatten()
            .min_by_key(|(k, _)| *k)
    } else {
        let out = &mut w.buf;
        let start = out.len();
        out.resize(start + total, 0);
        let mut rest = &mut out[start..];
        let mut slices = Vec::with_capacity(runs.len());
        for &(_, _, bytes) in &runs {
            let (run, tail) = std::mem::take(&mut rest).split_at_mut(bytes);
            slices.push(run);
            rest = tail;
        }
        runs.par_iter()
            .zip(slices)
            .filter_map(|(run, buf)| fill(run, buf))
            .min_by_key(|(k, _)| *k)
    };
    match first_error {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

fn internal(msg: &str) -> LinkError {
    LinkError::Internal(msg.to_string())
}

/// Where a chunk being patched lives.
#[derive(Copy, Clone)]
enum Place<'n> {
    Code(u32),
    Data { index: u32, addr: u64 },
    Custom { name: &'n str },
}

struct Patcher<'x, 'a> {
    inputs: &'x [Object<'a>],
    db: &'x SymbolDb<'a>,
    layout: &'x Layout<'a>,
    /// Offset of each defined output function's body in the code section payload.
    func_offsets: Vec<u64>,
    /// Per input, per custom section: offset in its merged output section.
    custom_offsets: Vec<Vec<u64>>,
    /// Custom sections whose strings were merged: (input, custom) -> position in
    /// `piece_maps`, which says where their strings went.
    custom_pieces: FxHashMap<(u32, u32), u32>,
    piece_maps: Vec<PieceMap>,
    /// Per input, per input symbol: the values the common relocations of code and data
    /// need, found once per symbol instead of once per relocation ([`Target`]).
    targets: Vec<Vec<Target>>,
}

/// What the common relocations of code and data against one symbol resolve to, when they
/// resolve without error: [`Patcher::apply`] takes these values directly and leaves every
/// other case (other relocation types, custom sections, symbols of another kind, dead or
/// without an index, TLS) to the general path, which also reports the errors.
#[derive(Clone, Copy)]
struct Target {
    kind: SymKind,
    /// Function or global index; `NONE` when the general path must decide.
    index: u32,
    /// A function's table slot (0: none); `NONE` when the general path must decide.
    slot: u32,
    /// Data: the address relocations add their addend to.
    addr: u64,
    /// Data: [`DATA_ADDR`] (`addr` plus the addend), [`DATA_ZERO`] (undefined: 0) or
    /// [`DATA_GENERAL`]. Sections: [`DATA_ADDR`] with `addr` the section's offset in its
    /// output section (not string-merged), or [`DATA_MERGED`] with `addr` the position of
    /// its string map in [`Patcher::piece_maps`] (the addend is an offset to translate).
    data: u8,
    /// A function's body offset in the code section (`FUNCTION_OFFSET`); `u64::MAX`: none.
    code_offset: u64,
}

const DATA_GENERAL: u8 = 0;
const DATA_ADDR: u8 = 1;
const DATA_ZERO: u8 = 2;
const DATA_MERGED: u8 = 3;

impl Target {
    const GENERAL: Target = Target {
        kind: SymKind::Section,
        index: NONE,
        slot: NONE,
        addr: 0,
        data: DATA_GENERAL,
        code_offset: u64::MAX,
    };
}

impl Patcher<'_, '_> {
    /// The fast-path values of input `input`'s symbol `j` (see [`Target`]).
    fn target(&self, input: usize, j: usize) -> Target {
        let Some(&sid) = self.db.inputs[input].syms.get(j) else {
            return Target::GENERAL;
        };
        let sym = &self.db.syms[sid as usize];
        if let Def::Section { input, index } = sym.def
            && sym.kind == SymKind::Section
        {
            // Always live.
            if let Some(&map) = self.custom_pieces.get(&(input, index)) {
                return Target {
                    kind: SymKind::Section,
                    addr: u64::from(map),
                    data: DATA_MERGED,
                    ..Target::GENERAL
                };
            }
            return match self
                .custom_offsets
                .get(input as usize)
                .and_then(|v| v.get(index as usize))
            {
                Some(&addr) => Target {
                    kind: SymKind::Section,
                    addr,
                    data: DATA_ADDR,
                    ..Target::GENERAL
                },
                None => Target::GENERAL,
            };
        }
        if !self.is_live(sid) {
            return Target::GENERAL;
        }
        let mut t = Target {
            kind: sym.kind,
            ..Target::GENERAL
        };
        match sym.kind {
            SymKind::Function => {
                let f = self.index(sid);
                t.index = f.unwrap_or(NONE);
                t.slot = f
                    .and_then(|f| self.layout.func_slot.get(f as usize).copied())
                    .unwrap_or(0);
                t.code_offset = f
                    .and_then(|f| f.checked_sub(self.layout.num_func_imports))
                    .and_then(|k| self.func_offsets.get(k as usize).copied())
                    .unwrap_or(u64::MAX);
            }
            SymKind::Global => t.index = self.index(sid).unwrap_or(NONE),
            SymKind::Data if sym.def.is_undefined() => t.data = DATA_ZERO,
            SymKind::Data if !self.is_tls(sid) => {
                if let Some(a) = self.data_addr(sid) {
                    t.addr = a;
                    t.data = DATA_ADDR;
                }
            }
            _ => {}
        }
        t
    }

    fn data_addr(&self, sid: u32) -> Option<u64> {
        match self.db.syms.get(sid as usize)?.def {
            Def::Data {
                input,
                segment,
                offset,
            } => self.layout.data_address(input, segment, offset),
            Def::Undefined => Some(0),
            _ => self.layout.sym_addr.get(sid as usize).copied(),
        }
    }

    /// Whether `sid` survived garbage collection: its function, segment or global did (as
    /// wasm-ld's `Symbol::isLive`), or, for other symbols, it was reached.
    fn is_live(&self, sid: u32) -> bool {
        let l = self.layout;
        let kept = |v: &Vec<Vec<u32>>, i: u32, j: u32| {
            v.get(i as usize)
                .and_then(|x| x.get(j as usize))
                .is_some_and(|&x| x != NONE)
        };
        match self.db.syms.get(sid as usize).map(|s| s.def) {
            Some(Def::Func { input, index }) => kept(&l.input_funcs, input, index),
            Some(Def::Global { input, index }) => kept(&l.input_globals, input, index),
            Some(Def::Data { input, segment, .. }) => l
                .seg_addr
                .get(input as usize)
                .and_then(|x| x.get(segment as usize))
                .is_some_and(|&a| a != u64::MAX),
            // `__stack_pointer` is always there, as in wasm-ld 22, even when only debug
            // info names it.
            Some(Def::Linker(_)) => {
                l.live_syms.get(sid as usize).copied() == Some(true) || self.index(sid).is_some()
            }
            Some(_) => l.live_syms.get(sid as usize).copied() == Some(true),
            None => false,
        }
    }

    /// Whether a custom-section relocation against `sid` has a value (else: tombstone).
    fn custom_value(&self, r: &Reloc, sid: u32, kind: SymKind, got: bool) -> Option<()> {
        use RelocType as R;
        match r.ty {
            R::FunctionOffsetI32 | R::FunctionOffsetI64 => {
                let f = self.index(sid)?;
                let k = f.checked_sub(self.layout.num_func_imports)?;
                self.func_offsets.get(k as usize).map(|_| ())
            }
            R::GlobalIndexLeb | R::GlobalIndexI32 if got => self.layout.got.get(&sid).map(|_| ()),
            R::FunctionIndexLeb
            | R::FunctionIndexI32
            | R::GlobalIndexLeb
            | R::GlobalIndexI32
            | R::TableNumberLeb => self.index(sid).map(|_| ()),
            _ if kind == SymKind::Data => match self.db.syms.get(sid as usize)?.def {
                Def::Undefined => Some(()),
                _ => self.data_addr(sid).map(|_| ()),
            },
            _ => Some(()),
        }
    }

    /// Whether `sid` is thread-local data (by flag, or by its segment for older objects).
    fn is_tls(&self, sid: u32) -> bool {
        let Some(sym) = self.db.syms.get(sid as usize) else {
            return false;
        };
        sym.tls
            || match sym.def {
                Def::Data { input, segment, .. } => self
                    .inputs
                    .get(input as usize)
                    .and_then(|o| o.segments.get(segment as usize))
                    .is_some_and(|s| super::resolve::output_segment_name(s) == ".tdata"),
                _ => false,
            }
    }

    fn index(&self, sid: u32) -> Option<u32> {
        self.layout
            .sym_index
            .get(sid as usize)
            .copied()
            .filter(|&i| i != NONE)
    }

    /// Patches `relocs` of input `input` into `chunk`, which starts `base` bytes into its
    /// function body, segment or custom section (relocation offsets count from there; a part
    /// other than the last must hold its relocations' whole fields).
    fn apply(
        &self,
        input: u32,
        chunk: &mut [u8],
        base: usize,
        relocs: &[Reloc],
        place: Place<'_>,
    ) -> Result<(), LinkError> {
        let obj = &self.inputs[input as usize];
        // (In custom sections too: a target the fast path takes has a value, so no
        // tombstone.)
        let fast = self.targets.get(input as usize);
        let describe = |p: Place<'_>| match p {
            Place::Code(j) => format!("function {j}"),
            Place::Data { index, .. } => format!("data segment {index}"),
            Place::Custom { name } => format!("custom section `{name}`"),
        };
        for r in relocs {
            let start = (r.offset as usize).wrapping_sub(base);
            let end = start
                .checked_add(r.ty.width())
                .filter(|&e| e <= chunk.len())
                .ok_or_else(|| {
                    bad(
                        obj,
                        format!(
                            "relocation {:?} at offset {} runs past the end of {} ({} bytes)",
                            r.ty,
                            r.offset,
                            describe(place),
                            base + chunk.len()
                        ),
                    )
                })?;
            let field = &mut chunk[start..end];
            if let Some(t) = fast.and_then(|t| t.get(r.index as usize)) {
                use RelocType as R;
                let done = match r.ty {
                    R::FunctionIndexLeb if t.kind == SymKind::Function && t.index != NONE => {
                        object::write_uleb5(field, t.index);
                        true
                    }
                    R::GlobalIndexLeb if t.kind == SymKind::Global && t.index != NONE => {
                        object::write_uleb5(field, t.index);
                        true
                    }
                    R::TableIndexSleb if t.kind == SymKind::Function && t.slot != NONE => {
                        object::write_sleb5(field, t.slot as i32);
                        true
                    }
                    R::TableIndexI32 if t.kind == SymKind::Function && t.slot != NONE => {
                        field.copy_from_slice(&t.slot.to_le_bytes());
                        true
                    }
                    R::MemoryAddrLeb | R::MemoryAddrSleb | R::MemoryAddrI32
                        if t.kind == SymKind::Data && t.data != DATA_GENERAL =>
                    {
                        let v = if t.data == DATA_ZERO {
                            0
                        } else {
                            t.addr.wrapping_add(r.addend as u64) as u32
                        };
                        match r.ty {
                            R::MemoryAddrLeb => object::write_uleb5(field, v),
                            R::MemoryAddrSleb => object::write_sleb5(field, v as i32),
                            _ => field.copy_from_slice(&v.to_le_bytes()),
                        }
                        true
                    }
                    // Debug info: code offsets and offsets into other sections.
                    R::FunctionOffsetI32
                        if t.kind == SymKind::Function && t.code_offset != u64::MAX =>
                    {
                        let v = t.code_offset.wrapping_add(r.addend as u64) as u32;
                        field.copy_from_slice(&v.to_le_bytes());
                        true
                    }
                    R::SectionOffsetI32 if t.kind == SymKind::Section && t.data == DATA_ADDR => {
                        let v = t.addr.wrapping_add(r.addend as u64) as u32;
                        field.copy_from_slice(&v.to_le_bytes());
                        true
                    }
                    // An offset into merged strings (`.debug_str`): translated, or left
                    // to the general path for its tombstone.
                    R::SectionOffsetI32 if t.kind == SymKind::Section && t.data == DATA_MERGED => {
                        match self.piece_maps[t.addr as usize].translate(r.addend as u64) {
                            Some(v) => {
                                field.copy_from_slice(&(v as u32).to_le_bytes());
                                true
                            }
                            None => false,
                        }
                    }
                    _ => false,
                };
                if done {
                    continue;
                }
            }
            let unsupported = || LinkError::UnsupportedReloc {
                ty: format!("{:?} ({})", r.ty, r.ty as u8),
                file: obj.path.clone(),
                offset: r.offset,
            };
            if r.ty == RelocType::TypeIndexLeb {
                let t = self
                    .layout
                    .type_map
                    .get(input as usize)
                    .and_then(|m| m.get(r.index as usize))
                    .copied()
                    .filter(|&t| t != NONE)
                    .ok_or_else(|| bad(obj, format!("type relocation at offset {} in {} names type {}, which is not used by a live function", r.offset, describe(place), r.index)))?;
                object::write_uleb5(field, t);
                continue;
            }
            let sid = *self.db.inputs[input as usize]
                .syms
                .get(r.index as usize)
                .ok_or_else(|| {
                    bad(
                        obj,
                        format!(
                            "relocation at offset {} in {} refers to symbol {}, but there are {}",
                            r.offset,
                            describe(place),
                            r.index,
                            obj.symbols.len()
                        ),
                    )
                })?;
            let sym = &self.db.syms[sid as usize];
            use RelocType as R;
            let want = match r.ty {
                R::FunctionIndexLeb
                | R::FunctionIndexI32
                | R::TableIndexSleb
                | R::TableIndexI32
                | R::TableIndexSleb64
                | R::TableIndexI64
                | R::TableIndexRelSleb
                | R::TableIndexRelSleb64
                | R::FunctionOffsetI32
                | R::FunctionOffsetI64 => SymKind::Function,
                R::MemoryAddrLeb
                | R::MemoryAddrSleb
                | R::MemoryAddrI32
                | R::MemoryAddrLeb64
                | R::MemoryAddrSleb64
                | R::MemoryAddrI64
                | R::MemoryAddrRelSleb
                | R::MemoryAddrRelSleb64
                | R::MemoryAddrTlsSleb
                | R::MemoryAddrTlsSleb64
                | R::MemoryAddrLocrelI32 => SymKind::Data,
                R::GlobalIndexLeb | R::GlobalIndexI32 => SymKind::Global,
                R::SectionOffsetI32 => SymKind::Section,
                R::TableNumberLeb => SymKind::Table,
                R::TypeIndexLeb | R::TagIndexLeb => return Err(unsupported()),
            };
            // GLOBAL_INDEX against data or a function: its GOT entry.
            let got =
                want == SymKind::Global && matches!(sym.kind, SymKind::Data | SymKind::Function);
            if sym.kind != want && !got {
                return Err(bad(
                    obj,
                    format!(
                        "relocation {:?} at offset {} in {} names `{}`, which is not {}",
                        r.ty,
                        r.offset,
                        describe(place),
                        sym.name,
                        match want {
                            SymKind::Function => "a function",
                            SymKind::Data => "data",
                            SymKind::Global => "a global",
                            SymKind::Table => "a table",
                            SymKind::Section => "a section",
                        }
                    ),
                ));
            }
            let addend = r.addend as u64;
            let live = sym.kind == SymKind::Section || self.is_live(sid);
            // In a custom section, a symbol with no output index, code offset or address
            // (garbage-collected, or an import: `FUNCTION_OFFSET` against an undefined
            // function) gets the tombstone, as wasm-ld.
            let dead = match place {
                Place::Custom { .. } => self.custom_value(r, sid, sym.kind, got).is_none(),
                _ => false,
            };
            let value: u64 = if !live || dead {
                // Only debug info and other custom sections reach symbols garbage
                // collection dropped: wasm-ld's tombstones.
                match place {
                    Place::Custom { name } => tombstone(name).unwrap_or(addend),
                    _ => {
                        return Err(LinkError::Internal(format!(
                            "relocation against `{}`, which is not live",
                            sym.name
                        )));
                    }
                }
            } else {
                let missing = |what: &str| {
                    LinkError::Internal(format!("{what} of `{}` not assigned", sym.name))
                };
                match r.ty {
                    R::FunctionIndexLeb | R::FunctionIndexI32 | R::TableNumberLeb => {
                        u64::from(self.index(sid).ok_or_else(|| missing("index"))?)
                    }
                    R::GlobalIndexLeb | R::GlobalIndexI32 => {
                        let g = if got {
                            self.layout.got.get(&sid).copied()
                        } else {
                            self.index(sid)
                        };
                        u64::from(g.ok_or_else(|| missing("global index"))?)
                    }
                    R::TableIndexSleb
                    | R::TableIndexI32
                    | R::TableIndexSleb64
                    | R::TableIndexI64
                    | R::TableIndexRelSleb
                    | R::TableIndexRelSleb64 => {
                        let slot = self
                            .index(sid)
                            .and_then(|f| self.layout.func_slot.get(f as usize).copied())
                            .unwrap_or(0);
                        // Relative to `__table_base`, 1 in a non-PIC link.
                        if matches!(r.ty, R::TableIndexRelSleb | R::TableIndexRelSleb64) {
                            u64::from(slot).wrapping_sub(1)
                        } else {
                            u64::from(slot)
                        }
                    }
                    R::MemoryAddrLeb
                    | R::MemoryAddrSleb
                    | R::MemoryAddrI32
                    | R::MemoryAddrLeb64
                    | R::MemoryAddrSleb64
                    | R::MemoryAddrI64
                    | R::MemoryAddrRelSleb
                    | R::MemoryAddrRelSleb64
                    | R::MemoryAddrTlsSleb
                    | R::MemoryAddrTlsSleb64
                    | R::MemoryAddrLocrelI32 => {
                        if sym.def.is_undefined() {
                            0
                        } else {
                            let a = self.data_addr(sid).ok_or_else(|| missing("address"))?;
                            let mut v = a.wrapping_add(addend);
                            // `__memory_base` is 0 in a non-PIC link; TLS symbols are offsets
                            // from `__tls_base` (other symbols keep their address, as wasm-ld
                            // without shared memory).
                            if matches!(r.ty, R::MemoryAddrTlsSleb | R::MemoryAddrTlsSleb64)
                                && self.is_tls(sid)
                            {
                                v = v.wrapping_sub(self.layout.mem.tls_base);
                            }
                            if r.ty == R::MemoryAddrLocrelI32 {
                                let Place::Data { addr: base, .. } = place else {
                                    return Err(unsupported());
                                };
                                v = v.wrapping_sub(base.wrapping_add(u64::from(r.offset)));
                            }
                            v
                        }
                    }
                    R::FunctionOffsetI32 | R::FunctionOffsetI64 => {
                        let off = self
                            .index(sid)
                            .and_then(|f| f.checked_sub(self.layout.num_func_imports))
                            .and_then(|k| self.func_offsets.get(k as usize).copied())
                            .ok_or_else(|| missing("code offset"))?;
                        off.wrapping_add(addend)
                    }
                    R::SectionOffsetI32 => {
                        let merged = match sym.def {
                            Def::Section { input, index } => self
                                .custom_pieces
                                .get(&(input, index))
                                .map(|&m| &self.piece_maps[m as usize]),
                            _ => None,
                        };
                        let off = match sym.def {
                            _ if merged.is_some() => merged.and_then(|m| m.translate(addend)),
                            Def::Section { input, index } => self
                                .custom_offsets
                                .get(input as usize)
                                .and_then(|v| v.get(index as usize))
                                .copied(),
                            _ => None,
                        };
                        match (off, place) {
                            (Some(o), _) if merged.is_some() => o,
                            (Some(o), _) => o.wrapping_add(addend),
                            (None, Place::Custom { name }) => tombstone(name).unwrap_or(addend),
                            (None, _) => return Err(missing("section offset")),
                        }
                    }
                    R::TypeIndexLeb | R::TagIndexLeb => return Err(unsupported()),
                }
            };
            match r.ty {
                R::FunctionIndexLeb
                | R::MemoryAddrLeb
                | R::GlobalIndexLeb
                | R::TableNumberLeb
                | R::TypeIndexLeb
                | R::TagIndexLeb => object::write_uleb5(field, value as u32),
                R::TableIndexSleb
                | R::MemoryAddrSleb
                | R::MemoryAddrRelSleb
                | R::TableIndexRelSleb
                | R::MemoryAddrTlsSleb => object::write_sleb5(field, value as u32 as i32),
                R::TableIndexI32
                | R::MemoryAddrI32
                | R::FunctionOffsetI32
                | R::SectionOffsetI32
                | R::GlobalIndexI32
                | R::MemoryAddrLocrelI32
                | R::FunctionIndexI32 => field.copy_from_slice(&(value as u32).to_le_bytes()),
                R::MemoryAddrLeb64 => object::write_uleb10(field, value),
                R::MemoryAddrSleb64
                | R::MemoryAddrRelSleb64
                | R::TableIndexSleb64
                | R::TableIndexRelSleb64
                | R::MemoryAddrTlsSleb64 => object::write_sleb10(field, value as i64),
                R::MemoryAddrI64 | R::TableIndexI64 | R::FunctionOffsetI64 => {
                    field.copy_from_slice(&value.to_le_bytes())
                }
            }
        }
        Ok(())
    }
}

/// The inputs' custom sections that go into the output, and the strings merged in those
/// that need it (`.debug_str` and friends, as wasm-ld at -O1; only when no piece has
/// relocations).
pub(crate) struct CustomSections<'a> {
    /// By name, in order of first appearance: the pieces (input, custom section), in input
    /// order.
    by_name: IndexMap<&'a str, Vec<(u32, u32)>>,
    /// The merged sections' bytes.
    merged: Vec<(&'a str, Vec<u8>)>,
    /// Per piece (input, custom section) of a merged section: the position in `piece_maps`
    /// of the map that says where its strings went.
    pieces: FxHashMap<(u32, u32), u32>,
    piece_maps: Vec<PieceMap>,
}

/// Groups the custom sections and merges the strings of those that need it. This needs only
/// resolution (which pieces are dropped with their comdats), so the link runs it beside
/// garbage collection and layout.
pub(crate) fn custom_sections<'a>(
    inputs: &'a [Object<'a>],
    db: &SymbolDb<'_>,
    opts: &LinkOptions,
) -> CustomSections<'a> {
    let mut by_name: IndexMap<&str, Vec<(u32, u32)>> = IndexMap::new();
    for (i, obj) in inputs.iter().enumerate() {
        for (j, c) in obj.customs.iter().enumerate() {
            if own_custom(&c.name)
                || c.data.is_empty()
                || db.custom_discarded(i, j)
                || ((opts.strip_debug || opts.strip_all) && c.name.starts_with(".debug_"))
            {
                continue;
            }
            by_name
                .entry(&c.name)
                .or_default()
                .push((i as u32, j as u32));
        }
    }
    let mergeable: Vec<(&str, &Vec<(u32, u32)>)> = by_name
        .iter()
        .filter(|(name, pieces)| {
            opts.merge_strings
                && merge::is_mergeable_custom(name)
                && pieces
                    .iter()
                    .all(|&(i, j)| inputs[i as usize].customs[j as usize].relocs.is_empty())
        })
        .map(|(&name, pieces)| (name, pieces))
        .collect();
    let done: Vec<(Vec<u8>, Vec<PieceMap>)> = mergeable
        .par_iter()
        .map(|(_, pieces)| {
            let datas: Vec<&[u8]> = pieces
                .iter()
                .map(|&(i, j)| &*inputs[i as usize].customs[j as usize].data)
                .collect();
            merge::merge_strings(&datas)
        })
        .collect();
    let mut merged = Vec::with_capacity(done.len());
    let mut piece_index = FxHashMap::default();
    let mut piece_maps = Vec::new();
    for ((name, pieces), (data, maps)) in mergeable.into_iter().zip(done) {
        for (&piece, map) in pieces.iter().zip(maps) {
            piece_index.insert(piece, piece_maps.len() as u32);
            piece_maps.push(map);
        }
        merged.push((name, data));
    }
    CustomSections {
        by_name,
        merged,
        pieces: piece_index,
        piece_maps,
    }
}

/// A part of one input's custom section, copied and patched as one item.
struct CustomPart {
    /// Index into the section's pieces.
    piece: usize,
    bytes: std::ops::Range<usize>,
    relocs: std::ops::Range<usize>,
}

/// Parts of about this many bytes: one input's `.debug_info` can be most of the output.
const CUSTOM_PART: usize = if cfg!(test) { 16 } else { 64 << 10 };

/// Cuts the `pieces` (input, custom section) of one output custom section into parts that
/// can be patched in parallel: a big piece whose relocations are sorted by offset is cut
/// where a part's relocations end before the next part starts, so no field is split.
fn custom_parts(inputs: &[Object<'_>], pieces: &[(u32, u32)]) -> Vec<CustomPart> {
    let mut parts = Vec::with_capacity(pieces.len());
    for (piece, &(i, j)) in pieces.iter().enumerate() {
        let c = &inputs[i as usize].customs[j as usize];
        let len = c.data.len();
        let sorted = c.relocs.is_sorted_by_key(|r| r.offset);
        if len <= CUSTOM_PART || !sorted {
            parts.push(CustomPart {
                piece,
                bytes: 0..len,
                relocs: 0..c.relocs.len(),
            });
            continue;
        }
        let (mut start, mut first) = (0, 0);
        // The furthest end of a relocation field so far: no cut before it.
        let mut reach = 0;
        for (k, r) in c.relocs.iter().enumerate() {
            let at = r.offset as usize;
            if at >= start + CUSTOM_PART && at >= reach && at < len {
                parts.push(CustomPart {
                    piece,
                    bytes: start..at,
                    relocs: first..k,
                });
                (start, first) = (at, k);
            }
            reach = reach.max(at.saturating_add(r.ty.width()));
        }
        parts.push(CustomPart {
            piece,
            bytes: start..len,
            relocs: first..c.relocs.len(),
        });
    }
    parts
}

/// wasm-ld's tombstone for a relocation in custom section `name` against something garbage
/// collection dropped (`InputSection::getTombstoneForSection`); `None`: the addend.
fn tombstone(name: &str) -> Option<u64> {
    if name == ".debug_ranges" || name == ".debug_loc" {
        Some(u64::MAX - 1)
    } else if name.starts_with(".debug_") || name.starts_with("llvm.func_attr.") {
        Some(u64::MAX)
    } else {
        None
    }
}

/// Whether a custom section of this name is one the linker writes itself (or drops).
fn own_custom(name: &str) -> bool {
    matches!(
        name,
        "name" | "producers" | "target_features" | "linking" | "dylink.0" | ".llvmbc" | ".llvmcmd"
    ) || name.starts_with("reloc.")
}

/// Writes the module.
pub(crate) fn emit(
    inputs: &[Object<'_>],
    db: &SymbolDb<'_>,
    layout: &Layout<'_>,
    synth: &Synth,
    customs: CustomSections<'_>,
    opts: &LinkOptions,
    file: Option<&std::fs::File>,
) -> Result<Vec<u8>, LinkError> {
    let mut head = Vec::new();

    let mut types = TypeSection::new();
    for t in &layout.types {
        types.ty().function(
            t.params.iter().map(|&v| val_type(v)),
            t.results.iter().map(|&v| val_type(v)),
        );
    }
    if !types.is_empty() {
        types.append_to(&mut head);
    }

    let memory_type = MemoryType {
        minimum: layout.mem.pages,
        maximum: layout.mem.max_pages,
        memory64: false,
        shared: opts.shared_memory,
        page_size_log2: None,
    };
    let table_size = layout.elems.len() as u64 + 1;
    let mut imports = ImportSection::new();
    if let Some((module, field)) = &opts.import_memory {
        imports.import(module, field, EntityType::Memory(memory_type));
    }
    if layout.table_imported {
        imports.import(
            "env",
            "__indirect_function_table",
            EntityType::Table(TableType {
                element_type: RefType::FUNCREF,
                table64: false,
                minimum: table_size,
                maximum: None,
                shared: false,
            }),
        );
    }
    for imp in &layout.imports {
        let ty = match imp.kind {
            OutImportKind::Func(t) => EntityType::Function(t),
            OutImportKind::Global { ty, mutable } => EntityType::Global(GlobalType {
                val_type: val_type(ty),
                mutable,
                shared: false,
            }),
            OutImportKind::Table { elem, min, max } => EntityType::Table(TableType {
                element_type: ref_type(elem),
                table64: false,
                minimum: min,
                maximum: max,
                shared: false,
            }),
        };
        imports.import(imp.module, imp.field, ty);
    }
    if !imports.is_empty() {
        imports.append_to(&mut head);
    }

    // The function and element sections have an entry per function: they are encoded
    // here directly, which is several times cheaper than entry by entry through
    // wasm-encoder.
    let nimp = layout.num_func_imports as usize;
    let defined = layout.func_types.get(nimp..).unwrap_or(&[]);
    if !defined.is_empty() {
        let mut payload = Vec::with_capacity(5 + 2 * defined.len());
        put_uleb(&mut payload, defined.len() as u64);
        for &t in defined {
            put_uleb(&mut payload, u64::from(t));
        }
        RawSection {
            id: 3,
            data: &payload,
        }
        .append_to(&mut head);
    }

    if layout.table.is_some() && !layout.table_imported {
        let mut tables = TableSection::new();
        tables.table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: table_size,
            maximum: (!opts.growable_table).then_some(table_size),
            shared: false,
        });
        tables.append_to(&mut head);
    }

    if opts.import_memory.is_none() {
        let mut memories = MemorySection::new();
        memories.memory(memory_type);
        memories.append_to(&mut head);
    }

    let mut globals = GlobalSection::new();
    // Mutability of every output global, imports first, for the export check below.
    let mut global_mutable: Vec<bool> = layout
        .imports
        .iter()
        .filter_map(|imp| match imp.kind {
            OutImportKind::Global { mutable, .. } => Some(mutable),
            _ => None,
        })
        .collect();
    let i32c = |v: u64| ConstExpr::i32_const(v as u32 as i32);
    for g in &layout.globals {
        let (ty, mutable, init) = match *g {
            OutGlobal::Linker(LinkerSym::StackPointer) => {
                (ValType::I32, true, i32c(layout.mem.stack_top))
            }
            // With shared memory each thread sets its own (`__wasm_init_tls`); the start
            // function points the first at the static TLS segment.
            OutGlobal::Linker(LinkerSym::TlsBase) if opts.shared_memory => {
                (ValType::I32, true, i32c(0))
            }
            OutGlobal::Linker(LinkerSym::TlsBase) => {
                (ValType::I32, false, i32c(layout.mem.tls_base))
            }
            OutGlobal::Linker(LinkerSym::TlsSize) => {
                (ValType::I32, false, i32c(layout.mem.tls_size))
            }
            OutGlobal::Linker(LinkerSym::TlsAlign) => {
                (ValType::I32, false, i32c(layout.mem.tls_align.max(1)))
            }
            OutGlobal::Linker(_) => return Err(internal("linker global of an unknown kind")),
            OutGlobal::DataAddr(sid) => (
                ValType::I32,
                false,
                i32c(layout.sym_addr.get(sid as usize).copied().unwrap_or(0)),
            ),
            OutGlobal::Got(sid) => {
                let value = match db.syms.get(sid as usize) {
                    Some(s) if s.kind == SymKind::Function => layout
                        .sym_index
                        .get(sid as usize)
                        .and_then(|&f| layout.func_slot.get(f as usize))
                        .map_or(0, |&slot| u64::from(slot)),
                    Some(s) if s.def.is_undefined() => 0,
                    _ => layout.sym_addr.get(sid as usize).copied().unwrap_or(0),
                };
                (ValType::I32, false, i32c(value))
            }
            OutGlobal::Input { input, index } => {
                let obj = &inputs[input as usize];
                let g = &obj.globals[index as usize];
                let init = match (g.init, g.ty) {
                    (ObjConst::I32(v), ValType::I32) => ConstExpr::i32_const(v),
                    (ObjConst::I64(v), ValType::I64) => ConstExpr::i64_const(v),
                    (ObjConst::F32(v), ValType::F32) => {
                        ConstExpr::f32_const(f32::from_bits(v).into())
                    }
                    (ObjConst::F64(v), ValType::F64) => {
                        ConstExpr::f64_const(f64::from_bits(v).into())
                    }
                    (ObjConst::RefNull, ValType::FuncRef) => ConstExpr::ref_null(HeapType::FUNC),
                    (ObjConst::RefNull, ValType::ExternRef) => {
                        ConstExpr::ref_null(HeapType::EXTERN)
                    }
                    _ => {
                        return Err(bad(
                            obj,
                            format!(
                                "global {index}: initializer does not match its type {:?}",
                                g.ty
                            ),
                        ));
                    }
                };
                (g.ty, g.mutable, init)
            }
        };
        global_mutable.push(mutable);
        globals.global(
            GlobalType {
                val_type: val_type(ty),
                mutable,
                shared: false,
            },
            &init,
        );
    }
    if !globals.is_empty() {
        globals.append_to(&mut head);
    }

    let mut exports = ExportSection::new();
    if let Some(name) = &layout.memory_export {
        exports.export(name, wasm_encoder::ExportKind::Memory, 0);
    }
    for e in &layout.exports {
        // As wasm-ld: a mutable global crosses the module boundary only with the feature.
        if e.kind == wasm_encoder::ExportKind::Global
            && !opts.features.mutable_globals
            && global_mutable
                .get(e.index as usize)
                .copied()
                .unwrap_or(false)
        {
            return Err(LinkError::BadOption(format!(
                "mutable global `{}` is exported, but the mutable-globals feature is not enabled",
                e.name
            )));
        }
        exports.export(e.name, e.kind, e.index);
    }
    if !exports.is_empty() {
        exports.append_to(&mut head);
    }

    if let Some(f) = layout.start {
        StartSection { function_index: f }.append_to(&mut head);
    }

    if let (Some(t), false) = (layout.table, layout.elems.is_empty()) {
        RawSection {
            id: 9,
            data: &element_payload(t, &layout.elems),
        }
        .append_to(&mut head);
    }

    // Which output segments are written: as wasm-ld, all but `.bss*` (memory starts
    // zeroed); an imported memory may hold anything, so there `.bss` is zeroed by
    // `__wasm_init_memory` (bulk memory) or written as zeros (without).
    let written: Vec<bool> = layout
        .segs
        .iter()
        .map(|s| {
            (opts.import_memory.is_some() && !layout.bss_zeroed) || !s.name.starts_with(".bss")
        })
        .collect();
    let num_data = written.iter().filter(|w| **w).count() as u32;
    // As wasm-ld: only passive segments (shared memory) need it.
    if opts.shared_memory && num_data > 0 {
        DataCountSection { count: num_data }.append_to(&mut head);
    }

    // Code section size.
    let mut bodies: Vec<&[u8]> = Vec::with_capacity(layout.funcs.len());
    for (k, f) in layout.funcs.iter().enumerate() {
        bodies.push(match *f {
            OutFunc::Input { input, index } => &inputs[input as usize].funcs[index as usize].body,
            _ => synth
                .body(k)
                .ok_or_else(|| internal("missing synthesized body"))?,
        });
    }
    let mut code_payload = uleb_len(bodies.len() as u64) as u64;
    let mut func_offsets = Vec::with_capacity(bodies.len());
    for b in &bodies {
        code_payload += uleb_len(b.len() as u64) as u64;
        func_offsets.push(code_payload);
        code_payload += b.len() as u64;
    }
    let section_len = |payload: u64| 1 + uleb_len(payload) as u64 + payload;
    let code_len = if bodies.is_empty() {
        0
    } else {
        section_len(code_payload)
    };

    // Data section size.
    let mut data_payload = uleb_len(u64::from(num_data)) as u64;
    // With shared memory the segments are passive (flags 1, no offset).
    let passive = opts.shared_memory;
    for (s, _) in layout.segs.iter().zip(&written).filter(|(_, w)| **w) {
        let header = if passive {
            0
        } else {
            let mut header = Vec::new();
            put_sleb(&mut header, i64::from(s.addr as u32 as i32));
            1 + header.len() as u64 + 1
        };
        data_payload += 1 + header + uleb_len(s.size) as u64 + s.size;
    }
    let data_len = if num_data == 0 {
        0
    } else {
        section_len(data_payload)
    };

    // Custom sections, merged by name.
    let CustomSections {
        by_name: customs,
        merged: merged_customs,
        pieces: custom_pieces,
        piece_maps,
    } = customs;
    let mut custom_offsets: Vec<Vec<u64>> =
        inputs.iter().map(|o| vec![0; o.customs.len()]).collect();
    let mut custom_sizes: IndexMap<&str, u64> = IndexMap::new();
    for (&name, pieces) in &customs {
        let mut size = 0;
        for &(i, j) in pieces {
            custom_offsets[i as usize][j as usize] = size;
            size += inputs[i as usize].customs[j as usize].data.len() as u64;
        }
        custom_sizes.insert(name, size);
    }
    for (name, data) in &merged_customs {
        custom_sizes.insert(name, data.len() as u64);
    }
    let customs_len: u64 = custom_sizes
        .iter()
        .map(|(n, &s)| section_len(uleb_len(n.len() as u64) as u64 + n.len() as u64 + s))
        .sum();

    let mut patcher = Patcher {
        inputs,
        db,
        layout,
        func_offsets,
        custom_offsets,
        custom_pieces,
        piece_maps,
        targets: Vec::new(),
    };
    // The name section (serial) is built while the relocation targets (parallel) are found.
    let (tail, targets) = rayon::join(
        || {
            if opts.strip_all {
                Ok(Vec::new())
            } else {
                tail_sections(inputs, db, layout, opts, &written)
            }
        },
        || {
            inputs
                .par_iter()
                .enumerate()
                .map(|(i, obj)| {
                    let live_code = layout.input_funcs[i].iter().any(|&f| f != NONE)
                        || layout.seg_addr[i].iter().any(|&a| a != u64::MAX);
                    if !live_code {
                        return Vec::new();
                    }
                    (0..obj.symbols.len())
                        .map(|j| patcher.target(i, j))
                        .collect()
                })
                .collect()
        },
    );
    let tail = tail?;
    patcher.targets = targets;

    let build_id_len = opts.build_id.as_ref().map(custom::build_id_len);
    let build_id_section = build_id_len.map_or(0, |n| {
        let payload = uleb_len(8) as u64 + 8 + uleb_len(n as u64) as u64 + n as u64;
        section_len(payload)
    });

    let total = 8
        + head.len() as u64
        + code_len
        + data_len
        + customs_len
        + tail.len() as u64
        + build_id_section;
    let total = usize::try_from(total).map_err(|_| LinkError::TooLarge("module".into()))?;
    // A build id hashes the whole module, so it is built in memory, then written.
    let stream = file.filter(|_| opts.build_id.is_none());
    let mut w = Writer {
        buf: Vec::with_capacity(if stream.is_some() { FLUSH_AT } else { total }),
        file: stream,
        flushed: 0,
    };
    let out = &mut w.buf;
    out.extend_from_slice(b"\0asm");
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&head);

    // The data section (serial: segment by segment) is built while the code section (in
    // parallel runs) is written.
    let (code_written, data) = rayon::join(
        || -> Result<(), LinkError> {
            if !bodies.is_empty() {
                let out = &mut w.buf;
                out.push(10);
                put_uleb(out, code_payload);
                put_uleb(out, bodies.len() as u64);
                write_parallel(
                    &mut w,
                    bodies.len(),
                    |k| uleb_len(bodies[k].len() as u64) + bodies[k].len(),
                    |k, slot| {
                        let b = bodies[k];
                        let n = write_uleb(slot, b.len() as u64);
                        let body = &mut slot[n..];
                        body.copy_from_slice(b);
                        if let Some(&OutFunc::Input { input, index }) = layout.funcs.get(k) {
                            let relocs = inputs[input as usize].func_relocs(index as usize);
                            patcher.apply(input, body, 0, relocs, Place::Code(index))?;
                        }
                        Ok(())
                    },
                )?;
            }
            Ok(())
        },
        || {
            (num_data > 0)
                .then(|| {
                    data_section(
                        inputs,
                        layout,
                        synth,
                        &patcher,
                        &written,
                        passive,
                        data_payload,
                    )
                })
                .transpose()
        },
    );
    code_written?;
    if let Some(data) = data? {
        match w.file {
            Some(file) => {
                w.flush()?;
                write_at(file, &data, w.flushed)?;
                w.flushed += data.len() as u64;
            }
            None => w.buf.extend_from_slice(&data),
        }
    }
    for (name, pieces) in &customs {
        w.flush_if_large()?;
        let out = &mut w.buf;
        let size = custom_sizes.get(name).copied().unwrap_or(0);
        out.push(0);
        put_uleb(
            out,
            uleb_len(name.len() as u64) as u64 + name.len() as u64 + size,
        );
        put_uleb(out, name.len() as u64);
        out.extend_from_slice(name.as_bytes());
        if let Some((_, data)) = merged_customs.iter().find(|(n, _)| n == name) {
            out.extend_from_slice(data);
            continue;
        }
        let parts = custom_parts(inputs, pieces);
        write_parallel(
            &mut w,
            parts.len(),
            |k| parts[k].bytes.len(),
            |k, slot| {
                let part = &parts[k];
                let (i, j) = pieces[part.piece];
                let c = &inputs[i as usize].customs[j as usize];
                slot.copy_from_slice(&c.data[part.bytes.clone()]);
                let relocs = &c.relocs[part.relocs.clone()];
                patcher.apply(i, slot, part.bytes.start, relocs, Place::Custom { name })
            },
        )?;
    }
    let out = &mut w.buf;
    out.extend_from_slice(&tail);
    if let (Some(style), Some(n)) = (&opts.build_id, build_id_len) {
        out.push(0);
        put_uleb(
            out,
            uleb_len(8) as u64 + 8 + uleb_len(n as u64) as u64 + n as u64,
        );
        put_uleb(out, 8);
        out.extend_from_slice(b"build_id");
        put_uleb(out, n as u64);
        let at = out.len();
        out.resize(at + n, 0);
        let id = custom::build_id(style, out);
        match out.get_mut(at..) {
            Some(slot) if slot.len() == id.len() => slot.copy_from_slice(&id),
            _ => return Err(internal("build id size")),
        }
    }
    if w.position() != total as u64 {
        return Err(LinkError::Internal(format!(
            "wrote {} bytes, reserved {total}",
            w.position()
        )));
    }
    w.flush()?;
    match (file, stream) {
        (Some(file), None) => write_at(file, &w.buf, 0).map(|()| Vec::new()),
        _ => Ok(w.buf),
    }
}

/// The data section, whole (id and size included): every written output segment, active at
/// its address or (shared memory) passive, its chunks copied and their relocations applied,
/// the gaps zero.
fn data_section(
    inputs: &[Object<'_>],
    layout: &Layout<'_>,
    synth: &Synth,
    patcher: &Patcher<'_, '_>,
    written: &[bool],
    passive: bool,
    payload: u64,
) -> Result<Vec<u8>, LinkError> {
    let num_data = written.iter().filter(|w| **w).count();
    let mut out = Vec::with_capacity(1 + uleb_len(payload) + payload as usize);
    out.push(11);
    put_uleb(&mut out, payload);
    put_uleb(&mut out, num_data as u64);
    for (s, _) in layout.segs.iter().zip(written).filter(|(_, w)| **w) {
        if passive {
            out.push(1);
        } else {
            out.push(0);
            out.push(0x41);
            put_sleb(&mut out, i64::from(s.addr as u32 as i32));
            out.push(0x0b);
        }
        put_uleb(&mut out, s.size);
        let seg_start = out.len();
        for c in &s.chunks {
            let (addr, bytes, zeros): (u64, &[u8], u64) = match *c {
                Chunk::Input { input, seg, addr } => {
                    match &inputs[input as usize].segments[seg as usize].data {
                        SegmentData::Bytes(b) => (addr, b, 0),
                        SegmentData::Zero(n) => (addr, &[], *n),
                    }
                }
                Chunk::TagNames { e, addr } => (
                    addr,
                    synth
                        .tag_tables
                        .get(e as usize)
                        .map_or(&[][..], Vec::as_slice),
                    0,
                ),
                Chunk::Merged { index, addr } => (
                    addr,
                    layout
                        .merged
                        .get(index as usize)
                        .map_or(&[][..], |m| m.1.as_slice()),
                    0,
                ),
            };
            let at = seg_start + (addr - s.addr) as usize;
            out.resize(at, 0);
            out.extend_from_slice(bytes);
            out.resize(out.len() + zeros as usize, 0);
            if let Chunk::Input { input, seg, addr } = *c {
                patcher.apply(
                    input,
                    &mut out[at..],
                    0,
                    inputs[input as usize].segment_relocs(seg as usize),
                    Place::Data { index: seg, addr },
                )?;
            }
        }
        out.resize(seg_start + s.size as usize, 0);
    }
    Ok(out)
}

/// The element section's payload: one active segment of function indices at offset 1 of
/// table `table` (flags 0 for table 0; else flags 2, the table index and the element kind,
/// funcref), as wasm-encoder writes it.
fn element_payload(table: u32, funcs: &[u32]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(16 + 3 * funcs.len());
    put_uleb(&mut payload, 1);
    if table == 0 {
        payload.push(0);
    } else {
        payload.push(2);
        put_uleb(&mut payload, u64::from(table));
    }
    payload.extend_from_slice(&[0x41, 1, 0x0b]);
    if table != 0 {
        payload.push(0);
    }
    put_uleb(&mut payload, funcs.len() as u64);
    for &f in funcs {
        put_uleb(&mut payload, u64::from(f));
    }
    payload
}

/// `name`, `producers` and `target_features`.
fn tail_sections(
    inputs: &[Object<'_>],
    db: &SymbolDb<'_>,
    layout: &Layout<'_>,
    opts: &LinkOptions,
    written: &[bool],
) -> Result<Vec<u8>, LinkError> {
    let nimp = layout.num_func_imports as usize;
    let func_name = |i: usize| -> Option<Cow<'_, str>> {
        let n = *layout.func_names.get(i)?;
        if n.is_empty() {
            return None;
        }
        let defined = i.checked_sub(nimp).and_then(|k| layout.funcs.get(k));
        Some(match defined {
            Some(&OutFunc::WeakStub(sid)) => {
                // wasm-ld's names for the trapping stubs: signature-mismatch stubs are the
                // local symbols resolution made, the others stand for weak undefined
                // functions.
                let local = db.syms.get(sid as usize).is_some_and(|s| s.local);
                let prefix = if local {
                    "signature_mismatch"
                } else {
                    "undefined_weak"
                };
                Cow::Owned(format!("{prefix}:{n}"))
            }
            Some(&OutFunc::CommandExport(_)) => Cow::Owned(format!("{n}.command_export")),
            _ => Cow::Borrowed(n),
        })
    };
    // The function names, one per function, are most of the section: they are encoded
    // straight into the output once their size is known, not built up and copied twice.
    let (mut count, mut entries_len) = (0u64, 0u64);
    for i in 0..layout.func_names.len() {
        if let Some(n) = func_name(i) {
            count += 1;
            entries_len += (uleb_len(i as u64) + uleb_len(n.len() as u64) + n.len()) as u64;
        }
    }
    let func_map_len = uleb_len(count) as u64 + entries_len;
    let func_sub_len = if count == 0 {
        0
    } else {
        1 + uleb_len(func_map_len) as u64 + func_map_len
    };

    // The local names likewise: each function's map is kept encoded (sorted, one entry per
    // index) and copied as it is. The subsection is there even when empty, as wasm-encoder
    // writes it.
    let local_names = || {
        layout.funcs.iter().enumerate().filter_map(|(k, f)| {
            let OutFunc::Input { input, index } = *f else {
                return None;
            };
            let names = &inputs[input as usize].funcs[index as usize].local_names;
            (!names.is_empty()).then_some((nimp + k, names))
        })
    };
    let (mut local_count, mut local_entries_len) = (0u64, 0u64);
    for (i, names) in local_names() {
        local_count += 1;
        local_entries_len +=
            (uleb_len(i as u64) + uleb_len(u64::from(names.len())) + names.encoded().len()) as u64;
    }
    let local_map_len = uleb_len(local_count) as u64 + local_entries_len;
    let local_sub_len = 1 + uleb_len(local_map_len) as u64 + local_map_len;

    let mut names = NameSection::new();

    let mut gnames: Vec<Cow<'_, str>> = layout
        .imports
        .iter()
        .filter(|i| matches!(i.kind, OutImportKind::Global { .. }))
        .map(|i| Cow::Borrowed(i.sym_name))
        .collect();
    let mut input_global_names: Vec<Vec<&str>> =
        inputs.iter().map(|o| vec![""; o.globals.len()]).collect();
    for s in db.syms.iter().rev() {
        if let Def::Global { input, index } = s.def
            && let Some(n) = input_global_names
                .get_mut(input as usize)
                .and_then(|v| v.get_mut(index as usize))
        {
            *n = s.name;
        }
    }
    for g in &layout.globals {
        gnames.push(match *g {
            OutGlobal::Linker(LinkerSym::StackPointer) => Cow::Borrowed("__stack_pointer"),
            OutGlobal::Linker(LinkerSym::TlsBase) => Cow::Borrowed("__tls_base"),
            OutGlobal::Linker(LinkerSym::TlsSize) => Cow::Borrowed("__tls_size"),
            OutGlobal::Linker(LinkerSym::TlsAlign) => Cow::Borrowed("__tls_align"),
            OutGlobal::Linker(_) => Cow::Borrowed(""),
            OutGlobal::DataAddr(sid) => {
                Cow::Borrowed(db.syms.get(sid as usize).map_or("", |s| s.name))
            }
            OutGlobal::Got(sid) => match db.syms.get(sid as usize) {
                Some(s) if s.kind == SymKind::Function => {
                    Cow::Owned(format!("GOT.func.internal.{}", s.name))
                }
                Some(s) => Cow::Owned(format!("GOT.data.internal.{}", s.name)),
                None => Cow::Borrowed(""),
            },
            OutGlobal::Input { input, index } => {
                Cow::Borrowed(input_global_names[input as usize][index as usize])
            }
        });
    }
    let mut gmap = NameMap::new();
    for (i, n) in gnames.iter().enumerate() {
        if !n.is_empty() {
            gmap.append(i as u32, n);
        }
    }
    names.globals(&gmap);

    let mut dmap = NameMap::new();
    for (k, s) in layout
        .segs
        .iter()
        .zip(written)
        .filter(|(_, w)| **w)
        .map(|(s, _)| s)
        .enumerate()
    {
        dmap.append(k as u32, s.name);
    }
    names.data(&dmap);

    // The other subsections (globals, data), encoded by wasm-encoder (a custom section's
    // payload: the subsections only).
    let rest = names.as_custom().data.into_owned();
    let name_payload = uleb_len(4) as u64 + 4 + func_sub_len + local_sub_len + rest.len() as u64;
    let mut tail = Vec::with_capacity(1 + 5 + name_payload as usize);
    tail.push(0);
    put_uleb(&mut tail, name_payload);
    put_uleb(&mut tail, 4);
    tail.extend_from_slice(b"name");
    if count > 0 {
        tail.push(1);
        put_uleb(&mut tail, func_map_len);
        put_uleb(&mut tail, count);
        for i in 0..layout.func_names.len() {
            if let Some(n) = func_name(i) {
                put_uleb(&mut tail, i as u64);
                put_uleb(&mut tail, n.len() as u64);
                tail.extend_from_slice(n.as_bytes());
            }
        }
    }
    tail.push(2);
    put_uleb(&mut tail, local_map_len);
    put_uleb(&mut tail, local_count);
    for (i, names) in local_names() {
        put_uleb(&mut tail, i as u64);
        put_uleb(&mut tail, u64::from(names.len()));
        tail.extend_from_slice(names.encoded());
    }
    tail.extend_from_slice(&rest);

    let producers = custom::merge_producers(inputs)?;
    if let Some(payload) = custom::producers_payload(&producers) {
        wasm_encoder::CustomSection {
            name: Cow::Borrowed("producers"),
            data: Cow::Owned(payload),
        }
        .append_to(&mut tail);
    }

    // Every allowed feature as used, in name order; no section when there is none (wasm-ld).
    let mut on: Vec<&str> = opts
        .features
        .flags()
        .iter()
        .filter(|f| f.1)
        .map(|f| f.0)
        .chain(opts.extra_features.iter().map(String::as_str))
        .collect();
    on.sort_unstable();
    on.dedup();
    if !on.is_empty() {
        let mut features = Vec::new();
        put_uleb(&mut features, on.len() as u64);
        for n in on {
            features.push(b'+');
            put_uleb(&mut features, n.len() as u64);
            features.extend_from_slice(n.as_bytes());
        }
        wasm_encoder::CustomSection {
            name: Cow::Borrowed("target_features"),
            data: Cow::Owned(features),
        }
        .append_to(&mut tail);
    }
    Ok(tail)
}

#[cfg(test)]
mod encoding_tests {
    use std::borrow::Cow;

    use wasm_encoder::{ConstExpr, ElementSection, Elements, Encode};

    /// The element payload written directly is the one wasm-encoder writes, for table 0 and
    /// for another table, and for indices of every LEB length.
    #[test]
    fn element_payload_is_wasm_encoders() {
        let funcs: Vec<u32> = vec![0, 1, 127, 128, 16_383, 16_384, 2_097_152, u32::MAX];
        for table in [0, 1, 200] {
            let mut elems = ElementSection::new();
            elems.active(
                (table != 0).then_some(table),
                &ConstExpr::i32_const(1),
                Elements::Functions(Cow::Borrowed(&funcs)),
            );
            let mut section = Vec::new();
            elems.encode(&mut section);
            // `encode` writes the payload with its length first.
            let mut expected = Vec::new();
            super::put_uleb(
                &mut expected,
                super::element_payload(table, &funcs).len() as u64,
            );
            expected.extend_from_slice(&super::element_payload(table, &funcs));
            assert_eq!(section, expected, "table {table}");
        }
    }
}

#[cfg(test)]
mod custom_part_tests {
    use std::borrow::Cow;

    use crate::object::{CustomSection, Object, Reloc, RelocType};

    fn object(len: usize, relocs: &[(u32, RelocType)]) -> Object<'static> {
        let mut obj = Object::default();
        obj.customs.push(CustomSection {
            name: Cow::Borrowed(".debug_info"),
            data: Cow::Owned(vec![0; len]),
            relocs: relocs
                .iter()
                .map(|&(offset, ty)| Reloc {
                    ty,
                    offset,
                    index: 0,
                    addend: 0,
                })
                .collect(),
        });
        obj
    }

    /// The parts cover the section in order, each with exactly the relocations whose fields
    /// lie inside it; with relocations out of order there is one part.
    #[test]
    fn parts_never_split_a_field() {
        use RelocType::{FunctionIndexLeb as Leb, SectionOffsetI32 as I32};
        // (length, relocations, parts expected)
        type Case = (usize, Vec<(u32, RelocType)>, usize);
        let cases: Vec<Case> = vec![
            (100, (0..25).map(|k| (k * 4, I32)).collect(), 7),
            // The fields at 14 (5 bytes) and 16 reach 20: no cut at 16 or 19.
            (
                60,
                vec![
                    (2, I32),
                    (14, Leb),
                    (16, I32),
                    (19, I32),
                    (40, Leb),
                    (41, I32),
                ],
                2,
            ),
            // Two fields at one offset stay together; 33 is inside the field at 30.
            (60, vec![(16, I32), (16, I32), (30, I32), (33, I32)], 2),
            // Cuts are made only at relocations.
            (40, vec![], 1),
            (10, vec![(0, I32), (6, I32)], 1),
        ];
        for (len, relocs, expected) in &cases {
            let inputs = [object(*len, relocs)];
            let parts = super::custom_parts(&inputs, &[(0, 0)]);
            assert_eq!(parts.len(), *expected, "{relocs:?}");
            let (mut at, mut next) = (0, 0);
            for part in &parts {
                assert_eq!(
                    (part.piece, part.bytes.start, part.relocs.start),
                    (0, at, next)
                );
                for r in &inputs[0].customs[0].relocs[part.relocs.clone()] {
                    let start = r.offset as usize;
                    assert!(part.bytes.start <= start, "{relocs:?}");
                    assert!(start + r.ty.width() <= part.bytes.end, "{relocs:?}");
                }
                (at, next) = (part.bytes.end, part.relocs.end);
            }
            assert_eq!((at, next), (*len, relocs.len()));
        }
        let unsorted = [object(100, &[(50, I32), (10, I32)])];
        assert_eq!(super::custom_parts(&unsorted, &[(0, 0)]).len(), 1);
    }
}
