//! The IR text format, write side: a [`Module`] to canonical `.ir` text.
//!
//! The printer is the exact inverse of [`parse`](super::parse()): printing a parsed module and
//! parsing the result gives back the same module, and printing is a fixed point
//! (`print(parse(print(m))) == print(m)`). The canonical form (see "Canonical form" in
//! `ir/README.md`): items in their order separated by one blank line; in a function, stack
//! slots first, then blocks separated by one blank line; instructions indented by four
//! spaces; integers in signed decimal of their width; floats in the shortest form that reads
//! back the same (`inf`, `nan`, `nan:0x..` for other payloads); `align` always written on
//! data objects and only when not natural on memory accesses; names quoted when they are
//! not plain identifiers.
//!
//! Comments come from [`Module::comments`]: leading ones on their own lines before their
//! anchor (indented like it), trailing ones after two spaces at the end of the anchor's
//! first line. The printer never fails on a malformed module (a builder bug): references
//! that point nowhere print as `<invalid ...>`.

use std::collections::HashMap;
use std::fmt::{self, Write};

use super::*;

/// Prints the module as canonical text.
pub fn print(module: &Module) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_module(&mut out, module);
    out
}

/// Prints one function item (header, body and the comments inside it; not the comments on
/// the lines before it), ending with a newline.
pub fn print_function(module: &Module, func: FuncRef) -> String {
    let mut out = String::new();
    let p = Printer::new(module);
    let _ = p.item(&mut out, Item::Func(func), false);
    out
}

/// Prints one instruction as a line without indentation or newline, e.g.
/// `v3 = i32.add v1, v2`.
pub fn print_inst(module: &Module, func: FuncRef, inst: Inst) -> String {
    let mut out = String::new();
    let p = Printer {
        m: module,
        comments: HashMap::new(),
    };
    let _ = p.inst(&mut out, func, inst);
    out
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_module(f, self)
    }
}

/// Comments of one anchor: leading and trailing texts.
type AnchorComments<'a> = (Vec<&'a str>, Vec<&'a str>);

struct Printer<'a> {
    m: &'a Module,
    comments: HashMap<Anchor, AnchorComments<'a>>,
}

fn write_module<W: Write>(w: &mut W, m: &Module) -> fmt::Result {
    let p = Printer::new(m);
    let head = p.all_comments(Anchor::FileStart);
    if !head.is_empty() {
        for c in &head {
            writeln!(w, ";{c}")?;
        }
        writeln!(w)?;
    }
    for (i, &item) in m.items.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        p.item(w, item, true)?;
    }
    let tail = p.all_comments(Anchor::FileEnd);
    if !tail.is_empty() {
        if !m.items.is_empty() {
            writeln!(w)?;
        }
        for c in &tail {
            writeln!(w, ";{c}")?;
        }
    }
    Ok(())
}

/// Whether `name` can be written without quotes after `@` or `%`.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'$'))
}

/// Whether an enum variant name can be written as a bare word.
fn is_plain_word(name: &str) -> bool {
    is_plain_name(name) && !name.as_bytes()[0].is_ascii_digit()
}

/// Writes a string literal: printable characters as they are, the rest escaped.
fn write_quoted<W: Write>(w: &mut W, bytes: &[u8]) -> fmt::Result {
    w.write_char('"')?;
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            match ch {
                '"' => w.write_str("\\\"")?,
                '\\' => w.write_str("\\\\")?,
                '\n' => w.write_str("\\n")?,
                '\t' => w.write_str("\\t")?,
                '\r' => w.write_str("\\r")?,
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        write!(w, "\\{b:02x}")?;
                    }
                }
                c => w.write_char(c)?,
            }
        }
        for b in chunk.invalid() {
            write!(w, "\\{b:02x}")?;
        }
    }
    w.write_char('"')
}

/// Writes `@name` or `%name`, quoted if needed.
fn write_name<W: Write>(w: &mut W, sigil: char, name: &str) -> fmt::Result {
    w.write_char(sigil)?;
    if is_plain_name(name) {
        w.write_str(name)
    } else {
        write_quoted(w, name.as_bytes())
    }
}

/// Writes a float bit pattern of type `F32` (low 32 bits) or `F64`.
fn write_float<W: Write>(w: &mut W, ty: Type, bits: u64) -> fmt::Result {
    let (neg, nan, inf, mant, quiet) = if ty == Type::F32 {
        let f = f32::from_bits(bits as u32);
        (
            f.is_sign_negative(),
            f.is_nan(),
            f.is_infinite(),
            bits & 0x7f_ffff,
            1u64 << 22,
        )
    } else {
        let f = f64::from_bits(bits);
        (
            f.is_sign_negative(),
            f.is_nan(),
            f.is_infinite(),
            bits & ((1 << 52) - 1),
            1u64 << 51,
        )
    };
    let sign = if neg { "-" } else { "" };
    if nan {
        if mant == quiet {
            write!(w, "{sign}nan")
        } else {
            write!(w, "{sign}nan:0x{mant:x}")
        }
    } else if inf {
        write!(w, "{sign}inf")
    } else if ty == Type::F32 {
        write!(w, "{:?}", f32::from_bits(bits as u32))
    } else {
        write!(w, "{:?}", f64::from_bits(bits))
    }
}

/// Writes a constant of type `ty` from its bit pattern.
fn write_const<W: Write>(w: &mut W, ty: Type, bits: u64) -> fmt::Result {
    match ty.canonical() {
        Type::I32 => write!(w, "{}", bits as u32 as i32),
        Type::I64 => write!(w, "{}", bits as i64),
        _ => write_float(w, ty, bits),
    }
}

/// Writes ` + N`, ` - N` or nothing.
fn write_addend<W: Write>(w: &mut W, offset: i64) -> fmt::Result {
    match offset {
        0 => Ok(()),
        o if o < 0 => write!(w, " - {}", o.unsigned_abs()),
        o => write!(w, " + {o}"),
    }
}

fn write_types<W: Write>(w: &mut W, types: &[Type]) -> fmt::Result {
    for (i, t) in types.iter().enumerate() {
        if i > 0 {
            w.write_str(", ")?;
        }
        w.write_str(t.name())?;
    }
    Ok(())
}

/// Writes `(PARAMS)` and ` -> RESULTS` if there are results.
fn write_sig<W: Write>(w: &mut W, sig: &Signature) -> fmt::Result {
    w.write_char('(')?;
    write_types(w, &sig.params)?;
    w.write_char(')')?;
    if !sig.results.is_empty() {
        w.write_str(" -> ")?;
        write_types(w, &sig.results)?;
    }
    Ok(())
}

fn write_linkage<W: Write>(w: &mut W, linkage: &Linkage) -> fmt::Result {
    match linkage {
        Linkage::Local => Ok(()),
        Linkage::Public => w.write_str(" public"),
        Linkage::Export => w.write_str(" export"),
        Linkage::Extern(None) => Ok(()),
        Linkage::Extern(Some(imp)) => {
            w.write_str(" import ")?;
            write_quoted(w, imp.module.as_bytes())?;
            w.write_char(' ')?;
            write_quoted(w, imp.name.as_bytes())
        }
    }
}

fn write_values<W: Write>(w: &mut W, values: &[Value]) -> fmt::Result {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            w.write_str(", ")?;
        }
        write!(w, "{v}")?;
    }
    Ok(())
}

impl<'a> Printer<'a> {
    fn new(m: &'a Module) -> Printer<'a> {
        let mut comments: HashMap<Anchor, AnchorComments<'a>> = HashMap::new();
        for c in &m.comments {
            let entry = comments.entry(c.anchor).or_default();
            match c.placement {
                Placement::Leading => entry.0.push(&c.text),
                Placement::Trailing => entry.1.push(&c.text),
            }
        }
        Printer { m, comments }
    }

    /// Leading and trailing comments together (for the file's head and end).
    fn all_comments(&self, anchor: Anchor) -> Vec<&'a str> {
        self.comments
            .get(&anchor)
            .map(|(l, t)| l.iter().chain(t).copied().collect())
            .unwrap_or_default()
    }

    fn leading<W: Write>(&self, w: &mut W, anchor: Anchor, indent: &str) -> fmt::Result {
        if let Some((lead, _)) = self.comments.get(&anchor) {
            for c in lead {
                writeln!(w, "{indent};{c}")?;
            }
        }
        Ok(())
    }

    /// Ends an anchor's line: trailing comments, then the newline.
    fn end_line<W: Write>(&self, w: &mut W, anchor: Anchor) -> fmt::Result {
        if let Some((_, trail)) = self.comments.get(&anchor) {
            for c in trail {
                write!(w, "  ;{c}")?;
            }
        }
        writeln!(w)
    }

    fn func_name(&self, f: FuncRef) -> Result<&'a str, String> {
        self.m
            .decls
            .funcs
            .get(f)
            .map(|d| d.name.as_str())
            .ok_or_else(|| format!("@<invalid {f}>"))
    }

    fn write_sym<W: Write>(&self, w: &mut W, name: Result<&str, String>) -> fmt::Result {
        match name {
            Ok(n) => write_name(w, '@', n),
            Err(invalid) => w.write_str(&invalid),
        }
    }

    fn item<W: Write>(&self, w: &mut W, item: Item, with_leading: bool) -> fmt::Result {
        let anchor = Anchor::Item(item);
        if with_leading {
            self.leading(w, anchor, "")?;
        }
        let decls = &self.m.decls;
        match item {
            Item::Func(f) => {
                let Some(d) = decls.funcs.get(f) else {
                    return writeln!(w, "; <invalid {f}>");
                };
                if d.linkage.is_extern() {
                    w.write_str("extern ")?;
                }
                w.write_str("func ")?;
                write_name(w, '@', &d.name)?;
                write_sig(w, &d.sig)?;
                write_linkage(w, &d.linkage)?;
                if d.linkage.is_extern() {
                    return self.end_line(w, anchor);
                }
                match d.ctor {
                    Some(DEFAULT_CTOR_PRIORITY) => w.write_str(" ctor")?,
                    Some(p) => write!(w, " ctor {p}")?,
                    None => {}
                }
                w.write_str(" {")?;
                self.end_line(w, anchor)?;
                if let Some(body) = self.m.bodies.get(f) {
                    self.body(w, f, body)?;
                }
                self.leading(w, Anchor::FuncEnd(f), "    ")?;
                w.write_char('}')?;
                self.end_line(w, Anchor::FuncEnd(f))
            }
            Item::Global(g) => {
                let Some(d) = decls.globals.get(g) else {
                    return writeln!(w, "; <invalid {g}>");
                };
                if d.linkage.is_extern() {
                    w.write_str("extern ")?;
                }
                w.write_str("global ")?;
                write_name(w, '@', &d.name)?;
                write!(w, ": {}", d.ty)?;
                if d.mutable {
                    w.write_str(" mut")?;
                }
                write_linkage(w, &d.linkage)?;
                if !d.linkage.is_extern() {
                    w.write_str(" = ")?;
                    write_const(w, d.ty, d.init)?;
                }
                self.end_line(w, anchor)
            }
            Item::Data(dr) => {
                let Some(d) = decls.data.get(dr) else {
                    return writeln!(w, "; <invalid {dr}>");
                };
                if d.linkage.is_extern() {
                    w.write_str("extern data ")?;
                    write_name(w, '@', &d.name)?;
                    return self.end_line(w, anchor);
                }
                w.write_str("data ")?;
                write_name(w, '@', &d.name)?;
                w.write_str(": ")?;
                match &d.section {
                    DataSection::Rodata => w.write_str("rodata")?,
                    DataSection::Data => w.write_str("data")?,
                    DataSection::Tdata => w.write_str("tdata")?,
                    DataSection::Bss => write!(w, "bss {}", d.zero_size)?,
                    DataSection::Tbss => write!(w, "tbss {}", d.zero_size)?,
                    DataSection::Named(s) => {
                        w.write_str("section ")?;
                        write_quoted(w, s.as_bytes())?;
                    }
                }
                write!(w, " align {}", d.align)?;
                write_linkage(w, &d.linkage)?;
                if !d.section.is_zero() {
                    w.write_str(" = ")?;
                    self.data_init(w, &d.items)?;
                }
                self.end_line(w, anchor)
            }
            Item::Enum(e) => {
                let Some(d) = decls.enums.get(e) else {
                    return writeln!(w, "; <invalid {e}>");
                };
                w.write_str("enum ")?;
                write_name(w, '%', &d.name)?;
                write!(w, ": {} {{", d.tag)?;
                let mut expected = 0i128;
                for (i, v) in d.variants.iter().enumerate() {
                    w.write_str(if i > 0 { ", " } else { " " })?;
                    if is_plain_word(&v.name) {
                        w.write_str(&v.name)?;
                    } else {
                        write_quoted(w, v.name.as_bytes())?;
                    }
                    if v.value != expected {
                        write!(w, " = {}", v.value)?;
                    }
                    expected = v.value + 1;
                }
                w.write_str(if d.variants.is_empty() { "}" } else { " }" })?;
                self.end_line(w, anchor)
            }
        }
    }

    fn data_init<W: Write>(&self, w: &mut W, items: &[DataItem]) -> fmt::Result {
        if let [DataItem::Bytes(b)] = items {
            return write_quoted(w, b);
        }
        if items.is_empty() {
            return w.write_str("{}");
        }
        w.write_str("{ ")?;
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                w.write_str(", ")?;
            }
            match item {
                DataItem::Int { bytes, value } => {
                    let v = *value;
                    match bytes {
                        1 => write!(w, "i8 {}", v as u8 as i8)?,
                        2 => write!(w, "i16 {}", v as u16 as i16)?,
                        4 => write!(w, "i32 {}", v as u32 as i32)?,
                        n => write!(w, "i{} {}", u32::from(*n) * 8, v as i64)?,
                    }
                }
                DataItem::F32(bits) => {
                    w.write_str("f32 ")?;
                    write_float(w, Type::F32, u64::from(*bits))?;
                }
                DataItem::F64(bits) => {
                    w.write_str("f64 ")?;
                    write_float(w, Type::F64, *bits)?;
                }
                DataItem::Bytes(b) => write_quoted(w, b)?,
                DataItem::Zero(n) => write!(w, "zero {n}")?,
                DataItem::DataAddr { data, offset } => {
                    w.write_str("ptr ")?;
                    let name = self
                        .m
                        .decls
                        .data
                        .get(*data)
                        .map(|d| d.name.as_str())
                        .ok_or_else(|| format!("@<invalid {data}>"));
                    self.write_sym(w, name)?;
                    write_addend(w, *offset)?;
                }
                DataItem::FuncAddr(f) => {
                    w.write_str("ptr ")?;
                    self.write_sym(w, self.func_name(*f))?;
                }
            }
        }
        w.write_str(" }")
    }

    fn body<W: Write>(&self, w: &mut W, f: FuncRef, body: &Function) -> fmt::Result {
        for (ss, slot) in body.stack_slots.iter() {
            let anchor = Anchor::Slot(f, ss);
            self.leading(w, anchor, "    ")?;
            write!(
                w,
                "    {ss} = stack_slot {} align {}",
                slot.size, slot.align
            )?;
            self.end_line(w, anchor)?;
        }
        let dfg = &body.dfg;
        for (i, &block) in body.layout.iter().enumerate() {
            if i > 0 {
                writeln!(w)?;
            }
            let anchor = Anchor::Block(f, block);
            self.leading(w, anchor, "")?;
            write!(w, "{block}")?;
            let Some(data) = dfg.blocks.get(block) else {
                writeln!(w, ": ; <invalid block>")?;
                continue;
            };
            let params = dfg.list(data.params);
            if !params.is_empty() {
                w.write_char('(')?;
                for (j, &v) in params.iter().enumerate() {
                    if j > 0 {
                        w.write_str(", ")?;
                    }
                    let ty = dfg.values.get(v).map_or(Type::I32, |d| d.ty);
                    write!(w, "{v}: {ty}")?;
                }
                w.write_char(')')?;
            }
            w.write_char(':')?;
            self.end_line(w, anchor)?;
            for &inst in &data.insts {
                let anchor = Anchor::Inst(f, inst);
                self.leading(w, anchor, "    ")?;
                w.write_str("    ")?;
                self.inst_in(w, body, inst)?;
                self.end_line(w, anchor)?;
            }
        }
        Ok(())
    }

    fn inst<W: Write>(&self, w: &mut W, f: FuncRef, inst: Inst) -> fmt::Result {
        match self.m.bodies.get(f) {
            Some(body) => self.inst_in(w, body, inst),
            None => write!(w, "<invalid {f}>"),
        }
    }

    fn block_call<W: Write>(
        &self,
        w: &mut W,
        dfg: &DataFlowGraph,
        call: &BlockCall,
    ) -> fmt::Result {
        write!(w, "{}", call.block)?;
        let args = dfg.list(call.args);
        if !args.is_empty() {
            w.write_char('(')?;
            write_values(w, args)?;
            w.write_char(')')?;
        }
        Ok(())
    }

    fn args<W: Write>(&self, w: &mut W, dfg: &DataFlowGraph, list: ValueList) -> fmt::Result {
        w.write_char('(')?;
        write_values(w, dfg.list(list))?;
        w.write_char(')')
    }

    fn enum_name(&self, e: EnumRef) -> Option<&'a EnumDecl> {
        self.m.decls.enums.get(e)
    }

    fn inst_in<W: Write>(&self, w: &mut W, body: &Function, inst: Inst) -> fmt::Result {
        let dfg = &body.dfg;
        let Some(data) = dfg.insts.get(inst) else {
            return write!(w, "<invalid {inst}>");
        };
        let results = dfg.inst_results(inst);
        if !results.is_empty() {
            write_values(w, results)?;
            w.write_str(" = ")?;
        }
        let mem = |w: &mut W, mem: MemArg, natural: u32| -> fmt::Result {
            if mem.offset != 0 {
                write!(w, " offset={}", mem.offset)?;
            }
            if mem.align != 0 && mem.align != natural {
                write!(w, " align={}", mem.align)?;
            }
            Ok(())
        };
        let data_name = |d: DataRef| {
            self.m
                .decls
                .data
                .get(d)
                .map(|d| d.name.as_str())
                .ok_or_else(|| format!("@<invalid {d}>"))
        };
        match *data {
            InstData::Const { ty, bits } => {
                write!(w, "{ty}.const ")?;
                write_const(w, ty, bits)
            }
            InstData::Unary { op, ty, arg } => write!(w, "{ty}.{} {arg}", op.name()),
            InstData::Binary { op, ty, args } => {
                write!(w, "{ty}.{} {}, {}", op.name(), args[0], args[1])
            }
            InstData::Convert { op, arg } => write!(w, "{} {arg}", op.name()),
            InstData::Select { args } => write!(w, "select {}, {}, {}", args[0], args[1], args[2]),
            InstData::Load {
                ty,
                kind,
                addr,
                mem: m,
            } => {
                write!(w, "{ty}.{} {addr}", kind.name())?;
                mem(w, m, kind.bytes(ty))
            }
            InstData::Store {
                ty,
                width,
                args,
                mem: m,
            } => {
                write!(w, "{ty}.{} {}, {}", width.name(), args[0], args[1])?;
                mem(w, m, width.bytes(ty))
            }
            InstData::MemorySize => w.write_str("memory.size"),
            InstData::MemoryGrow { arg } => write!(w, "memory.grow {arg}"),
            InstData::MemoryCopy { args } => {
                write!(w, "memory.copy {}, {}, {}", args[0], args[1], args[2])
            }
            InstData::MemoryFill { args } => {
                write!(w, "memory.fill {}, {}, {}", args[0], args[1], args[2])
            }
            InstData::GlobalGet { global } => {
                w.write_str("global.get ")?;
                self.write_sym(w, self.global_name(global))
            }
            InstData::GlobalSet { global, arg } => {
                w.write_str("global.set ")?;
                self.write_sym(w, self.global_name(global))?;
                write!(w, ", {arg}")
            }
            InstData::DataAddr { data, offset } => {
                w.write_str("data_addr ")?;
                self.write_sym(w, data_name(data))?;
                write_addend(w, offset)
            }
            InstData::TlsAddr { data, offset } => {
                w.write_str("tls_addr ")?;
                self.write_sym(w, data_name(data))?;
                write_addend(w, offset)
            }
            InstData::FuncAddr { func } => {
                w.write_str("func_addr ")?;
                self.write_sym(w, self.func_name(func))
            }
            InstData::StackAddr { slot, offset } => {
                write!(w, "stack_addr {slot}")?;
                write_addend(w, i64::from(offset))
            }
            InstData::Call { func, args } => {
                w.write_str("call ")?;
                self.write_sym(w, self.func_name(func))?;
                self.args(w, dfg, args)
            }
            InstData::CallIndirect { sig, callee, args } => {
                w.write_str("call_indirect ")?;
                match dfg.sigs.get(sig) {
                    Some(s) => write_sig(w, s)?,
                    None => write!(w, "<invalid {sig}>")?,
                }
                write!(w, " {callee}")?;
                self.args(w, dfg, args)
            }
            InstData::Intrinsic { intrinsic, args } => {
                write!(w, "intrinsic {}", intrinsic.name())?;
                self.args(w, dfg, args)
            }
            InstData::TagName { enum_ref, arg } => {
                w.write_str("tag_name ")?;
                match self.enum_name(enum_ref) {
                    Some(e) => write_name(w, '%', &e.name)?,
                    None => write!(w, "%<invalid {enum_ref}>")?,
                }
                write!(w, "({arg})")
            }
            InstData::EnumConst { enum_ref, variant } => {
                w.write_str("enum_const ")?;
                let Some(e) = self.enum_name(enum_ref) else {
                    return write!(w, "%<invalid {enum_ref}>");
                };
                write_name(w, '%', &e.name)?;
                w.write_char('.')?;
                match e.variants.get(variant as usize) {
                    Some(v) if is_plain_word(&v.name) && !v.name.contains('.') => {
                        w.write_str(&v.name)
                    }
                    Some(v) => write_quoted(w, v.name.as_bytes()),
                    None => write!(w, "<invalid variant {variant}>"),
                }
            }
            InstData::Jump { dest } => {
                w.write_str("jump ")?;
                self.block_call(w, dfg, &dest)
            }
            InstData::BrIf {
                cond,
                then_dest,
                else_dest,
            } => {
                write!(w, "br_if {cond}, ")?;
                self.block_call(w, dfg, &then_dest)?;
                w.write_str(", ")?;
                self.block_call(w, dfg, &else_dest)
            }
            InstData::BrTable { index, table } => {
                write!(w, "br_table {index}, [")?;
                let Some(jt) = dfg.jump_tables.get(table) else {
                    return write!(w, "<invalid {table}>]");
                };
                for (i, t) in jt.targets.iter().enumerate() {
                    if i > 0 {
                        w.write_str(", ")?;
                    }
                    self.block_call(w, dfg, t)?;
                }
                w.write_str("], ")?;
                self.block_call(w, dfg, &jt.default)
            }
            InstData::Return { args } => {
                w.write_str("return")?;
                let args = dfg.list(args);
                if !args.is_empty() {
                    w.write_char(' ')?;
                    write_values(w, args)?;
                }
                Ok(())
            }
            InstData::Unreachable => w.write_str("unreachable"),
        }
    }

    fn global_name(&self, g: GlobalRef) -> Result<&'a str, String> {
        self.m
            .decls
            .globals
            .get(g)
            .map(|d| d.name.as_str())
            .ok_or_else(|| format!("@<invalid {g}>"))
    }
}
