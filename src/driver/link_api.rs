//! Stand-in for the archive-aware link entry point (`Input`, `link_inputs`) that the link
//! stage gains on the `resolve` branch; same types and signature, so switching is a change
//! of one `use` in `src/driver/mod.rs`.
//!
//! Archive members are loaded as wasm-ld loads them: a member of a non-whole archive only
//! when it defines a global symbol that some loaded object leaves undefined (or the entry or
//! an `--export`), repeated until nothing changes; whole archives load every member.

use std::collections::HashSet;

use crate::link::{LinkError, LinkOptions, link};
use crate::object::{Archive, Object, ObjectError, read_object};

/// One link input.
pub enum Input<'a> {
    /// A relocatable object.
    Object(Object<'a>),
    /// An archive; `whole`: every member is loaded (`--whole-archive`).
    Archive {
        /// The archive.
        archive: Archive<'a>,
        /// Load every member.
        whole: bool,
    },
}

fn bad(e: ObjectError) -> LinkError {
    LinkError::BadObject {
        file: e.path.clone(),
        msg: e.to_string(),
    }
}

fn member<'a>(archive: &Archive<'a>, m: usize) -> Result<Object<'a>, LinkError> {
    let Some(mem) = archive.members.get(m) else {
        return Err(LinkError::Internal(format!(
            "archive index of {} points past its members",
            archive.path
        )));
    };
    read_object(&archive.member_path(m), mem.data).map_err(bad)
}

/// Links objects and archives, loading archive members on demand.
pub fn link_inputs(inputs: Vec<Input<'_>>, opts: &LinkOptions) -> Result<Vec<u8>, LinkError> {
    let mut objects = Vec::new();
    let mut lazy = Vec::new();
    for input in inputs {
        match input {
            Input::Object(o) => objects.push(o),
            Input::Archive {
                archive,
                whole: true,
            } => {
                for m in 0..archive.members.len() {
                    objects.push(member(&archive, m)?);
                }
            }
            Input::Archive {
                archive,
                whole: false,
            } => {
                let loaded = vec![false; archive.members.len()];
                lazy.push((archive, loaded));
            }
        }
    }
    loop {
        let mut defined = HashSet::new();
        let mut wanted: Vec<String> = opts.entry.iter().chain(&opts.exports).cloned().collect();
        for o in &objects {
            for s in o.symbols.iter().filter(|s| !s.is_local()) {
                if s.is_undefined() {
                    wanted.push(s.name.to_string());
                } else {
                    defined.insert(s.name.to_string());
                }
            }
        }
        let needed: HashSet<String> = wanted
            .into_iter()
            .filter(|n| !defined.contains(n))
            .collect();
        let mut changed = false;
        for (archive, loaded) in &mut lazy {
            for &(name, m) in &archive.index {
                if needed.contains(name) && loaded.get(m) == Some(&false) {
                    if let Some(l) = loaded.get_mut(m) {
                        *l = true;
                    }
                    objects.push(member(archive, m)?);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    link(&objects, opts)
}
