//! A stable text listing of an [`Object`] for snapshot tests and `kiln dump`: types,
//! imports, functions with their relocations, globals, data segments, symbols, init
//! functions, comdats, custom sections, features, exports and enums.
//!
//! The listing depends only on the object's contents (not its path) and prints every index
//! next to the name it resolves to; an index that points nowhere prints as `?`, so a
//! malformed object still dumps. Names are escaped (see `esc`) so each item stays on one
//! line.

use std::fmt::Write;

use super::*;

/// LLVM's name of a relocation type (`R_WASM_FUNCTION_INDEX_LEB`).
pub fn reloc_name(ty: RelocType) -> &'static str {
    use RelocType::*;
    match ty {
        FunctionIndexLeb => "R_WASM_FUNCTION_INDEX_LEB",
        TableIndexSleb => "R_WASM_TABLE_INDEX_SLEB",
        TableIndexI32 => "R_WASM_TABLE_INDEX_I32",
        MemoryAddrLeb => "R_WASM_MEMORY_ADDR_LEB",
        MemoryAddrSleb => "R_WASM_MEMORY_ADDR_SLEB",
        MemoryAddrI32 => "R_WASM_MEMORY_ADDR_I32",
        TypeIndexLeb => "R_WASM_TYPE_INDEX_LEB",
        GlobalIndexLeb => "R_WASM_GLOBAL_INDEX_LEB",
        FunctionOffsetI32 => "R_WASM_FUNCTION_OFFSET_I32",
        SectionOffsetI32 => "R_WASM_SECTION_OFFSET_I32",
        TagIndexLeb => "R_WASM_TAG_INDEX_LEB",
        MemoryAddrRelSleb => "R_WASM_MEMORY_ADDR_REL_SLEB",
        TableIndexRelSleb => "R_WASM_TABLE_INDEX_REL_SLEB",
        GlobalIndexI32 => "R_WASM_GLOBAL_INDEX_I32",
        MemoryAddrLeb64 => "R_WASM_MEMORY_ADDR_LEB64",
        MemoryAddrSleb64 => "R_WASM_MEMORY_ADDR_SLEB64",
        MemoryAddrI64 => "R_WASM_MEMORY_ADDR_I64",
        MemoryAddrRelSleb64 => "R_WASM_MEMORY_ADDR_REL_SLEB64",
        TableIndexSleb64 => "R_WASM_TABLE_INDEX_SLEB64",
        TableIndexI64 => "R_WASM_TABLE_INDEX_I64",
        TableNumberLeb => "R_WASM_TABLE_NUMBER_LEB",
        MemoryAddrTlsSleb => "R_WASM_MEMORY_ADDR_TLS_SLEB",
        FunctionOffsetI64 => "R_WASM_FUNCTION_OFFSET_I64",
        MemoryAddrLocrelI32 => "R_WASM_MEMORY_ADDR_LOCREL_I32",
        TableIndexRelSleb64 => "R_WASM_TABLE_INDEX_REL_SLEB64",
        MemoryAddrTlsSleb64 => "R_WASM_MEMORY_ADDR_TLS_SLEB64",
        FunctionIndexI32 => "R_WASM_FUNCTION_INDEX_I32",
    }
}

/// A name as the listing shows it: Rust's debug escapes (tabs, newlines, quotes,
/// backslashes, non-printable characters) plus `` \` `` for backticks, so that every name
/// stays on its line and between its delimiters.
fn esc(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c == '`' {
            out.push_str("\\`");
        } else {
            out.extend(c.escape_debug());
        }
    }
    out
}

fn val(t: ValType) -> &'static str {
    match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        ValType::FuncRef => "funcref",
        ValType::ExternRef => "externref",
    }
}

fn vals(ts: &[ValType]) -> String {
    ts.iter().map(|&t| val(t)).collect::<Vec<_>>().join(", ")
}

fn limits(min: u64, max: Option<u64>) -> String {
    match max {
        Some(m) => format!("min {min} max {m}"),
        None => format!("min {min}"),
    }
}

fn const_expr(c: &ConstExpr) -> String {
    match c {
        ConstExpr::I32(v) => format!("i32.const {v}"),
        ConstExpr::I64(v) => format!("i64.const {v}"),
        ConstExpr::F32(b) => format!("f32.const bits {b:#010x}"),
        ConstExpr::F64(b) => format!("f64.const bits {b:#018x}"),
        ConstExpr::RefNull => "ref.null".into(),
    }
}

/// The symbol flags spelled out: `WEAK|HIDDEN`, `-` for none; unknown bits in hex.
pub fn symbol_flags(flags: u32) -> String {
    const NAMES: [(u32, &str); 9] = [
        (SYM_WEAK, "WEAK"),
        (SYM_LOCAL, "LOCAL"),
        (SYM_HIDDEN, "HIDDEN"),
        (SYM_UNDEFINED, "UNDEFINED"),
        (SYM_EXPORTED, "EXPORTED"),
        (SYM_EXPLICIT_NAME, "EXPLICIT_NAME"),
        (SYM_NO_STRIP, "NO_STRIP"),
        (SYM_TLS, "TLS"),
        (SYM_ABSOLUTE, "ABSOLUTE"),
    ];
    let mut parts: Vec<String> = NAMES
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    let known = NAMES.iter().fold(0, |a, (b, _)| a | b);
    if flags & !known != 0 {
        parts.push(format!("{:#x}", flags & !known));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join("|")
    }
}

fn segment_flags(flags: u32) -> String {
    let mut parts = Vec::new();
    for (bit, name) in [
        (SEG_STRINGS, "STRINGS"),
        (SEG_TLS, "TLS"),
        (SEG_RETAIN, "RETAIN"),
    ] {
        if flags & bit != 0 {
            parts.push(name.to_string());
        }
    }
    let rest = flags & !(SEG_STRINGS | SEG_TLS | SEG_RETAIN);
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join("|")
    }
}

fn symbol_name(obj: &Object<'_>, index: u32) -> String {
    obj.symbols
        .get(index as usize)
        .map_or("?".into(), |s| esc(&s.name))
}

fn relocs(out: &mut String, obj: &Object<'_>, relocs: &[Reloc]) {
    for r in relocs {
        let target = if r.ty == RelocType::TypeIndexLeb {
            format!("type {}", r.index)
        } else {
            format!("symbol {} `{}`", r.index, symbol_name(obj, r.index))
        };
        let _ = write!(
            out,
            "    reloc {} at {:#x} {target}",
            reloc_name(r.ty),
            r.offset
        );
        if r.ty.has_addend() {
            let _ = write!(out, " addend {}", r.addend);
        }
        out.push('\n');
    }
}

/// Lists `obj` as text, one item per line, sections in a fixed order.
pub fn dump_object(obj: &Object<'_>) -> String {
    let mut out = String::new();
    let o = &mut out;
    let _ = writeln!(o, "types ({}):", obj.types.len());
    for (i, t) in obj.types.iter().enumerate() {
        let _ = writeln!(o, "  {i}: ({}) -> ({})", vals(&t.params), vals(&t.results));
    }
    let _ = writeln!(o, "imports ({}):", obj.imports.len());
    for imp in &obj.imports {
        let what = match &imp.kind {
            ImportKind::Func(t) => format!("func type {t}"),
            ImportKind::Global { ty, mutable } => {
                format!("global {}{}", if *mutable { "mut " } else { "" }, val(*ty))
            }
            ImportKind::Table { elem, min, max } => {
                format!("table {} {}", val(*elem), limits(*min, *max))
            }
            ImportKind::Memory {
                min,
                max,
                shared,
                memory64,
            } => format!(
                "memory {}{}{}",
                limits(*min, *max),
                if *shared { " shared" } else { "" },
                if *memory64 { " i64" } else { "" }
            ),
            ImportKind::Tag(t) => format!("tag type {t}"),
        };
        let _ = writeln!(o, "  {}.{}: {what}", esc(&imp.module), esc(&imp.name));
    }
    let base = obj.num_imported_funcs();
    let _ = writeln!(o, "functions ({}):", obj.funcs.len());
    for (i, f) in obj.funcs.iter().enumerate() {
        let index = base.saturating_add(i as u32);
        let name = obj
            .symbols
            .iter()
            .find(|s| s.kind == SymbolKind::Function(index) && !s.is_undefined())
            .map_or(String::new(), |s| esc(&s.name));
        let _ = writeln!(
            o,
            "  func {index} `{name}`: type {}, body {} bytes, {} relocs",
            f.type_index,
            f.body.len(),
            obj.relocs_in(f.relocs).len()
        );
        relocs(o, obj, obj.relocs_in(f.relocs));
    }
    let _ = writeln!(o, "globals ({}):", obj.globals.len());
    for (i, g) in obj.globals.iter().enumerate() {
        let _ = writeln!(
            o,
            "  {}: {}{} = {}",
            obj.num_imported_globals().saturating_add(i as u32),
            if g.mutable { "mut " } else { "" },
            val(g.ty),
            const_expr(&g.init)
        );
    }
    let _ = writeln!(o, "data segments ({}):", obj.segments.len());
    for (i, s) in obj.segments.iter().enumerate() {
        let kind = match s.data {
            SegmentData::Bytes(_) => "bytes",
            SegmentData::Zero(_) => "zero",
        };
        let _ = writeln!(
            o,
            "  {i}: {} align {} flags {} size {} ({kind}), {} relocs",
            esc(&s.name),
            1u64.checked_shl(s.align_log2).unwrap_or(0),
            segment_flags(s.flags),
            s.size(),
            obj.relocs_in(s.relocs).len()
        );
        relocs(o, obj, obj.relocs_in(s.relocs));
    }
    let _ = writeln!(o, "symbols ({}):", obj.symbols.len());
    for (i, s) in obj.symbols.iter().enumerate() {
        let def = match s.kind {
            SymbolKind::Function(f) => format!("function {f}"),
            SymbolKind::Data(None) => "data".into(),
            SymbolKind::Data(Some(d)) => format!(
                "data segment {} offset {} size {}",
                d.segment, d.offset, d.size
            ),
            SymbolKind::Global(g) => format!("global {g}"),
            SymbolKind::Section(c) => format!(
                "section {c} `{}`",
                obj.customs
                    .get(c as usize)
                    .map_or("?".into(), |c| esc(&c.name))
            ),
            SymbolKind::Tag(t) => format!("tag {t}"),
            SymbolKind::Table(t) => format!("table {t}"),
        };
        let _ = writeln!(
            o,
            "  {i}: `{}` {def} [{}]",
            esc(&s.name),
            symbol_flags(s.flags)
        );
    }
    let _ = writeln!(o, "init funcs ({}):", obj.init_funcs.len());
    for f in &obj.init_funcs {
        let _ = writeln!(
            o,
            "  priority {}: symbol {} `{}`",
            f.priority,
            f.symbol,
            symbol_name(obj, f.symbol)
        );
    }
    let _ = writeln!(o, "comdats ({}):", obj.comdats.len());
    for c in &obj.comdats {
        let members: Vec<String> = c
            .members
            .iter()
            .map(|m| match m {
                ComdatMember::Data(i) => format!("data {i}"),
                ComdatMember::Function(i) => format!("function {i}"),
                ComdatMember::Global(i) => format!("global {i}"),
                ComdatMember::Tag(i) => format!("tag {i}"),
                ComdatMember::Table(i) => format!("table {i}"),
                ComdatMember::Section(i) => format!("section {i}"),
            })
            .collect();
        let _ = writeln!(o, "  {}: {}", esc(&c.name), members.join(", "));
    }
    let _ = writeln!(o, "custom sections ({}):", obj.customs.len());
    for c in &obj.customs {
        let _ = writeln!(
            o,
            "  {}: {} bytes, {} relocs",
            esc(&c.name),
            c.data.len(),
            c.relocs.len()
        );
    }
    let features: Vec<String> = obj
        .features
        .iter()
        .map(|f| format!("{}{}", char::from(f.prefix), esc(&f.name)))
        .collect();
    if features.is_empty() {
        let _ = writeln!(o, "features: -");
    } else {
        let _ = writeln!(o, "features: {}", features.join(" "));
    }
    let _ = writeln!(o, "exports ({}):", obj.exports.len());
    for (name, f) in &obj.exports {
        let _ = writeln!(o, "  {}: function {f}", esc(name));
    }
    let _ = writeln!(o, "enums ({}):", obj.enums.len());
    for e in &obj.enums {
        let variants: Vec<String> = e
            .variants
            .iter()
            .map(|(n, v)| format!("\"{}\"={v}", esc(n)))
            .collect();
        let _ = writeln!(
            o,
            "  symbol {} `{}` {}: {}",
            e.symbol,
            symbol_name(obj, e.symbol),
            e.tag,
            variants.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_on_their_line() {
        assert_eq!(esc("plain.name"), "plain.name");
        assert_eq!(esc("a\tb\nc`d\"e\\"), "a\\tb\\nc\\`d\\\"e\\\\");
    }

    #[test]
    fn flags_are_spelled_out() {
        assert_eq!(symbol_flags(0), "-");
        assert_eq!(symbol_flags(SYM_WEAK | SYM_HIDDEN), "WEAK|HIDDEN");
        assert_eq!(
            symbol_flags(SYM_UNDEFINED | SYM_EXPLICIT_NAME | 0x8 | 0x1000),
            "UNDEFINED|EXPLICIT_NAME|0x1008"
        );
        assert_eq!(segment_flags(SEG_STRINGS | SEG_RETAIN), "STRINGS|RETAIN");
        assert_eq!(segment_flags(0x10), "0x10");
        assert_eq!(
            reloc_name(RelocType::FunctionIndexI32),
            "R_WASM_FUNCTION_INDEX_I32"
        );
    }

    #[test]
    fn dangling_indices_print_as_question_marks() {
        let obj = Object {
            funcs: vec![Func {
                type_index: 0,
                body: Cow::Borrowed(&[0, 0x0b]),
                relocs: RelocRange { start: 0, len: 1 },
                input_offset: 0,
                local_names: LocalNames::default(),
            }],
            relocs: vec![Reloc {
                ty: RelocType::FunctionIndexLeb,
                offset: 1,
                index: 9,
                addend: 0,
            }],
            symbols: vec![Symbol {
                name: Cow::Borrowed("s"),
                flags: 0,
                kind: SymbolKind::Section(4),
            }],
            ..Object::default()
        };
        let text = dump_object(&obj);
        assert!(text.contains("symbol 9 `?`"), "{text}");
        assert!(text.contains("`s` section 4 `?`"), "{text}");
    }
}
