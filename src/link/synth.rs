//! Synthesized functions and data: `__wasm_call_ctors`, the tag-name functions with their
//! name tables, trapping stubs for weak undefined functions, the command-export wrappers,
//! `__wasm_init_memory` (with shared memory: the once-only initialization of the passive
//! segments; otherwise one `memory.fill` per `.bss` segment of an imported memory) and,
//! with shared memory only (as wasm-ld 22), `__wasm_init_tls`. Without shared memory, TLS
//! is single-threaded: `__tls_base` is an immutable global holding the address of `.tdata`.
//! `__wasm_apply_tls_relocs`/`__wasm_apply_global_tls_relocs` are not needed: wasm-ld makes
//! them for PIC code (relocations inside `.tdata`, `GOT.TLS` entries), which a static
//! non-PIC link never has (`-ftls-model=local-exec` objects address TLS as `__tls_base` plus
//! a constant).
//!
//! Runs after layout, so bodies hold final indices and addresses and need no relocations.
//!
//! A name table (one per enum, in `.kiln.tag_names`) is the variants' name bytes back to
//! back, padded to 4, then one 8-byte entry `{ptr name, i32 len}` per distinct value in
//! ascending value order (the first declared name of a value wins). `__kiln_tag_name.E(tag)`
//! returns the address of the entry for `tag` and traps for a value with no name:
//! - narrow tags look at their low bits only (sign- or zero-extended per the tag type);
//! - dense enums (contiguous values): one subtraction and one bounds check;
//! - sparse enums whose value range is at most 4 times the number of values (and at most
//!   4096): a `br_table`;
//! - other sparse enums: a compare chain.

use wasm_encoder::{BlockType, Function, InstructionSink, MemArg, MemArgTarget, ValType as W};

use super::layout::{Layout, OutFunc};
use super::resolve::SymbolDb;
use super::{LinkError, LinkOptions};
use crate::object::{EnumInfo, Object};

/// Synthesized bodies and data.
#[derive(Clone, Debug, Default)]
pub(crate) struct Synth {
    /// The body (locals and code) of each synthesized function, by its position among the
    /// output functions after the imports, in ascending order.
    pub bodies: Vec<(u32, Vec<u8>)>,
    /// Per enum: its name table (empty when unused).
    pub tag_tables: Vec<Vec<u8>>,
}

/// Distinct values in ascending order, each with the first name declared for it.
fn entries(info: &EnumInfo) -> Vec<(i128, &str)> {
    let mut v: Vec<(i128, &str)> = info
        .variants
        .iter()
        .map(|(n, x)| (*x, n.as_str()))
        .collect();
    v.sort_by_key(|e| e.0);
    v.dedup_by_key(|e| e.0);
    v
}

fn names_len(entries: &[(i128, &str)]) -> u64 {
    let n: u64 = entries.iter().map(|e| e.1.len() as u64).sum();
    n.next_multiple_of(4)
}

/// Bytes of an enum's name table.
pub(crate) fn tag_table_size(info: &EnumInfo) -> u64 {
    let e = entries(info);
    names_len(&e) + 8 * e.len() as u64
}

/// Builds every synthesized body and name table.
pub(crate) fn synthesize(
    inputs: &[Object<'_>],
    db: &SymbolDb<'_>,
    layout: &Layout<'_>,
    opts: &LinkOptions,
) -> Result<Synth, LinkError> {
    let mut s = Synth {
        bodies: Vec::new(),
        tag_tables: vec![Vec::new(); db.enums.len()],
    };
    for (k, f) in layout.funcs.iter().enumerate() {
        let body = match *f {
            OutFunc::Input { .. } => continue,
            OutFunc::CallCtors => call_ctors(inputs, db, layout)?,
            OutFunc::InitMemory => init_memory(layout, opts)?,
            OutFunc::InitTls => init_tls(layout)?,
            OutFunc::CommandExport(f) => command_export(layout, f)?,
            OutFunc::WeakStub(_) => {
                let mut func = Function::new([]);
                func.instructions().unreachable().end();
                func.into_raw_body()
            }
            OutFunc::TagName(e) => {
                let info = db
                    .enums
                    .get(e as usize)
                    .map(|d| d.info)
                    .ok_or_else(|| LinkError::Internal("enum index out of range".into()))?;
                let base = layout.tag_tables.get(e as usize).copied().unwrap_or(0);
                let (table, body) = tag_name(info, base, opts)?;
                s.tag_tables[e as usize] = table;
                body
            }
        };
        s.bodies.push((k as u32, body));
    }
    Ok(s)
}

impl Synth {
    /// The synthesized body of output function `k` (counted after the imports).
    pub(crate) fn body(&self, k: usize) -> Option<&[u8]> {
        let at = self
            .bodies
            .binary_search_by_key(&k, |(i, _)| *i as usize)
            .ok()?;
        Some(&self.bodies[at].1)
    }
}

/// Index of output segment `k` in the data section (`.bss` segments of a shared or
/// bulk-zeroed memory are not written).
fn data_index(layout: &Layout<'_>, k: usize) -> Result<u32, LinkError> {
    let n = layout.segs[..k]
        .iter()
        .filter(|s| !layout.bss_zeroed || !s.name.starts_with(".bss"))
        .count();
    u32::try_from(n).map_err(|_| LinkError::TooLarge("data segments".into()))
}

fn i32c(v: u64) -> i32 {
    v as u32 as i32
}

/// `__wasm_init_memory`, as wasm-ld 22 writes it. Shared memory: whoever wins the race on
/// the flag (`i32.atomic.rmw.cmpxchg` 0 -> 1) initializes every segment (`memory.init`;
/// `memory.fill` with 0 for `.bss`; `__tls_base` set to the TLS segment first), stores 2 and
/// wakes the waiters; the others wait while it is 1; then everyone drops the passive
/// segments but the TLS one (`__wasm_init_tls` copies it for every thread). An imported
/// memory without shared memory: one `memory.fill` per `.bss` segment. Then, when kiln made
/// `__wasm_call_ctors` the start function, a call to it.
fn init_memory(layout: &Layout<'_>, opts: &LinkOptions) -> Result<Vec<u8>, LinkError> {
    let mut func = Function::new([]);
    let mut sink = func.instructions();
    let shared = opts.shared_memory;
    let flag = i32c(layout.mem.init_flag);
    let arg = MemArg {
        offset: 0,
        align: 2,
        target: MemArgTarget::Memory(0),
        ordering: None,
    };
    if shared {
        sink.block(BlockType::Empty)
            .block(BlockType::Empty)
            .block(BlockType::Empty)
            .i32_const(flag)
            .i32_const(0)
            .i32_const(1)
            .i32_atomic_rmw_cmpxchg(arg)
            .br_table([0, 1], 2)
            .end();
    }
    for (k, seg) in layout.segs.iter().enumerate() {
        let bss = seg.name.starts_with(".bss");
        if !shared && !bss {
            continue;
        }
        sink.i32_const(i32c(seg.addr));
        if shared && seg.name == ".tdata" {
            let g = layout
                .tls_base_global
                .ok_or_else(|| LinkError::Internal("no __tls_base global".into()))?;
            sink.i32_const(i32c(seg.addr)).global_set(g);
        }
        if bss {
            sink.i32_const(0).i32_const(i32c(seg.size)).memory_fill(0);
        } else {
            sink.i32_const(0)
                .i32_const(i32c(seg.size))
                .memory_init(0, data_index(layout, k)?);
        }
    }
    if shared {
        sink.i32_const(flag)
            .i32_const(2)
            .i32_atomic_store(arg)
            .i32_const(flag)
            .i32_const(-1)
            .memory_atomic_notify(arg)
            .drop()
            .br(1)
            .end()
            .i32_const(flag)
            .i32_const(1)
            .i64_const(-1)
            .memory_atomic_wait32(arg)
            .drop()
            .end();
        for (k, seg) in layout.segs.iter().enumerate() {
            if !seg.name.starts_with(".bss") && seg.name != ".tdata" {
                sink.data_drop(data_index(layout, k)?);
            }
        }
    }
    if let (Some(c), true) = (layout.ctors, layout.ctors_from_init_memory) {
        sink.call(c);
    }
    sink.end();
    Ok(func.into_raw_body())
}

/// `__wasm_init_tls(ptr)`, as wasm-ld 22 writes it: `__tls_base = ptr`, then the TLS
/// segment (`.tdata` and `.tbss` of every input) copied to `ptr` (`memory.init`). Without a
/// TLS segment it does nothing.
fn init_tls(layout: &Layout<'_>) -> Result<Vec<u8>, LinkError> {
    let mut func = Function::new([]);
    let mut sink = func.instructions();
    if let Some(k) = layout.segs.iter().position(|s| s.name == ".tdata") {
        let g = layout
            .tls_base_global
            .ok_or_else(|| LinkError::Internal("no __tls_base global".into()))?;
        sink.local_get(0)
            .global_set(g)
            .local_get(0)
            .i32_const(0)
            .i32_const(i32c(layout.segs[k].size))
            .memory_init(0, data_index(layout, k)?);
    }
    sink.end();
    Ok(func.into_raw_body())
}

/// The init functions garbage collection kept, as (priority, output function), in the order
/// `__wasm_call_ctors` calls them: by priority, then input order.
pub(crate) fn init_funcs(
    inputs: &[Object<'_>],
    db: &SymbolDb<'_>,
    layout: &Layout<'_>,
) -> Vec<(u32, u32)> {
    let mut list: Vec<(u32, u32)> = Vec::new();
    for (i, obj) in inputs.iter().enumerate() {
        for init in &obj.init_funcs {
            let sid = db.inputs[i]
                .syms
                .get(init.symbol as usize)
                .copied()
                .unwrap_or(u32::MAX);
            let f = layout
                .sym_index
                .get(sid as usize)
                .copied()
                .unwrap_or(u32::MAX);
            // Init functions GC did not keep (in a dropped comdat group, or in an archive
            // member nothing else of which is live) have no index and are not called.
            if f == u32::MAX {
                continue;
            }
            list.push((init.priority, f));
        }
    }
    list.sort_by_key(|e| e.0);
    list
}

/// `__wasm_call_ctors`: every init function by priority, then input order; results dropped.
fn call_ctors(
    inputs: &[Object<'_>],
    db: &SymbolDb<'_>,
    layout: &Layout<'_>,
) -> Result<Vec<u8>, LinkError> {
    let mut func = Function::new([]);
    let mut sink = func.instructions();
    for (_, f) in init_funcs(inputs, db, layout) {
        let ty = layout
            .func_type(f)
            .ok_or_else(|| LinkError::Internal("init function without an output index".into()))?;
        if !ty.params.is_empty() {
            return Err(LinkError::BadObject {
                file: String::new(),
                msg: format!(
                    "init function `{}` takes parameters",
                    layout.func_names.get(f as usize).copied().unwrap_or("?")
                ),
            });
        }
        sink.call(f);
        for _ in &ty.results {
            sink.drop();
        }
    }
    sink.end();
    Ok(func.into_raw_body())
}

/// A command-export wrapper of function `f`, as wasm-ld writes it: `__wasm_call_ctors` (when
/// there is one), `f` with the wrapper's parameters (its results stay on the stack), then
/// libc's `__wasm_call_dtors` (when defined).
fn command_export(layout: &Layout<'_>, f: u32) -> Result<Vec<u8>, LinkError> {
    let ty = layout
        .func_type(f)
        .ok_or_else(|| LinkError::Internal("wrapped function without a type".into()))?;
    let mut func = Function::new([]);
    let mut sink = func.instructions();
    if let Some(c) = layout.ctors {
        sink.call(c);
    }
    for k in 0..ty.params.len() {
        sink.local_get(k as u32);
    }
    sink.call(f);
    if let Some(d) = layout.call_dtors {
        sink.call(d);
    }
    sink.end();
    Ok(func.into_raw_body())
}

/// Pushes the tag, normalized to its type's low bits.
fn push_tag(sink: &mut InstructionSink<'_>, info: &EnumInfo, opts: &LinkOptions) {
    sink.local_get(0);
    match (info.tag.bits, info.tag.signed) {
        (8, false) => {
            sink.i32_const(0xff).i32_and();
        }
        (16, false) => {
            sink.i32_const(0xffff).i32_and();
        }
        (8 | 16, true) if opts.features.sign_ext => {
            if info.tag.bits == 8 {
                sink.i32_extend8_s();
            } else {
                sink.i32_extend16_s();
            }
        }
        (b @ (8 | 16), true) => {
            let sh = 32 - i32::from(b);
            sink.i32_const(sh).i32_shl().i32_const(sh).i32_shr_s();
        }
        _ => {}
    }
}

/// The name table of `info` at `base`, and its tag-name function's body.
fn tag_name(
    info: &EnumInfo,
    base: u64,
    opts: &LinkOptions,
) -> Result<(Vec<u8>, Vec<u8>), LinkError> {
    let ents = entries(info);
    let too = || LinkError::TooLarge("enum name table beyond 4 GiB".into());
    let entries_at = base.checked_add(names_len(&ents)).ok_or_else(too)?;
    let mut table = Vec::with_capacity(tag_table_size(info) as usize);
    for (_, name) in &ents {
        table.extend_from_slice(name.as_bytes());
    }
    table.resize(names_len(&ents) as usize, 0);
    let mut name_at = base;
    for (_, name) in &ents {
        let p = u32::try_from(name_at).map_err(|_| too())?;
        let len = u32::try_from(name.len()).map_err(|_| too())?;
        table.extend_from_slice(&p.to_le_bytes());
        table.extend_from_slice(&len.to_le_bytes());
        name_at += name.len() as u64;
    }
    let entries_addr = u32::try_from(entries_at).map_err(|_| too())? as i32;
    let entry_addr = |k: usize| entries_addr.wrapping_add((k as i32).wrapping_mul(8));

    let wide = info.tag.bits == 64;
    let ty = if wide { W::I64 } else { W::I32 };
    let mut func = Function::new([(1, ty)]);
    let mut sink = func.instructions();
    let n = ents.len();
    let (Some(&(min, _)), Some(&(max, _))) = (ents.first(), ents.last()) else {
        sink.unreachable().end();
        return Ok((table, func.into_raw_body()));
    };
    let range = max - min + 1;
    let sub_min = |sink: &mut InstructionSink<'_>| {
        if wide {
            sink.i64_const(min as i64).i64_sub();
        } else {
            sink.i32_const(min as i32).i32_sub();
        }
    };
    if range == n as i128 {
        // Dense: entries_addr + (tag - min) * 8 when tag - min < n (unsigned).
        push_tag(&mut sink, info, opts);
        sub_min(&mut sink);
        sink.local_tee(1);
        if wide {
            sink.i64_const(n as i64).i64_lt_u();
        } else {
            sink.i32_const(n as i32).i32_lt_u();
        }
        sink.if_(BlockType::Empty).local_get(1);
        if wide {
            sink.i32_wrap_i64();
        }
        sink.i32_const(3)
            .i32_shl()
            .i32_const(entries_addr)
            .i32_add()
            .return_()
            .end()
            .unreachable()
            .end();
    } else if range <= 4 * n as i128 && range <= 4096 {
        // br_table over tag - min: block k returns entry k; the outermost block traps.
        sink.block(BlockType::Empty);
        for _ in 0..n {
            sink.block(BlockType::Empty);
        }
        push_tag(&mut sink, info, opts);
        sub_min(&mut sink);
        if wide {
            sink.local_tee(1)
                .i64_const(range as i64)
                .i64_ge_u()
                .br_if(n as u32)
                .local_get(1)
                .i32_wrap_i64();
        }
        let mut targets = Vec::with_capacity(range as usize);
        let mut k = 0usize;
        for slot in 0..range {
            if ents.get(k).is_some_and(|e| e.0 == min + slot) {
                targets.push(k as u32);
                k += 1;
            } else {
                targets.push(n as u32);
            }
        }
        sink.br_table(targets, n as u32);
        for k in 0..n {
            sink.end().i32_const(entry_addr(k)).return_();
        }
        sink.end().unreachable().end();
    } else {
        push_tag(&mut sink, info, opts);
        sink.local_set(1);
        for (k, &(v, _)) in ents.iter().enumerate() {
            sink.local_get(1);
            if wide {
                sink.i64_const(v as i64).i64_eq();
            } else {
                sink.i32_const(v as i32).i32_eq();
            }
            sink.if_(BlockType::Empty)
                .i32_const(entry_addr(k))
                .return_()
                .end();
        }
        sink.unreachable().end();
    }
    Ok((table, func.into_raw_body()))
}
