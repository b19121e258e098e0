//! The execution loop: one `match` per instruction over the register file of the top
//! frame, with calls and returns pushing and popping [`Frame`]s instead of recursing.
//!
//! A fault is a message; [`Instance::run`] turns it into a [`Trap`] located at the top
//! frame's function and block (a frame's `block` is kept current at every branch, so the
//! location is exact). A fault while entering a callee is reported in the caller, at the
//! call.

use std::borrow::Cow;

use cranelift_entity::EntityRef;

use super::layout::{DataPlace, MAX_PAGES, PAGE};
use super::ops;
use super::{CallStack, Env, Frame, GlobalState, Instance, MAX_FRAMES, Store, Trap};
use crate::ir::{
    Block, BlockCall, DataFlowGraph, FuncRef, Inst, InstData, Intrinsic, LoadKind, Module, Type,
    Value,
};

type Fault = Cow<'static, str>;

const NO_RESULT: &str = "instruction has fewer result values than it produces";
const BAD_VALUE: &str = "reference to a value outside the function";
const OOB: &str = "out of bounds memory access";

#[inline]
fn rd(regs: &[u64], base: usize, v: Value) -> Result<u64, Fault> {
    regs.get(base + v.index())
        .copied()
        .ok_or(Cow::Borrowed(BAD_VALUE))
}

#[inline]
fn wr(regs: &mut [u64], base: usize, v: Value, x: u64) -> Result<(), Fault> {
    *regs
        .get_mut(base + v.index())
        .ok_or(Cow::Borrowed(BAD_VALUE))? = x;
    Ok(())
}

/// Writes the instruction's first result.
#[inline]
fn wr1(regs: &mut [u64], base: usize, results: &[Value], x: u64) -> Result<(), Fault> {
    let v = *results.first().ok_or(Cow::Borrowed(NO_RESULT))?;
    wr(regs, base, v, x)
}

/// Zero-extends the low half for 32-bit types.
#[inline]
fn fit(ty: Type, x: u64) -> u64 {
    if ty.bytes() == 4 { x & 0xffff_ffff } else { x }
}

/// The byte range `[addr + offset, + len)` of memory, if in bounds.
#[inline]
fn range(
    mem_len: usize,
    addr: u64,
    offset: u64,
    len: u64,
) -> Result<std::ops::Range<usize>, Fault> {
    let start = addr + offset;
    let end = start + len;
    if end > mem_len as u64 {
        return Err(Cow::Borrowed(OOB));
    }
    Ok(start as usize..end as usize)
}

impl Store {
    fn load(&self, addr: u64, offset: u64, n: u64) -> Result<u64, Fault> {
        let r = range(self.memory.len(), addr, offset, n)?;
        let mut b = [0u8; 8];
        let src = self.memory.get(r).ok_or(Cow::Borrowed(OOB))?;
        b.get_mut(..src.len())
            .ok_or(Cow::Borrowed(OOB))?
            .copy_from_slice(src);
        Ok(u64::from_le_bytes(b))
    }

    fn store(&mut self, addr: u64, offset: u64, n: u64, x: u64) -> Result<(), Fault> {
        let r = range(self.memory.len(), addr, offset, n)?;
        let dst = self.memory.get_mut(r).ok_or(Cow::Borrowed(OOB))?;
        let b = x.to_le_bytes();
        dst.copy_from_slice(b.get(..dst.len()).ok_or(Cow::Borrowed(OOB))?);
        Ok(())
    }

    fn copy(&mut self, dst: u64, src: u64, len: u64) -> Result<(), Fault> {
        let d = range(self.memory.len(), dst, 0, len)?;
        let s = range(self.memory.len(), src, 0, len)?;
        self.memory.copy_within(s, d.start);
        Ok(())
    }

    fn fill(&mut self, dst: u64, byte: u8, len: u64) -> Result<(), Fault> {
        let d = range(self.memory.len(), dst, 0, len)?;
        self.memory.get_mut(d).ok_or(Cow::Borrowed(OOB))?.fill(byte);
        Ok(())
    }
}

fn func_name(module: &Module, f: FuncRef) -> &str {
    module.decls.funcs.get(f).map_or("?", |d| d.name.as_str())
}

/// Parallel copy of a branch's arguments into its target's parameters.
fn branch(
    dfg: &DataFlowGraph,
    regs: &mut [u64],
    base: usize,
    scratch: &mut Vec<u64>,
    dest: &BlockCall,
) -> Result<Block, Fault> {
    let args = dfg.list(dest.args);
    let data = dfg
        .blocks
        .get(dest.block)
        .ok_or(Cow::Borrowed("branch to a block that does not exist"))?;
    let params = data.params.as_slice(&dfg.value_lists);
    if params.len() != args.len() {
        return Err(format!(
            "branch to {} passes {} arguments for {} parameters",
            dest.block,
            args.len(),
            params.len()
        )
        .into());
    }
    scratch.clear();
    for &a in args {
        scratch.push(rd(regs, base, a)?);
    }
    for (&p, &x) in params.iter().zip(scratch.iter()) {
        wr(regs, base, p, x)?;
    }
    Ok(dest.block)
}

impl CallStack {
    /// Enters `func` with the arguments in `self.args`.
    fn push_frame(
        &mut self,
        module: &Module,
        env: &Env,
        store: &mut Store,
        func: FuncRef,
        ret_to: Option<Inst>,
    ) -> Result<(), Fault> {
        let decl = module
            .decls
            .funcs
            .get(func)
            .ok_or(Cow::Borrowed("call to a function that does not exist"))?;
        if decl.linkage.is_extern() {
            return Err(format!(
                "call to extern function @{}, which the interpreter cannot run",
                decl.name
            )
            .into());
        }
        if self.frames.len() >= MAX_FRAMES {
            return Err(Cow::Borrowed("call stack exhausted"));
        }
        let body = &module.bodies[func];
        let info = &env.funcs[func];
        let entry = body
            .entry()
            .ok_or_else(|| format!("function @{} has no body", decl.name))?;
        let params = body
            .dfg
            .blocks
            .get(entry)
            .map_or(&[][..], |b| b.params.as_slice(&body.dfg.value_lists));
        if params.len() != self.args.len() {
            return Err(format!(
                "@{} called with {} arguments, its entry block has {} parameters",
                decl.name,
                self.args.len(),
                params.len()
            )
            .into());
        }
        let (slot_base, saved_sp) = if info.slot_offsets.is_empty() {
            (store.sp, None)
        } else {
            let sp = u64::from(store.sp);
            let low = sp
                .checked_sub(info.frame_size)
                .ok_or(Cow::Borrowed("stack overflow"))?;
            let new_sp = low / info.frame_align * info.frame_align;
            let old = store.sp;
            store.sp = new_sp as u32;
            (new_sp as u32, Some(old))
        };
        let base = self.regs.len();
        self.regs.resize(base + info.nvalues, 0);
        for (&p, &x) in params.iter().zip(self.args.iter()) {
            wr(&mut self.regs, base, p, x)?;
        }
        self.frames.push(Frame {
            func,
            block: entry,
            pos: 0,
            base,
            slot_base,
            saved_sp,
            ret_to,
        });
        Ok(())
    }
}

impl Instance<'_> {
    /// Runs `func` with the arguments in `self.stack.args`; leaves the results there.
    pub(super) fn run(&mut self, func: FuncRef) -> Result<(), Trap> {
        let Instance {
            module,
            env,
            store,
            stack,
            fuel,
        } = self;
        let module: &Module = module;
        stack.frames.clear();
        stack.regs.clear();
        let mut fuel = *fuel;
        let result = stack
            .push_frame(module, env, store, func, None)
            .and_then(|()| execute(module, env, store, stack, &mut fuel));
        result.map_err(|message| {
            let (func, block) = match stack.frames.last() {
                Some(f) => (f.func, Some(f.block)),
                None => (func, None),
            };
            Trap {
                message: message.into_owned(),
                func: Some(func_name(module, func).to_string()),
                block,
            }
        })
    }
}

/// Runs until the entry frame returns.
fn execute(
    module: &Module,
    env: &Env,
    store: &mut Store,
    stack: &mut CallStack,
    fuel: &mut u64,
) -> Result<(), Fault> {
    let decls = &module.decls;
    let mut results_scratch = [0u64; 2];
    'frames: loop {
        let Some(&top) = stack.frames.last() else {
            return Ok(());
        };
        let body = &module.bodies[top.func];
        let info = &env.funcs[top.func];
        let dfg = &body.dfg;
        let base = top.base;
        let mut pos = top.pos;
        let mut insts: &[Inst] = dfg.blocks.get(top.block).map_or(&[], |b| &b.insts);
        loop {
            let Some(&inst) = insts.get(pos) else {
                return Err(Cow::Borrowed("block ends without a terminator"));
            };
            pos += 1;
            if *fuel == 0 {
                return Err(Cow::Borrowed("out of fuel"));
            }
            *fuel -= 1;
            let data = dfg
                .insts
                .get(inst)
                .ok_or(Cow::Borrowed("instruction does not exist"))?;
            let regs = &mut stack.regs[..];
            let results = dfg.inst_results(inst);
            // The destination of a branch, handled after the match.
            let dest: &BlockCall = match *data {
                InstData::Const { ty, bits } => {
                    wr1(regs, base, results, fit(ty, bits))?;
                    continue;
                }
                InstData::Unary { op, ty, arg } => {
                    let x = rd(regs, base, arg)?;
                    wr1(regs, base, results, ops::unary(op, ty, x)?)?;
                    continue;
                }
                InstData::Binary { op, ty, args } => {
                    let x = rd(regs, base, args[0])?;
                    let y = rd(regs, base, args[1])?;
                    wr1(regs, base, results, ops::binary(op, ty, x, y)?)?;
                    continue;
                }
                InstData::Convert { op, arg } => {
                    let x = rd(regs, base, arg)?;
                    wr1(regs, base, results, ops::convert(op, x)?)?;
                    continue;
                }
                InstData::Select { args } => {
                    let c = rd(regs, base, args[0])? as u32;
                    let x = rd(regs, base, if c != 0 { args[1] } else { args[2] })?;
                    wr1(regs, base, results, x)?;
                    continue;
                }
                InstData::Load {
                    ty,
                    kind,
                    addr,
                    mem,
                } => {
                    let a = u64::from(rd(regs, base, addr)? as u32);
                    let n = kind.bytes(ty);
                    let raw = store.load(a, u64::from(mem.offset), u64::from(n))?;
                    let x = match kind {
                        LoadKind::S8 => i64::from(raw as i8) as u64,
                        LoadKind::S16 => i64::from(raw as i16) as u64,
                        LoadKind::S32 => i64::from(raw as i32) as u64,
                        _ => raw,
                    };
                    wr1(regs, base, results, fit(ty, x))?;
                    continue;
                }
                InstData::Store {
                    ty,
                    width,
                    args,
                    mem,
                } => {
                    let a = u64::from(rd(regs, base, args[0])? as u32);
                    let x = rd(regs, base, args[1])?;
                    let n = width.bytes(ty);
                    store.store(a, u64::from(mem.offset), u64::from(n), x)?;
                    continue;
                }
                InstData::MemorySize => {
                    let pages = store.memory.len() as u64 / PAGE;
                    wr1(regs, base, results, pages)?;
                    continue;
                }
                InstData::MemoryGrow { arg } => {
                    let n = u64::from(rd(regs, base, arg)? as u32);
                    let old = store.memory.len() as u64 / PAGE;
                    let r = if old + n > MAX_PAGES {
                        u64::from(u32::MAX)
                    } else {
                        store.memory.resize(((old + n) * PAGE) as usize, 0);
                        old
                    };
                    wr1(regs, base, results, r)?;
                    continue;
                }
                InstData::MemoryCopy { args } => {
                    let d = rd(regs, base, args[0])? as u32;
                    let s = rd(regs, base, args[1])? as u32;
                    let n = rd(regs, base, args[2])? as u32;
                    store.copy(d.into(), s.into(), n.into())?;
                    continue;
                }
                InstData::MemoryFill { args } => {
                    let d = rd(regs, base, args[0])? as u32;
                    let b = rd(regs, base, args[1])? as u8;
                    let n = rd(regs, base, args[2])? as u32;
                    store.fill(d.into(), b, n.into())?;
                    continue;
                }
                InstData::GlobalGet { global } => {
                    let x = match store.globals.get(global.index()) {
                        Some(GlobalState::Value(x)) => *x,
                        Some(GlobalState::StackPointer) => u64::from(store.sp),
                        _ => return Err(unresolved_global(module, global.index())),
                    };
                    wr1(regs, base, results, x)?;
                    continue;
                }
                InstData::GlobalSet { global, arg } => {
                    let x = rd(regs, base, arg)?;
                    let ty = decls.globals.get(global).map_or(Type::I64, |g| g.ty);
                    match store.globals.get_mut(global.index()) {
                        Some(GlobalState::Value(slot)) => *slot = fit(ty, x),
                        Some(GlobalState::StackPointer) => store.sp = x as u32,
                        _ => return Err(unresolved_global(module, global.index())),
                    }
                    continue;
                }
                InstData::DataAddr { data, offset } => {
                    let a = match env.data.get(data).copied().unwrap_or_default() {
                        DataPlace::Addr(a) => a,
                        DataPlace::Tls(_) => {
                            return Err(format!(
                                "data_addr of thread-local data @{} (use tls_addr)",
                                data_name(module, data)
                            )
                            .into());
                        }
                        DataPlace::Unresolved => return Err(unresolved_data(module, data)),
                    };
                    wr1(
                        regs,
                        base,
                        results,
                        u64::from(a.wrapping_add(offset as u32)),
                    )?;
                    continue;
                }
                InstData::TlsAddr { data, offset } => {
                    let a = match env.data.get(data).copied().unwrap_or_default() {
                        DataPlace::Tls(off) => env.tls_base.wrapping_add(off),
                        DataPlace::Addr(_) => {
                            return Err(format!(
                                "tls_addr of data @{}, which is not thread-local",
                                data_name(module, data)
                            )
                            .into());
                        }
                        DataPlace::Unresolved => return Err(unresolved_data(module, data)),
                    };
                    wr1(
                        regs,
                        base,
                        results,
                        u64::from(a.wrapping_add(offset as u32)),
                    )?;
                    continue;
                }
                InstData::FuncAddr { func } => {
                    let slot = env.slot_of.get(func).copied().unwrap_or(0);
                    wr1(regs, base, results, u64::from(slot))?;
                    continue;
                }
                InstData::StackAddr { slot, offset } => {
                    let off = *info
                        .slot_offsets
                        .get(slot.index())
                        .ok_or(Cow::Borrowed("stack slot does not exist"))?;
                    let a = top.slot_base.wrapping_add(off).wrapping_add(offset);
                    wr1(regs, base, results, u64::from(a))?;
                    continue;
                }
                InstData::Call { func, args } => {
                    stack.args.clear();
                    for &a in dfg.list(args) {
                        stack.args.push(rd(regs, base, a)?);
                    }
                    enter(stack, module, env, store, func, inst, pos)?;
                    continue 'frames;
                }
                InstData::CallIndirect { sig, callee, args } => {
                    let slot = rd(regs, base, callee)? as u32;
                    let func =
                        env.table
                            .get(slot as usize)
                            .copied()
                            .flatten()
                            .ok_or(Cow::Borrowed(
                                "indirect call to null or invalid function pointer",
                            ))?;
                    let want = dfg
                        .sigs
                        .get(sig)
                        .ok_or(Cow::Borrowed("call_indirect signature does not exist"))?;
                    let have = decls
                        .funcs
                        .get(func)
                        .map(|d| &d.sig)
                        .ok_or(Cow::Borrowed("indirect call to invalid function"))?;
                    let same = |a: &[Type], b: &[Type]| {
                        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(*y))
                    };
                    if !same(&want.params, &have.params) || !same(&want.results, &have.results) {
                        return Err(Cow::Borrowed("indirect call signature mismatch"));
                    }
                    stack.args.clear();
                    for &a in dfg.list(args) {
                        stack.args.push(rd(regs, base, a)?);
                    }
                    enter(stack, module, env, store, func, inst, pos)?;
                    continue 'frames;
                }
                InstData::Intrinsic { intrinsic, args } => {
                    let args = dfg.list(args);
                    if args.len() != intrinsic.params().len()
                        || results.len() != intrinsic.results().len()
                    {
                        return Err(format!(
                            "intrinsic {} used with the wrong number of arguments or results",
                            intrinsic.name()
                        )
                        .into());
                    }
                    let mut vals = [0u64; 4];
                    for (slot, &a) in vals.iter_mut().zip(args) {
                        *slot = rd(regs, base, a)?;
                    }
                    let a32 = |i: usize| u64::from(vals[i] as u32);
                    match intrinsic {
                        Intrinsic::Memcpy | Intrinsic::Memmove => {
                            store.copy(a32(0), a32(1), a32(2))?
                        }
                        Intrinsic::Memset => store.fill(a32(0), vals[1] as u8, a32(2))?,
                        _ => {
                            ops::intrinsic(intrinsic, &vals[..args.len()], &mut results_scratch)?;
                            for ((&r, &x), &ty) in results
                                .iter()
                                .zip(&results_scratch)
                                .zip(intrinsic.results())
                            {
                                wr(regs, base, r, fit(ty, x))?;
                            }
                        }
                    }
                    continue;
                }
                InstData::TagName { enum_ref, arg } => {
                    let decl = decls
                        .enums
                        .get(enum_ref)
                        .ok_or(Cow::Borrowed("enum does not exist"))?;
                    if !matches!(decl.tag.bits, 8 | 16 | 32 | 64) {
                        return Err(Cow::Borrowed("enum tag type of an invalid width"));
                    }
                    let raw = fit(decl.tag.value_type(), rd(regs, base, arg)?);
                    let value = decl.tag.decode(raw);
                    let table = env.tags.get(enum_ref).map_or(&[][..], |t| &t[..]);
                    let entry = table
                        .binary_search_by_key(&value, |t| t.value)
                        .ok()
                        .and_then(|i| table.get(i))
                        .ok_or_else(|| {
                            format!("invalid tag value {value} for enum %{}", decl.name)
                        })?;
                    let [p, l] = results else {
                        return Err(Cow::Borrowed(NO_RESULT));
                    };
                    wr(regs, base, *p, u64::from(entry.addr))?;
                    wr(regs, base, *l, u64::from(entry.len))?;
                    continue;
                }
                InstData::EnumConst { enum_ref, variant } => {
                    let decl = decls
                        .enums
                        .get(enum_ref)
                        .ok_or(Cow::Borrowed("enum does not exist"))?;
                    let v = decl
                        .variants
                        .get(variant as usize)
                        .ok_or(Cow::Borrowed("enum variant does not exist"))?;
                    wr1(
                        regs,
                        base,
                        results,
                        fit(decl.tag.value_type(), v.value as u64),
                    )?;
                    continue;
                }
                InstData::Jump { ref dest } => dest,
                InstData::BrIf {
                    cond,
                    ref then_dest,
                    ref else_dest,
                } => {
                    if rd(regs, base, cond)? as u32 != 0 {
                        then_dest
                    } else {
                        else_dest
                    }
                }
                InstData::BrTable { index, table } => {
                    let i = rd(regs, base, index)? as u32;
                    let jt = dfg
                        .jump_tables
                        .get(table)
                        .ok_or(Cow::Borrowed("jump table does not exist"))?;
                    jt.targets.get(i as usize).unwrap_or(&jt.default)
                }
                InstData::Return { args } => {
                    stack.args.clear();
                    for &a in dfg.list(args) {
                        stack.args.push(rd(regs, base, a)?);
                    }
                    leave(stack, module, store)?;
                    continue 'frames;
                }
                InstData::Unreachable => return Err(Cow::Borrowed("unreachable")),
            };
            let block = branch(dfg, regs, base, &mut stack.scratch, dest)?;
            insts = dfg.blocks.get(block).map_or(&[], |b| &b.insts);
            pos = 0;
            if let Some(f) = stack.frames.last_mut() {
                f.block = block;
            }
        }
    }
}

/// Saves the caller's position and pushes the callee's frame.
fn enter(
    stack: &mut CallStack,
    module: &Module,
    env: &Env,
    store: &mut Store,
    func: FuncRef,
    call: Inst,
    pos: usize,
) -> Result<(), Fault> {
    if let Some(f) = stack.frames.last_mut() {
        f.pos = pos;
    }
    stack.push_frame(module, env, store, func, Some(call))
}

/// Pops the top frame and writes the results in `stack.args` to the caller's call
/// instruction (or leaves them there when the entry frame returns).
fn leave(stack: &mut CallStack, module: &Module, store: &mut Store) -> Result<(), Fault> {
    let Some(frame) = stack.frames.last().copied() else {
        return Ok(());
    };
    let Some(call) = frame.ret_to else {
        // The entry frame: its results stay in `stack.args`.
        if let Some(sp) = frame.saved_sp {
            store.sp = sp;
        }
        stack.frames.pop();
        stack.regs.truncate(frame.base);
        return Ok(());
    };
    let Some(caller) = stack
        .frames
        .len()
        .checked_sub(2)
        .and_then(|i| stack.frames.get(i))
    else {
        return Err(Cow::Borrowed("return to a frame that does not exist"));
    };
    let cdfg = &module.bodies[caller.func].dfg;
    let results = cdfg.inst_results(call);
    if results.len() != stack.args.len() {
        return Err(format!(
            "return of {} values to a call that expects {}",
            stack.args.len(),
            results.len()
        )
        .into());
    }
    let cbase = caller.base;
    if let Some(sp) = frame.saved_sp {
        store.sp = sp;
    }
    stack.frames.pop();
    stack.regs.truncate(frame.base);
    for (&r, &x) in results.iter().zip(&stack.args) {
        let ty = cdfg.values.get(r).map_or(Type::I64, |v| v.ty);
        wr(&mut stack.regs, cbase, r, fit(ty, x))?;
    }
    Ok(())
}

fn data_name(module: &Module, d: crate::ir::DataRef) -> &str {
    module.decls.data.get(d).map_or("?", |d| d.name.as_str())
}

fn unresolved_data(module: &Module, d: crate::ir::DataRef) -> Fault {
    format!("use of unresolved extern data @{}", data_name(module, d)).into()
}

fn unresolved_global(module: &Module, index: usize) -> Fault {
    let name = module
        .decls
        .globals
        .get(crate::ir::GlobalRef::new(index))
        .map_or("?", |g| g.name.as_str());
    format!("use of unresolved extern global @{name}").into()
}
