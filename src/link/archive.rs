//! Input loading: objects and the archive members they need, as wasm-ld loads them.
//!
//! Inputs are taken in command-line order. A name table follows each global name through the
//! states wasm-ld's symbol table has: defined, undefined (weakly or strongly referenced), or
//! lazy (an archive's index says a member defines it). An archive member is read only when a
//! strong undefined reference meets one of its lazy names, whether the reference comes before
//! the archive (the member is loaded when the archive is reached) or after it (lazy names stay
//! visible, so later inputs still pull members of earlier archives, without `--start-group`).
//! A weak reference never loads a member. `--whole-archive` loads every member, in archive
//! order. As in wasm-ld, a member is loaded the moment a reference needs it and its symbols
//! are entered before the rest of the needing object's, so which of two members defining a
//! name gets loaded (a weak definition arriving first satisfies later references) is
//! wasm-ld's choice. Loaded objects join the link in load order.
//!
//! `-u` names, the `__real_`/`__wrap_` names of `--wrap`ped symbols, the entry symbol and
//! `--export` names count as strong references made after the last input (wasm-ld extracts
//! lazy symbols for them then too); `--export-if-defined` does not.
//!
//! Only names that can load a member are tracked: those in some archive's index, and the
//! command-line names above. Any other name never changes what is loaded, so the (large)
//! rest of the inputs' symbols only costs a lookup in the small set of tracked names.
//!
//! Invariant: every member is read at most once; a member that fails to read is an error
//! naming it as `lib.a(member.o)`.

use std::borrow::Cow;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::resolve::{CALL_CTORS, CALL_DTORS};
use super::{Input, LinkError, LinkOptions};
use crate::object::{Archive, Object, read_object};

/// What the name table knows about a global name.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum State {
    Defined,
    /// Referenced but not defined; `strong` when some reference is not weak.
    Undefined {
        strong: bool,
    },
    /// Member `member` of archive `archive` defines it (per the archive's index).
    Lazy {
        archive: usize,
        member: usize,
    },
}

/// One loaded object and whether it came from an archive without `--whole-archive`
/// (such objects contribute init functions only once something in them is live).
pub(crate) struct Loaded<'a> {
    pub object: Object<'a>,
    pub lazy_member: bool,
}

/// `object`'s global symbols whose names can load a member: (name, `None` when defined,
/// else whether the reference is strong).
fn tracked_symbols<'a>(
    tracked: &FxHashSet<Cow<'a, str>>,
    object: &Object<'a>,
) -> Vec<(Cow<'a, str>, Option<bool>)> {
    object
        .symbols
        .iter()
        .filter(|s| !s.is_local() && tracked.contains(&*s.name))
        .map(|s| (s.name.clone(), s.is_undefined().then(|| !s.is_weak())))
        .collect()
}

/// An object whose global symbols are being entered: (name, `None` when defined, else
/// whether the reference is strong), and how many are done.
type Pending<'a> = (Vec<(Cow<'a, str>, Option<bool>)>, usize);

struct Loader<'a> {
    /// Each archive and which of its members have been read.
    archives: Vec<(Archive<'a>, Vec<bool>)>,
    /// The names whose state can matter (see the module docs); `names` holds only these.
    tracked: FxHashSet<Cow<'a, str>>,
    names: FxHashMap<Cow<'a, str>, State>,
    out: Vec<Loaded<'a>>,
    /// Objects whose symbols are being entered, innermost last: a member loaded for a
    /// reference is entered completely before the rest of the object that needed it, as
    /// wasm-ld extracts members at once. (A stack, not recursion, so that long chains of
    /// members cannot overflow the call stack.)
    stack: Vec<Pending<'a>>,
}

impl<'a> Loader<'a> {
    /// Records a reference to `name`; returns the member to load now, if any.
    fn reference(&mut self, name: Cow<'a, str>, strong: bool) -> Option<(usize, usize)> {
        let state = self
            .names
            .entry(name)
            .or_insert(State::Undefined { strong: false });
        match *state {
            State::Undefined { strong: s } => {
                *state = State::Undefined {
                    strong: s || strong,
                };
                None
            }
            State::Lazy { archive, member } if strong => self.claim(archive, member),
            State::Lazy { .. } | State::Defined => None,
        }
    }

    /// Marks a member read; `Some` unless it was already.
    fn claim(&mut self, archive: usize, member: usize) -> Option<(usize, usize)> {
        let flag = self
            .archives
            .get_mut(archive)
            .and_then(|(_, loaded)| loaded.get_mut(member))?;
        if *flag {
            return None;
        }
        *flag = true;
        Some((archive, member))
    }

    /// Reads a member as an object.
    fn read_member(&self, archive: usize, member: usize) -> Result<Object<'a>, LinkError> {
        let Some((a, _)) = self.archives.get(archive) else {
            return Err(LinkError::Internal(format!("no archive {archive}")));
        };
        let Some(m) = a.members.get(member) else {
            return Err(LinkError::Internal(format!(
                "archive {} has no member {member}",
                a.path
            )));
        };
        Ok(read_object(&a.member_path(member), m.data)?)
    }

    /// Reads a member and enters it (and whatever it needs).
    fn load_member(&mut self, archive: usize, member: usize, lazy: bool) -> Result<(), LinkError> {
        let object = self.read_member(archive, member)?;
        let syms = tracked_symbols(&self.tracked, &object);
        self.add_object(object, syms, lazy)
    }

    /// Adds an object to the link and enters its tracked global symbols `syms` (see
    /// [`tracked_symbols`]), loading the members its strong references need at once.
    fn add_object(
        &mut self,
        object: Object<'a>,
        syms: Vec<(Cow<'a, str>, Option<bool>)>,
        lazy_member: bool,
    ) -> Result<(), LinkError> {
        self.push(object, syms, lazy_member);
        while let Some((syms, done)) = self.stack.last_mut() {
            let Some((name, undefined)) = syms.get(*done).cloned() else {
                self.stack.pop();
                continue;
            };
            *done += 1;
            let load = match undefined {
                None => {
                    self.names.insert(name, State::Defined);
                    None
                }
                Some(strong) => self.reference(name, strong),
            };
            if let Some((a, m)) = load {
                let object = self.read_member(a, m)?;
                let syms = tracked_symbols(&self.tracked, &object);
                self.push(object, syms, true);
            }
        }
        Ok(())
    }

    /// Puts an object in the link and its tracked global symbols on the stack.
    fn push(
        &mut self,
        object: Object<'a>,
        syms: Vec<(Cow<'a, str>, Option<bool>)>,
        lazy_member: bool,
    ) {
        self.stack.push((syms, 0));
        self.out.push(Loaded {
            object,
            lazy_member,
        });
    }

    /// Makes an archive's indexed names lazy, in index order, loading at once each member
    /// that defines a name already strongly referenced (wasm-ld walks the members the same
    /// way).
    fn add_archive(&mut self, archive: Archive<'a>, whole: bool) -> Result<(), LinkError> {
        let a = self.archives.len();
        let members = archive.members.len();
        let index = archive.index.clone();
        self.archives.push((archive, vec![false; members]));
        if whole {
            for m in 0..members {
                if self.claim(a, m).is_some() {
                    self.load_member(a, m, false)?;
                }
            }
            return Ok(());
        }
        for (name, member) in index {
            match self.names.get(name).copied() {
                None | Some(State::Undefined { strong: false }) => {
                    // A weak reference keeps the lazy definition in mind (wasm-ld's lazy
                    // symbol marked weak); a later strong reference loads it.
                    self.names
                        .insert(Cow::Borrowed(name), State::Lazy { archive: a, member });
                }
                Some(State::Undefined { strong: true }) => {
                    if self.claim(a, member).is_some() {
                        self.load_member(a, member, true)?;
                    }
                }
                Some(State::Defined | State::Lazy { .. }) => {}
            }
        }
        Ok(())
    }

    /// A reference from the command line (after every input): loads what it needs.
    fn command_line_reference(&mut self, name: &str) -> Result<(), LinkError> {
        if let Some((a, m)) = self.reference(Cow::Owned(name.to_string()), true) {
            self.load_member(a, m, true)?;
        }
        Ok(())
    }
}

/// Loads the inputs and the archive members they need, in load order.
pub(crate) fn load<'a>(
    inputs: Vec<Input<'a>>,
    opts: &LinkOptions,
) -> Result<Vec<Loaded<'a>>, LinkError> {
    // The tracked names: every archive's indexed names and the names the command line
    // refers to after the inputs.
    let mut tracked: FxHashSet<Cow<'a, str>> = FxHashSet::default();
    for input in &inputs {
        if let Input::Archive { archive, .. } = input {
            tracked.extend(archive.index.iter().map(|&(name, _)| Cow::Borrowed(name)));
        }
    }
    let command_line = opts
        .undefined
        .iter()
        .chain(&opts.entry)
        .chain(&opts.exports)
        .chain(&opts.export_if_defined);
    for name in command_line {
        tracked.insert(Cow::Owned(name.clone()));
    }
    for name in &opts.wrap {
        tracked.insert(Cow::Owned(name.clone()));
        tracked.insert(Cow::Owned(format!("__real_{name}")));
        tracked.insert(Cow::Owned(format!("__wrap_{name}")));
    }
    tracked.insert(Cow::Borrowed(CALL_CTORS));
    tracked.insert(Cow::Borrowed(CALL_DTORS));
    let mut l = Loader {
        archives: Vec::new(),
        names: FxHashMap::with_capacity_and_hasher(tracked.len(), Default::default()),
        tracked,
        out: Vec::new(),
        stack: Vec::new(),
    };
    // The command line's objects' tracked symbols, found in parallel (a lookup per global
    // symbol).
    let syms: Vec<_> = inputs
        .par_iter()
        .map(|input| match input {
            Input::Object(object) => tracked_symbols(&l.tracked, object),
            Input::Archive { .. } => Vec::new(),
        })
        .collect();
    for (input, syms) in inputs.into_iter().zip(syms) {
        match input {
            Input::Object(object) => l.add_object(object, syms, false)?,
            Input::Archive { archive, whole } => l.add_archive(archive, whole)?,
        }
    }
    // After every input, as wasm-ld's driver does: a name an input defines loads nothing.
    // `-u` names first, then `--wrap`'s `__real_`/`__wrap_` names of the wrapped symbols that
    // exist, then the entry and the exports.
    for name in &opts.undefined {
        l.command_line_reference(name)?;
    }
    for name in &opts.wrap {
        if l.names.contains_key(name.as_str()) {
            l.command_line_reference(&format!("__real_{name}"))?;
            l.command_line_reference(&format!("__wrap_{name}"))?;
        }
    }
    for name in opts.entry.iter().chain(&opts.exports) {
        l.command_line_reference(name)?;
    }
    // When nothing calls `__wasm_call_ctors`, the command-export wrappers call libc's
    // `__wasm_call_dtors` after the export: wasm-ld loads its member if an archive has it
    // (without making it an undefined symbol when none does).
    let ctors_called = matches!(l.names.get(CALL_CTORS), Some(State::Undefined { .. }))
        || opts.entry.as_deref() == Some(CALL_CTORS)
        || opts.exports.iter().any(|e| e == CALL_CTORS)
        || opts.export_if_defined.iter().any(|e| e == CALL_CTORS);
    if !ctors_called
        && let Some(State::Lazy { archive, member }) = l.names.get(CALL_DTORS).copied()
        && l.claim(archive, member).is_some()
    {
        l.load_member(archive, member, true)?;
    }
    Ok(l.out)
}
