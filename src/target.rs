//! Target features: which wasm proposals lowering may use and the output declares.
//!
//! The default is LLVM's `generic` CPU (LLVM 20 and later), which current wasmtime and every
//! current browser run: bulk memory, multivalue, mutable globals, non-trapping float-to-int,
//! reference types, sign extension. `mvp` is none of them.

use std::fmt;

macro_rules! features {
    ($($field:ident $name:literal $default:literal,)*) => {
        /// A set of wasm features.
        #[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
        pub struct Features {
            $(
                #[doc = concat!("`", $name, "`")]
                pub $field: bool,
            )*
        }

        impl Features {
            /// No feature: the wasm 1.0 MVP.
            pub const MVP: Features = Features { $($field: false,)* };

            /// LLVM's `generic` CPU: what current engines run.
            pub const GENERIC: Features = Features { $($field: $default,)* };

            /// Every feature's name and a mutable reference to its flag.
            fn flags_mut(&mut self) -> [(&'static str, &mut bool); Self::COUNT] {
                [$(($name, &mut self.$field),)*]
            }

            /// Every feature's name and whether it is on.
            pub fn flags(&self) -> [(&'static str, bool); Self::COUNT] {
                [$(($name, self.$field),)*]
            }

            const COUNT: usize = [$($name,)*].len();
        }
    };
}

// Every feature LLVM 22 knows (`llc -mattr=help` for wasm32), in name order: the order the
// `target_features` section lists them. `bulk-memory-opt` and `call-indirect-overlong`, which
// LLVM's generic CPU also turns on, are subsets of `bulk-memory` and `reference-types` that
// kiln's lowering has no use for, so GENERIC leaves them off.
features! {
    atomics "atomics" false,
    bulk_memory "bulk-memory" true,
    bulk_memory_opt "bulk-memory-opt" false,
    call_indirect_overlong "call-indirect-overlong" false,
    exception_handling "exception-handling" false,
    extended_const "extended-const" false,
    fp16 "fp16" false,
    gc "gc" false,
    multimemory "multimemory" false,
    multivalue "multivalue" true,
    mutable_globals "mutable-globals" true,
    nontrapping_fptoint "nontrapping-fptoint" true,
    reference_types "reference-types" true,
    relaxed_simd "relaxed-simd" false,
    sign_ext "sign-ext" true,
    simd128 "simd128" false,
    tail_call "tail-call" false,
    wide_arithmetic "wide-arithmetic" false,
}

impl Default for Features {
    fn default() -> Features {
        Features::GENERIC
    }
}

impl Features {
    /// Turns the feature `name` on or off; `false` when kiln does not know the name.
    pub fn set(&mut self, name: &str, on: bool) -> bool {
        match self.flags_mut().into_iter().find(|(n, _)| *n == name) {
            Some((_, flag)) => {
                *flag = on;
                true
            }
            None => false,
        }
    }

    /// Whether the feature `name` is on (`false` for names kiln does not know).
    pub fn has(&self, name: &str) -> bool {
        self.flags().iter().any(|(n, on)| *n == name && *on)
    }

    /// Parses a comma-separated list: `mvp` or `generic` as a base (default `generic`), then
    /// `+name` or `name` to add a feature and `-name` to remove one, e.g. `mvp,+bulk-memory` or
    /// `-multivalue`.
    pub fn parse(spec: &str) -> Result<Features, String> {
        let mut features = Features::GENERIC;
        for (i, item) in spec.split(',').map(str::trim).enumerate() {
            match item {
                "" => continue,
                "mvp" if i == 0 => features = Features::MVP,
                "generic" if i == 0 => features = Features::GENERIC,
                _ => {
                    let (on, name) = match item.as_bytes()[0] {
                        b'-' => (false, &item[1..]),
                        b'+' => (true, &item[1..]),
                        _ => (true, item),
                    };
                    if !features.set(name, on) {
                        let known: Vec<&str> =
                            Features::MVP.flags().iter().map(|(n, _)| *n).collect();
                        return Err(format!(
                            "unknown feature `{name}` (known: mvp, generic, {})",
                            known.join(", ")
                        ));
                    }
                }
            }
        }
        Ok(features)
    }
}

impl fmt::Display for Features {
    /// The enabled features, comma-separated, in name order (`mvp` when none).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on: Vec<&str> = self
            .flags()
            .iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect();
        if on.is_empty() {
            f.write_str("mvp")
        } else {
            f.write_str(&on.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_specs() {
        assert_eq!(Features::parse("").unwrap(), Features::GENERIC);
        let mvp_bulk = Features::parse("mvp,+bulk-memory").unwrap();
        assert!(mvp_bulk.bulk_memory && !mvp_bulk.sign_ext);
        assert!(!Features::parse("-multivalue").unwrap().multivalue);
        assert!(Features::parse("tail-call").unwrap().tail_call);
        assert!(
            Features::parse("+frobs")
                .unwrap_err()
                .contains("unknown feature `frobs`")
        );
        assert_eq!(Features::MVP.to_string(), "mvp");
        // Every name LLVM 22 knows.
        let all = "atomics,bulk-memory,bulk-memory-opt,call-indirect-overlong,exception-handling,\
                   extended-const,fp16,gc,multimemory,multivalue,mutable-globals,\
                   nontrapping-fptoint,reference-types,relaxed-simd,sign-ext,simd128,tail-call,\
                   wide-arithmetic";
        let every = Features::parse(&format!("mvp,{all}")).unwrap();
        assert!(every.flags().iter().all(|(_, on)| *on));
        assert_eq!(every.to_string(), all);
        let mut f = Features::MVP;
        assert!(f.set("wide-arithmetic", true) && f.has("wide-arithmetic") && f.wide_arithmetic);
        assert!(!f.set("frobs", true) && !f.has("frobs"));
        assert_eq!(
            Features::parse(&Features::GENERIC.to_string()).unwrap(),
            Features::GENERIC
        );
    }
}
