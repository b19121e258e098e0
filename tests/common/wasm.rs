//! Running built modules: validation with wasmparser for a feature set, and execution under
//! wasmtime with the runtime functions an IR program may import (`env.memcpy`, the i128
//! helpers of compiler-rt with their sret ABI, the libm functions) implemented in Rust the
//! way the interpreter implements them, so that results compare bit for bit.
//!
//! One [`Runner`] holds one wasmtime `Engine` (with fuel) and a `Linker` with every host
//! function; each call instantiates the module in a fresh `Store`, as each run line asks for
//! a fresh instance.

use kiln::interp::Val;
use kiln::target::Features;
use wasmparser::WasmFeatures;

/// The wasmparser features matching kiln's target features.
pub fn wasm_features(f: &Features) -> WasmFeatures {
    let mut w = WasmFeatures::MVP;
    let map = [
        (f.mutable_globals, WasmFeatures::MUTABLE_GLOBAL),
        (f.bulk_memory, WasmFeatures::BULK_MEMORY),
        (f.sign_ext, WasmFeatures::SIGN_EXTENSION),
        (f.nontrapping_fptoint, WasmFeatures::SATURATING_FLOAT_TO_INT),
        (f.multivalue, WasmFeatures::MULTI_VALUE),
        (f.reference_types, WasmFeatures::REFERENCE_TYPES),
        (f.tail_call, WasmFeatures::TAIL_CALL),
        (f.simd128, WasmFeatures::SIMD),
        (f.atomics, WasmFeatures::THREADS),
        (f.exception_handling, WasmFeatures::EXCEPTIONS),
        (f.extended_const, WasmFeatures::EXTENDED_CONST),
    ];
    for (on, flag) in map {
        if on {
            w |= flag;
        }
    }
    w
}

/// Validates `wasm` with exactly the features of `f`.
pub fn validate(wasm: &[u8], f: &Features) -> Result<(), String> {
    let mut v = wasmparser::Validator::new_with_features(wasm_features(f));
    v.validate_all(wasm)
        .map(|_| ())
        .map_err(|e| format!("invalid wasm at offset {:#x}: {}", e.offset(), e.message()))
}

/// The printed text of a module, in the fixed configuration of the snapshots.
pub fn print_wat(wasm: &[u8]) -> Result<String, String> {
    let mut cfg = wasmprinter::Config::new();
    cfg.print_offsets(false);
    cfg.name_unnamed(false);
    cfg.fold_instructions(false);
    let mut out = String::new();
    cfg.print(wasm, &mut wasmprinter::PrintFmtWrite(&mut out))
        .map_err(|e| format!("wasmprinter: {e:#}"))?;
    Ok(out)
}

/// What a call did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Returned these values.
    Returned(Vec<Val>),
    /// Trapped (in the start function or the call), with the engine's message.
    Trapped(String),
}

/// A trap raised by a host function (division by zero in `__divti3`, a bad memory range).
#[derive(Debug)]
struct HostTrap(String);

impl std::fmt::Display for HostTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostTrap {}

fn host_trap(msg: &str) -> wasmtime::Error {
    wasmtime::Error::new(HostTrap(msg.to_string()))
}

type Caller<'a> = wasmtime::Caller<'a, ()>;

fn memory<'a>(caller: &'a mut Caller<'_>) -> wasmtime::Result<&'a mut [u8]> {
    let mem = caller
        .get_export("memory")
        .and_then(|e| e.into_memory())
        .ok_or_else(|| host_trap("the module exports no memory"))?;
    Ok(mem.data_mut(caller))
}

fn range(mem: &[u8], at: i32, len: u64) -> wasmtime::Result<std::ops::Range<usize>> {
    let start = u64::from(at as u32);
    let end = start + len;
    if end > mem.len() as u64 {
        return Err(host_trap("out of bounds memory access"));
    }
    Ok(start as usize..end as usize)
}

fn write_i128(caller: &mut Caller<'_>, sret: i32, v: u128) -> wasmtime::Result<()> {
    let mem = memory(caller)?;
    let r = range(mem, sret, 16)?;
    mem[r].copy_from_slice(&v.to_le_bytes());
    Ok(())
}

fn i128_of(lo: i64, hi: i64) -> u128 {
    (u128::from(hi as u64) << 64) | u128::from(lo as u64)
}

/// Executes modules under wasmtime.
pub struct Runner {
    engine: wasmtime::Engine,
    linker: wasmtime::Linker<()>,
    /// Fuel per instantiation and call.
    pub fuel: u64,
}

impl Runner {
    /// An engine with fuel and the host functions.
    pub fn new() -> Runner {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(true);
        // Compile fast: the tests compile thousands of small modules.
        config.cranelift_opt_level(wasmtime::OptLevel::None);
        let engine = wasmtime::Engine::new(&config).expect("wasmtime engine");
        let mut linker = wasmtime::Linker::new(&engine);
        define_host(&mut linker).expect("host functions");
        Runner {
            engine,
            linker,
            fuel: 1 << 32,
        }
    }

    /// Compiles `wasm` (it must be valid) and resolves its imports: the host functions,
    /// and a trapping function for any other imported function (as the interpreter traps
    /// on a call to an extern function nothing defines).
    pub fn prepare(&self, wasm: &[u8]) -> Result<Prepared, String> {
        let module = wasmtime::Module::new(&self.engine, wasm)
            .map_err(|e| format!("wasmtime compile: {e:#}"))?;
        let mut linker = self.linker.clone();
        linker
            .define_unknown_imports_as_traps(&module)
            .map_err(|e| format!("imports: {e:#}"))?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| format!("imports: {e:#}"))?;
        Ok(Prepared { pre })
    }

    /// Instantiates a module in a fresh store (running its start function) and calls its
    /// export `name`; `Err` for a harness problem (missing export, wrong arguments), not
    /// for a trap.
    pub fn call(&self, module: &Prepared, name: &str, args: &[Val]) -> Result<Outcome, String> {
        let mut store = wasmtime::Store::new(&self.engine, ());
        store.set_fuel(self.fuel).map_err(|e| e.to_string())?;
        let instance = match module.pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(e) => return classify(e),
        };
        let func = instance
            .get_func(&mut store, name)
            .ok_or_else(|| format!("no exported function `{name}`"))?;
        let ty = func.ty(&store);
        let wargs: Vec<wasmtime::Val> = args.iter().map(|&v| to_wasm(v)).collect();
        let mut results = vec![wasmtime::Val::I32(0); ty.results().len()];
        match func.call(&mut store, &wargs, &mut results) {
            Ok(()) => results
                .iter()
                .map(from_wasm)
                .collect::<Result<Vec<_>, _>>()
                .map(Outcome::Returned),
            Err(e) => classify(e),
        }
    }
}

/// A compiled module with its imports resolved.
pub struct Prepared {
    pre: wasmtime::InstancePre<()>,
}

fn classify(e: wasmtime::Error) -> Result<Outcome, String> {
    if let Some(t) = e.downcast_ref::<wasmtime::Trap>() {
        return Ok(Outcome::Trapped(t.to_string()));
    }
    if let Some(t) = e.downcast_ref::<HostTrap>() {
        return Ok(Outcome::Trapped(t.0.clone()));
    }
    Err(format!("{e:#}"))
}

/// kiln's value as a wasmtime value.
pub fn to_wasm(v: Val) -> wasmtime::Val {
    match v {
        Val::I32(x) => wasmtime::Val::I32(x),
        Val::I64(x) => wasmtime::Val::I64(x),
        Val::F32(x) => wasmtime::Val::F32(x.to_bits()),
        Val::F64(x) => wasmtime::Val::F64(x.to_bits()),
    }
}

/// A wasmtime value as kiln's.
pub fn from_wasm(v: &wasmtime::Val) -> Result<Val, String> {
    Ok(match *v {
        wasmtime::Val::I32(x) => Val::I32(x),
        wasmtime::Val::I64(x) => Val::I64(x),
        wasmtime::Val::F32(x) => Val::F32(f32::from_bits(x)),
        wasmtime::Val::F64(x) => Val::F64(f64::from_bits(x)),
        ref other => return Err(format!("unexpected result {other:?}")),
    })
}

/// Whether two results agree: the same bits, or both NaN.
pub fn same_val(a: Val, b: Val) -> bool {
    match (a, b) {
        (Val::F32(x), Val::F32(y)) => (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits(),
        (Val::F64(x), Val::F64(y)) => (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fn define_host(l: &mut wasmtime::Linker<()>) -> wasmtime::Result<()> {
    l.func_wrap(
        "env",
        "memcpy",
        |mut c: Caller<'_>, d: i32, s: i32, n: i32| copy(&mut c, d, s, n),
    )?;
    l.func_wrap(
        "env",
        "memmove",
        |mut c: Caller<'_>, d: i32, s: i32, n: i32| copy(&mut c, d, s, n),
    )?;
    l.func_wrap(
        "env",
        "memset",
        |mut c: Caller<'_>, d: i32, b: i32, n: i32| -> wasmtime::Result<i32> {
            let mem = memory(&mut c)?;
            let r = range(mem, d, u64::from(n as u32))?;
            mem[r].fill(b as u8);
            Ok(d)
        },
    )?;
    type Bin = fn(u128, u128) -> Result<u128, &'static str>;
    let ops: [(&str, Bin); 5] = [
        ("__multi3", |x, y| Ok(x.wrapping_mul(y))),
        ("__udivti3", |x, y| {
            x.checked_div(y).ok_or("integer divide by zero")
        }),
        ("__umodti3", |x, y| {
            x.checked_rem(y).ok_or("integer divide by zero")
        }),
        ("__divti3", |x, y| {
            let (x, y) = (x as i128, y as i128);
            if y == 0 {
                return Err("integer divide by zero");
            }
            x.checked_div(y)
                .map(|r| r as u128)
                .ok_or("integer overflow")
        }),
        ("__modti3", |x, y| {
            let (x, y) = (x as i128, y as i128);
            if y == 0 {
                return Err("integer divide by zero");
            }
            Ok(x.wrapping_rem(y) as u128)
        }),
    ];
    for (name, op) in ops {
        l.func_wrap(
            "env",
            name,
            move |mut c: Caller<'_>, sret: i32, al: i64, ah: i64, bl: i64, bh: i64| {
                let r = op(i128_of(al, ah), i128_of(bl, bh)).map_err(host_trap)?;
                write_i128(&mut c, sret, r)
            },
        )?;
    }
    type Shift = fn(u128, u32) -> u128;
    let shifts: [(&str, Shift); 3] = [
        ("__ashlti3", |x, n| x << n),
        ("__lshrti3", |x, n| x >> n),
        ("__ashrti3", |x, n| ((x as i128) >> n) as u128),
    ];
    for (name, op) in shifts {
        l.func_wrap(
            "env",
            name,
            move |mut c: Caller<'_>, sret: i32, lo: i64, hi: i64, n: i32| {
                // compiler-rt's behaviour for counts >= 128 is undefined; lowering masks
                // them, and the interpreter takes them modulo 128.
                let r = op(i128_of(lo, hi), (n as u32) % 128);
                write_i128(&mut c, sret, r)
            },
        )?;
    }
    l.func_wrap("env", "fmod", |a: f64, b: f64| a % b)?;
    l.func_wrap("env", "fmodf", |a: f32, b: f32| a % b)?;
    l.func_wrap("env", "pow", |a: f64, b: f64| a.powf(b))?;
    l.func_wrap("env", "powf", |a: f32, b: f32| a.powf(b))?;
    l.func_wrap("env", "atan2", |a: f64, b: f64| a.atan2(b))?;
    l.func_wrap("env", "atan2f", |a: f32, b: f32| a.atan2(b))?;
    l.func_wrap("env", "fma", |a: f64, b: f64, c: f64| a.mul_add(b, c))?;
    l.func_wrap("env", "fmaf", |a: f32, b: f32, c: f32| a.mul_add(b, c))?;
    type F64Fn = fn(f64) -> f64;
    let f64s: [(&str, F64Fn); 9] = [
        ("exp", f64::exp),
        ("exp2", f64::exp2),
        ("log", f64::ln),
        ("log2", f64::log2),
        ("log10", f64::log10),
        ("sin", f64::sin),
        ("cos", f64::cos),
        ("tan", f64::tan),
        ("round", f64::round),
    ];
    for (name, f) in f64s {
        l.func_wrap("env", name, move |x: f64| f(x))?;
    }
    type F32Fn = fn(f32) -> f32;
    let f32s: [(&str, F32Fn); 9] = [
        ("expf", f32::exp),
        ("exp2f", f32::exp2),
        ("logf", f32::ln),
        ("log2f", f32::log2),
        ("log10f", f32::log10),
        ("sinf", f32::sin),
        ("cosf", f32::cos),
        ("tanf", f32::tan),
        ("roundf", f32::round),
    ];
    for (name, f) in f32s {
        l.func_wrap("env", name, move |x: f32| f(x))?;
    }
    Ok(())
}

fn copy(c: &mut Caller<'_>, d: i32, s: i32, n: i32) -> wasmtime::Result<i32> {
    let mem = memory(c)?;
    let len = u64::from(n as u32);
    let src = range(mem, s, len)?;
    range(mem, d, len)?;
    mem.copy_within(src, d as u32 as usize);
    Ok(d)
}
