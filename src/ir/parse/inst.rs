//! Instructions: results on the left, the opcode, and its operands.
//!
//! Results written on the left are created as written, whatever the instruction's result
//! count; their types come from [`inst_result_types`], `i32` for extra ones. Names are
//! resolved against the declarations of phase 1; an unknown name is reported and parsing
//! goes on with a reserved placeholder reference.

use cranelift_entity::EntityRef;
use cranelift_entity::packed_option::ReservedValue;

use crate::error::Diagnostic;
use crate::ir::*;

use super::body::{BodyScratch, number_after};
use super::lexer::{TokKind, Token};
use super::parser::{MAX_ENTITY, PResult, Parser};

impl Parser<'_> {
    pub fn parse_inst(
        &mut self,
        func: &mut Function,
        scratch: &mut BodyScratch,
        block: Block,
    ) -> PResult<Inst> {
        let first = self.peek();
        scratch.results.clear();
        let is_value = number_after(self.tok_text(first), "v").is_some();
        if is_value && matches!(self.peek_at(1).kind, TokKind::Comma | TokKind::Eq) {
            loop {
                let r = self.parse_value(func)?;
                scratch.results.push(r);
                let t = self.next();
                match t.kind {
                    TokKind::Comma => {}
                    TokKind::Eq => break,
                    _ => return Err(self.unexpected(t, "',' or '=' after result")),
                }
            }
        }
        let op = self.peek();
        if op.kind != TokKind::Word {
            return Err(self.unexpected(op, "an opcode"));
        }
        self.pos += 1;
        let data = self.parse_operands(func, scratch, op)?;
        self.end_of_line("the instruction")?;
        if func.dfg.insts.len() as u64 > MAX_ENTITY {
            return Err(Diagnostic::new(
                first.loc(),
                "too many instructions in one function (the limit is 2^24)",
            ));
        }
        let inst = func.dfg.make_inst(data);
        func.inst_locs[inst] = first.loc();
        func.dfg.blocks[block].insts.push(inst);
        inst_result_types(&self.module.decls, &func.dfg, &data, &mut scratch.types);
        for i in 0..scratch.results.len() {
            let (v, t) = scratch.results[i];
            let ty = scratch.types.get(i).copied().unwrap_or(Type::I32);
            self.define_value(func, v, t, ty, ValueDef::Result(inst, i as u32));
            func.dfg.results[inst].push(v, &mut func.dfg.value_lists);
        }
        if matches!(data, InstData::Select { .. }) {
            scratch.selects.push(inst);
        }
        Ok(inst)
    }

    /// Load/store `offset=N` and `align=N`.
    pub fn parse_memarg(&mut self, natural: u32) -> PResult<MemArg> {
        let mut mem = MemArg::default();
        loop {
            let t = self.peek();
            if t.kind != TokKind::Word {
                break;
            }
            match self.tok_text(t) {
                "offset" => {
                    self.pos += 1;
                    self.expect(TokKind::Eq, "'=' after offset")?;
                    mem.offset = self.parse_u32("an offset")?;
                }
                "align" => {
                    self.pos += 1;
                    self.expect(TokKind::Eq, "'=' after align")?;
                    let a = self.parse_align("an alignment")?;
                    mem.align = if a == natural { 0 } else { a };
                }
                _ => break,
            }
        }
        Ok(mem)
    }

    pub fn resolve_func(&mut self, t: Token) -> PResult<FuncRef> {
        match self.lookup(t)? {
            Some(Item::Func(f)) => Ok(f),
            other => {
                self.unresolved(t, other, "function");
                Ok(FuncRef::reserved_value())
            }
        }
    }

    pub fn resolve_global(&mut self, t: Token) -> PResult<GlobalRef> {
        match self.lookup(t)? {
            Some(Item::Global(g)) => Ok(g),
            other => {
                self.unresolved(t, other, "global");
                Ok(GlobalRef::reserved_value())
            }
        }
    }

    pub fn resolve_data(&mut self, t: Token) -> PResult<DataRef> {
        match self.lookup(t)? {
            Some(Item::Data(d)) => Ok(d),
            other => {
                self.unresolved(t, other, "data object");
                Ok(DataRef::reserved_value())
            }
        }
    }

    pub fn unresolved(&mut self, t: Token, found: Option<Item>, want: &str) {
        let text = self.tok_text(t);
        let msg = match found {
            None => format!("unknown {want} {text}"),
            Some(item) => {
                let kind = match item {
                    Item::Func(_) => "a function",
                    Item::Global(_) => "a global",
                    Item::Data(_) => "a data object",
                    Item::Enum(_) => "an enum",
                };
                format!("{text} is {kind}, not a {want}")
            }
        };
        self.error(t.loc(), msg);
    }

    pub fn resolve_enum(&mut self, t: Token, name: &str) -> EnumRef {
        match self.enums.get(name) {
            Some(&e) => e,
            None => {
                let text = self.tok_text(t);
                let shown = if text.starts_with("%\"") {
                    text.to_string()
                } else {
                    format!("%{name}")
                };
                self.error(t.loc(), format!("unknown enum {shown}"));
                EnumRef::reserved_value()
            }
        }
    }

    pub fn sym(&mut self, what: &str) -> PResult<Token> {
        self.expect(TokKind::Sym, what)
    }

    /// `%E.VARIANT`: the enum and the variant's index.
    pub fn parse_enum_variant(&mut self) -> PResult<(EnumRef, u32)> {
        let t = self.expect(TokKind::Enum, "'%ENUM.VARIANT'")?;
        let text = self.tok_text(t);
        let (enum_ref, vname, vloc) = if text.starts_with("%\"") {
            let name = self.sym_name(t)?;
            let e = self.resolve_enum(t, &name);
            let d = self.peek();
            let dtext = self.tok_text(d);
            if d.kind != TokKind::Word || !dtext.starts_with('.') || d.start != t.end {
                return Err(self.unexpected(d, "'.' and a variant after the enum name"));
            }
            self.pos += 1;
            if dtext == "." {
                let s = self.expect(TokKind::Str, "a variant name")?;
                (e, self.string_text(s)?, s.loc())
            } else {
                (e, dtext[1..].to_string(), d.loc())
            }
        } else {
            let body = &text[1..];
            if let Some(ename) = body.strip_suffix('.') {
                let s = self.peek();
                if s.kind != TokKind::Str || s.start != t.end {
                    return Err(self.unexpected(s, "a variant name after '.'"));
                }
                self.pos += 1;
                let e = self.resolve_enum(t, ename);
                (e, self.string_text(s)?, s.loc())
            } else {
                // Split at the last dot whose prefix names an enum, else at the last dot.
                let dots: Vec<usize> = body.match_indices('.').map(|(i, _)| i).collect();
                let Some(&last) = dots.last() else {
                    return Err(Diagnostic::new(
                        t.loc(),
                        format!("expected '%ENUM.VARIANT', found '{text}'"),
                    ));
                };
                let split = dots
                    .iter()
                    .rev()
                    .copied()
                    .find(|&i| self.enums.contains_key(&body[..i]))
                    .unwrap_or(last);
                let e = self.resolve_enum(t, &body[..split]);
                (e, body[split + 1..].to_string(), t.loc())
            }
        };
        if enum_ref.is_reserved_value() {
            return Ok((enum_ref, 0));
        }
        let decl = &self.module.decls.enums[enum_ref];
        match decl.variants.iter().position(|v| v.name == vname) {
            Some(i) => Ok((enum_ref, i as u32)),
            None => {
                let msg = format!("enum %{} has no variant '{vname}'", decl.name);
                self.error(vloc, msg);
                Ok((enum_ref, 0))
            }
        }
    }

    pub fn parse_operands(
        &mut self,
        func: &mut Function,
        scratch: &mut BodyScratch,
        op: Token,
    ) -> PResult<InstData> {
        let name = self.tok_text(op);
        let unknown = || Diagnostic::new(op.loc(), format!("unknown opcode '{name}'"));
        if let Some((prefix, rest)) = name.split_once('.') {
            if let Some(op) = ConvertOp::from_name(name) {
                return Ok(InstData::Convert {
                    op,
                    arg: self.value(func)?,
                });
            }
            return match (prefix, rest) {
                ("memory", "size") => Ok(InstData::MemorySize),
                ("memory", "grow") => Ok(InstData::MemoryGrow {
                    arg: self.value(func)?,
                }),
                ("memory", "copy") => Ok(InstData::MemoryCopy {
                    args: self.three_values(func)?,
                }),
                ("memory", "fill") => Ok(InstData::MemoryFill {
                    args: self.three_values(func)?,
                }),
                ("global", "get") => {
                    let t = self.sym("a global '@NAME'")?;
                    Ok(InstData::GlobalGet {
                        global: self.resolve_global(t)?,
                    })
                }
                ("global", "set") => {
                    let t = self.sym("a global '@NAME'")?;
                    let global = self.resolve_global(t)?;
                    self.comma("the global")?;
                    Ok(InstData::GlobalSet {
                        global,
                        arg: self.value(func)?,
                    })
                }
                _ => {
                    let ty = Type::from_name(prefix).ok_or_else(unknown)?;
                    if rest == "const" {
                        let bits = self.parse_const(ty)?;
                        return Ok(InstData::Const { ty, bits });
                    }
                    if let Some(op) = UnaryOp::from_name(rest).filter(|o| o.valid_for(ty)) {
                        return Ok(InstData::Unary {
                            op,
                            ty,
                            arg: self.value(func)?,
                        });
                    }
                    if let Some(op) = BinaryOp::from_name(rest).filter(|o| o.valid_for(ty)) {
                        let a = self.value(func)?;
                        self.comma("operand")?;
                        let b = self.value(func)?;
                        return Ok(InstData::Binary {
                            op,
                            ty,
                            args: [a, b],
                        });
                    }
                    if let Some(kind) = LoadKind::ALL
                        .into_iter()
                        .find(|k| k.name() == rest && k.valid_for(ty))
                    {
                        let addr = self.value(func)?;
                        let mem = self.parse_memarg(kind.bytes(ty))?;
                        return Ok(InstData::Load {
                            ty,
                            kind,
                            addr,
                            mem,
                        });
                    }
                    if let Some(width) = StoreWidth::ALL
                        .into_iter()
                        .find(|w| w.name() == rest && w.valid_for(ty))
                    {
                        let a = self.value(func)?;
                        self.comma("the address")?;
                        let v = self.value(func)?;
                        let mem = self.parse_memarg(width.bytes(ty))?;
                        return Ok(InstData::Store {
                            ty,
                            width,
                            args: [a, v],
                            mem,
                        });
                    }
                    Err(unknown())
                }
            };
        }
        Ok(match name {
            "select" => InstData::Select {
                args: self.three_values(func)?,
            },
            "data_addr" | "tls_addr" => {
                let t = self.sym("a data object '@NAME'")?;
                let data = self.resolve_data(t)?;
                let loc = self.peek().loc();
                let v = self.parse_addend()?;
                let lim = (i128::from(i64::MIN), i128::from(i64::MAX));
                let offset = self.check_fit(v, lim.0, lim.1, "i64", loc) as i64;
                if name == "data_addr" {
                    InstData::DataAddr { data, offset }
                } else {
                    InstData::TlsAddr { data, offset }
                }
            }
            "func_addr" => {
                let t = self.sym("a function '@NAME'")?;
                InstData::FuncAddr {
                    func: self.resolve_func(t)?,
                }
            }
            "stack_addr" => {
                let t = self.peek();
                let n = match number_after(self.tok_text(t), "ss") {
                    Some(n) if t.kind == TokKind::Word => self.check_limit(t, n, "stack slot")?,
                    _ => return Err(self.unexpected(t, "a stack slot")),
                };
                self.pos += 1;
                let slot = StackSlot::new(n);
                if !func.slot_locs.get(slot).is_some_and(|l| l.is_known()) {
                    self.error(t.loc(), format!("unknown stack slot {slot}"));
                }
                let loc = self.peek().loc();
                let v = self.parse_addend()?;
                let offset = self.check_fit(v, 0, u32::MAX.into(), "u32", loc) as u32;
                InstData::StackAddr { slot, offset }
            }
            "call" => {
                let t = self.sym("a function '@NAME'")?;
                let callee = self.resolve_func(t)?;
                InstData::Call {
                    func: callee,
                    args: self.parse_args(func, scratch)?,
                }
            }
            "call_indirect" => {
                let mut sig = Signature::default();
                self.parse_type_list_parens(&mut sig.params)?;
                self.parse_results(&mut sig.results)?;
                let callee = self.value(func)?;
                let args = self.parse_args(func, scratch)?;
                let sig = match scratch.sigs.get(&sig) {
                    Some(&s) => s,
                    None => {
                        let s = func.dfg.sigs.push(sig.clone());
                        scratch.sigs.insert(sig, s);
                        s
                    }
                };
                InstData::CallIndirect { sig, callee, args }
            }
            "intrinsic" => {
                let t = self.peek();
                let intrinsic = match Intrinsic::from_name(self.tok_text(t)) {
                    Some(i) if t.kind == TokKind::Word => i,
                    _ if t.kind == TokKind::Word => {
                        let msg = format!("unknown intrinsic '{}'", self.tok_text(t));
                        return Err(Diagnostic::new(t.loc(), msg));
                    }
                    _ => return Err(self.unexpected(t, "an intrinsic name")),
                };
                self.pos += 1;
                InstData::Intrinsic {
                    intrinsic,
                    args: self.parse_args(func, scratch)?,
                }
            }
            "tag_name" => {
                let t = self.expect(TokKind::Enum, "an enum '%NAME'")?;
                let ename = self.sym_name(t)?;
                let enum_ref = self.resolve_enum(t, &ename);
                self.expect(TokKind::LParen, "'(' before the tag value")?;
                let arg = self.value(func)?;
                self.expect(TokKind::RParen, "')' after the tag value")?;
                InstData::TagName { enum_ref, arg }
            }
            "enum_const" => {
                let (enum_ref, variant) = self.parse_enum_variant()?;
                InstData::EnumConst { enum_ref, variant }
            }
            "jump" => InstData::Jump {
                dest: self.parse_block_call(func, scratch)?,
            },
            "br_if" => {
                let cond = self.value(func)?;
                self.comma("the condition")?;
                let then_dest = self.parse_block_call(func, scratch)?;
                self.comma("the first destination")?;
                let else_dest = self.parse_block_call(func, scratch)?;
                InstData::BrIf {
                    cond,
                    then_dest,
                    else_dest,
                }
            }
            "br_table" => {
                let index = self.value(func)?;
                self.comma("the index")?;
                self.expect(TokKind::LBracket, "'[' before the targets")?;
                let mut targets = Vec::new();
                if !self.eat(TokKind::RBracket) {
                    loop {
                        targets.push(self.parse_block_call(func, scratch)?);
                        let t = self.next();
                        match t.kind {
                            TokKind::Comma => {}
                            TokKind::RBracket => break,
                            _ => return Err(self.unexpected(t, "',' or ']' after target")),
                        }
                    }
                }
                self.comma("the targets")?;
                let default = self.parse_block_call(func, scratch)?;
                let table = func
                    .dfg
                    .jump_tables
                    .push(JumpTableData { targets, default });
                InstData::BrTable { index, table }
            }
            "return" => {
                scratch.args.clear();
                if !matches!(self.peek().kind, TokKind::Eol | TokKind::Eof) {
                    loop {
                        let v = self.value(func)?;
                        scratch.args.push(v);
                        let t = self.peek();
                        if t.kind == TokKind::Comma {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                }
                InstData::Return {
                    args: func.dfg.make_value_list(&scratch.args),
                }
            }
            "unreachable" => InstData::Unreachable,
            _ => return Err(unknown()),
        })
    }
}
