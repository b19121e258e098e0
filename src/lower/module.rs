//! A whole IR module into one [`Object`]: types, imports, symbols, segments, globals and
//! init functions around the function bodies that `emit.rs` encodes.
//!
//! Steps:
//! 1. The function types, in IR order: functions, then each function's `call_indirect`
//!    signatures (read in parallel, interned in a sequential pass so that the numbering
//!    does not depend on the threads); the runtime and tag-name functions' types come later.
//! 2. The defined functions are lowered in parallel (rayon, one reusable worker state per
//!    thread); what a function needs (runtime functions, tag-name functions, the stack
//!    pointer, the TLS base, the table, the memory) is found by the first walk over its
//!    reachable code ([`CodeNeeds`]), and the blocks that no structure reaches are read
//!    after it. What the bodies need decides the index spaces, which the bodies
//!    encode, so they are lowered in a provisional numbering ([`Provisional`]): the IR
//!    items' symbols are final from the start, the synthetic symbols are slots. The needs
//!    are merged in IR order.
//! 3. Index spaces: imported functions are the extern IR functions in IR order, then the
//!    runtime functions (by [`Intrinsic`] order), then the tag-name functions (by enum
//!    order); defined functions follow in IR order. Globals likewise: extern IR globals,
//!    `__stack_pointer`, `__tls_base`, then defined ones. An IR item that already has such
//!    a name (`extern global @__stack_pointer: ptr mut`, `extern func @memset(...)`) is used
//!    when its kind and type fit, and is an error otherwise.
//! 4. Symbols: one per IR function, global and data object in IR order, then the synthetic
//!    ones (stack pointer, TLS base, table, runtime functions, tag-name functions).
//! 5. The bodies are rewritten to the final numbering from their relocations (in
//!    parallel), and collected in IR order, so the output is deterministic. Lowering errors
//!    are reported after those of steps 3 and 4, as when the needs were scanned first.

use std::borrow::Cow;

use cranelift_entity::SecondaryMap;
use indexmap::IndexMap;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::LowerOptions;
use super::emit::{EmitError, Emitter};
use super::error::LowerError;
use super::reducible::{Reducer, ReducibleOptions, make_reducible_into};
use super::structure::Structurer;
use super::structured::Node;
use super::values::CodeNeeds;
use crate::ir::{
    DataItem, DataRef, DataSection, EnumRef, FuncRef, GlobalRef, InstData, Intrinsic, Item,
    Linkage, Module, Signature, Type,
};
use crate::object::{
    ConstExpr, DataDef, EnumInfo, Feature, Func, FuncType, Global, Import, ImportKind, InitFunc,
    Object, Reloc, RelocRange, RelocType, SYM_EXPLICIT_NAME, SYM_EXPORTED, SYM_HIDDEN, SYM_LOCAL,
    SYM_NO_STRIP, SYM_TLS, SYM_UNDEFINED, Segment, SegmentData, Symbol, SymbolKind, ValType,
    push_relocs, write_uleb5,
};

/// A lowered function and its relocations.
type Lowered = (Func<'static>, Vec<Reloc>);

/// A symbol and the index of what it names, in this object's index space.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) struct SymRef {
    /// Symbol index.
    pub sym: u32,
    /// Function or global index.
    pub index: u32,
}

/// What the encoder of every function reads: symbols and indices of the module.
pub(crate) struct Ctx<'m> {
    /// The module.
    pub module: &'m Module,
    /// Target features.
    pub features: crate::target::Features,
    /// Type index of each function.
    pub func_type: SecondaryMap<FuncRef, u32>,
    funcs: SecondaryMap<FuncRef, Option<SymRef>>,
    globals: SecondaryMap<GlobalRef, Option<SymRef>>,
    data: SecondaryMap<DataRef, Option<u32>>,
    runtime: Vec<Option<SymRef>>,
    tag_names: SecondaryMap<EnumRef, Option<SymRef>>,
    /// `__stack_pointer`.
    pub stack_pointer: Option<SymRef>,
    /// `__tls_base`.
    pub tls_base: Option<SymRef>,
    /// `__indirect_function_table` (symbol index).
    pub table: Option<u32>,
}

impl<'m> Ctx<'m> {
    /// A context with nothing numbered yet.
    fn new(module: &'m Module, features: crate::target::Features) -> Self {
        Ctx {
            module,
            features,
            func_type: SecondaryMap::new(),
            funcs: SecondaryMap::new(),
            globals: SecondaryMap::new(),
            data: SecondaryMap::new(),
            runtime: vec![None; Intrinsic::ALL.len()],
            tag_names: SecondaryMap::new(),
            stack_pointer: None,
            tls_base: None,
            table: None,
        }
    }

    pub(crate) fn func(&self, f: FuncRef) -> Result<SymRef, EmitError> {
        self.funcs
            .get(f)
            .copied()
            .flatten()
            .ok_or_else(|| EmitError::Structure(format!("call of unknown function {f}")))
    }

    pub(crate) fn global(&self, g: GlobalRef) -> Result<SymRef, EmitError> {
        self.globals
            .get(g)
            .copied()
            .flatten()
            .ok_or_else(|| EmitError::Structure(format!("unknown global {g}")))
    }

    pub(crate) fn data(&self, d: DataRef) -> Result<u32, EmitError> {
        self.data
            .get(d)
            .copied()
            .flatten()
            .ok_or_else(|| EmitError::Structure(format!("unknown data object {d}")))
    }

    pub(crate) fn runtime(&self, i: Intrinsic) -> Result<SymRef, EmitError> {
        self.runtime
            .get(i as usize)
            .copied()
            .flatten()
            .ok_or_else(|| EmitError::Structure(format!("no symbol for {}", i.symbol())))
    }

    pub(crate) fn tag_name(&self, e: EnumRef) -> Result<SymRef, EmitError> {
        self.tag_names
            .get(e)
            .copied()
            .flatten()
            .ok_or_else(|| EmitError::Structure(format!("no tag-name function for {e}")))
    }
}

fn obj_type(ty: Type) -> ValType {
    match ty.canonical() {
        Type::I64 => ValType::I64,
        Type::F32 => ValType::F32,
        Type::F64 => ValType::F64,
        _ => ValType::I32,
    }
}

fn func_type(sig: &Signature) -> FuncType {
    FuncType {
        params: sig.params.iter().map(|&t| obj_type(t)).collect(),
        results: sig.results.iter().map(|&t| obj_type(t)).collect(),
    }
}

/// The C ABI type of a runtime function on wasm32.
fn runtime_type(i: Intrinsic) -> FuncType {
    use ValType::*;
    match i {
        Intrinsic::Memcpy | Intrinsic::Memmove | Intrinsic::Memset => FuncType {
            params: vec![I32, I32, I32],
            results: vec![I32],
        },
        _ if i.results().len() == 2 => FuncType {
            params: std::iter::once(I32)
                .chain(i.params().iter().map(|&t| obj_type(t)))
                .collect(),
            results: vec![],
        },
        _ => FuncType {
            params: i.params().iter().map(|&t| obj_type(t)).collect(),
            results: i.results().iter().map(|&t| obj_type(t)).collect(),
        },
    }
}

/// The symbol flags of a linkage.
fn linkage_flags(l: &Linkage) -> u32 {
    match l {
        Linkage::Local => SYM_LOCAL,
        Linkage::Public => SYM_HIDDEN,
        Linkage::Export => SYM_EXPORTED | SYM_NO_STRIP,
        Linkage::Extern(_) => SYM_UNDEFINED,
    }
}

/// The import module and field of an extern item, and whether the field differs from the
/// symbol name.
fn import_of(name: &str, l: &Linkage) -> (String, String, bool) {
    match l {
        Linkage::Extern(Some(imp)) => (imp.module.clone(), imp.name.clone(), imp.name != name),
        _ => ("env".to_string(), name.to_string(), false),
    }
}

/// Interns function types in first-seen order.
#[derive(Default)]
struct Types(IndexMap<FuncType, u32, rustc_hash::FxBuildHasher>);

impl Types {
    fn intern(&mut self, t: FuncType) -> u32 {
        let n = self.0.len() as u32;
        *self.0.entry(t).or_insert(n)
    }

    /// Interns a type that is borrowed (cloned only when new).
    fn intern_ref(&mut self, t: &FuncType) -> u32 {
        match self.0.get(t) {
            Some(&n) => n,
            None => self.intern(t.clone()),
        }
    }
}

/// Per-thread lowering state.
#[derive(Default)]
struct Worker {
    emitter: Emitter,
    structurer: Structurer,
    reducer: Reducer,
    nodes: Vec<Node>,
    /// The reducible copy of an irreducible function (its allocations kept).
    reduced: crate::ir::Function,
    /// How irreducible functions are made reducible.
    reducible: ReducibleOptions,
}

impl Worker {
    #[inline(never)] // a profiling root (callgrind --toggle-collect)
    fn lower(
        &mut self,
        ctx: &Ctx<'_>,
        f: FuncRef,
        sig_types: &[u32],
    ) -> (Result<Lowered, LowerError>, CodeNeeds) {
        let body = ctx.module.bodies.get(f);
        if let Some(body) = body {
            warm(body);
        }
        let lowered = self.lower_body(ctx, f, body, sig_types);
        let features = ctx.features;
        let needs = match (&lowered, body) {
            // The reachable code's needs were found with the code; the blocks that no
            // structure reaches (the same ones in the reducible copy, whose own blocks add
            // nothing that needs anything) are read here.
            (Ok(_), Some(body)) => {
                let values = &self.emitter.values;
                let mut needs = values.needs.clone();
                note_needs(&mut needs, body, features, |b| !values.is_reached(b));
                needs
            }
            _ => body_needs(ctx.module, f, features),
        };
        (lowered, needs)
    }

    /// Lowers `body`, the body of `f`.
    fn lower_body(
        &mut self,
        ctx: &Ctx<'_>,
        f: FuncRef,
        body: Option<&crate::ir::Function>,
        sig_types: &[u32],
    ) -> Result<Lowered, LowerError> {
        let name = || ctx.module.decls.funcs[f].name.clone();
        let body = body.ok_or_else(|| LowerError::Structure {
            func: name(),
            message: "no body".into(),
        })?;
        let func = if make_reducible_into(
            body,
            &self.reducible,
            self.structurer.cfg_mut(),
            &mut self.reducer,
            &mut self.reduced,
        ) {
            &self.reduced
        } else {
            body
        };
        self.structurer
            .run_prepared(func, &mut self.nodes)
            .map_err(|e| LowerError::Structure {
                func: name(),
                message: e.to_string(),
            })?;
        self.emitter
            .lower(ctx, f, func, &self.nodes, sig_types)
            .map_err(|e| lower_error(ctx.module, f, e))
            .and_then(|lowered| {
                if lowered.0.body.len() > MAX_FUNCTION_BODY {
                    return Err(LowerError::Limit {
                        func: name(),
                        message: format!(
                            "its code is {} bytes, over wasm's limit of {MAX_FUNCTION_BODY} bytes per function body",
                            lowered.0.body.len()
                        ),
                    });
                }
                Ok(lowered)
            })
    }
}

/// Reads one word of each cache line of `body`'s tables (instructions, results, values,
/// the value lists of the results, the last instruction of each block): independent loads
/// that the processor overlaps, so the passes that follow, whose reads depend on each
/// other (a block, then its terminator, then its destinations), find the body in cache
/// instead of waiting for memory one line at a time. It pays when other processes keep
/// evicting the input from the shared cache (BENCHMARKS.md, session 10) and costs about 1%
/// of the instructions otherwise.
#[inline(never)] // its own entry in profiles
fn warm(body: &crate::ir::Function) {
    /// Sums `f` over one element of each cache line of `items`.
    fn lines<T>(items: &[T], f: impl Fn(&T) -> u32) -> u32 {
        let step = (64 / std::mem::size_of::<T>().max(1)).max(1);
        items
            .iter()
            .step_by(step)
            .fold(0u32, |acc, x| acc.wrapping_add(f(x)))
    }
    let dfg = &body.dfg;
    let mut acc = lines(dfg.insts.as_values_slice(), |d| {
        matches!(d, InstData::Jump { .. }) as u32
    });
    acc = acc.wrapping_add(lines(dfg.values.as_values_slice(), |v| v.ty as u32));
    acc = acc.wrapping_add(lines(dfg.results.as_values_slice(), |r| {
        dfg.list(*r).first().map_or(0, |v| v.as_u32())
    }));
    for b in dfg.blocks.values() {
        acc = acc.wrapping_add(b.insts.last().map_or(0, |i| i.as_u32()));
    }
    std::hint::black_box(acc);
}

/// The error of lowering function `f`.
fn lower_error(module: &Module, f: FuncRef, e: EmitError) -> LowerError {
    let func = module.decls.funcs[f].name.clone();
    match e {
        EmitError::Structure(message) => LowerError::Structure { func, message },
        EmitError::Frame(size) => LowerError::FrameTooLarge { func, size },
        EmitError::Limit(message) => LowerError::Limit { func, message },
    }
}

/// The largest function body engines accept (the JS API limit, which wasmparser enforces).
const MAX_FUNCTION_BODY: usize = 7_654_321;

/// What the bodies need, found by the first pass.
#[derive(Default)]
struct Needs {
    runtime: Vec<bool>,
    tag_names: SecondaryMap<EnumRef, bool>,
    stack_pointer: bool,
    tls_base: bool,
    table: bool,
    memory: bool,
}

impl Needs {
    fn merge(&mut self, b: &CodeNeeds) {
        for (k, &i) in Intrinsic::ALL.iter().enumerate() {
            if b.calls(i) {
                self.runtime[k] = true;
            }
        }
        for &e in &b.tag_names {
            self.tag_names[e] = true;
        }
        self.stack_pointer |= b.stack_pointer;
        self.tls_base |= b.tls_base;
        self.table |= b.table;
        self.memory |= b.memory;
    }
}

/// A defined function's types, found by [`scan_body`].
struct BodyScan {
    /// The function's type.
    ty: FuncType,
    /// The types of its `call_indirect` signatures, in order.
    sigs: Vec<FuncType>,
    /// The result count of its first signature with several results when multivalue is
    /// off (an error).
    multivalue_sig: Option<usize>,
}

/// The types of the defined function `f` (step 1; runs in parallel): its signatures only,
/// not its instructions.
#[inline(never)] // a profiling root (callgrind --toggle-collect)
fn scan_body(module: &Module, f: FuncRef, features: crate::target::Features) -> BodyScan {
    let decls = &module.decls;
    let body = &module.bodies[f];
    let mut scan = BodyScan {
        ty: func_type(&decls.funcs[f].sig),
        sigs: Vec::with_capacity(body.dfg.sigs.len()),
        multivalue_sig: None,
    };
    for sig in body.dfg.sigs.values() {
        if sig.results.len() > 1 && !features.multivalue {
            scan.multivalue_sig = Some(sig.results.len());
            return scan;
        }
        scan.sigs.push(func_type(sig));
    }
    scan
}

/// What the body of the defined function `f` needs, all of it read (when lowering it
/// failed; otherwise [`Worker::lower`] finds the needs with the code).
fn body_needs(module: &Module, f: FuncRef, features: crate::target::Features) -> CodeNeeds {
    let mut needs = CodeNeeds::default();
    if let Some(body) = module.bodies.get(f) {
        note_needs(&mut needs, body, features, |_| true);
    }
    needs
}

/// Notes in `needs` what `body`'s frame and the blocks of its layout for which `blocks`
/// holds need.
fn note_needs(
    needs: &mut CodeNeeds,
    body: &crate::ir::Function,
    features: crate::target::Features,
    blocks: impl Fn(crate::ir::Block) -> bool,
) {
    if !body.stack_slots.is_empty() {
        needs.memory = true;
    }
    for &b in &body.layout {
        if blocks(b) {
            for &inst in &body.dfg.blocks[b].insts {
                needs.note(&body.dfg.insts[inst], features);
            }
        }
    }
}

/// Slots of the synthetic symbols in the provisional numbering (after the IR items'
/// symbols): the stack pointer, the TLS base, the table, then one per runtime function
/// (by [`Intrinsic`] order) and one per enum's tag-name function.
const SLOT_SP: u32 = 0;
const SLOT_TLS: u32 = 1;
const SLOT_TABLE: u32 = 2;
const SLOT_RUNTIME: u32 = 3;

/// The numbering the bodies are lowered with before their needs are known (step 2), and
/// its mapping to the final one. The IR items' symbols are final from the start (they come
/// first, in IR order) and so are the type indices; the synthetic symbols are slots
/// (`SLOT_*` after the IR symbols); defined functions and globals are numbered as if
/// nothing were imported after the IR's extern ones. Every index a body encodes has a
/// relocation, so [`Provisional::patch`] rewrites a body to the final numbering from its
/// relocations alone.
struct Provisional {
    /// Number of IR items' symbols.
    ir_syms: u32,
    /// The final symbol and function or global index of each provisional symbol (index 0
    /// for data, the table and type indices); `None` for a slot without a final symbol.
    refs: Vec<Option<SymRef>>,
}

impl Provisional {
    /// The numbering before the needs are known, and the context to lower with.
    fn ctx<'m>(module: &'m Module, features: crate::target::Features) -> (u32, Ctx<'m>) {
        let decls = &module.decls;
        let mut ctx = Ctx::new(module, features);
        let extern_funcs = module
            .items
            .iter()
            .filter(|i| matches!(**i, Item::Func(f) if decls.funcs[f].linkage.is_extern()))
            .count() as u32;
        let extern_globals = module
            .items
            .iter()
            .filter(|i| matches!(**i, Item::Global(g) if decls.globals[g].linkage.is_extern()))
            .count() as u32;
        let (mut sym, mut funcs, mut globals) = (0u32, [0u32, extern_funcs], [0, extern_globals]);
        for item in &module.items {
            match *item {
                Item::Func(f) => {
                    let n = &mut funcs[usize::from(!decls.funcs[f].linkage.is_extern())];
                    ctx.funcs[f] = Some(SymRef { sym, index: *n });
                    *n += 1;
                }
                Item::Global(g) => {
                    let n = &mut globals[usize::from(!decls.globals[g].linkage.is_extern())];
                    ctx.globals[g] = Some(SymRef { sym, index: *n });
                    *n += 1;
                }
                Item::Data(d) => ctx.data[d] = Some(sym),
                Item::Enum(_) => continue,
            }
            sym += 1;
        }
        let ir_syms = sym;
        let slot = |k: u32| SymRef {
            sym: ir_syms + k,
            index: 0,
        };
        ctx.stack_pointer = Some(slot(SLOT_SP));
        ctx.tls_base = Some(slot(SLOT_TLS));
        ctx.table = Some(ir_syms + SLOT_TABLE);
        for (k, r) in ctx.runtime.iter_mut().enumerate() {
            *r = Some(slot(SLOT_RUNTIME + k as u32));
        }
        let tags = SLOT_RUNTIME + Intrinsic::ALL.len() as u32;
        for e in decls.enums.keys() {
            ctx.tag_names[e] = Some(slot(tags + e.as_u32()));
        }
        (ir_syms, ctx)
    }

    /// The final symbol and index of slot `slot`, as the final context has it.
    fn slot(ctx: &Ctx<'_>, slot: u32) -> Result<SymRef, EmitError> {
        let runtime = Intrinsic::ALL.len() as u32;
        match slot {
            SLOT_SP => Ok(ctx.stack_pointer.ok_or("no __stack_pointer symbol")?),
            SLOT_TLS => Ok(ctx.tls_base.ok_or("no __tls_base symbol")?),
            SLOT_TABLE => Ok(SymRef {
                sym: ctx.table.ok_or("no table symbol")?,
                index: 0,
            }),
            _ if slot - SLOT_RUNTIME < runtime => {
                ctx.runtime(Intrinsic::ALL[(slot - SLOT_RUNTIME) as usize])
            }
            _ => ctx.tag_name(EnumRef::from_u32(slot - SLOT_RUNTIME - runtime)),
        }
    }

    /// The mapping from the provisional numbering to the final one of `ctx`, given the
    /// final function or global index of each IR item's symbol (`ir_index`).
    fn new(ir_index: Vec<u32>, ctx: &Ctx<'_>) -> Provisional {
        let ir_syms = ir_index.len() as u32;
        let slots =
            SLOT_RUNTIME + Intrinsic::ALL.len() as u32 + ctx.module.decls.enums.len() as u32;
        let mut refs: Vec<Option<SymRef>> = Vec::with_capacity((ir_syms + slots) as usize);
        refs.extend(ir_index.iter().enumerate().map(|(sym, &index)| {
            Some(SymRef {
                sym: sym as u32,
                index,
            })
        }));
        refs.extend((0..slots).map(|slot| Self::slot(ctx, slot).ok()));
        Provisional { ir_syms, refs }
    }

    /// Rewrites `func` and its relocations, lowered with the provisional numbering, to the
    /// final one of `ctx`.
    fn patch(&self, ctx: &Ctx<'_>, (func, relocs): &mut Lowered) -> Result<(), EmitError> {
        let body = func.body.to_mut();
        for r in relocs {
            if r.ty == RelocType::TypeIndexLeb {
                continue;
            }
            let Some(&Some(s)) = self.refs.get(r.index as usize) else {
                // A slot without a symbol: the error lowering would have met.
                let slot = r.index.saturating_sub(self.ir_syms);
                return Err(Self::slot(ctx, slot)
                    .err()
                    .unwrap_or_else(|| format!("unknown symbol {}", r.index).as_str().into()));
            };
            r.index = s.sym;
            if matches!(
                r.ty,
                RelocType::FunctionIndexLeb | RelocType::GlobalIndexLeb
            ) && let Some(field) = body.get_mut(r.offset as usize..r.offset as usize + 5)
            {
                write_uleb5(field, s.index);
            }
        }
        Ok(())
    }
}

/// Lowers a verified module to an object. See the module documentation.
pub fn lower_module(module: &Module, opts: &LowerOptions) -> Result<Object<'static>, LowerError> {
    let features = opts.features;
    let decls = &module.decls;
    let mut types = Types::default();
    let mut ctx = Ctx::new(module, features);
    let mut needs = Needs {
        runtime: vec![false; Intrinsic::ALL.len()],
        ..Needs::default()
    };

    // 1. Types, in IR order. The signatures are read in parallel (`scan_body`); their
    // types are interned here, in IR order, so the type numbering does not depend on the
    // threads.
    let defined: Vec<FuncRef> = module
        .items
        .iter()
        .filter_map(|item| match *item {
            Item::Func(f) if !decls.funcs[f].linkage.is_extern() => Some(f),
            _ => None,
        })
        .collect();
    let scans: Vec<BodyScan> = defined
        .par_iter()
        .map(|&f| scan_body(module, f, features))
        .collect();
    // The type indices of each defined function's `call_indirect` signatures, one run per
    // function in `defined` order (`sig_starts[k]..sig_starts[k + 1]`).
    let mut sig_types: Vec<u32> = Vec::new();
    let mut sig_starts: Vec<usize> = Vec::with_capacity(defined.len() + 1);
    let mut scans_iter = scans.iter();
    for item in &module.items {
        let Item::Func(f) = *item else { continue };
        let decl = &decls.funcs[f];
        if decl.sig.results.len() > 1 && !features.multivalue {
            return Err(LowerError::MissingFeature {
                func: decl.name.clone(),
                what: format!("returns {} values", decl.sig.results.len()),
                feature: "multivalue",
            });
        }
        if decl.linkage.is_extern() {
            ctx.func_type[f] = types.intern(func_type(&decl.sig));
            continue;
        }
        let Some(scan) = scans_iter.next() else {
            unreachable!("one scan per defined function")
        };
        ctx.func_type[f] = types.intern_ref(&scan.ty);
        if let Some(n) = scan.multivalue_sig {
            return Err(LowerError::MissingFeature {
                func: decl.name.clone(),
                what: format!("calls indirectly a function returning {n} values"),
                feature: "multivalue",
            });
        }
        sig_starts.push(sig_types.len());
        for sig in &scan.sigs {
            sig_types.push(types.intern_ref(sig));
        }
    }
    sig_starts.push(sig_types.len());

    // 2. The bodies, in parallel, in the provisional numbering (see `Provisional`); each
    // worker finds what its function needs as it lowers it. The needs are merged
    // in IR order; the errors wait until the checks of steps 3 and 4 are done, as they
    // come first.
    let (ir_syms, mut lower_ctx) = Provisional::ctx(module, features);
    lower_ctx.func_type = ctx.func_type.clone();
    let lowered: Vec<(Result<Lowered, LowerError>, CodeNeeds)> = defined
        .par_iter()
        .zip(sig_starts.par_windows(2))
        .zip(scans.into_par_iter())
        .map_init(
            || Worker {
                reducible: ReducibleOptions {
                    split_budget: opts.split_budget,
                },
                ..Worker::default()
            },
            |w, ((&f, run), scan)| {
                // The scan's types are freed here, on the workers.
                drop(scan);
                w.lower(&lower_ctx, f, &sig_types[run[0]..run[1]])
            },
        )
        .collect();
    for (_, n) in &lowered {
        needs.merge(n);
    }
    if decls.data.values().any(|d| !d.linkage.is_extern()) {
        needs.memory = true;
    }

    // Names of IR items, for the synthetic symbols.
    let mut names: FxHashMap<&str, Item> = FxHashMap::default();
    for &item in &module.items {
        if !matches!(item, Item::Enum(_)) {
            names.entry(module.item_name(item)).or_insert(item);
        }
    }
    let conflict = |name: &str, reason: &str| LowerError::SymbolConflict {
        name: name.to_string(),
        reason: reason.to_string(),
    };

    // 3. Function index space.
    let mut imports: Vec<Import<'static>> = Vec::new();
    if needs.memory {
        imports.push(Import {
            module: "env".into(),
            name: "__linear_memory".into(),
            kind: ImportKind::Memory {
                min: 0,
                max: None,
                shared: false,
                memory64: false,
            },
        });
    }
    let mut func_imports: Vec<Import<'static>> = Vec::new();
    for item in &module.items {
        if let Item::Func(f) = *item
            && decls.funcs[f].linkage.is_extern()
        {
            let d = &decls.funcs[f];
            let (m, n, _) = import_of(&d.name, &d.linkage);
            ctx.funcs[f] = Some(SymRef {
                sym: 0,
                index: func_imports.len() as u32,
            });
            func_imports.push(Import {
                module: m.into(),
                name: n.into(),
                kind: ImportKind::Func(ctx.func_type[f]),
            });
        }
    }
    // Runtime and tag-name functions: reuse an IR function of that name and type, or import.
    enum Synth {
        Reuse(FuncRef),
        New(u32),
    }
    let mut synth_funcs: Vec<(String, u32, Synth)> = Vec::new();
    let mut runtime_slot: Vec<Option<usize>> = vec![None; Intrinsic::ALL.len()];
    for (k, &i) in Intrinsic::ALL.iter().enumerate() {
        if !needs.runtime[k] {
            continue;
        }
        let ty = runtime_type(i);
        let name = i.symbol();
        let how = match names.get(name) {
            Some(&Item::Func(f)) if func_type(&decls.funcs[f].sig) == ty => Synth::Reuse(f),
            Some(_) => {
                return Err(conflict(
                    name,
                    &format!(
                        "has another kind or type than the runtime function {name} lowering calls"
                    ),
                ));
            }
            None => {
                let t = types.intern(ty);
                func_imports.push(Import {
                    module: "env".into(),
                    name: name.to_string().into(),
                    kind: ImportKind::Func(t),
                });
                Synth::New(func_imports.len() as u32 - 1)
            }
        };
        runtime_slot[k] = Some(synth_funcs.len());
        synth_funcs.push((name.to_string(), 0, how));
    }
    let mut tag_slot: SecondaryMap<EnumRef, Option<usize>> = SecondaryMap::new();
    for (e, decl) in decls.enums.iter() {
        if !needs.tag_names[e] {
            continue;
        }
        let name = format!("__kiln_tag_name.{}", decl.name);
        let ty = FuncType {
            params: vec![obj_type(decl.tag.value_type())],
            results: vec![ValType::I32],
        };
        let how = match names.get(name.as_str()) {
            Some(&Item::Func(f)) if func_type(&decls.funcs[f].sig) == ty => Synth::Reuse(f),
            Some(_) => return Err(conflict(&name, "is the tag-name function of an enum")),
            None => {
                let t = types.intern(ty);
                func_imports.push(Import {
                    module: "env".into(),
                    name: name.clone().into(),
                    kind: ImportKind::Func(t),
                });
                Synth::New(func_imports.len() as u32 - 1)
            }
        };
        tag_slot[e] = Some(synth_funcs.len());
        synth_funcs.push((name, 0, how));
    }
    let num_imported_funcs = func_imports.len() as u32;
    for (pos, &f) in defined.iter().enumerate() {
        ctx.funcs[f] = Some(SymRef {
            sym: 0,
            index: num_imported_funcs + pos as u32,
        });
    }

    // Global index space.
    let mut global_imports: Vec<Import<'static>> = Vec::new();
    let mut defined_globals: Vec<GlobalRef> = Vec::new();
    for item in &module.items {
        let Item::Global(g) = *item else { continue };
        let d = &decls.globals[g];
        if d.linkage.is_extern() {
            let (m, n, _) = import_of(&d.name, &d.linkage);
            ctx.globals[g] = Some(SymRef {
                sym: 0,
                index: global_imports.len() as u32,
            });
            global_imports.push(Import {
                module: m.into(),
                name: n.into(),
                kind: ImportKind::Global {
                    ty: obj_type(d.ty),
                    mutable: d.mutable,
                },
            });
        } else {
            defined_globals.push(g);
        }
    }
    // (name, mutable, needed) -> Some(Ok(reused global)) / Some(Err(import index))
    let mut synth_global = |name: &str,
                            mutable: bool,
                            needed: bool|
     -> Result<Option<Result<GlobalRef, u32>>, LowerError> {
        if !needed {
            return Ok(None);
        }
        match names.get(name) {
            Some(&Item::Global(g))
                if decls.globals[g].ty.canonical() == Type::I32
                    && decls.globals[g].mutable == mutable =>
            {
                Ok(Some(Ok(g)))
            }
            Some(_) => Err(conflict(
                name,
                &format!(
                    "must be an i32 {}global, as lowering uses it",
                    if mutable { "mutable " } else { "immutable " }
                ),
            )),
            None => {
                global_imports.push(Import {
                    module: "env".into(),
                    name: name.to_string().into(),
                    kind: ImportKind::Global {
                        ty: ValType::I32,
                        mutable,
                    },
                });
                Ok(Some(Err(global_imports.len() as u32 - 1)))
            }
        }
    };
    let sp_how = synth_global("__stack_pointer", true, needs.stack_pointer)?;
    let tls_how = synth_global("__tls_base", false, needs.tls_base)?;
    if needs.table && names.contains_key("__indirect_function_table") {
        return Err(conflict(
            "__indirect_function_table",
            "is the table that call_indirect uses",
        ));
    }
    let num_imported_globals = global_imports.len() as u32;
    for (pos, &g) in defined_globals.iter().enumerate() {
        ctx.globals[g] = Some(SymRef {
            sym: 0,
            index: num_imported_globals + pos as u32,
        });
    }

    // 4. Symbols and segments, in IR order.
    let mut symbols: Vec<Symbol<'static>> = Vec::new();
    let mut segments: Vec<Segment<'static>> = Vec::new();
    let mut globals: Vec<Global> = Vec::new();
    let mut data_items: Vec<DataRef> = Vec::new();
    for item in &module.items {
        let sym = symbols.len() as u32;
        match *item {
            Item::Func(f) => {
                let d = &decls.funcs[f];
                let Some(r) = ctx.funcs[f].as_mut() else {
                    continue;
                };
                r.sym = sym;
                let mut flags = linkage_flags(&d.linkage);
                if import_of(&d.name, &d.linkage).2 {
                    flags |= SYM_EXPLICIT_NAME;
                }
                symbols.push(Symbol {
                    name: d.name.clone().into(),
                    flags,
                    kind: SymbolKind::Function(r.index),
                });
            }
            Item::Global(g) => {
                let d = &decls.globals[g];
                let Some(r) = ctx.globals[g].as_mut() else {
                    continue;
                };
                r.sym = sym;
                let mut flags = linkage_flags(&d.linkage);
                if import_of(&d.name, &d.linkage).2 {
                    flags |= SYM_EXPLICIT_NAME;
                }
                if !d.linkage.is_extern() {
                    globals.push(Global {
                        ty: obj_type(d.ty),
                        mutable: d.mutable,
                        init: match d.ty.canonical() {
                            Type::I64 => ConstExpr::I64(d.init as i64),
                            Type::F32 => ConstExpr::F32(d.init as u32),
                            Type::F64 => ConstExpr::F64(d.init),
                            _ => ConstExpr::I32(d.init as u32 as i32),
                        },
                    });
                }
                symbols.push(Symbol {
                    name: d.name.clone().into(),
                    flags,
                    kind: SymbolKind::Global(r.index),
                });
            }
            Item::Data(dr) => {
                let d = &decls.data[dr];
                ctx.data[dr] = Some(sym);
                let mut flags = linkage_flags(&d.linkage);
                if d.section.is_tls() {
                    flags |= SYM_TLS;
                }
                let kind = if d.linkage.is_extern() {
                    SymbolKind::Data(None)
                } else {
                    data_items.push(dr);
                    SymbolKind::Data(Some(DataDef {
                        segment: segments.len() as u32,
                        offset: 0,
                        size: d.size(),
                    }))
                };
                if !d.linkage.is_extern() {
                    // Contents are filled below, once every data symbol is known.
                    segments.push(Segment {
                        name: match &d.section {
                            DataSection::Rodata => format!(".rodata.{}", d.name),
                            DataSection::Data => format!(".data.{}", d.name),
                            DataSection::Bss => format!(".bss.{}", d.name),
                            DataSection::Tdata => format!(".tdata.{}", d.name),
                            DataSection::Tbss => format!(".tbss.{}", d.name),
                            DataSection::Named(s) => s.clone(),
                        }
                        .into(),
                        align_log2: d.align.max(1).trailing_zeros(),
                        flags: if d.section.is_tls() {
                            crate::object::SEG_TLS
                        } else {
                            0
                        },
                        data: SegmentData::Zero(0),
                        relocs: RelocRange::default(),
                    });
                }
                symbols.push(Symbol {
                    name: d.name.clone().into(),
                    flags,
                    kind,
                });
            }
            Item::Enum(_) => {}
        }
    }
    // The IR items' symbols are numbered as in the provisional numbering.
    debug_assert_eq!(symbols.len() as u32, ir_syms);
    let ir_index = symbols
        .iter()
        .map(|s| match s.kind {
            SymbolKind::Function(i) | SymbolKind::Global(i) => i,
            _ => 0,
        })
        .collect();
    // Synthetic symbols.
    let synth_global_sym = |how: Option<Result<GlobalRef, u32>>,
                            name: &str,
                            symbols: &mut Vec<Symbol<'static>>|
     -> Option<SymRef> {
        match how? {
            Ok(g) => ctx.globals[g],
            Err(index) => {
                symbols.push(Symbol {
                    name: name.to_string().into(),
                    flags: SYM_UNDEFINED,
                    kind: SymbolKind::Global(index),
                });
                Some(SymRef {
                    sym: symbols.len() as u32 - 1,
                    index,
                })
            }
        }
    };
    ctx.stack_pointer = synth_global_sym(sp_how, "__stack_pointer", &mut symbols);
    ctx.tls_base = synth_global_sym(tls_how, "__tls_base", &mut symbols);
    let mut table_import = None;
    if needs.table {
        ctx.table = Some(symbols.len() as u32);
        symbols.push(Symbol {
            name: "__indirect_function_table".into(),
            flags: SYM_UNDEFINED | SYM_NO_STRIP,
            kind: SymbolKind::Table(0),
        });
        table_import = Some(Import {
            module: "env".into(),
            name: "__indirect_function_table".into(),
            kind: ImportKind::Table {
                elem: ValType::FuncRef,
                min: 0,
                max: None,
            },
        });
    }
    for (name, sym, how) in &mut synth_funcs {
        match *how {
            Synth::Reuse(f) => {
                *sym = ctx.funcs[f].map_or(0, |r| r.sym);
            }
            Synth::New(index) => {
                *sym = symbols.len() as u32;
                symbols.push(Symbol {
                    name: name.clone().into(),
                    flags: SYM_UNDEFINED,
                    kind: SymbolKind::Function(index),
                });
            }
        }
    }
    let synth_ref = |slot: usize| -> Option<SymRef> {
        let (_, sym, how) = synth_funcs.get(slot)?;
        Some(match *how {
            Synth::Reuse(f) => ctx.funcs[f]?,
            Synth::New(index) => SymRef { sym: *sym, index },
        })
    };
    for (k, slot) in runtime_slot.iter().enumerate() {
        ctx.runtime[k] = slot.and_then(synth_ref);
    }
    // The runtime functions left undefined, for the link stage's error when none is linked.
    let intrinsics: Vec<(u32, &'static str)> = runtime_slot
        .iter()
        .enumerate()
        .filter_map(|(k, slot)| {
            let (_, sym, how) = synth_funcs.get((*slot)?)?;
            matches!(how, Synth::New(_)).then_some((*sym, Intrinsic::ALL.get(k)?.name()))
        })
        .collect();
    let mut enums = Vec::new();
    for (e, slot) in tag_slot.iter() {
        if let Some(r) = slot.and_then(synth_ref) {
            ctx.tag_names[e] = Some(r);
            let d = &decls.enums[e];
            enums.push(EnumInfo {
                symbol: r.sym,
                tag: d.tag,
                variants: d
                    .variants
                    .iter()
                    .map(|v| (v.name.clone(), v.value))
                    .collect(),
            });
        }
    }

    // Segment contents. Their relocations and then the functions' make the object's array.
    let mut relocs: Vec<Reloc> = Vec::new();
    for (seg, &dr) in segments.iter_mut().zip(&data_items) {
        let d = &decls.data[dr];
        if d.section.is_zero() {
            seg.data = SegmentData::Zero(d.zero_size);
            continue;
        }
        let mut bytes = Vec::with_capacity(d.size() as usize);
        let first = relocs.len();
        for item in &d.items {
            match item {
                DataItem::Int { bytes: n, value } => {
                    let n = usize::from(*n).min(8);
                    bytes.extend_from_slice(&value.to_le_bytes()[..n]);
                }
                DataItem::F32(b) => bytes.extend_from_slice(&b.to_le_bytes()),
                DataItem::F64(b) => bytes.extend_from_slice(&b.to_le_bytes()),
                DataItem::Bytes(b) => bytes.extend_from_slice(b),
                DataItem::Zero(n) => bytes.resize(bytes.len() + *n as usize, 0),
                DataItem::DataAddr { data, offset } => {
                    let sym = ctx
                        .data
                        .get(*data)
                        .copied()
                        .flatten()
                        .ok_or_else(|| conflict(&d.name, "points to an unknown data object"))?;
                    relocs.push(Reloc {
                        ty: RelocType::MemoryAddrI32,
                        offset: bytes.len() as u32,
                        index: sym,
                        // The 32-bit field holds the address, which wraps as `offset` does.
                        addend: *offset as i32,
                    });
                    bytes.extend_from_slice(&(*offset as u32).to_le_bytes());
                }
                DataItem::FuncAddr(f) => {
                    let r = ctx
                        .funcs
                        .get(*f)
                        .copied()
                        .flatten()
                        .ok_or_else(|| conflict(&d.name, "points to an unknown function"))?;
                    relocs.push(Reloc {
                        ty: RelocType::TableIndexI32,
                        offset: bytes.len() as u32,
                        index: r.sym,
                        addend: 0,
                    });
                    bytes.extend_from_slice(&0u32.to_le_bytes());
                }
            }
        }
        seg.data = SegmentData::Bytes(bytes.into());
        seg.relocs = RelocRange {
            start: first as u32,
            len: (relocs.len() - first) as u32,
        };
    }

    // 5. The bodies to the final numbering, in parallel.
    let ctx = ctx;
    let prov = Provisional::new(ir_index, &ctx);
    let results: Vec<Result<Lowered, LowerError>> = lowered
        .into_par_iter()
        .zip(defined.par_iter())
        .map(|((lowered, needs), &f)| {
            drop(needs);
            let mut func = lowered?;
            prov.patch(&ctx, &mut func)
                .map_err(|e| lower_error(module, f, e))?;
            Ok(func)
        })
        .collect();
    let mut funcs = Vec::with_capacity(results.len());
    for r in results {
        let (mut func, func_relocs) = r?;
        func.relocs = push_relocs(&mut relocs, func_relocs);
        funcs.push(func);
    }

    let mut init_funcs = Vec::new();
    for &f in &defined {
        if let (Some(priority), Some(r)) = (decls.funcs[f].ctor, ctx.funcs[f]) {
            init_funcs.push(InitFunc {
                priority,
                symbol: r.sym,
            });
        }
    }

    imports.extend(func_imports);
    imports.extend(global_imports);
    imports.extend(table_import);
    Ok(Object {
        path: opts.path.clone(),
        types: types.0.into_keys().collect(),
        imports,
        funcs,
        globals,
        segments,
        relocs,
        symbols,
        init_funcs,
        comdats: Vec::new(),
        customs: Vec::new(),
        features: features
            .flags()
            .iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| Feature {
                prefix: b'+',
                name: name.to_string(),
            })
            .collect(),
        exports: Vec::<(Cow<'static, str>, u32)>::new(),
        enums,
        intrinsics,
    })
}
