//! Pass 4 of the function checker: each instruction's opcode, references, operand types
//! and uses (defined, and dominated by the definition).

use cranelift_entity::EntityRef;

use crate::ir::{BlockCall, InstData, Type, Value, ValueDef, ValueList};

use super::super::items::fits;
use super::{At, Checker, opname};

impl<'a> Checker<'a, '_> {
    /// A use of `v` at `at`: reports it if undefined or not dominated; returns its type when
    /// it is defined.
    fn use_value(&mut self, at: At, v: Value) -> Option<Type> {
        let Some(vd) = self.func.dfg.values.get(v) else {
            self.report_inst(
                at.block,
                at.inst,
                format!(
                    "use of invalid value {v} (the function has {} values)",
                    self.func.dfg.values.len()
                ),
            );
            return None;
        };
        let def_node = match vd.def {
            ValueDef::None => {
                self.report_inst(at.block, at.inst, format!("use of undefined value {v}"));
                return None;
            }
            _ if self.s.defined.get(v.index()) != Some(&true) => {
                let msg = match vd.def {
                    ValueDef::Param(b, _) => {
                        format!("use of {v}, a parameter of {b}, which is not in the layout")
                    }
                    ValueDef::Result(i, _) => {
                        format!("use of {v}, a result of {i}, which is not in the layout")
                    }
                    ValueDef::None => format!("use of undefined value {v}"),
                };
                self.report_inst(at.block, at.inst, msg);
                return None;
            }
            ValueDef::Param(b, _) => self.node_of(b),
            ValueDef::Result(i, _) => {
                let node = self.s.inst_node.get(i.index()).copied().unwrap_or(0);
                let pos = self.s.inst_pos.get(i.index()).copied().unwrap_or(0);
                if node as usize == at.node + 1 && pos >= at.pos {
                    self.report_inst(
                        at.block,
                        at.inst,
                        format!("{v} is used before its definition"),
                    );
                    return Some(vd.ty);
                }
                node.checked_sub(1).map(|n| n as usize)
            }
        };
        if let Some(def_node) = def_node
            && self.s.dom.is_reachable(at.node)
            && !self.s.dom.dominates(def_node, at.node)
        {
            let def_block = self.func.layout.get(def_node).copied();
            let where_ = def_block.map_or(String::new(), |b| format!(" in {b}"));
            self.report_inst(
                at.block,
                at.inst,
                format!("use of {v} is not dominated by its definition{where_}"),
            );
        }
        Some(vd.ty)
    }

    /// A use of `v` that must have type `expected`; `role` names the operand for messages.
    fn typed(&mut self, at: At, v: Value, expected: Type, role: impl FnOnce() -> String) {
        if let Some(t) = self.use_value(at, v)
            && !t.same_as(expected)
        {
            self.report_inst(
                at.block,
                at.inst,
                format!("type mismatch: {} {v} is {t}, expected {expected}", role()),
            );
        }
    }

    /// Reads a value list, reporting it if it is not valid.
    fn list(&mut self, at: At, list: ValueList) -> Option<&'a [Value]> {
        let values = self.lists.get(list);
        if values.is_none() {
            self.report_inst(
                at.block,
                at.inst,
                "an operand list is not a valid value list".to_string(),
            );
        }
        values
    }

    /// Arguments against parameter types: count, then each type.
    fn args(&mut self, at: At, args: &[Value], params: &[Type], callee: &str) {
        if args.len() != params.len() {
            self.report_inst(
                at.block,
                at.inst,
                format!(
                    "wrong number of arguments to {callee}: {} given, {} expected",
                    args.len(),
                    params.len()
                ),
            );
        }
        for (k, &v) in args.iter().enumerate() {
            match params.get(k) {
                Some(&t) => self.typed(at, v, t, || format!("argument {} of {callee}", k + 1)),
                None => {
                    self.use_value(at, v);
                }
            }
        }
    }

    /// A branch destination: the target exists and is in the layout, arguments match.
    fn block_call(&mut self, at: At, dest: &BlockCall) {
        let Some(args) = self.list(at, dest.args) else {
            return;
        };
        let target = dest.block;
        let params = match self.func.dfg.blocks.get(target) {
            None => {
                self.report_inst(
                    at.block,
                    at.inst,
                    format!("branch to {target}, which does not exist"),
                );
                None
            }
            Some(_) if self.node_of(target).is_none() => {
                self.report_inst(
                    at.block,
                    at.inst,
                    format!("branch to {target}, which is not in the layout"),
                );
                None
            }
            Some(bd) => self.lists.get(bd.params),
        };
        let Some(params) = params else {
            for &v in args {
                self.use_value(at, v);
            }
            return;
        };
        if args.len() != params.len() {
            self.report_inst(
                at.block,
                at.inst,
                format!(
                    "wrong number of arguments to {target}: {} given, {} expected",
                    args.len(),
                    params.len()
                ),
            );
        }
        for (k, &v) in args.iter().enumerate() {
            let ty = params
                .get(k)
                .and_then(|&p| self.func.dfg.values.get(p))
                .map(|d| d.ty);
            match ty {
                Some(t) => self.typed(at, v, t, || format!("argument {} of {target}", k + 1)),
                None => {
                    self.use_value(at, v);
                }
            }
        }
    }

    /// Alignment of a memory access of `width` bytes.
    fn memarg(&mut self, at: At, align: u32, width: u32) {
        if align == 0 {
            return;
        }
        let msg = if !align.is_power_of_two() {
            format!("alignment {align} is not a power of two")
        } else if align > width {
            format!("alignment {align} is larger than the access width ({width} bytes)")
        } else {
            return;
        };
        self.report_inst(at.block, at.inst, msg);
    }

    /// Reports an invalid opcode (an operation that does not exist for its type).
    fn invalid_opcode(&mut self, at: At, data: &InstData) {
        let name = opname(self.module, data);
        self.report_inst(at.block, at.inst, format!("invalid opcode {name}"));
    }

    /// Checks one instruction.
    pub(super) fn check_inst(&mut self, at: At, data: &InstData) {
        let decls = &self.module.decls;
        let func = self.func;
        let (b, i) = (at.block, at.inst);
        match *data {
            InstData::Const { ty, bits } => {
                if !fits(ty, bits) {
                    self.report_inst(b, i, format!("constant {bits:#x} does not fit in {ty}"));
                }
            }
            InstData::Unary { op, ty, arg } => {
                if !op.valid_for(ty) {
                    self.invalid_opcode(at, data);
                }
                self.typed(at, arg, ty, || "operand".into());
            }
            InstData::Binary { op, ty, args } => {
                if !op.valid_for(ty) {
                    self.invalid_opcode(at, data);
                }
                self.typed(at, args[0], ty, || "operand".into());
                self.typed(at, args[1], ty, || "operand".into());
            }
            InstData::Convert { op, arg } => self.typed(at, arg, op.from(), || "operand".into()),
            InstData::Select { args: [c, x, y] } => {
                self.typed(at, c, Type::I32, || "condition".into());
                let tx = self.use_value(at, x);
                let ty = self.use_value(at, y);
                if let (Some(tx), Some(ty)) = (tx, ty)
                    && !tx.same_as(ty)
                {
                    self.report_inst(
                        b,
                        i,
                        format!("type mismatch: select arms differ: {x} is {tx}, {y} is {ty}"),
                    );
                }
            }
            InstData::Load {
                ty,
                kind,
                addr,
                mem,
            } => {
                if !kind.valid_for(ty) {
                    self.invalid_opcode(at, data);
                }
                self.typed(at, addr, Type::Ptr, || "address".into());
                self.memarg(at, mem.align, kind.bytes(ty));
            }
            InstData::Store {
                ty,
                width,
                args: [addr, value],
                mem,
            } => {
                if !width.valid_for(ty) {
                    self.invalid_opcode(at, data);
                }
                self.typed(at, addr, Type::Ptr, || "address".into());
                self.typed(at, value, ty, || "stored value".into());
                self.memarg(at, mem.align, width.bytes(ty));
            }
            InstData::MemorySize => {}
            InstData::MemoryGrow { arg } => {
                self.typed(at, arg, Type::Ptr, || "page count".into());
            }
            InstData::MemoryCopy { args: [d, s, n] } => {
                self.typed(at, d, Type::Ptr, || "destination".into());
                self.typed(at, s, Type::Ptr, || "source".into());
                self.typed(at, n, Type::Ptr, || "length".into());
            }
            InstData::MemoryFill { args: [d, v, n] } => {
                self.typed(at, d, Type::Ptr, || "destination".into());
                self.typed(at, v, Type::I32, || "byte value".into());
                self.typed(at, n, Type::Ptr, || "length".into());
            }
            InstData::GlobalGet { global } => {
                if decls.globals.get(global).is_none() {
                    self.report_inst(b, i, format!("unknown global {global}"));
                }
            }
            InstData::GlobalSet { global, arg } => match decls.globals.get(global) {
                None => {
                    self.report_inst(b, i, format!("unknown global {global}"));
                    self.use_value(at, arg);
                }
                Some(g) => {
                    if !g.mutable {
                        self.report_inst(
                            b,
                            i,
                            format!("global.set of immutable global @{}", g.name),
                        );
                    }
                    self.typed(at, arg, g.ty, || format!("value for @{}", g.name));
                }
            },
            InstData::DataAddr { data: d, .. } => match decls.data.get(d) {
                None => self.report_inst(b, i, format!("unknown data object {d}")),
                Some(x) if x.section.is_tls() && !x.linkage.is_extern() => self.report_inst(
                    b,
                    i,
                    format!("data_addr of thread-local data @{}; use tls_addr", x.name),
                ),
                Some(_) => {}
            },
            InstData::TlsAddr { data: d, .. } => match decls.data.get(d) {
                None => self.report_inst(b, i, format!("unknown data object {d}")),
                Some(x) if !x.section.is_tls() && !x.linkage.is_extern() => self.report_inst(
                    b,
                    i,
                    format!(
                        "tls_addr of non-thread-local data @{}; use data_addr",
                        x.name
                    ),
                ),
                Some(_) => {}
            },
            InstData::FuncAddr { func: f } => {
                if decls.funcs.get(f).is_none() {
                    self.report_inst(b, i, format!("unknown function {f}"));
                }
            }
            InstData::StackAddr { slot, offset } => match func.stack_slots.get(slot) {
                None => self.report_inst(b, i, format!("unknown stack slot {slot}")),
                Some(s) if offset > s.size => self.report_inst(
                    b,
                    i,
                    format!(
                        "offset {offset} is past the end of {slot} ({} bytes)",
                        s.size
                    ),
                ),
                Some(_) => {}
            },
            InstData::Call { func: f, args } => {
                let Some(args) = self.list(at, args) else {
                    return;
                };
                match decls.funcs.get(f) {
                    None => {
                        self.report_inst(b, i, format!("unknown function {f}"));
                        for &v in args {
                            self.use_value(at, v);
                        }
                    }
                    Some(callee) => {
                        let name = format!("@{}", callee.name);
                        self.args(at, args, &callee.sig.params, &name);
                    }
                }
            }
            InstData::CallIndirect { sig, callee, args } => {
                self.typed(at, callee, Type::Ptr, || "callee".into());
                let Some(args) = self.list(at, args) else {
                    return;
                };
                match func.dfg.sigs.get(sig) {
                    None => {
                        self.report_inst(b, i, format!("unknown signature {sig}"));
                        for &v in args {
                            self.use_value(at, v);
                        }
                    }
                    Some(s) => self.args(at, args, &s.params, "call_indirect"),
                }
            }
            InstData::Intrinsic { intrinsic, args } => {
                if let Some(args) = self.list(at, args) {
                    let name = format!("intrinsic {}", intrinsic.name());
                    self.args(at, args, intrinsic.params(), &name);
                }
            }
            InstData::TagName { enum_ref, arg } => match decls.enums.get(enum_ref) {
                None => {
                    self.report_inst(b, i, format!("unknown enum {enum_ref}"));
                    self.use_value(at, arg);
                }
                Some(e) => {
                    let t = e.tag.value_type();
                    self.typed(at, arg, t, || format!("tag value of %{}", e.name));
                }
            },
            InstData::EnumConst { enum_ref, variant } => match decls.enums.get(enum_ref) {
                None => self.report_inst(b, i, format!("unknown enum {enum_ref}")),
                Some(e) if variant as usize >= e.variants.len() => self.report_inst(
                    b,
                    i,
                    format!(
                        "enum %{} has no variant number {variant} (it has {})",
                        e.name,
                        e.variants.len()
                    ),
                ),
                Some(_) => {}
            },
            InstData::Jump { dest } => self.block_call(at, &dest),
            InstData::BrIf {
                cond,
                then_dest,
                else_dest,
            } => {
                self.typed(at, cond, Type::I32, || "condition".into());
                self.block_call(at, &then_dest);
                self.block_call(at, &else_dest);
            }
            InstData::BrTable { index, table } => {
                self.typed(at, index, Type::I32, || "index".into());
                match func.dfg.jump_tables.get(table) {
                    None => self.report_inst(b, i, format!("unknown jump table {table}")),
                    Some(jt) => {
                        for dest in jt.targets.iter().chain(std::iter::once(&jt.default)) {
                            self.block_call(at, dest);
                        }
                    }
                }
            }
            InstData::Return { args } => {
                let Some(args) = self.list(at, args) else {
                    return;
                };
                let results = &self.decl.sig.results;
                if args.len() != results.len() {
                    self.report_inst(
                        b,
                        i,
                        format!(
                            "wrong number of return values: {} given, @{} returns {}",
                            args.len(),
                            self.decl.name,
                            results.len()
                        ),
                    );
                }
                for (k, &v) in args.iter().enumerate() {
                    match results.get(k) {
                        Some(&t) => self.typed(at, v, t, || format!("return value {}", k + 1)),
                        None => {
                            self.use_value(at, v);
                        }
                    }
                }
            }
            InstData::Unreachable => {}
        }
    }
}
