//! The parser's core: token access, literals, names, and the item headers (phase 1).
//!
//! Parsing runs in two phases so that anything may refer forward. Phase 1 walks the items:
//! it parses globals, data objects and enums completely, and of functions only the header,
//! skipping the body to its closing brace and remembering where it starts. Data items that
//! point at symbols (`ptr @x`) are resolved once every header is known. Phase 2 (in
//! `body.rs`) parses each body with every declaration, and thus every callee signature,
//! known.
//!
//! Errors: a syntax error stops parsing (`Err` through `?`); problems that do not hinder
//! parsing (unresolved names, duplicate definitions, out-of-range numbers) are collected in
//! `errors` and parsing goes on.

use std::collections::HashMap;

use crate::error::Diagnostic;
use crate::ir::*;

use super::lexer::{CommentTok, Lexed, TokKind, Token};

/// A result whose error is a syntax error that stops parsing.
pub(super) type PResult<T> = Result<T, Diagnostic>;

/// The largest value, block or slot number the text may use (2^24 - 1).
pub(super) const MAX_ENTITY: u64 = (1 << 24) - 1;

/// A `ptr @name` data item, resolved after phase 1.
struct DataFixup {
    data: DataRef,
    item: usize,
    tok: Token,
    offset: i128,
}

/// Parser state for one module.
pub(super) struct Parser<'a> {
    pub text: &'a str,
    pub toks: Vec<Token>,
    /// Index of the next token.
    pub pos: usize,
    pub lex_error: Option<String>,
    pub comments: Vec<CommentTok>,
    pub blank_lines: Vec<u32>,
    pub module: Module,
    /// The first item of each symbol name.
    pub symbols: HashMap<String, Item>,
    /// Enums by name.
    pub enums: HashMap<String, EnumRef>,
    /// Collected (non-fatal) problems.
    pub errors: Vec<Diagnostic>,
    /// Comment anchors: byte offset and line of their first token.
    pub anchors: Vec<(u32, u32, Anchor)>,
    /// Function bodies to parse in phase 2: the function and the index of its `{` token.
    pub bodies: Vec<(FuncRef, usize)>,
    fixups: Vec<DataFixup>,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str, lexed: Lexed) -> Parser<'a> {
        Parser {
            text,
            toks: lexed.tokens,
            pos: 0,
            lex_error: lexed.error,
            comments: lexed.comments,
            blank_lines: lexed.blank_lines,
            module: Module::default(),
            symbols: HashMap::new(),
            enums: HashMap::new(),
            errors: Vec::new(),
            anchors: Vec::new(),
            bodies: Vec::new(),
            fixups: Vec::new(),
        }
    }

    // ----- tokens -----

    pub fn peek(&self) -> Token {
        self.peek_at(0)
    }

    pub fn peek_at(&self, ahead: usize) -> Token {
        let last = self.toks.len().saturating_sub(1);
        self.toks
            .get((self.pos + ahead).min(last))
            .copied()
            .unwrap_or(Token {
                kind: TokKind::Eof,
                start: self.text.len() as u32,
                end: self.text.len() as u32,
                line: 0,
                col: 0,
            })
    }

    pub fn next(&mut self) -> Token {
        let t = self.peek();
        if t.kind != TokKind::Eof && t.kind != TokKind::Error {
            self.pos += 1;
        }
        t
    }

    pub fn tok_text(&self, t: Token) -> &'a str {
        self.text
            .get(t.start as usize..t.end as usize)
            .unwrap_or("")
    }

    pub fn describe(&self, t: Token) -> String {
        match t.kind {
            TokKind::Eof => "end of file".to_string(),
            _ => format!("'{}'", self.tok_text(t)),
        }
    }

    /// A syntax error at `t`: `expected WHAT, found 'TOKEN'`, or the lexer's message if `t`
    /// is where lexing failed.
    pub fn unexpected(&self, t: Token, what: &str) -> Diagnostic {
        if t.kind == TokKind::Error {
            let msg = self
                .lex_error
                .clone()
                .unwrap_or_else(|| "invalid token".into());
            return Diagnostic::new(t.loc(), msg);
        }
        Diagnostic::new(
            t.loc(),
            format!("expected {what}, found {}", self.describe(t)),
        )
    }

    pub fn expect(&mut self, kind: TokKind, what: &str) -> PResult<Token> {
        let t = self.peek();
        if t.kind == kind {
            self.pos += 1;
            Ok(t)
        } else {
            Err(self.unexpected(t, what))
        }
    }

    pub fn eat(&mut self, kind: TokKind) -> bool {
        if self.peek().kind == kind {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn is_word(&self, t: Token, w: &str) -> bool {
        t.kind == TokKind::Word && self.tok_text(t) == w
    }

    pub fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(self.peek(), w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect_word(&mut self, w: &str, what: &str) -> PResult<Token> {
        let t = self.peek();
        if self.is_word(t, w) {
            self.pos += 1;
            Ok(t)
        } else {
            Err(self.unexpected(t, what))
        }
    }

    pub fn error(&mut self, loc: Loc, msg: impl Into<String>) {
        self.errors.push(Diagnostic::new(loc, msg));
    }

    pub fn anchor(&mut self, t: Token, anchor: Anchor) {
        if !self.comments.is_empty() {
            self.anchors.push((t.start, t.line, anchor));
        }
    }

    // ----- literals -----

    /// The bytes of a string literal token, escapes decoded.
    pub fn string_bytes(&self, t: Token) -> PResult<Vec<u8>> {
        let raw = self.tok_text(t);
        let inner = raw
            .strip_prefix(['@', '%'])
            .unwrap_or(raw)
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or("");
        let b = inner.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'\\' {
                out.push(b[i]);
                i += 1;
                continue;
            }
            let esc = b.get(i + 1).copied().unwrap_or(0);
            let byte = match esc {
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'r' => Some(b'\r'),
                b'\\' => Some(b'\\'),
                b'"' => Some(b'"'),
                b'\'' => Some(b'\''),
                _ => None,
            };
            if let Some(byte) = byte {
                out.push(byte);
                i += 2;
                continue;
            }
            let hex = |c: u8| (c as char).to_digit(16);
            match (hex(esc), b.get(i + 2).and_then(|&c| hex(c))) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    let prefix = raw.len() - inner.len() - 1 + i;
                    let col = t.col + raw.get(..prefix).map_or(0, |s| s.chars().count()) as u32;
                    let shown: String = inner.get(i..).unwrap_or("").chars().take(2).collect();
                    return Err(Diagnostic::new(
                        Loc { line: t.line, col },
                        format!("invalid escape '{shown}' in string"),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// A string literal as UTF-8 text (names, import fields, section names).
    pub fn string_text(&self, t: Token) -> PResult<String> {
        String::from_utf8(self.string_bytes(t)?)
            .map_err(|_| Diagnostic::new(t.loc(), "name is not valid UTF-8"))
    }

    /// The name of a `@name` or `%name` token, unquoted.
    pub fn sym_name(&self, t: Token) -> PResult<String> {
        let text = self.tok_text(t);
        match text.get(1..) {
            Some(rest) if rest.starts_with('"') => self.string_text(t),
            Some(rest) => Ok(rest.to_string()),
            None => Ok(String::new()),
        }
    }

    /// An integer: optional `-`, then decimal or hex digits. Returns the value and the
    /// location of its first token.
    pub fn parse_int(&mut self, what: &str) -> PResult<(i128, Loc)> {
        let first = self.peek();
        let neg = self.eat(TokKind::Minus);
        let t = self.expect(TokKind::Int, what)?;
        let text = self.tok_text(t);
        let mag = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => u128::from_str_radix(hex, 16).ok(),
            None => text.parse::<u128>().ok(),
        };
        let mag = mag
            .and_then(|m| i128::try_from(m).ok())
            .ok_or_else(|| Diagnostic::new(first.loc(), format!("integer {text} is too large")))?;
        Ok((if neg { -mag } else { mag }, first.loc()))
    }

    /// Reports `v` unless `lo <= v <= hi`; returns `v` either way.
    pub fn check_fit(&mut self, v: i128, lo: i128, hi: i128, ty: &str, loc: Loc) -> i128 {
        if v < lo || v > hi {
            self.error(loc, format!("integer {v} does not fit in {ty}"));
        }
        v
    }

    /// An integer of `bits` bits in signed or unsigned form, as a zero-extended bit pattern.
    pub fn parse_int_bits(&mut self, bits: u32, ty: &str, what: &str) -> PResult<u64> {
        let (v, loc) = self.parse_int(what)?;
        let lo = -(1i128 << (bits - 1));
        let hi = (1i128 << bits) - 1;
        let v = self.check_fit(v, lo, hi, ty, loc);
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        Ok((v as u64) & mask)
    }

    /// An unsigned 32-bit number (sizes, offsets, priorities).
    pub fn parse_u32(&mut self, what: &str) -> PResult<u32> {
        let (v, loc) = self.parse_int(what)?;
        Ok(self.check_fit(v, 0, u32::MAX.into(), "u32", loc) as u32)
    }

    /// An alignment: a power of two.
    pub fn parse_align(&mut self, what: &str) -> PResult<u32> {
        let loc = self.peek().loc();
        let a = self.parse_u32(what)?;
        if !a.is_power_of_two() {
            self.error(loc, format!("alignment {a} is not a power of two"));
        }
        Ok(a)
    }

    /// A float of type `ty` (`F32` or `F64`), as a bit pattern (`f32` in the low bits).
    pub fn parse_float(&mut self, ty: Type) -> PResult<u64> {
        let first = self.peek();
        let neg = self.eat(TokKind::Minus);
        let t = self.next();
        let text = self.tok_text(t);
        let f32 = ty == Type::F32;
        let (sign, mant_bits, quiet) = if f32 {
            (1u64 << 31, 23u32, 1u64 << 22)
        } else {
            (1u64 << 63, 52u32, 1u64 << 51)
        };
        let exp_all = if f32 { 0xffu64 << 23 } else { 0x7ffu64 << 52 };
        let bits = match t.kind {
            TokKind::Int | TokKind::Float if !text.starts_with("0x") && !text.starts_with("0X") => {
                let bad = || Diagnostic::new(t.loc(), format!("invalid float '{text}'"));
                if f32 {
                    u64::from(text.parse::<f32>().map_err(|_| bad())?.to_bits())
                } else {
                    text.parse::<f64>().map_err(|_| bad())?.to_bits()
                }
            }
            TokKind::Word if text == "inf" => exp_all,
            TokKind::Word if text == "nan" => {
                let mut payload = quiet;
                if self.peek().kind == TokKind::Colon {
                    self.pos += 1;
                    let ploc = self.peek().loc();
                    let p = self.expect(TokKind::Int, "a NaN payload")?;
                    let ptext = self.tok_text(p);
                    let v = ptext
                        .strip_prefix("0x")
                        .and_then(|h| u64::from_str_radix(h, 16).ok())
                        .filter(|&v| v != 0 && v < (1u64 << mant_bits));
                    payload = v.ok_or_else(|| {
                        Diagnostic::new(ploc, format!("invalid NaN payload '{ptext}' for {ty}"))
                    })?;
                }
                exp_all | payload
            }
            _ => return Err(self.unexpected(t, &format!("a {ty} constant"))),
        };
        let _ = first;
        Ok(if neg { bits ^ sign } else { bits })
    }

    /// A value type.
    pub fn parse_type(&mut self, what: &str) -> PResult<Type> {
        let t = self.peek();
        if t.kind == TokKind::Word
            && let Some(ty) = Type::from_name(self.tok_text(t))
        {
            self.pos += 1;
            return Ok(ty);
        }
        Err(self.unexpected(t, what))
    }

    /// `( TYPE, ... )`.
    pub fn parse_type_list_parens(&mut self, out: &mut Vec<Type>) -> PResult<()> {
        self.expect(TokKind::LParen, "'('")?;
        if self.eat(TokKind::RParen) {
            return Ok(());
        }
        loop {
            out.push(self.parse_type("a type")?);
            let t = self.next();
            match t.kind {
                TokKind::Comma => {}
                TokKind::RParen => return Ok(()),
                _ => return Err(self.unexpected(t, "',' or ')' after parameter type")),
            }
        }
    }

    /// `-> TYPE, ...` if present.
    pub fn parse_results(&mut self, out: &mut Vec<Type>) -> PResult<()> {
        if self.eat(TokKind::Arrow) {
            out.push(self.parse_type("a result type")?);
            while self.eat(TokKind::Comma) {
                out.push(self.parse_type("a result type")?);
            }
        }
        Ok(())
    }

    // ----- phase 1: items -----

    /// Parses every item header (phase 1) and then resolves data relocations.
    pub fn parse_items(&mut self) -> PResult<()> {
        loop {
            let first = self.peek();
            match first.kind {
                TokKind::Eof => break,
                TokKind::Word => {}
                _ => return Err(self.unexpected(first, "an item (func, global, data or enum)")),
            }
            let is_extern = self.eat_word("extern");
            let kw = self.peek();
            let item = match self.tok_text(kw) {
                "func" if kw.kind == TokKind::Word => self.parse_func_header(first, is_extern)?,
                "global" if kw.kind == TokKind::Word => self.parse_global(first, is_extern)?,
                "data" if kw.kind == TokKind::Word => self.parse_data(first, is_extern)?,
                "enum" if kw.kind == TokKind::Word && !is_extern => self.parse_enum(first)?,
                _ if is_extern => {
                    return Err(self.unexpected(kw, "'func', 'global' or 'data' after 'extern'"));
                }
                _ => return Err(self.unexpected(kw, "an item (func, global, data or enum)")),
            };
            self.anchor(first, Anchor::Item(item));
        }
        self.resolve_fixups();
        Ok(())
    }

    fn declare_symbol(&mut self, name: &str, item: Item) {
        if !self.symbols.contains_key(name) {
            self.symbols.insert(name.to_string(), item);
        }
    }

    /// `@name` after the item keyword.
    fn item_name(&mut self, what: &str) -> PResult<String> {
        let t = self.expect(TokKind::Sym, what)?;
        self.sym_name(t)
    }

    /// `public`, `export` or nothing.
    fn parse_linkage(&mut self) -> Linkage {
        if self.eat_word("public") {
            Linkage::Public
        } else if self.eat_word("export") {
            Linkage::Export
        } else {
            Linkage::Local
        }
    }

    /// `[import "MODULE" "NAME"]` of an extern item.
    fn parse_import(&mut self) -> PResult<Linkage> {
        if !self.eat_word("import") {
            return Ok(Linkage::Extern(None));
        }
        let m = self.expect(TokKind::Str, "an import module string")?;
        let n = self.expect(TokKind::Str, "an import name string")?;
        Ok(Linkage::Extern(Some(Import {
            module: self.string_text(m)?,
            name: self.string_text(n)?,
        })))
    }

    fn parse_func_header(&mut self, first: Token, is_extern: bool) -> PResult<Item> {
        self.pos += 1; // func
        let name = self.item_name("a function name '@NAME'")?;
        let mut sig = Signature::default();
        self.parse_type_list_parens(&mut sig.params)?;
        self.parse_results(&mut sig.results)?;
        let (linkage, ctor) = if is_extern {
            (self.parse_import()?, None)
        } else {
            let linkage = self.parse_linkage();
            let ctor = if self.eat_word("ctor") {
                if matches!(self.peek().kind, TokKind::Int | TokKind::Minus) {
                    Some(self.parse_u32("a constructor priority")?)
                } else {
                    Some(DEFAULT_CTOR_PRIORITY)
                }
            } else {
                None
            };
            (linkage, ctor)
        };
        let f = self.module.declare_func(FuncDecl {
            name,
            sig,
            linkage,
            ctor,
            loc: first.loc(),
        });
        let name = self.module.decls.funcs[f].name.clone();
        self.declare_symbol(&name, Item::Func(f));
        if !is_extern {
            let brace = self.expect(TokKind::LBrace, "'{' to start the function body")?;
            let _ = brace;
            self.bodies.push((f, self.pos - 1));
            // Skip to the closing brace; phase 2 parses what lies between.
            loop {
                let t = self.peek();
                match t.kind {
                    TokKind::RBrace => {
                        self.pos += 1;
                        break;
                    }
                    TokKind::Eof | TokKind::Error => break,
                    _ => self.pos += 1,
                }
            }
        }
        Ok(Item::Func(f))
    }

    fn parse_global(&mut self, first: Token, is_extern: bool) -> PResult<Item> {
        self.pos += 1; // global
        let name = self.item_name("a global name '@NAME'")?;
        self.expect(TokKind::Colon, "':' after the global name")?;
        let ty = self.parse_type("a type")?;
        let mutable = self.eat_word("mut");
        let (linkage, init) = if is_extern {
            (self.parse_import()?, 0)
        } else {
            let linkage = self.parse_linkage();
            self.expect(TokKind::Eq, "'=' and the initial value")?;
            (linkage, self.parse_const(ty)?)
        };
        let g = self.module.declare_global(GlobalDecl {
            name,
            ty,
            mutable,
            init,
            linkage,
            loc: first.loc(),
        });
        let name = self.module.decls.globals[g].name.clone();
        self.declare_symbol(&name, Item::Global(g));
        Ok(Item::Global(g))
    }

    /// A constant of type `ty` as a bit pattern.
    pub fn parse_const(&mut self, ty: Type) -> PResult<u64> {
        if ty.is_float() {
            self.parse_float(ty)
        } else {
            let what = match ty {
                Type::I64 => "an i64 constant",
                Type::Ptr => "a ptr constant",
                _ => "an i32 constant",
            };
            self.parse_int_bits(ty.bits(), ty.name(), what)
        }
    }

    fn parse_data(&mut self, first: Token, is_extern: bool) -> PResult<Item> {
        self.pos += 1; // data
        let name = self.item_name("a data name '@NAME'")?;
        let mut decl = DataDecl {
            name,
            section: DataSection::Data,
            align: 1,
            linkage: Linkage::Extern(None),
            items: Vec::new(),
            zero_size: 0,
            loc: first.loc(),
        };
        if !is_extern {
            self.expect(TokKind::Colon, "':' after the data name")?;
            let st = self.next();
            decl.section = match self.tok_text(st) {
                "rodata" => DataSection::Rodata,
                "data" => DataSection::Data,
                "tdata" => DataSection::Tdata,
                "bss" => DataSection::Bss,
                "tbss" => DataSection::Tbss,
                "section" => {
                    let s = self.expect(TokKind::Str, "a section name string")?;
                    DataSection::Named(self.string_text(s)?)
                }
                _ => {
                    return Err(self.unexpected(
                        st,
                        "a section (rodata, data, tdata, bss, tbss or section \"NAME\")",
                    ));
                }
            };
            if st.kind != TokKind::Word {
                return Err(self.unexpected(st, "a section"));
            }
            if decl.section.is_zero() {
                let (v, loc) = self.parse_int("a size")?;
                decl.zero_size = self.check_fit(v, 0, u64::MAX.into(), "u64", loc) as u64;
            }
            if self.eat_word("align") {
                decl.align = self.parse_align("an alignment")?;
            }
            decl.linkage = self.parse_linkage();
        }
        let d = self.module.declare_data(decl);
        let name = self.module.decls.data[d].name.clone();
        self.declare_symbol(&name, Item::Data(d));
        let section_zero = self.module.decls.data[d].section.is_zero();
        if !is_extern && !section_zero {
            self.expect(TokKind::Eq, "'=' and the contents")?;
            self.parse_data_init(d)?;
        }
        Ok(Item::Data(d))
    }

    fn parse_data_init(&mut self, d: DataRef) -> PResult<()> {
        let t = self.next();
        let mut items = Vec::new();
        match t.kind {
            TokKind::Str => items.push(DataItem::Bytes(self.string_bytes(t)?)),
            TokKind::LBrace => loop {
                if self.eat(TokKind::RBrace) {
                    break;
                }
                items.push(self.parse_data_item(d, items.len())?);
                let t = self.next();
                match t.kind {
                    TokKind::Comma => {}
                    TokKind::RBrace => break,
                    _ => return Err(self.unexpected(t, "',' or '}' after data item")),
                }
            },
            _ => return Err(self.unexpected(t, "a string or '{' for the contents")),
        }
        self.module.decls.data[d].items = items;
        Ok(())
    }

    fn parse_data_item(&mut self, d: DataRef, index: usize) -> PResult<DataItem> {
        let t = self.next();
        let what = "a data item (i8, i16, i32, i64, f32, f64, a string, zero or ptr)";
        match t.kind {
            TokKind::Str => return Ok(DataItem::Bytes(self.string_bytes(t)?)),
            TokKind::Word => {}
            _ => return Err(self.unexpected(t, what)),
        }
        let kw = self.tok_text(t);
        match kw {
            "i8" | "i16" | "i32" | "i64" => {
                let bytes = match kw {
                    "i8" => 1,
                    "i16" => 2,
                    "i32" => 4,
                    _ => 8,
                };
                let value = self.parse_int_bits(u32::from(bytes) * 8, kw, "an integer")?;
                Ok(DataItem::Int { bytes, value })
            }
            "f32" => Ok(DataItem::F32(self.parse_float(Type::F32)? as u32)),
            "f64" => Ok(DataItem::F64(self.parse_float(Type::F64)?)),
            "zero" => Ok(DataItem::Zero(self.parse_u32("a byte count")?)),
            "ptr" => {
                let sym = self.expect(TokKind::Sym, "'@NAME' after ptr")?;
                let offset = self.parse_addend()?;
                self.fixups.push(DataFixup {
                    data: d,
                    item: index,
                    tok: sym,
                    offset,
                });
                Ok(DataItem::Zero(4))
            }
            _ => Err(self.unexpected(t, what)),
        }
    }

    /// `+ N`, `- N` or nothing, as written.
    pub fn parse_addend(&mut self) -> PResult<i128> {
        match self.peek().kind {
            TokKind::Plus => {
                self.pos += 1;
                let (v, _) = self.parse_int("an offset after '+'")?;
                Ok(v)
            }
            TokKind::Minus => Ok(self.parse_int("an offset")?.0),
            _ => Ok(0),
        }
    }

    fn resolve_fixups(&mut self) {
        for fx in std::mem::take(&mut self.fixups) {
            let text = self.tok_text(fx.tok);
            let item = match self.lookup(fx.tok) {
                Ok(item) => item,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            let new = match item {
                Some(Item::Data(data)) => {
                    let lim = (i128::from(i64::MIN), i128::from(i64::MAX));
                    let off = self.check_fit(fx.offset, lim.0, lim.1, "i64", fx.tok.loc());
                    DataItem::DataAddr {
                        data,
                        offset: off as i64,
                    }
                }
                Some(Item::Func(f)) => {
                    if fx.offset != 0 {
                        self.error(
                            fx.tok.loc(),
                            format!("a function pointer ({text}) takes no offset"),
                        );
                    }
                    DataItem::FuncAddr(f)
                }
                Some(Item::Global(_)) | Some(Item::Enum(_)) => {
                    self.error(
                        fx.tok.loc(),
                        format!("{text} is a global, not a data object or a function"),
                    );
                    continue;
                }
                None => {
                    self.error(fx.tok.loc(), format!("unknown data or function {text}"));
                    continue;
                }
            };
            if let Some(slot) = self.module.decls.data[fx.data].items.get_mut(fx.item) {
                *slot = new;
            }
        }
    }

    /// The item a `@name` token names, if any.
    pub fn lookup(&self, t: Token) -> PResult<Option<Item>> {
        let text = self.tok_text(t);
        let raw = text.get(1..).unwrap_or("");
        if raw.starts_with('"') {
            Ok(self.symbols.get(self.sym_name(t)?.as_str()).copied())
        } else {
            Ok(self.symbols.get(raw).copied())
        }
    }

    fn parse_enum(&mut self, first: Token) -> PResult<Item> {
        self.pos += 1; // enum
        let t = self.expect(TokKind::Enum, "an enum name '%NAME'")?;
        let name = self.sym_name(t)?;
        self.expect(TokKind::Colon, "':' after the enum name")?;
        let tt = self.next();
        let tag = match TagType::from_name(self.tok_text(tt)) {
            Some(tag) if tt.kind == TokKind::Word => tag,
            _ => return Err(self.unexpected(tt, "a tag type (u8 i8 u16 i16 u32 i32 u64 i64)")),
        };
        self.expect(TokKind::LBrace, "'{' before the variants")?;
        let (lo, hi) = tag.range();
        let mut variants = Vec::new();
        let mut next_value = 0i128;
        loop {
            if self.eat(TokKind::RBrace) {
                break;
            }
            let vt = self.next();
            let vname = match vt.kind {
                TokKind::Word => self.tok_text(vt).to_string(),
                TokKind::Str => self.string_text(vt)?,
                _ => return Err(self.unexpected(vt, "a variant name")),
            };
            let value = if self.eat(TokKind::Eq) {
                let (v, loc) = self.parse_int("a variant value")?;
                self.check_fit(v, lo, hi, &tag.to_string(), loc)
            } else {
                next_value
            };
            variants.push(EnumVariant {
                name: vname,
                value,
                explicit: value != next_value,
            });
            next_value = value + 1;
            let t = self.next();
            match t.kind {
                TokKind::Comma => {}
                TokKind::RBrace => break,
                _ => return Err(self.unexpected(t, "',' or '}' after variant")),
            }
        }
        let e = self.module.declare_enum(EnumDecl {
            name,
            tag,
            variants,
            loc: first.loc(),
        });
        let name = self.module.decls.enums[e].name.clone();
        self.enums.entry(name).or_insert(e);
        Ok(Item::Enum(e))
    }

    // ----- comments -----

    /// Attaches every comment to its anchor (see the module docs of `module.rs`).
    pub fn attach_comments(&mut self) {
        if self.comments.is_empty() {
            return;
        }
        let eof = self
            .toks
            .last()
            .map_or((self.text.len() as u32, 0), |t| (t.start, t.line));
        self.anchors.push((eof.0, eof.1, Anchor::FileEnd));
        self.anchors.sort_by_key(|a| a.0);
        // Comments before the first item and before the last blank line preceding it go to
        // the head of the file.
        let head_limit = match self.anchors.first() {
            Some(&(_, line, Anchor::Item(_))) => self
                .blank_lines
                .iter()
                .copied()
                .take_while(|&b| b < line)
                .last()
                .unwrap_or(0),
            _ => 0,
        };
        let mut out = Vec::with_capacity(self.comments.len());
        for c in &self.comments {
            let text = self
                .text
                .get(c.text.0 as usize..c.text.1 as usize)
                .unwrap_or("")
                .to_string();
            let (anchor, placement) = if c.own_line {
                let i = self.anchors.partition_point(|a| a.0 <= c.pos);
                let anchor = self.anchors.get(i).map_or(Anchor::FileEnd, |a| a.2);
                if i == 0 && c.line < head_limit {
                    (Anchor::FileStart, Placement::Leading)
                } else {
                    (anchor, Placement::Leading)
                }
            } else {
                let i = self.anchors.partition_point(|a| a.0 < c.pos);
                match i.checked_sub(1).and_then(|i| self.anchors.get(i)) {
                    Some(a) => (a.2, Placement::Trailing),
                    None => (Anchor::FileEnd, Placement::Leading),
                }
            };
            out.push(Comment {
                anchor,
                placement,
                text,
            });
        }
        self.module.comments = out;
    }
}
