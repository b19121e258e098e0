//! Phase 2: function bodies (stack slots, blocks, instructions).
//!
//! Every declaration is known by now, so a call's result types come from the callee's
//! signature through [`inst_result_types`]. Entity numbers are the text's: `v7` is
//! `Value` 7, and the maps grow with placeholder entries ([`ValueDef::None`] values, empty
//! blocks outside the layout, empty stack slots) to reach a number; numbers are limited to
//! 2^24 - 1 so that the maps stay bounded. A value used but never defined keeps
//! `ValueDef::None` for the verifier to report. Results written on the left are created as
//! written, whatever the instruction's result count; the extra ones get type `i32`.
//!
//! `select` takes the type of its second operand, which may be defined further down the
//! text, so select results are typed once the whole function is read.
//!
//! Each instruction, block header and slot declaration ends its line; there is no recursion,
//! so the depth of the parser's stack does not depend on the input.

use std::collections::HashMap;

use cranelift_entity::EntityRef;

use crate::error::Diagnostic;
use crate::ir::*;

use super::lexer::{TokKind, Token};
use super::parser::{MAX_ENTITY, PResult, Parser};

/// Per-function state, reused across functions.
#[derive(Default)]
pub(super) struct BodyScratch {
    /// Argument values being collected.
    pub args: Vec<Value>,
    /// Result values written on the left, with their tokens.
    pub results: Vec<(Value, Token)>,
    /// Result types of the current instruction.
    pub types: Vec<Type>,
    /// First use of each block, for "used but never defined".
    pub block_uses: Vec<Loc>,
    /// `select` instructions, typed at the end.
    pub selects: Vec<Inst>,
    /// Interned `call_indirect` signatures.
    pub sigs: HashMap<Signature, SigRef>,
    /// Resolution state of select results (0 new, 1 in progress, 2 done), by value index.
    pub select_state: Vec<u8>,
}

impl Parser<'_> {
    /// Parses the body of `f` whose `{` is token `start`.
    pub fn parse_body(
        &mut self,
        f: FuncRef,
        start: usize,
        scratch: &mut BodyScratch,
    ) -> PResult<()> {
        self.pos = start + 1;
        self.line_limit = 0;
        scratch.block_uses.clear();
        scratch.selects.clear();
        scratch.sigs.clear();
        let mut func = Function::default();
        let mut current: Option<Block> = None;
        loop {
            let t = self.peek();
            match t.kind {
                TokKind::RBrace => {
                    self.pos += 1;
                    self.anchor(t, Anchor::FuncEnd(f));
                    break;
                }
                TokKind::Word => {}
                _ => {
                    let what = if current.is_some() {
                        "an instruction, a block header or '}'"
                    } else {
                        "a stack slot, a block header or '}'"
                    };
                    return Err(self.unexpected(t, what));
                }
            }
            let text = self.tok_text(t);
            // Slots, block headers and instructions are one line each.
            self.line_limit = t.line;
            let next = self.peek_at(1).kind;
            if let Some(n) = number_after(text, "block")
                && matches!(next, TokKind::LParen | TokKind::Colon)
            {
                let b = self.parse_block_header(&mut func, t, n)?;
                self.anchor(t, Anchor::Block(f, b));
                current = Some(b);
            } else if let Some(n) = number_after(text, "ss")
                && next == TokKind::Eq
            {
                if current.is_some() {
                    return Err(Diagnostic::new(
                        t.loc(),
                        "stack slots must be declared before the first block",
                    ));
                }
                let ss = self.parse_slot(&mut func, t, n)?;
                self.anchor(t, Anchor::Slot(f, ss));
            } else {
                let Some(block) = current else {
                    return Err(self.unexpected(t, "a block header before the first instruction"));
                };
                let inst = self.parse_inst(&mut func, scratch, block)?;
                self.anchor(t, Anchor::Inst(f, inst));
            }
            self.line_limit = 0;
        }
        // Blocks used but never defined.
        for (i, &loc) in scratch.block_uses.iter().enumerate() {
            let b = Block::new(i);
            if loc.is_known() && !func.block_locs[b].is_known() {
                self.error(loc, format!("{b} is used but never defined"));
            }
        }
        type_selects(&mut func, scratch);
        self.module.bodies[f] = func;
        Ok(())
    }

    /// Requires that the next token starts a new line.
    pub fn end_of_line(&self, what: &str) -> PResult<()> {
        let t = self.peek();
        if matches!(t.kind, TokKind::Eof | TokKind::Eol) {
            Ok(())
        } else {
            Err(self.unexpected(t, &format!("end of line after {what}")))
        }
    }

    pub fn check_limit(&self, t: Token, n: u64, what: &str) -> PResult<usize> {
        if n > MAX_ENTITY {
            let digits = self
                .tok_text(t)
                .trim_start_matches(|c: char| c.is_ascii_alphabetic());
            return Err(Diagnostic::new(
                t.loc(),
                format!("{what} number {digits} is too large (the limit is {MAX_ENTITY})"),
            ));
        }
        Ok(n as usize)
    }

    pub fn parse_slot(&mut self, func: &mut Function, t: Token, n: u64) -> PResult<StackSlot> {
        let n = self.check_limit(t, n, "stack slot")?;
        self.pos += 2; // ssN =
        self.expect_word("stack_slot", "'stack_slot'")?;
        let size = self.parse_u32("a slot size")?;
        let align = if self.eat_word("align") {
            self.parse_align("an alignment")?
        } else {
            1
        };
        self.end_of_line("the stack slot")?;
        while func.stack_slots.len() <= n {
            func.stack_slots.push(StackSlotData { size: 0, align: 1 });
        }
        let ss = StackSlot::new(n);
        if func.slot_locs[ss].is_known() {
            self.error(t.loc(), format!("stack slot {ss} is defined twice"));
        } else {
            func.stack_slots[ss] = StackSlotData { size, align };
            func.slot_locs[ss] = t.loc();
        }
        Ok(ss)
    }

    pub fn parse_block_header(&mut self, func: &mut Function, t: Token, n: u64) -> PResult<Block> {
        let n = self.check_limit(t, n, "block")?;
        self.pos += 1;
        ensure_block(func, n);
        let b = Block::new(n);
        let dup = func.block_locs[b].is_known();
        if dup {
            self.error(t.loc(), format!("{b} is defined twice"));
        } else {
            func.block_locs[b] = t.loc();
            func.layout.push(b);
        }
        if self.eat(TokKind::LParen) && !self.eat(TokKind::RParen) {
            let mut index = 0u32;
            loop {
                let (v, vt) = self.parse_value(func)?;
                self.expect(TokKind::Colon, "':' and a type after the parameter")?;
                let ty = self.parse_type("a type")?;
                if self.define_value(func, v, vt, ty, ValueDef::Param(b, index)) && !dup {
                    func.dfg.blocks[b].params.push(v, &mut func.dfg.value_lists);
                }
                index += 1;
                let sep = self.next();
                match sep.kind {
                    TokKind::Comma => {}
                    TokKind::RParen => break,
                    _ => return Err(self.unexpected(sep, "',' or ')' after block parameter")),
                }
            }
        }
        self.expect(TokKind::Colon, "':' after the block header")?;
        self.end_of_line("the block header")?;
        Ok(b)
    }

    /// Gives `v` its type and definition; reports a second definition (and returns false).
    pub fn define_value(
        &mut self,
        func: &mut Function,
        v: Value,
        t: Token,
        ty: Type,
        def: ValueDef,
    ) -> bool {
        let data = &mut func.dfg.values[v];
        if data.def != ValueDef::None {
            self.error(t.loc(), format!("value {v} is defined twice"));
            false
        } else {
            *data = ValueData { ty, def };
            true
        }
    }

    /// A value reference `vN`, created as a placeholder if new.
    pub fn parse_value(&mut self, func: &mut Function) -> PResult<(Value, Token)> {
        let t = self.peek();
        if t.kind == TokKind::Word
            && let Some(n) = number_after(self.tok_text(t), "v")
        {
            let n = self.check_limit(t, n, "value")?;
            self.pos += 1;
            while func.dfg.values.len() <= n {
                func.dfg.values.push(ValueData {
                    ty: Type::I32,
                    def: ValueDef::None,
                });
            }
            return Ok((Value::new(n), t));
        }
        Err(self.unexpected(t, "a value"))
    }

    pub fn value(&mut self, func: &mut Function) -> PResult<Value> {
        Ok(self.parse_value(func)?.0)
    }

    pub fn comma(&mut self, after: &str) -> PResult<()> {
        if self.eat(TokKind::Comma) {
            return Ok(());
        }
        Err(self.unexpected(self.peek(), &format!("',' after {after}")))
    }

    pub fn three_values(&mut self, func: &mut Function) -> PResult<[Value; 3]> {
        let a = self.value(func)?;
        self.comma("operand")?;
        let b = self.value(func)?;
        self.comma("operand")?;
        let c = self.value(func)?;
        Ok([a, b, c])
    }

    /// `( v, ... )` as a list in the pool.
    pub fn parse_args(
        &mut self,
        func: &mut Function,
        scratch: &mut BodyScratch,
    ) -> PResult<ValueList> {
        self.expect(TokKind::LParen, "'(' before the arguments")?;
        scratch.args.clear();
        if !self.eat(TokKind::RParen) {
            loop {
                let v = self.value(func)?;
                scratch.args.push(v);
                let t = self.next();
                match t.kind {
                    TokKind::Comma => {}
                    TokKind::RParen => break,
                    _ => return Err(self.unexpected(t, "',' or ')' after argument")),
                }
            }
        }
        Ok(func.dfg.make_value_list(&scratch.args))
    }

    /// `blockN` or `blockN(args)`.
    pub fn parse_block_call(
        &mut self,
        func: &mut Function,
        scratch: &mut BodyScratch,
    ) -> PResult<BlockCall> {
        let t = self.peek();
        let n = match number_after(self.tok_text(t), "block") {
            Some(n) if t.kind == TokKind::Word => self.check_limit(t, n, "block")?,
            _ => return Err(self.unexpected(t, "a block")),
        };
        self.pos += 1;
        ensure_block(func, n);
        if scratch.block_uses.len() <= n {
            scratch.block_uses.resize(n + 1, Loc::default());
        }
        if !scratch.block_uses[n].is_known() {
            scratch.block_uses[n] = t.loc();
        }
        let args = if self.peek().kind == TokKind::LParen {
            self.parse_args(func, scratch)?
        } else {
            ValueList::new()
        };
        Ok(BlockCall {
            block: Block::new(n),
            args,
        })
    }
}

/// `N` if `text` is `prefix` followed by decimal digits only (saturating at `u64::MAX`).
pub(super) fn number_after(text: &str, prefix: &str) -> Option<u64> {
    let digits = text.strip_prefix(prefix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u64>().unwrap_or(u64::MAX))
}

fn ensure_block(func: &mut Function, n: usize) {
    while func.dfg.blocks.len() <= n {
        func.dfg.make_block();
    }
}

/// Gives each `select` result the type of the select's second operand, following chains of
/// selects without recursion; a cycle of selects keeps `i32`.
fn type_selects(func: &mut Function, scratch: &mut BodyScratch) {
    if scratch.selects.is_empty() {
        return;
    }
    let dfg = &mut func.dfg;
    scratch.select_state.clear();
    scratch.select_state.resize(dfg.values.len(), 0);
    // The select instruction defining each value, if any.
    let select_of = |dfg: &DataFlowGraph, v: Value| -> Option<Value> {
        match dfg.values.get(v)?.def {
            ValueDef::Result(inst, 0) => match dfg.insts.get(inst)? {
                InstData::Select { args } => Some(args[1]),
                _ => None,
            },
            _ => None,
        }
    };
    let mut chain = Vec::new();
    for &inst in &scratch.selects {
        let Some(&start) = dfg.inst_results(inst).first() else {
            continue;
        };
        chain.clear();
        let mut v = start;
        let ty = loop {
            match scratch.select_state.get(v.index()).copied() {
                Some(2) => break dfg.values[v].ty,
                Some(1) => break Type::I32,
                _ => {}
            }
            match select_of(dfg, v) {
                Some(src) if dfg.values[v].def != ValueDef::None => {
                    if let Some(s) = scratch.select_state.get_mut(v.index()) {
                        *s = 1;
                    }
                    chain.push(v);
                    v = src;
                }
                _ => break dfg.values.get(v).map_or(Type::I32, |d| d.ty),
            }
        };
        for &c in &chain {
            dfg.values[c].ty = ty;
            if let Some(s) = scratch.select_state.get_mut(c.index()) {
                *s = 2;
            }
        }
    }
}
