//! Pieces of hand-built objects shared by the link stage's unit tests.

use std::borrow::Cow;

use crate::object::*;

/// `env.__linear_memory`, the memory import every relocatable object has.
pub(super) const MEM: Import<'static> = Import {
    module: Cow::Borrowed("env"),
    name: Cow::Borrowed("__linear_memory"),
    kind: ImportKind::Memory {
        min: 0,
        max: None,
        shared: false,
        memory64: false,
    },
};

/// `call <reloc>` then `end`: the reloc is at body offset 2.
pub(super) const CALL: [u8; 7] = [0x10, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b];
/// `i32.const <reloc>` then `end`: the reloc is at body offset 2.
pub(super) const CONST: [u8; 7] = [0x41, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b];

/// A function of type 0 with no locals and `code` as its body (and no relocations: see
/// [`set_func_relocs`]).
pub(super) fn func(code: &[u8]) -> Func<'static> {
    let mut body = vec![0u8];
    body.extend_from_slice(code);
    Func {
        type_index: 0,
        body: Cow::Owned(body),
        relocs: RelocRange::default(),
        input_offset: 0,
        local_names: LocalNames::default(),
    }
}

/// A function of type 0 returning `v`.
pub(super) fn ret(v: u8) -> Func<'static> {
    func(&[0x41, v, 0x0b])
}

/// Gives function `f` of `obj` the relocations `relocs` (added to the object's array).
pub(super) fn set_func_relocs(obj: &mut Object<'static>, f: usize, relocs: Vec<Reloc>) {
    obj.funcs[f].relocs = obj.push_relocs(relocs);
}

/// Gives data segment `s` of `obj` the relocations `relocs` (added to the object's array).
pub(super) fn set_segment_relocs(obj: &mut Object<'static>, s: usize, relocs: Vec<Reloc>) {
    obj.segments[s].relocs = obj.push_relocs(relocs);
}

pub(super) fn sym(name: &'static str, flags: u32, kind: SymbolKind) -> Symbol<'static> {
    Symbol {
        name: Cow::Borrowed(name),
        flags,
        kind,
    }
}

pub(super) fn reloc(ty: RelocType, offset: u32, index: u32, addend: i32) -> Reloc {
    Reloc {
        ty,
        offset,
        index,
        addend,
    }
}
