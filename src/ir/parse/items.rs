//! Phase 1: item headers. Globals, data objects and enums are parsed completely; of a
//! function only the header, its body skipped to the closing brace and remembered for phase 2.
//! Data items that point at symbols (`ptr @x`) are resolved once every header is known.

use crate::ir::*;

use super::lexer::{TokKind, Token};
use super::parser::{PResult, Parser};

/// A `ptr @name` data item, resolved after phase 1.
pub(super) struct DataFixup {
    data: DataRef,
    item: usize,
    tok: Token,
    offset: i128,
}

impl Parser<'_> {
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

    pub fn declare_symbol(&mut self, name: &str, item: Item) {
        if !self.symbols.contains_key(name) {
            self.symbols.insert(name.to_string(), item);
        }
    }

    /// `@name` after the item keyword.
    pub fn item_name(&mut self, what: &str) -> PResult<String> {
        let t = self.expect(TokKind::Sym, what)?;
        self.sym_name(t)
    }

    /// `public`, `export` or nothing.
    pub fn parse_linkage(&mut self) -> Linkage {
        if self.eat_word("public") {
            Linkage::Public
        } else if self.eat_word("export") {
            Linkage::Export
        } else {
            Linkage::Local
        }
    }

    /// `[import "MODULE" "NAME"]` of an extern item.
    pub fn parse_import(&mut self) -> PResult<Linkage> {
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

    pub fn parse_func_header(&mut self, first: Token, is_extern: bool) -> PResult<Item> {
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

    pub fn parse_global(&mut self, first: Token, is_extern: bool) -> PResult<Item> {
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

    pub fn parse_data(&mut self, first: Token, is_extern: bool) -> PResult<Item> {
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

    pub fn parse_data_init(&mut self, d: DataRef) -> PResult<()> {
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

    pub fn parse_data_item(&mut self, d: DataRef, index: usize) -> PResult<DataItem> {
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

    pub fn resolve_fixups(&mut self) {
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

    pub fn parse_enum(&mut self, first: Token) -> PResult<Item> {
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
}
