//! Module-level checks: symbol names, the item list, globals, data objects, enums, and the
//! declarations (not the bodies) of functions.

use std::collections::HashMap;

use cranelift_entity::EntityRef;

use crate::error::Diagnostic;
use crate::ir::{DataDecl, DataItem, DataSection, EnumDecl, Item, Linkage, Loc, Module, Type};

use super::{check_align, describe_loc};

/// Runs every module-level check.
pub(super) fn check(module: &Module, errors: &mut Vec<Diagnostic>) {
    check_symbols(module, errors);
    check_item_list(module, errors);
    check_funcs(module, errors);
    check_globals(module, errors);
    for (_, data) in module.decls.data.iter() {
        check_data(module, data, errors);
    }
    for (_, e) in module.decls.enums.iter() {
        check_enum(e, errors);
    }
}

/// Duplicate names: functions, globals and data share one namespace, enums have their own.
fn check_symbols(module: &Module, errors: &mut Vec<Diagnostic>) {
    let d = &module.decls;
    let symbols = d
        .funcs
        .values()
        .map(|f| ("function", f.name.as_str(), f.loc))
        .chain(
            d.globals
                .values()
                .map(|g| ("global", g.name.as_str(), g.loc)),
        )
        .chain(
            d.data
                .values()
                .map(|x| ("data object", x.name.as_str(), x.loc)),
        );
    let mut seen: HashMap<&str, (&str, Loc)> = HashMap::new();
    for (kind, name, loc) in symbols {
        if name.is_empty() {
            errors.push(Diagnostic::new(loc, format!("{kind} with an empty name")));
            continue;
        }
        match seen.get(name) {
            Some(&(first_kind, first_loc)) => errors.push(
                Diagnostic::new(loc, format!("duplicate symbol @{name}"))
                    .with_note(format!("this {kind} is at {}", describe_loc(loc)))
                    .with_note(format!(
                        "@{name} is first defined as a {first_kind} at {}",
                        describe_loc(first_loc)
                    )),
            ),
            None => {
                seen.insert(name, (kind, loc));
            }
        }
    }
    let mut seen: HashMap<&str, Loc> = HashMap::new();
    for e in d.enums.values() {
        if e.name.is_empty() {
            errors.push(Diagnostic::new(e.loc, "enum with an empty name"));
            continue;
        }
        match seen.get(e.name.as_str()) {
            Some(&first) => errors.push(
                Diagnostic::new(e.loc, format!("duplicate enum %{}", e.name))
                    .with_note(format!("this enum is at {}", describe_loc(e.loc)))
                    .with_note(format!(
                        "%{} is first defined at {}",
                        e.name,
                        describe_loc(first)
                    )),
            ),
            None => {
                seen.insert(&e.name, e.loc);
            }
        }
    }
}

/// Every item is listed exactly once in `Module::items`, and every entry names an item.
fn check_item_list(module: &Module, errors: &mut Vec<Diagnostic>) {
    let d = &module.decls;
    let mut funcs = vec![false; d.funcs.len()];
    let mut globals = vec![false; d.globals.len()];
    let mut data = vec![false; d.data.len()];
    let mut enums = vec![false; d.enums.len()];
    for &item in &module.items {
        let slot = match item {
            Item::Func(f) => funcs.get_mut(f.index()),
            Item::Global(g) => globals.get_mut(g.index()),
            Item::Data(x) => data.get_mut(x.index()),
            Item::Enum(e) => enums.get_mut(e.index()),
        };
        let what = match item {
            Item::Func(f) => format!("{f}"),
            Item::Global(g) => format!("{g}"),
            Item::Data(x) => format!("{x}"),
            Item::Enum(e) => format!("{e}"),
        };
        match slot {
            None => errors.push(Diagnostic::new(
                Loc::default(),
                format!("the item list names {what}, which does not exist"),
            )),
            Some(seen) if *seen => errors.push(Diagnostic::new(
                Loc::default(),
                format!("the item list names {what} twice"),
            )),
            Some(seen) => *seen = true,
        }
    }
    let missing = |kind: &str, name: &str, loc: Loc| {
        Diagnostic::new(
            loc,
            format!("{kind} {name} is missing from the module's item list"),
        )
    };
    for ((_, f), seen) in d.funcs.iter().zip(&funcs) {
        if !seen {
            errors.push(missing("function", &format!("@{}", f.name), f.loc));
        }
    }
    for ((_, g), seen) in d.globals.iter().zip(&globals) {
        if !seen {
            errors.push(missing("global", &format!("@{}", g.name), g.loc));
        }
    }
    for ((_, x), seen) in d.data.iter().zip(&data) {
        if !seen {
            errors.push(missing("data object", &format!("@{}", x.name), x.loc));
        }
    }
    for ((_, e), seen) in d.enums.iter().zip(&enums) {
        if !seen {
            errors.push(missing("enum", &format!("%{}", e.name), e.loc));
        }
    }
}

/// Function declarations: constructors, extern functions without bodies, defined functions
/// with blocks, and bodies of functions that do not exist.
fn check_funcs(module: &Module, errors: &mut Vec<Diagnostic>) {
    for (f, decl) in module.decls.funcs.iter() {
        let body = &module.bodies[f];
        let has_body = !body.layout.is_empty()
            || !body.dfg.blocks.is_empty()
            || !body.dfg.insts.is_empty()
            || !body.stack_slots.is_empty();
        if decl.linkage.is_extern() {
            if has_body {
                errors.push(Diagnostic::new(
                    decl.loc,
                    format!("extern function @{} has a body", decl.name),
                ));
            }
            if decl.ctor.is_some() {
                errors.push(Diagnostic::new(
                    decl.loc,
                    format!("extern function @{} cannot be a constructor", decl.name),
                ));
            }
        } else if body.layout.is_empty() {
            errors.push(Diagnostic::new(
                decl.loc,
                format!("function @{} has no blocks", decl.name),
            ));
        }
        if decl.ctor.is_some() {
            if !decl.sig.params.is_empty() {
                errors.push(Diagnostic::new(
                    decl.loc,
                    format!("constructor @{} must not take parameters", decl.name),
                ));
            }
            if !decl.sig.results.is_empty() {
                errors.push(Diagnostic::new(
                    decl.loc,
                    format!("constructor @{} must not return values", decl.name),
                ));
            }
        }
    }
    for f in module.bodies.keys() {
        if module.decls.funcs.get(f).is_some() {
            continue;
        }
        let body = &module.bodies[f];
        if !body.layout.is_empty() || !body.dfg.insts.is_empty() {
            errors.push(Diagnostic::new(
                Loc::default(),
                format!("a body is given for {f}, which is not a declared function"),
            ));
        }
    }
}

/// Globals: the initial value fits the type.
fn check_globals(module: &Module, errors: &mut Vec<Diagnostic>) {
    for g in module.decls.globals.values() {
        if !g.linkage.is_extern() && g.ty.bytes() == 4 && g.init > u64::from(u32::MAX) {
            errors.push(Diagnostic::new(
                g.loc,
                format!(
                    "initial value {:#x} of global @{} does not fit in {}",
                    g.init, g.name, g.ty
                ),
            ));
        }
    }
}

/// Data objects: alignment, section against contents, item widths and references.
fn check_data(module: &Module, data: &DataDecl, errors: &mut Vec<Diagnostic>) {
    let err = |errors: &mut Vec<Diagnostic>, msg: String| {
        errors.push(Diagnostic::new(data.loc, msg).with_note(format!("in data @{}", data.name)));
    };
    if let Some(msg) = check_align(data.align) {
        err(errors, msg);
    }
    if let Linkage::Extern(Some(_)) = data.linkage {
        err(
            errors,
            format!(
                "extern data @{} cannot name an import; only functions and globals can",
                data.name
            ),
        );
    }
    if data.linkage.is_extern() {
        if !data.items.is_empty() {
            err(errors, format!("extern data @{} has contents", data.name));
        }
        return;
    }
    if let DataSection::Named(name) = &data.section
        && name.is_empty()
    {
        err(errors, "empty section name".to_string());
    }
    if data.section.is_zero() && !data.items.is_empty() {
        let kind = if data.section.is_tls() { "tbss" } else { "bss" };
        err(
            errors,
            format!(
                "{kind} data object @{} cannot have contents; it is zero-initialized",
                data.name
            ),
        );
    }
    let mut size: u64 = if data.section.is_zero() {
        data.zero_size
    } else {
        0
    };
    for item in &data.items {
        size = size.saturating_add(item.size());
        match item {
            DataItem::Int { bytes, value } => {
                if !matches!(bytes, 1 | 2 | 4 | 8) {
                    err(
                        errors,
                        format!("data item: invalid integer width of {bytes} bytes"),
                    );
                } else if *bytes < 8 && value >> (u32::from(*bytes) * 8) != 0 {
                    err(
                        errors,
                        format!(
                            "data item i{} {value:#x} does not fit in {bytes} byte{}",
                            u32::from(*bytes) * 8,
                            if *bytes == 1 { "" } else { "s" }
                        ),
                    );
                }
            }
            DataItem::DataAddr { data: target, .. } => match module.decls.data.get(*target) {
                None => err(errors, format!("data item: unknown data object {target}")),
                Some(t) if t.section.is_tls() && !t.linkage.is_extern() => err(
                    errors,
                    format!(
                        "data item: cannot take the address of thread-local data @{}",
                        t.name
                    ),
                ),
                Some(_) => {}
            },
            DataItem::FuncAddr(f) => {
                if module.decls.funcs.get(*f).is_none() {
                    err(errors, format!("data item: unknown function {f}"));
                }
            }
            DataItem::F32(_) | DataItem::F64(_) | DataItem::Bytes(_) | DataItem::Zero(_) => {}
        }
    }
    if size > u64::from(u32::MAX) {
        err(
            errors,
            format!(
                "data object @{} is {size} bytes, larger than 32-bit memory",
                data.name
            ),
        );
    }
}

/// Enums: tag type, values in range and distinct, names distinct.
fn check_enum(e: &EnumDecl, errors: &mut Vec<Diagnostic>) {
    let err = |errors: &mut Vec<Diagnostic>, msg: String| {
        errors.push(Diagnostic::new(e.loc, msg).with_note(format!("in enum %{}", e.name)));
    };
    if !matches!(e.tag.bits, 8 | 16 | 32 | 64) {
        err(
            errors,
            format!(
                "invalid tag width {} bits (must be 8, 16, 32 or 64)",
                e.tag.bits
            ),
        );
        return;
    }
    let (lo, hi) = e.tag.range();
    let mut values: HashMap<i128, &str> = HashMap::with_capacity(e.variants.len());
    let mut names: HashMap<&str, ()> = HashMap::with_capacity(e.variants.len());
    for v in &e.variants {
        if v.value < lo || v.value > hi {
            err(
                errors,
                format!(
                    "enum value {} of variant {} is out of range for {} ({lo} to {hi})",
                    v.value, v.name, e.tag
                ),
            );
        } else if let Some(first) = values.get(&v.value) {
            err(
                errors,
                format!(
                    "duplicate enum value {}: variants {first} and {} have it",
                    v.value, v.name
                ),
            );
        } else {
            values.insert(v.value, &v.name);
        }
        if names.insert(&v.name, ()).is_some() {
            err(errors, format!("duplicate variant name {}", v.name));
        }
    }
}

/// Whether a 32-bit type (used by the function checker for constants).
pub(super) fn fits(ty: Type, bits: u64) -> bool {
    ty.bytes() == 8 || bits <= u64::from(u32::MAX)
}
