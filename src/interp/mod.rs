//! The reference interpreter: runs IR directly, with wasm's semantics, as the oracle that
//! compiled modules are tested against.
//!
//! An [`Instance`] lays out linear memory as the link stage does (see `layout.rs`: shadow
//! stack first, then data with the TLS block, the enum name tables and the heap), writes the
//! data objects with their relocations applied, and runs the constructors. [`Instance::call`]
//! then runs a function by name.
//!
//! Approach: values are raw `u64` bit patterns in one register file, a window of
//! `values.len()` registers per frame indexed by [`Value`](crate::ir::Value) (32-bit types
//! in the low half, zero-extended). Calls push onto an explicit frame stack instead of
//! recursing in Rust, so deep IR recursion cannot overflow the host stack; the register
//! file, the frame stack and the scratch buffers are reused from call to call, and running
//! an instruction allocates nothing. Block arguments are a parallel copy.
//!
//! Invariants and limits:
//! - The input should have passed the verifier, but nothing here panics on a module that did
//!   not: whatever is malformed becomes a [`Trap`] when it is reached.
//! - Numeric semantics are wasm's (`ops.rs`): wraparound, shift counts modulo the width,
//!   trapping division and `trunc`, wasm `min`/`max` on NaN and signed zeros, `nearest`
//!   rounding half to even. NaN payloads are whatever the host produces; wasm allows any.
//! - At most [`MAX_FRAMES`] frames ("call stack exhausted"), and by default
//!   [`DEFAULT_FUEL`] instructions per call ("out of fuel"; see [`Instance::set_fuel`]).
//! - Memory starts with enough pages for the data plus one free page; `memory.grow` fails
//!   (returns -1) beyond 16384 pages (1 GiB).
//! - A function with stack slots moves `__stack_pointer` down on entry (its frame aligned to
//!   16, "stack overflow" below 0) and restores it on return. After a trap the instance is
//!   left as the trap found it, as a wasm instance would be; make a fresh one to start over.
//! - Calls to extern functions and uses of extern globals or data that nothing defines trap
//!   (`__stack_pointer` and the linker symbols of `layout.rs` are defined).

mod exec;
mod layout;
mod ops;
#[cfg(test)]
mod tests;

use std::fmt;

use cranelift_entity::{EntityRef, SecondaryMap};

use crate::ir::{Block, DataRef, EnumRef, FuncRef, Module, Type};
use layout::{DataPlace, TagEntry};

/// Most frames the call stack holds before a call traps with "call stack exhausted".
pub const MAX_FRAMES: usize = 10_000;

/// Instructions a call may execute unless [`Instance::set_fuel`] says otherwise.
pub const DEFAULT_FUEL: u64 = 1_000_000_000;

/// A typed value passed to or returned from a call.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Val {
    /// An `i32` (or `ptr`).
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
}

impl Val {
    /// The value's type (`I32` for pointers too).
    pub fn ty(self) -> Type {
        match self {
            Val::I32(_) => Type::I32,
            Val::I64(_) => Type::I64,
            Val::F32(_) => Type::F32,
            Val::F64(_) => Type::F64,
        }
    }

    /// The raw bit pattern, 32-bit types zero-extended.
    fn to_bits(self) -> u64 {
        match self {
            Val::I32(v) => u64::from(v as u32),
            Val::I64(v) => v as u64,
            Val::F32(v) => u64::from(v.to_bits()),
            Val::F64(v) => v.to_bits(),
        }
    }

    /// A value of type `ty` from its bit pattern.
    fn from_bits(ty: Type, bits: u64) -> Val {
        match ty.canonical() {
            Type::I64 => Val::I64(bits as i64),
            Type::F32 => Val::F32(f32::from_bits(bits as u32)),
            Type::F64 => Val::F64(f64::from_bits(bits)),
            _ => Val::I32(bits as u32 as i32),
        }
    }
}

fn fmt_float(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_nan() {
        f.write_str("nan")
    } else {
        // Rust prints infinities as `inf` and `-inf`.
        write!(f, "{x}")
    }
}

impl fmt::Display for Val {
    /// Integers in signed decimal, floats as Rust prints them, NaN as `nan`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Val::I32(v) => write!(f, "{v}"),
            Val::I64(v) => write!(f, "{v}"),
            Val::F32(v) if v.is_nan() => f.write_str("nan"),
            Val::F32(v) => write!(f, "{v}"),
            Val::F64(v) => fmt_float(f, v),
        }
    }
}

/// A trap: why execution stopped, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    /// The cause, worded as wasm engines word it ("integer divide by zero").
    pub message: String,
    /// The function running when it happened, if any.
    pub func: Option<String>,
    /// The block running when it happened, if any.
    pub block: Option<Block>,
}

impl Trap {
    fn new(message: impl Into<String>) -> Trap {
        Trap {
            message: message.into(),
            func: None,
            block: None,
        }
    }
}

impl fmt::Display for Trap {
    /// `trap in @f block3: integer divide by zero`; the location parts that are unknown are
    /// left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("trap")?;
        if let Some(func) = &self.func {
            write!(f, " in @{func}")?;
            if let Some(block) = self.block {
                write!(f, " {block}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for Trap {}

/// The run-time state of a global.
#[derive(Copy, Clone, Debug)]
enum GlobalState {
    /// A defined global's value.
    Value(u64),
    /// `extern global @__stack_pointer`: reads and writes [`Store::sp`].
    StackPointer,
    /// An extern global nothing defines.
    Unresolved,
}

/// Per-function facts computed once.
#[derive(Clone, Debug, Default)]
struct FuncInfo {
    /// Registers a frame needs: the function's value count.
    nvalues: usize,
    /// Offset of each stack slot from the frame's base.
    slot_offsets: Vec<u32>,
    /// Frame size, a multiple of 16 (0 when the function has no stack slots).
    frame_size: u64,
    /// Alignment of the frame base: 16, or more for a more aligned slot.
    frame_align: u64,
}

/// What never changes after instantiation.
struct Env {
    data: SecondaryMap<DataRef, DataPlace>,
    tls_base: u32,
    tags: SecondaryMap<EnumRef, Vec<TagEntry>>,
    table: Vec<Option<FuncRef>>,
    slot_of: SecondaryMap<FuncRef, u32>,
    funcs: SecondaryMap<FuncRef, FuncInfo>,
}

/// Memory and globals.
struct Store {
    memory: Vec<u8>,
    globals: Vec<GlobalState>,
    /// The shadow stack pointer, `__stack_pointer`.
    sp: u32,
}

/// One activation on the call stack.
#[derive(Copy, Clone, Debug)]
struct Frame {
    func: FuncRef,
    /// The block running (kept current for trap locations).
    block: Block,
    /// Index of the next instruction in the block, saved while a callee runs.
    pos: usize,
    /// First register of this frame.
    base: usize,
    /// Base of the stack frame (stack slots live above it).
    slot_base: u32,
    /// The stack pointer to restore on return, if the function moved it.
    saved_sp: Option<u32>,
    /// The caller's call instruction that receives the results (`None` for the entry).
    ret_to: Option<crate::ir::Inst>,
}

/// Buffers reused across calls.
#[derive(Default)]
struct CallStack {
    regs: Vec<u64>,
    frames: Vec<Frame>,
    /// Arguments of the call being made, or results of the return being made.
    args: Vec<u64>,
    /// Block arguments during a branch.
    scratch: Vec<u64>,
}

/// A module instantiated for interpretation: memory, globals, function table.
pub struct Instance<'m> {
    module: &'m Module,
    env: Env,
    store: Store,
    stack: CallStack,
    fuel: u64,
}

fn align_up(x: u64, align: u64) -> u64 {
    x.div_ceil(align.max(1)).saturating_mul(align.max(1))
}

impl<'m> Instance<'m> {
    /// Lays out memory, writes the data objects and runs the constructors (by priority,
    /// then declaration order).
    pub fn new(module: &'m Module) -> Result<Instance<'m>, Trap> {
        let layout = layout::compute(module).map_err(Trap::new)?;

        let globals = module
            .decls
            .globals
            .values()
            .map(|g| {
                if g.linkage.is_extern() {
                    if g.name == "__stack_pointer" {
                        GlobalState::StackPointer
                    } else {
                        GlobalState::Unresolved
                    }
                } else if g.ty.bytes() == 4 {
                    GlobalState::Value(g.init & 0xffff_ffff)
                } else {
                    GlobalState::Value(g.init)
                }
            })
            .collect();

        let mut funcs = SecondaryMap::<FuncRef, FuncInfo>::new();
        for (f, decl) in module.decls.funcs.iter() {
            if decl.linkage.is_extern() {
                continue;
            }
            let body = &module.bodies[f];
            let mut offset = 0u64;
            let mut frame_align = 16u64;
            let mut slot_offsets = Vec::with_capacity(body.stack_slots.len());
            for slot in body.stack_slots.values() {
                let align = u64::from(slot.align.max(1));
                frame_align = frame_align.max(align);
                offset = align_up(offset, align);
                slot_offsets.push(u32::try_from(offset).unwrap_or(u32::MAX));
                offset = offset.saturating_add(u64::from(slot.size));
            }
            funcs[f] = FuncInfo {
                nvalues: body.dfg.values.len(),
                slot_offsets,
                frame_size: align_up(offset, 16),
                frame_align,
            };
        }

        let mut instance = Instance {
            module,
            env: Env {
                data: layout.data,
                tls_base: layout.tls_base,
                tags: layout.tags,
                table: layout.table,
                slot_of: layout.slot_of,
                funcs,
            },
            store: Store {
                memory: layout.memory,
                globals,
                sp: layout::STACK_SIZE as u32,
            },
            stack: CallStack::default(),
            fuel: DEFAULT_FUEL,
        };

        let mut ctors: Vec<(u32, FuncRef)> = module
            .decls
            .funcs
            .iter()
            .filter_map(|(f, d)| d.ctor.map(|p| (p, f)))
            .collect();
        ctors.sort();
        for (_, f) in ctors {
            instance.call_func(f, &[])?;
        }
        Ok(instance)
    }

    /// Sets how many instructions each later call may execute before it traps with
    /// "out of fuel".
    pub fn set_fuel(&mut self, steps: u64) {
        self.fuel = steps;
    }

    /// Calls the first function named `name`.
    pub fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, Trap> {
        let func = self
            .module
            .func_by_name(name)
            .ok_or_else(|| Trap::new(format!("no function named @{name}")))?;
        self.call_func(func, args)
    }

    /// Calls `func` with `args`, which must match its parameter types.
    pub fn call_func(&mut self, func: FuncRef, args: &[Val]) -> Result<Vec<Val>, Trap> {
        let module = self.module;
        let decl = module
            .decls
            .funcs
            .get(func)
            .ok_or_else(|| Trap::new(format!("no function {}", func.index())))?;
        let params = &decl.sig.params;
        if params.len() != args.len() || params.iter().zip(args).any(|(p, a)| !p.same_as(a.ty())) {
            let want: Vec<&str> = params.iter().map(|t| t.canonical().name()).collect();
            let got: Vec<&str> = args.iter().map(|a| a.ty().name()).collect();
            return Err(Trap::new(format!(
                "@{} takes ({}), called with ({})",
                decl.name,
                want.join(", "),
                got.join(", ")
            )));
        }
        self.stack.args.clear();
        self.stack.args.extend(args.iter().map(|a| a.to_bits()));
        self.run(func)?;
        let results = &decl.sig.results;
        if results.len() != self.stack.args.len() {
            return Err(Trap {
                message: format!(
                    "@{} returned {} values, its signature has {}",
                    decl.name,
                    self.stack.args.len(),
                    results.len()
                ),
                func: Some(decl.name.clone()),
                block: None,
            });
        }
        Ok(results
            .iter()
            .zip(&self.stack.args)
            .map(|(t, b)| Val::from_bits(*t, *b))
            .collect())
    }

    /// Linear memory as it is now.
    pub fn memory(&self) -> &[u8] {
        &self.store.memory
    }
}
