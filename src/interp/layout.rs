//! Memory layout of an instance, computed once as the link stage would compute it.
//!
//! Linear memory, from address 0:
//!
//! 1. the shadow stack, [`STACK_SIZE`] bytes; `__stack_pointer` starts at its top and the
//!    stack grows down;
//! 2. data from [`GLOBAL_BASE`] on: the TLS block (`tdata` objects, then `tbss`), `rodata`,
//!    `data`, named sections (grouped by name, in order of first appearance), `bss`; each
//!    object at its alignment, in declaration order within its group;
//! 3. the name tables of every enum some `tag_name` uses (the names' bytes, back to back);
//! 4. `__data_end` at the end of that, `__heap_base` = `__data_end` aligned to 16, and at
//!    least one free page after it.
//!
//! Linker-defined extern data resolve to addresses: `__heap_base`, `__data_end`,
//! `__dso_handle` and `__global_base` (both the start of data, [`GLOBAL_BASE`], as wasm-ld
//! sets them), `__stack_low` (0), `__stack_high` ([`STACK_SIZE`]), and `__start_NAME` /
//! `__stop_NAME` for each named section. Any other extern data is unresolved: its address is
//! `None`, and using it traps.
//!
//! The function table gives slot 0 to null and a slot to every function a `func_addr`
//! instruction or a `ptr @FUNC` data item references, in `FuncRef` order.

use cranelift_entity::{EntityRef, SecondaryMap};

use crate::ir::{DataItem, DataRef, DataSection, EnumRef, FuncRef, InstData, Module};

/// Size of the shadow stack at the bottom of memory.
pub(crate) const STACK_SIZE: u64 = 65536;
/// Where data starts.
pub(crate) const GLOBAL_BASE: u64 = STACK_SIZE;
/// A wasm page.
pub(crate) const PAGE: u64 = 65536;
/// The most pages memory may have (1 GiB); `memory.grow` fails beyond.
pub(crate) const MAX_PAGES: u64 = 16384;

/// Where a data symbol lives.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub(crate) enum DataPlace {
    /// An absolute address (non-TLS data, linker-defined symbols).
    Addr(u32),
    /// An offset into the TLS block.
    Tls(u32),
    /// Extern data nothing defines.
    #[default]
    Unresolved,
}

/// One variant's name in memory, for `tag_name`.
#[derive(Copy, Clone, Debug)]
pub(crate) struct TagEntry {
    /// The tag value.
    pub value: i128,
    /// Address of the name's bytes.
    pub addr: u32,
    /// Length of the name.
    pub len: u32,
}

/// The computed layout.
pub(crate) struct Layout {
    /// Where each data object is.
    pub data: SecondaryMap<DataRef, DataPlace>,
    /// Address of the TLS block.
    pub tls_base: u32,
    /// Name tables of the enums `tag_name` uses, sorted by value; empty for the others.
    pub tags: SecondaryMap<EnumRef, Vec<TagEntry>>,
    /// The function table; slot 0 is `None`.
    pub table: Vec<Option<FuncRef>>,
    /// Each function's table slot, 0 if it has none.
    pub slot_of: SecondaryMap<FuncRef, u32>,
    /// Initial memory contents (a whole number of pages).
    pub memory: Vec<u8>,
}

fn align_up(x: u64, align: u32) -> Option<u64> {
    let a = u64::from(align.max(1));
    x.checked_next_multiple_of(a)
}

const TOO_BIG: &str = "data does not fit in the interpreter's memory";

/// Computes the layout and the initial memory of `module`.
pub(crate) fn compute(module: &Module) -> Result<Layout, String> {
    let decls = &module.decls;
    let limit = MAX_PAGES * PAGE;
    let mut data: SecondaryMap<DataRef, DataPlace> = SecondaryMap::new();
    let mut cursor = GLOBAL_BASE;

    // Place the objects of one group.
    let mut place =
        |cursor: &mut u64, pred: &dyn Fn(&DataSection) -> bool, tls_base: Option<u64>| {
            for (d, decl) in decls.data.iter() {
                if decl.linkage.is_extern() || !pred(&decl.section) {
                    continue;
                }
                let at = align_up(*cursor, decl.align).ok_or(TOO_BIG)?;
                let end = at
                    .checked_add(decl.size())
                    .filter(|&e| e <= limit)
                    .ok_or(TOO_BIG)?;
                data[d] = match tls_base {
                    Some(base) => DataPlace::Tls((at - base) as u32),
                    None => DataPlace::Addr(at as u32),
                };
                *cursor = end;
            }
            Ok::<(), String>(())
        };

    // The TLS block, aligned to its most aligned object.
    let tls_align = decls
        .data
        .values()
        .filter(|d| !d.linkage.is_extern() && d.section.is_tls())
        .map(|d| d.align.max(1))
        .max()
        .unwrap_or(1);
    let tls_base = align_up(cursor, tls_align).ok_or(TOO_BIG)?;
    cursor = tls_base;
    place(&mut cursor, &|s| *s == DataSection::Tdata, Some(tls_base))?;
    place(&mut cursor, &|s| *s == DataSection::Tbss, Some(tls_base))?;
    place(&mut cursor, &|s| *s == DataSection::Rodata, None)?;
    place(&mut cursor, &|s| *s == DataSection::Data, None)?;
    // Named sections, grouped, in order of first appearance.
    let mut section_names: Vec<&str> = Vec::new();
    for decl in decls.data.values() {
        if let DataSection::Named(n) = &decl.section
            && !decl.linkage.is_extern()
            && !section_names.contains(&n.as_str())
        {
            section_names.push(n);
        }
    }
    let mut section_bounds: Vec<(u64, u64)> = Vec::new();
    for name in &section_names {
        let start = cursor;
        place(
            &mut cursor,
            &|s| matches!(s, DataSection::Named(n) if n == name),
            None,
        )?;
        section_bounds.push((start, cursor));
    }
    place(&mut cursor, &|s| *s == DataSection::Bss, None)?;

    // Enum name tables for every enum a tag_name uses.
    let mut used = SecondaryMap::<EnumRef, bool>::new();
    for (f, _) in decls.funcs.iter() {
        for inst in module.bodies[f].dfg.insts.values() {
            if let InstData::TagName { enum_ref, .. } = inst {
                used[*enum_ref] = true;
            }
        }
    }
    let mut tags: SecondaryMap<EnumRef, Vec<TagEntry>> = SecondaryMap::new();
    let mut names: Vec<(u64, &[u8])> = Vec::new();
    for (e, decl) in decls.enums.iter() {
        if !used[e] {
            continue;
        }
        let mut entries = Vec::with_capacity(decl.variants.len());
        for v in &decl.variants {
            let bytes = v.name.as_bytes();
            let end = cursor
                .checked_add(bytes.len() as u64)
                .filter(|&e| e <= limit)
                .ok_or(TOO_BIG)?;
            entries.push(TagEntry {
                value: v.value,
                addr: cursor as u32,
                len: bytes.len() as u32,
            });
            names.push((cursor, bytes));
            cursor = end;
        }
        entries.sort_by_key(|t| t.value);
        tags[e] = entries;
    }

    let data_end = cursor;
    let heap_base = align_up(data_end, 16).ok_or(TOO_BIG)?;
    let pages = heap_base.div_ceil(PAGE) + 1;
    if pages > MAX_PAGES {
        return Err(TOO_BIG.to_string());
    }

    // Linker-defined symbols.
    for (d, decl) in decls.data.iter() {
        if !decl.linkage.is_extern() {
            continue;
        }
        let name = decl.name.as_str();
        let addr = match name {
            "__heap_base" => Some(heap_base),
            "__data_end" => Some(data_end),
            "__dso_handle" | "__global_base" => Some(GLOBAL_BASE),
            "__stack_low" => Some(0),
            "__stack_high" => Some(STACK_SIZE),
            _ => {
                let bound = |prefix: &str, pick: fn(&(u64, u64)) -> u64| {
                    let sect = name.strip_prefix(prefix)?;
                    let i = section_names.iter().position(|n| *n == sect)?;
                    section_bounds.get(i).map(pick)
                };
                bound("__start_", |b| b.0).or_else(|| bound("__stop_", |b| b.1))
            }
        };
        data[d] = match addr {
            Some(a) => DataPlace::Addr(a as u32),
            None => DataPlace::Unresolved,
        };
    }

    // The function table.
    let mut referenced = SecondaryMap::<FuncRef, bool>::new();
    for decl in decls.data.values() {
        for item in &decl.items {
            if let DataItem::FuncAddr(f) = item {
                referenced[*f] = true;
            }
        }
    }
    for (f, _) in decls.funcs.iter() {
        for inst in module.bodies[f].dfg.insts.values() {
            if let InstData::FuncAddr { func } = inst {
                referenced[*func] = true;
            }
        }
    }
    let mut table = vec![None];
    let mut slot_of = SecondaryMap::<FuncRef, u32>::new();
    for (f, _) in decls.funcs.iter() {
        if referenced[f] {
            slot_of[f] = table.len() as u32;
            table.push(Some(f));
        }
    }

    // Initial memory: data contents, relocations applied, and the enum names.
    let mut memory = vec![0u8; (pages * PAGE) as usize];
    for (d, decl) in decls.data.iter() {
        if decl.linkage.is_extern() || decl.section.is_zero() {
            continue;
        }
        let mut at = match data[d] {
            DataPlace::Addr(a) => u64::from(a),
            DataPlace::Tls(off) => tls_base + u64::from(off),
            DataPlace::Unresolved => continue,
        };
        for item in &decl.items {
            let size = item.size();
            let dst = memory
                .get_mut(at as usize..(at + size) as usize)
                .ok_or(TOO_BIG)?;
            match item {
                DataItem::Int { bytes, value } => {
                    let le = value.to_le_bytes();
                    dst.copy_from_slice(le.get(..usize::from(*bytes)).ok_or(TOO_BIG)?);
                }
                DataItem::F32(bits) => dst.copy_from_slice(&bits.to_le_bytes()),
                DataItem::F64(bits) => dst.copy_from_slice(&bits.to_le_bytes()),
                DataItem::Bytes(b) => dst.copy_from_slice(b),
                DataItem::Zero(_) => {}
                DataItem::DataAddr {
                    data: target,
                    offset,
                } => {
                    let target_addr = match data.get(*target).copied().unwrap_or_default() {
                        DataPlace::Addr(a) => u64::from(a),
                        DataPlace::Tls(off) => tls_base + u64::from(off),
                        DataPlace::Unresolved => {
                            let tname = decls.data.get(*target).map_or("?", |t| t.name.as_str());
                            return Err(format!(
                                "data @{} refers to unresolved extern data @{tname}",
                                decl.name
                            ));
                        }
                    };
                    let v = (target_addr as u32).wrapping_add(*offset as u32);
                    dst.copy_from_slice(&v.to_le_bytes());
                }
                DataItem::FuncAddr(f) => {
                    if decls.funcs.get(*f).is_none() {
                        return Err(format!(
                            "data @{} refers to function {} that does not exist",
                            decl.name,
                            f.index()
                        ));
                    }
                    dst.copy_from_slice(&slot_of[*f].to_le_bytes());
                }
            }
            at += size;
        }
    }
    for (at, bytes) in names {
        if let Some(dst) = memory.get_mut(at as usize..at as usize + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }

    Ok(Layout {
        data,
        tls_base: tls_base as u32,
        tags,
        table,
        slot_of,
        memory,
    })
}
