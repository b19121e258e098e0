//! Input loading: objects and the archive members they need, as wasm-ld loads them.
//!
//! Inputs are taken in command-line order. A name table follows each global name through the
//! states wasm-ld's symbol table has: defined, undefined (weakly or strongly referenced), or
//! lazy (an archive's index says a member defines it). An archive member is read only when a
//! strong undefined reference meets one of its lazy names, whether the reference comes before
//! the archive (the member is loaded when the archive is reached) or after it (lazy names stay
//! visible, so later inputs still pull members of earlier archives, without `--start-group`).
//! A weak reference never loads a member. `--whole-archive` loads every member, in archive
//! order. Loaded members join the link in load order, after the inputs read before them.
//!
//! The entry symbol and `--export` names count as strong references made after the last
//! input (wasm-ld extracts lazy symbols for them then too); `--export-if-defined` does not.
//!
//! Invariant: every member is read at most once; a member that fails to read is an error
//! naming it as `lib.a(member.o)`.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

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

struct Loader<'a> {
    /// Each archive and which of its members have been read.
    archives: Vec<(Archive<'a>, Vec<bool>)>,
    names: HashMap<Cow<'a, str>, State>,
    out: Vec<Loaded<'a>>,
    /// Members to read, in the order their names were needed.
    pending: VecDeque<(usize, usize)>,
}

impl<'a> Loader<'a> {
    /// Records a reference to `name` from the command line or an object.
    fn reference(&mut self, name: Cow<'a, str>, strong: bool) {
        match self.names.get(&*name).copied() {
            None => {
                self.names.insert(name, State::Undefined { strong });
            }
            Some(State::Undefined { strong: s }) => {
                self.names.insert(
                    name,
                    State::Undefined {
                        strong: s || strong,
                    },
                );
            }
            Some(State::Lazy { archive, member }) => {
                if strong {
                    self.fetch(archive, member);
                }
            }
            Some(State::Defined) => {}
        }
    }

    /// Queues a member for reading unless it has been already.
    fn fetch(&mut self, archive: usize, member: usize) {
        if let Some(flag) = self
            .archives
            .get_mut(archive)
            .and_then(|(_, loaded)| loaded.get_mut(member))
            && !*flag
        {
            *flag = true;
            self.pending.push_back((archive, member));
        }
    }

    /// Reads the queued members, each of which may queue more.
    fn drain(&mut self) -> Result<(), LinkError> {
        while let Some((a, m)) = self.pending.pop_front() {
            let Some((archive, _)) = self.archives.get(a) else {
                return Err(LinkError::Internal(format!("no archive {a}")));
            };
            let Some(member) = archive.members.get(m) else {
                return Err(LinkError::Internal(format!(
                    "archive {} has no member {m}",
                    archive.path
                )));
            };
            let object = read_object(&archive.member_path(m), member.data)?;
            self.add_object(object, true);
        }
        Ok(())
    }

    /// Adds an object's global symbols to the name table; the object joins the link.
    fn add_object(&mut self, object: Object<'a>, lazy_member: bool) {
        for s in object.symbols.iter().filter(|s| !s.is_local()) {
            if s.is_undefined() {
                self.reference(s.name.clone(), !s.is_weak());
            } else {
                self.names.insert(s.name.clone(), State::Defined);
            }
        }
        self.out.push(Loaded {
            object,
            lazy_member,
        });
    }

    /// Makes an archive's indexed names lazy, loading at once the members that define names
    /// already strongly referenced.
    fn add_archive(&mut self, archive: Archive<'a>, whole: bool) -> Result<(), LinkError> {
        let a = self.archives.len();
        let members = archive.members.len();
        let index = archive.index.clone();
        self.archives.push((archive, vec![false; members]));
        if whole {
            for m in 0..members {
                let Some((archive, loaded)) = self.archives.get_mut(a) else {
                    break;
                };
                if let Some(flag) = loaded.get_mut(m) {
                    *flag = true;
                }
                let Some(member) = archive.members.get(m) else {
                    break;
                };
                let object = read_object(&archive.member_path(m), member.data)?;
                self.add_object(object, false);
            }
            return Ok(());
        }
        for (name, member) in index {
            match self.names.get(name).copied() {
                None => {
                    self.names
                        .insert(Cow::Borrowed(name), State::Lazy { archive: a, member });
                }
                Some(State::Undefined { strong: true }) => {
                    self.fetch(a, member);
                    // Later index entries for the same name see it as taken.
                    self.names
                        .insert(Cow::Borrowed(name), State::Lazy { archive: a, member });
                }
                Some(State::Undefined { strong: false }) => {
                    // wasm-ld keeps the weak reference and remembers the lazy definition; a
                    // later strong reference extracts it.
                    self.names
                        .insert(Cow::Borrowed(name), State::Lazy { archive: a, member });
                }
                Some(State::Defined | State::Lazy { .. }) => {}
            }
        }
        self.drain()
    }
}

/// Loads the inputs and the archive members they need, in load order.
pub(crate) fn load<'a>(
    inputs: Vec<Input<'a>>,
    opts: &LinkOptions,
) -> Result<Vec<Loaded<'a>>, LinkError> {
    let mut l = Loader {
        archives: Vec::new(),
        names: HashMap::new(),
        out: Vec::new(),
        pending: VecDeque::new(),
    };
    for input in inputs {
        match input {
            Input::Object(object) => {
                l.add_object(object, false);
                l.drain()?;
            }
            Input::Archive { archive, whole } => l.add_archive(archive, whole)?,
        }
    }
    // After every input, as wasm-ld's driver does: a name an input defines loads nothing.
    for name in opts.entry.iter().chain(&opts.exports) {
        l.reference(Cow::Owned(name.clone()), true);
    }
    // When nothing calls `__wasm_call_ctors`, the command-export wrappers call libc's
    // `__wasm_call_dtors` after the export: wasm-ld loads its member if an archive has it
    // (without making it an undefined symbol when none does).
    let ctors_called = matches!(l.names.get(CALL_CTORS), Some(State::Undefined { .. }))
        || opts.entry.as_deref() == Some(CALL_CTORS)
        || opts.exports.iter().any(|e| e == CALL_CTORS);
    if !ctors_called && let Some(State::Lazy { archive, member }) = l.names.get(CALL_DTORS).copied()
    {
        l.fetch(archive, member);
    }
    l.drain()?;
    Ok(l.out)
}
