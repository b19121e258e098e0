//! Runs WASI preview-1 commands under wasmtime (with `wasmtime-wasi`), capturing stdout and
//! stderr. Shared by the tests that run C programs: `#[path = "common/wasi.rs"] mod wasi;`.

#![allow(dead_code)]

use wasmtime::{Config, Engine, Linker, Module, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// Fuel per run: a miscompiled link that loops forever traps instead.
const FUEL: u64 = 20_000_000_000;

/// What running a module printed and how it ended.
#[derive(Debug, PartialEq, Eq)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    /// `exit N`, `returned` or `trap: ...` (or why it could not start).
    pub end: String,
}

/// An engine with fuel metering, for [`run`].
pub fn engine() -> Engine {
    let mut config = Config::new();
    config.consume_fuel(true);
    Engine::new(&config).expect("wasmtime engine")
}

/// Instantiates `bytes` with WASI preview 1 and the host functions `env.host_add_v1` and
/// `host.twice` (used by the explicit-import test programs), and calls `_start`.
pub fn run(engine: &Engine, bytes: &[u8]) -> Result<Run, String> {
    let module = Module::new(engine, bytes).map_err(|e| format!("wasmtime: {e:#}"))?;
    let mut linker: Linker<WasiP1Ctx> = Linker::new(engine);
    p1::add_to_linker_sync(&mut linker, |t| t).map_err(|e| e.to_string())?;
    linker
        .func_wrap("env", "host_add_v1", |a: i32, b: i32| a.wrapping_add(b))
        .map_err(|e| e.to_string())?;
    linker
        .func_wrap("host", "twice", |a: i32| a.wrapping_mul(2))
        .map_err(|e| e.to_string())?;
    let stdout = MemoryOutputPipe::new(1 << 20);
    let stderr = MemoryOutputPipe::new(1 << 20);
    let ctx = WasiCtxBuilder::new()
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .args(&["program"])
        .build_p1();
    let mut store = Store::new(engine, ctx);
    store.set_fuel(FUEL).map_err(|e| e.to_string())?;
    let end = match linker.instantiate(&mut store, &module) {
        Err(e) => format!("instantiation failed: {e:#}"),
        Ok(instance) => match instance.get_typed_func::<(), ()>(&mut store, "_start") {
            Err(e) => format!("no _start: {e:#}"),
            Ok(start) => match start.call(&mut store, ()) {
                Ok(()) => "returned".to_string(),
                Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    Some(exit) => format!("exit {}", exit.0),
                    // The trap itself, without the backtrace (it names the file).
                    None => match e.downcast_ref::<wasmtime::Trap>() {
                        Some(trap) => format!("trap: {trap}"),
                        None => format!("error: {}", e.root_cause()),
                    },
                },
            },
        },
    };
    drop(store);
    Ok(Run {
        stdout: String::from_utf8_lossy(&stdout.contents()).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
        end,
    })
}

/// Runs the command at `path`: its stdout, then `exit N` on a line of its own when it exits
/// with a nonzero status. Panics when it traps or cannot run.
pub fn run_file(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let r = run(&engine(), &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match r.end.as_str() {
        "returned" | "exit 0" => r.stdout,
        end if end.starts_with("exit ") => format!("{}{end}\n", r.stdout),
        end => panic!(
            "{} did not run to the end: {end}\n{}",
            path.display(),
            r.stderr
        ),
    }
}
