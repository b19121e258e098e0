//! Making a CFG reducible: an IR-to-IR transform that gives every loop a single entry by
//! routing the entries of each multi-entry strongly connected region through a dispatch
//! block.
//!
//! The decomposition is the usual loop-nesting one, on explicit stacks: a region is a set of
//! blocks with a header (the whole reachable function has none); the strongly connected
//! components of the region without its header (Tarjan, iterative) are its loops. A loop
//! entered at one block becomes a region headed by it; a loop with several entries gets a
//! dispatcher `d(label: i32, slots...)` whose slots are shared by type (as many of each type
//! as the entry with the most parameters of that type has, so the size stays linear),
//! ending in `br_table label, [entry0(its slots), ...], entryK(its slots)`. Every edge that
//! enters the loop from outside goes to `d` instead, with the entry's label, its arguments in
//! that entry's slots and zero constants in the others; so does every edge from inside the loop
//! back to an entry, which makes the dispatcher the loop's only header. The constants need
//! instructions: a `jump` source gets them before its terminator, a `br_if`/`br_table` arm
//! gets a new edge block holding them (arms of one terminator with the same entry and
//! arguments share it; a modified `br_table` gets its own copy of the jump table, so shared
//! tables stay intact). The loop plus its dispatcher is then a region headed by the
//! dispatcher, and the inner loops are handled the same way.
//!
//! The result verifies and behaves like the input (new values are block parameters and
//! constants; every rerouted path reaches the same entry with the same arguments). Each
//! original edge is rerouted at most once; the function grows by one block per multi-entry
//! loop and at most one block and a few constants per rerouted edge (a dispatcher's own
//! arms can be rerouted again by an inner multi-entry loop). New blocks go at the end of the
//! layout. Reducible functions are left alone (`None`).

use cranelift_entity::{EntityRef, PrimaryMap, SecondaryMap};

use super::cfg::Cfg;
use crate::ir::{
    Block, BlockCall, BlockData, Function, Inst, InstData, JumpTable, JumpTableData, Signature,
    Type, Value, ValueDef,
};

/// Rounds of decomposition before giving up (one is enough in theory; the loop is a guard).
const MAX_ROUNDS: usize = 8;

/// Rounds of node splitting at most.
const MAX_SPLIT_ROUNDS: usize = 16;

/// Options of [`make_reducible_with`].
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ReducibleOptions {
    /// Instructions that node splitting may copy in all; 0 (the default) means dispatch
    /// only.
    pub split_budget: u32,
}

/// Returns `None` if `func`'s reachable CFG is reducible, else an equivalent function whose
/// CFG is reducible, by dispatch blocks only.
pub fn make_reducible(func: &Function) -> Option<Function> {
    make_reducible_with(func, &ReducibleOptions::default())
}

/// Like [`make_reducible`], but first tries node splitting within `opts.split_budget`
/// copied instructions: a secondary entry of a loop whose values are all used only inside
/// it is copied for the edges that enter it from outside (the copy branches into the loop
/// where the entry did), which moves that entry one step on; this repeats round after round
/// while the budget lasts. What remains irreducible gets dispatch blocks.
pub fn make_reducible_with(func: &Function, opts: &ReducibleOptions) -> Option<Function> {
    make_reducible_in(func, opts, &mut Cfg::default(), &mut Reducer::default())
}

/// Like [`make_reducible_with`], reusing `cfg`'s and `r`'s buffers (one of each per worker
/// thread); on return `cfg` describes the result (`func` itself when `None`), so a caller
/// need not compute it again.
pub fn make_reducible_in(
    func: &Function,
    opts: &ReducibleOptions,
    cfg: &mut Cfg,
    r: &mut Reducer,
) -> Option<Function> {
    let mut out = Function::default();
    reduce_into(func, opts, cfg, r, &mut out, true).then_some(out)
}

/// Like [`make_reducible_in`], but writes the result into `out`, reusing its allocations
/// (a worker keeps one such function): returns `false`, leaving `out` as it was, when
/// `func` is reducible, and `true` with the reducible equivalent in `out` otherwise. The
/// result has no source locations (`inst_locs`, `block_locs` and `slot_locs` are empty):
/// lowering does not read them.
pub fn make_reducible_into(
    func: &Function,
    opts: &ReducibleOptions,
    cfg: &mut Cfg,
    r: &mut Reducer,
    out: &mut Function,
) -> bool {
    reduce_into(func, opts, cfg, r, out, false)
}

/// [`make_reducible_into`], copying the source locations when `with_locs` is set.
fn reduce_into(
    func: &Function,
    opts: &ReducibleOptions,
    cfg: &mut Cfg,
    r: &mut Reducer,
    out: &mut Function,
    with_locs: bool,
) -> bool {
    // An irreducible graph gets rewritten and recomputed, so its dominators are not
    // finished (the round needs only the reverse postorder).
    if cfg.recompute_until_irreducible(func) {
        return false;
    }
    copy_function(func, out, &mut r.spare, with_locs);
    let f = out;
    r.reset(opts.split_budget);
    // Room for the jump tables the rounds add (copies and dispatchers), so that marking
    // them seldom grows the map.
    let tables = f.dfg.jump_tables.len();
    r.owned.resize(tables + tables / 2 + 16);
    for _ in 0..MAX_SPLIT_ROUNDS {
        if r.budget == 0 {
            break;
        }
        r.splitting = true;
        r.split_done = false;
        r.find_escapes(f);
        r.round(f, cfg);
        cfg.recompute_with_dests(f, |b| r.succs_of(b));
        if cfg.is_reducible() {
            return true;
        }
        if !r.split_done {
            break;
        }
    }
    r.splitting = false;
    for _ in 0..MAX_ROUNDS {
        r.round(f, cfg);
        // The round kept every block's destinations (its changes included), so the graph
        // need not be read from the instructions again.
        cfg.recompute_with_dests(f, |b| r.succs_of(b));
        if cfg.is_reducible() {
            break;
        }
    }
    true
}

/// Vectors of a previous function's blocks and jump tables, for [`copy_function`].
#[derive(Default)]
struct Spare {
    /// Instruction vectors by block index (block `i` of the next copy takes `insts[i]`,
    /// as functions of one module tend to have blocks of similar sizes at similar indices).
    insts: Vec<Vec<Inst>>,
    /// Jump-table target vectors.
    targets: Vec<Vec<BlockCall>>,
    /// Signatures (their vectors).
    sigs: Vec<Signature>,
    /// The capacities reserved so far for the copy's instructions, values and blocks
    /// (at least what the tables have).
    caps: [usize; 3],
}

/// Makes `dst` a copy of `src` (with the source locations if `with_locs`), reusing
/// `dst`'s allocations and with some room to grow (the transform appends blocks,
/// instructions and values).
fn copy_function(src: &Function, dst: &mut Function, spare: &mut Spare, with_locs: bool) {
    fn copy_secondary<K: EntityRef, V: Clone>(
        src: &SecondaryMap<K, V>,
        dst: &mut SecondaryMap<K, V>,
    ) {
        let n = src.values().len();
        dst.clear();
        dst.resize(n);
        dst.values_mut()
            .into_slice()
            .clone_from_slice(src.as_values_slice());
    }
    let room = |n: usize| n + n / 2 + 16;
    // A table too small for the copy is made anew: growing it would copy what it held.
    let (sd, dd) = (&src.dfg, &mut dst.dfg);
    let n = room(sd.insts.len());
    if n > spare.caps[0] {
        spare.caps[0] = n;
        dd.insts = PrimaryMap::with_capacity(n);
    }
    dd.insts.clear();
    dd.insts.extend(sd.insts.values().copied());
    // The results with room for the instructions the transform adds (an entry past the
    // end would make each of them grow the map).
    let n = sd.results.values().len();
    dd.results.clear();
    dd.results.resize(room(n));
    if let Some(head) = dd.results.values_mut().into_slice().get_mut(..n) {
        head.clone_from_slice(sd.results.as_values_slice());
    }
    let n = room(sd.values.len());
    if n > spare.caps[1] {
        spare.caps[1] = n;
        dd.values = PrimaryMap::with_capacity(n);
    }
    dd.values.clear();
    dd.values.extend(sd.values.values().copied());
    for (i, b) in dd.blocks.values_mut().enumerate() {
        let v = std::mem::take(&mut b.insts);
        match spare.insts.get_mut(i) {
            Some(slot) => *slot = v,
            None => spare.insts.push(v),
        }
    }
    let n = room(sd.blocks.len());
    if n > spare.caps[2] {
        spare.caps[2] = n;
        dd.blocks = PrimaryMap::with_capacity(n);
    }
    dd.blocks.clear();
    for (i, b) in sd.blocks.values().enumerate() {
        let mut insts = spare
            .insts
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default();
        if insts.capacity() < b.insts.len() {
            // A new vector: growing the old one would copy what it held. With room, so
            // that the blocks of later functions at this index fit it more often.
            insts = Vec::with_capacity(room(b.insts.len()));
            insts.extend_from_slice(&b.insts);
        } else {
            insts.clear();
            insts.extend_from_slice(&b.insts);
        }
        dd.blocks.push(BlockData {
            params: b.params,
            insts,
        });
    }
    dd.value_lists = sd.value_lists.clone();
    for jt in dd.jump_tables.values_mut() {
        spare.targets.push(std::mem::take(&mut jt.targets));
    }
    dd.jump_tables.clear();
    for jt in sd.jump_tables.values() {
        let mut targets = spare.targets.pop().unwrap_or_default();
        targets.clear();
        targets.extend_from_slice(&jt.targets);
        dd.jump_tables.push(JumpTableData {
            targets,
            default: jt.default,
        });
    }
    for sig in dd.sigs.values_mut() {
        spare.sigs.push(std::mem::take(sig));
    }
    dd.sigs.clear();
    for s in sd.sigs.values() {
        let mut sig = spare.sigs.pop().unwrap_or_default();
        sig.params.clone_from(&s.params);
        sig.results.clone_from(&s.results);
        dd.sigs.push(sig);
    }
    let n = room(src.layout.len());
    if n > dst.layout.capacity() {
        dst.layout = Vec::with_capacity(n);
    }
    dst.layout.clear();
    dst.layout.extend_from_slice(&src.layout);
    dst.stack_slots.clear();
    dst.stack_slots.extend(src.stack_slots.values().copied());
    if with_locs {
        copy_secondary(&src.inst_locs, &mut dst.inst_locs);
        copy_secondary(&src.block_locs, &mut dst.block_locs);
        copy_secondary(&src.slot_locs, &mut dst.slot_locs);
    } else {
        dst.inst_locs.clear();
        dst.block_locs.clear();
        dst.slot_locs.clear();
    }
}

/// An edge entering a loop: destination `dest` of `from`'s terminator, or the function start.
#[derive(Copy, Clone, Debug)]
struct Entering {
    /// The loop (component id).
    comp: u32,
    /// Source block; `None` for the function start.
    from: Option<Block>,
    /// Destination number.
    dest: u32,
    /// The entry block.
    to: Block,
}

/// A region to decompose: its blocks and its header.
struct Region {
    /// Member blocks (the header included).
    members: Vec<Block>,
    /// The header, whose in-edges from the region are ignored.
    header: Option<Block>,
}

/// The transform's working state, reusable from one function to the next.
#[derive(Default)]
pub struct Reducer {
    /// The per-block state of the search (one record per block, so that a visit touches one
    /// cache line).
    st: States,
    /// Current stamp.
    stamp: u32,
    /// Next DFS index.
    counter: u32,
    /// Next component id.
    comps: u32,
    /// Regions to do.
    regions: Vec<Region>,
    /// Jump tables this transform made (copies it may modify in place).
    owned: SecondaryMap<JumpTable, bool>,
    /// Whether this round splits nodes (and dispatches nothing).
    splitting: bool,
    /// Whether this round split a node.
    split_done: bool,
    /// Instructions node splitting may still copy.
    budget: u32,
    /// Values used outside the block that defines them (as of the round's start).
    escapes: SecondaryMap<Value, bool>,
    /// Tarjan: the component stack (scratch, kept between regions).
    tarjan_stack: Vec<Block>,
    /// Tarjan: the DFS call stack, block with its next and end positions in `succs`
    /// (scratch).
    tarjan_calls: Vec<(Block, u32, u32)>,
    /// Edges entering the loops of the region at hand (scratch).
    entering: Vec<Entering>,
    /// Whether each component of the region at hand is a loop, by component id from the
    /// region's first (scratch).
    looping: Vec<bool>,
    /// Buffers of [`edge_args`].
    edge_scratch: EdgeScratch,
    /// The arguments of the edge being rerouted (scratch).
    old_args: Vec<Value>,
    /// Vectors kept from the previous function (see [`copy_function`]).
    spare: Spare,
    /// Block vectors for region members and loops, reused.
    block_vecs: Vec<Vec<Block>>,
    /// The loops of the region at hand, (component id, members) (scratch).
    sccs: Vec<(u32, Vec<Block>)>,
    /// The entries of the loop at hand (scratch).
    entries: Vec<Block>,
    /// The edges to reroute through a dispatcher (scratch).
    all: Vec<Entering>,
    /// Scratch of [`Reducer::dispatch`].
    dispatch_scratch: DispatchScratch,
    /// The destination blocks of each block's terminator (by block index), kept up to date
    /// through the round's changes: `succs[lo..lo + len]` for `succ_span[b] = (lo, len)`.
    succ_span: Vec<(u32, u32)>,
    /// See `succ_span`.
    succs: Vec<Block>,
    /// The reverse-postorder number of each block of the graph the round started from (by
    /// block index; `u32::MAX` for the blocks the round adds and the unreachable ones).
    rpo_of: Vec<u32>,
}

impl Reducer {
    /// Forgets the previous function (keeping the allocations).
    fn reset(&mut self, budget: u32) {
        // The per-block maps are read only where their stamp is current (or after this
        // search wrote them), so they carry over from function to function with the stamp
        // counting on; they are cleared only before the stamp could wrap.
        if self.stamp > u32::MAX / 2 {
            self.st.0.clear();
            self.stamp = 0;
        }
        self.counter = 0;
        self.comps = 0;
        self.regions.clear();
        self.owned.clear();
        self.splitting = false;
        self.split_done = false;
        self.budget = budget;
        self.escapes.clear();
    }

    /// One full decomposition of `f`, whose graph `cfg` describes (only its layout and
    /// reverse postorder are used: its dominance may be unfinished).
    fn round(&mut self, f: &mut Function, cfg: &Cfg) {
        self.succ_span.clear();
        self.succs.clear();
        self.seed_succs(f, cfg);
        let mut members = self.block_vecs.pop().unwrap_or_default();
        members.clear();
        members.extend(
            cfg.rpo_order()
                .iter()
                .filter_map(|&n| cfg.block(n as usize)),
        );
        self.rpo_of.clear();
        self.rpo_of.resize(f.dfg.blocks.len(), u32::MAX);
        for (r, &b) in members.iter().enumerate() {
            if let Some(slot) = self.rpo_of.get_mut(b.index()) {
                *slot = r as u32;
            }
        }
        self.regions.push(Region {
            members,
            header: None,
        });
        // Every split removes at least a loop's entries from further splitting, so the
        // number of splits is bounded by the blocks; the budget only guards against bugs.
        let mut budget = 4 * f.dfg.blocks.len() + 16;
        while let Some(region) = self.regions.pop() {
            if budget == 0 {
                self.regions.clear();
                break;
            }
            budget -= 1;
            self.split(f, region);
        }
    }

    /// Finds the loops of `region`, dispatches the multi-entry ones, queues them all.
    fn split(&mut self, f: &mut Function, region: Region) {
        self.stamp += 1;
        let stamp = self.stamp;
        for &b in &region.members {
            if Some(b) != region.header {
                self.st.at(b).mark = stamp;
            }
        }
        let inside = |st: &States, b: Block| st.get(b).mark == stamp;
        // A loop whose members without the header have no cycle holds no inner loop: it
        // needs no search. Every cycle has an edge that does not go forward in reverse
        // postorder, and the round only removes edges between the blocks it started with
        // (it reroutes them to new blocks, which have no number here), so a region whose
        // edges between members all go forward in the starting order has no cycle.
        if region.header.is_some() {
            let rpo = |b: Block| self.rpo_of.get(b.index()).copied().unwrap_or(u32::MAX);
            let acyclic = region.members.iter().all(|&u| {
                Some(u) == region.header
                    || self
                        .succs_of(u)
                        .iter()
                        .all(|&w| !inside(&self.st, w) || (rpo(u) != u32::MAX && rpo(w) > rpo(u)))
            });
            if acyclic {
                self.block_vecs.push(region.members);
                return;
            }
        }

        // Strongly connected components, iterative Tarjan.
        let first_comp = self.comps;
        let mut sccs = std::mem::take(&mut self.sccs);
        sccs.clear();
        let mut stack = std::mem::take(&mut self.tarjan_stack);
        let mut calls = std::mem::take(&mut self.tarjan_calls);
        stack.clear();
        calls.clear();
        for &root in &region.members {
            if !inside(&self.st, root) || self.st.get(root).visited == stamp {
                continue;
            }
            self.visit(root, stamp, &mut stack, &mut calls);
            while let Some(top) = calls.last_mut() {
                let (v, pos, end) = *top;
                let next = if pos < end {
                    self.succs.get(pos as usize).copied()
                } else {
                    None
                };
                if let Some(w) = next {
                    top.1 = pos + 1;
                    let sw = *self.st.get(w);
                    if sw.mark != stamp {
                        continue;
                    }
                    if sw.visited != stamp {
                        self.visit(w, stamp, &mut stack, &mut calls);
                    } else if sw.on_stack {
                        let s = self.st.at(v);
                        s.low = s.low.min(sw.index);
                    }
                } else {
                    calls.pop();
                    let sv = *self.st.get(v);
                    if let Some(&(u, _, _)) = calls.last() {
                        let s = self.st.at(u);
                        s.low = s.low.min(sv.low);
                    }
                    if sv.low == sv.index {
                        let id = self.comps;
                        self.comps += 1;
                        if stack.last() == Some(&v) {
                            // A single block (most components): no member list unless it
                            // loops to itself.
                            stack.pop();
                            let s = self.st.at(v);
                            s.on_stack = false;
                            s.comp = id;
                            if self.succs_of(v).contains(&v) {
                                let mut members = self.block_vecs.pop().unwrap_or_default();
                                members.clear();
                                members.push(v);
                                sccs.push((id, members));
                            }
                            continue;
                        }
                        let mut members = self.block_vecs.pop().unwrap_or_default();
                        members.clear();
                        while let Some(w) = stack.pop() {
                            let s = self.st.at(w);
                            s.on_stack = false;
                            s.comp = id;
                            members.push(w);
                            if w == v {
                                break;
                            }
                        }
                        let looping = members.len() > 1 || self.succs_of(v).contains(&v);
                        if looping {
                            sccs.push((id, members));
                        } else {
                            self.block_vecs.push(members);
                        }
                    }
                }
            }
        }
        self.tarjan_stack = stack;
        self.tarjan_calls = calls;
        if sccs.is_empty() {
            self.sccs = sccs;
            self.block_vecs.push(region.members);
            return;
        }

        // Edges entering each loop from the rest of the region (header included); the other
        // components (single blocks) need none.
        let mut looping = std::mem::take(&mut self.looping);
        looping.clear();
        looping.resize((self.comps - first_comp) as usize, false);
        for &(id, _) in &sccs {
            if let Some(l) = looping.get_mut((id - first_comp) as usize) {
                *l = true;
            }
        }
        let is_loop = |st: &States, b: Block| {
            st.get(b)
                .comp
                .checked_sub(first_comp)
                .and_then(|c| looping.get(c as usize))
                == Some(&true)
        };
        let mut entering = std::mem::take(&mut self.entering);
        entering.clear();
        if let Some(start) = f.entry()
            && inside(&self.st, start)
            && is_loop(&self.st, start)
        {
            entering.push(Entering {
                comp: self.st.get(start).comp,
                from: None,
                dest: 0,
                to: start,
            });
        }
        for &u in &region.members {
            // Every edge of the header (outside the region) enters; a member's enter when
            // they leave its component.
            let own = (Some(u) != region.header).then(|| self.st.get(u).comp);
            for (i, &w) in self.succs_of(u).iter().enumerate() {
                let sw = self.st.get(w);
                if sw.mark == stamp && own != Some(sw.comp) && is_loop(&self.st, w) {
                    entering.push(Entering {
                        comp: sw.comp,
                        from: Some(u),
                        dest: i as u32,
                        to: w,
                    });
                }
            }
        }
        entering.sort_by_key(|e| e.comp);

        let mut entries = std::mem::take(&mut self.entries);
        let mut all = std::mem::take(&mut self.all);
        for (id, members) in sccs.drain(..) {
            let lo = entering.partition_point(|e| e.comp < id);
            let hi = entering.partition_point(|e| e.comp <= id);
            let edges = entering.get(lo..hi).unwrap_or(&[]);
            // Distinct entry blocks in order of first appearance.
            entries.clear();
            for e in edges {
                if self.st.get(e.to).entry_stamp != stamp {
                    let s = self.st.at(e.to);
                    s.entry_stamp = stamp;
                    s.entry_no = entries.len() as u32;
                    entries.push(e.to);
                }
            }
            match entries.as_slice() {
                [] => self.block_vecs.push(members),
                [one] => {
                    if members.len() > 1 {
                        self.regions.push(Region {
                            header: Some(*one),
                            members,
                        });
                    } else {
                        self.block_vecs.push(members);
                    }
                }
                _ if self.splitting => {
                    if self.split_entries(f, &entries, edges) {
                        self.split_done = true;
                    }
                    self.block_vecs.push(members);
                }
                _ => {
                    // Edges from inside the loop back to an entry go through the
                    // dispatcher too, so that it becomes the loop's only header.
                    all.clear();
                    all.extend_from_slice(edges);
                    for &u in &members {
                        for (i, &w) in self.succs_of(u).iter().enumerate() {
                            if self.st.get(w).entry_stamp == stamp && self.st.get(w).comp == id {
                                all.push(Entering {
                                    comp: id,
                                    from: Some(u),
                                    dest: i as u32,
                                    to: w,
                                });
                            }
                        }
                    }
                    let d = self.dispatch(f, &entries, &all);
                    let mut members = members;
                    members.push(d);
                    self.regions.push(Region {
                        header: Some(d),
                        members,
                    });
                }
            }
        }
        self.entering = entering;
        self.looping = looping;
        self.entries = entries;
        self.all = all;
        self.sccs = sccs;
        self.block_vecs.push(region.members);
    }

    /// Marks the values used outside their defining block.
    fn find_escapes(&mut self, f: &Function) {
        self.escapes.clear();
        let mut def_block: SecondaryMap<Inst, Option<Block>> = SecondaryMap::new();
        for &b in &f.layout {
            for &i in &f.dfg.blocks[b].insts {
                def_block[i] = Some(b);
            }
        }
        for &b in &f.layout {
            for &i in &f.dfg.blocks[b].insts {
                let escapes = &mut self.escapes;
                f.dfg.for_each_arg(i, |v| {
                    let home = match f.dfg.values.get(v).map(|d| d.def) {
                        Some(ValueDef::Param(pb, _)) => Some(pb),
                        Some(ValueDef::Result(pi, _)) => def_block[pi],
                        _ => None,
                    };
                    if home != Some(b) {
                        escapes[v] = true;
                    }
                });
            }
        }
    }

    /// Splits the secondary entries of a loop, if they are all small enough for the budget
    /// and keep their values to themselves. The entry that stays is the one whose values
    /// are used elsewhere (a copy could not serve those uses), or else the largest, so that
    /// the least code is copied; with two such entries nothing is split. Returns whether it
    /// split.
    fn split_entries(&mut self, f: &mut Function, entries: &[Block], edges: &[Entering]) -> bool {
        let local = |e: Block| {
            f.dfg.block_params(e).iter().all(|&v| !self.escapes[v])
                && f.dfg.blocks[e]
                    .insts
                    .iter()
                    .all(|&i| f.dfg.inst_results(i).iter().all(|&v| !self.escapes[v]))
        };
        let mut kept: Option<Block> = None;
        for &e in entries {
            if !local(e) {
                if kept.is_some() {
                    return false;
                }
                kept = Some(e);
            }
        }
        let size = |e: Block| f.dfg.blocks[e].insts.len();
        let Some(kept) = kept.or_else(|| {
            // The first of the largest, so that equal entries keep the first as before.
            let max = entries.iter().map(|&e| size(e)).max()?;
            entries.iter().copied().find(|&e| size(e) == max)
        }) else {
            return false;
        };
        let cost = entries
            .iter()
            .filter(|&&e| e != kept)
            .fold(0u32, |c, &e| c.saturating_add(size(e) as u32));
        if cost > self.budget {
            return false;
        }
        self.budget -= cost;
        for &e in entries.iter().filter(|&&e| e != kept) {
            let copy = copy_block(f, e);
            self.cache_succs(f, copy);
            for edge in edges.iter().filter(|x| x.to == e) {
                let Some(from) = edge.from else { continue };
                let Some(term) = f.terminator(from) else {
                    continue;
                };
                let Some(old) = dest(f, from, edge.dest as usize) else {
                    continue;
                };
                let new = BlockCall {
                    block: copy,
                    args: old.args,
                };
                set_dest(
                    f,
                    &mut self.owned,
                    &mut self.spare.targets,
                    term,
                    edge.dest as usize,
                    new,
                );
                self.set_succ(from, edge.dest as usize, copy);
            }
        }
        true
    }

    /// Records the destinations of every block's terminator: from `cfg`'s successor lists
    /// when they hold them all and `f` has the layout `cfg` was made from (the first round
    /// reads the copy's original, later rounds the graph the previous one left), otherwise
    /// from the terminators. The blocks outside the layout keep no destinations then: the
    /// round reads only those of reachable blocks, and those are in the layout.
    fn seed_succs(&mut self, f: &Function, cfg: &Cfg) {
        self.succ_span.resize(f.dfg.blocks.len(), (0, 0));
        if !cfg.layout_dests(&f.layout, &mut self.succ_span, &mut self.succs) {
            for b in f.dfg.blocks.keys() {
                self.cache_succs(f, b);
            }
        }
    }

    /// The destination blocks of `b`'s terminator, in order (see [`dest`]).
    fn succs_of(&self, b: Block) -> &[Block] {
        let (lo, len) = self.succ_span.get(b.index()).copied().unwrap_or((0, 0));
        self.succs
            .get(lo as usize..(lo + len) as usize)
            .unwrap_or(&[])
    }

    /// Records the destinations of `b`'s terminator (a block new to the cache).
    fn cache_succs(&mut self, f: &Function, b: Block) {
        let lo = self.succs.len() as u32;
        // The destinations [`dest`] gives, in its order, decoded once.
        match f.terminator(b).and_then(|t| f.dfg.insts.get(t)) {
            Some(InstData::Jump { dest }) => self.succs.push(dest.block),
            Some(InstData::BrIf {
                then_dest,
                else_dest,
                ..
            }) => {
                self.succs.push(then_dest.block);
                self.succs.push(else_dest.block);
            }
            Some(InstData::BrTable { table, .. }) => {
                if let Some(jt) = f.dfg.jump_tables.get(*table) {
                    self.succs.extend(jt.targets.iter().map(|d| d.block));
                    self.succs.push(jt.default.block);
                }
            }
            _ => {}
        }
        let len = self.succs.len() as u32 - lo;
        if self.succ_span.len() <= b.index() {
            self.succ_span.resize(b.index() + 1, (0, 0));
        }
        self.succ_span[b.index()] = (lo, len);
    }

    /// Notes that destination `i` of `b`'s terminator now goes to `to`.
    fn set_succ(&mut self, b: Block, i: usize, to: Block) {
        if let Some(&(lo, len)) = self.succ_span.get(b.index())
            && i < len as usize
            && let Some(slot) = self.succs.get_mut(lo as usize + i)
        {
            *slot = to;
        }
    }

    /// Starts visiting `b` in Tarjan's search.
    fn visit(
        &mut self,
        b: Block,
        stamp: u32,
        stack: &mut Vec<Block>,
        calls: &mut Vec<(Block, u32, u32)>,
    ) {
        let counter = self.counter;
        self.counter += 1;
        let s = self.st.at(b);
        s.visited = stamp;
        s.index = counter;
        s.low = counter;
        s.on_stack = true;
        stack.push(b);
        let (lo, len) = self.succ_span.get(b.index()).copied().unwrap_or((0, 0));
        calls.push((b, lo, lo + len));
    }

    /// Adds a dispatcher for the loop with these `entries` and reroutes its entering `edges`.
    fn dispatch(&mut self, f: &mut Function, entries: &[Block], edges: &[Entering]) -> Block {
        let mut scratch = std::mem::take(&mut self.dispatch_scratch);
        let d = self.dispatch_with(f, entries, edges, &mut scratch);
        self.dispatch_scratch = scratch;
        d
    }

    fn dispatch_with(
        &mut self,
        f: &mut Function,
        entries: &[Block],
        edges: &[Entering],
        scratch: &mut DispatchScratch,
    ) -> Block {
        // Slot layout: the label, then slots shared by type: as many slots of each type as
        // the entry with the most parameters of that type has, so an edge passes at most the
        // largest entry's worth of arguments (one slot per parameter of every entry would
        // make large irreducible regions quadratic). `assign[assign_start[k] + j]` is the
        // slot of entry `k`'s parameter `j`.
        let DispatchScratch {
            slots,
            slot_types,
            assign,
            assign_start,
            calls,
            args,
            shared,
            shared_args,
        } = scratch;
        slots.clear();
        slot_types.clear();
        assign.clear();
        assign_start.clear();
        calls.clear();
        shared.clear();
        shared_args.clear();
        let d = self.new_block(f);
        let label = f.dfg.append_block_param(d, Type::I32);
        let class = |ty: Type| match ty.canonical() {
            Type::I64 => 1,
            Type::F32 => 2,
            Type::F64 => 3,
            _ => 0,
        };
        const CLASS_TYPES: [Type; 4] = [Type::I32, Type::I64, Type::F32, Type::F64];
        let mut per_class = [0usize; 4];
        for &e in entries {
            let mut count = [0usize; 4];
            for &v in f.dfg.block_params(e) {
                count[class(f.dfg.value_type(v))] += 1;
            }
            for c in 0..4 {
                per_class[c] = per_class[c].max(count[c]);
            }
        }
        let mut class_start = [0usize; 4];
        for c in 0..4 {
            class_start[c] = slots.len();
            for _ in 0..per_class[c] {
                slots.push(f.dfg.append_block_param(d, CLASS_TYPES[c]));
                slot_types.push(CLASS_TYPES[c]);
            }
        }
        assign_start.push(0);
        for &e in entries {
            let mut next = class_start;
            for &v in f.dfg.block_params(e) {
                let c = class(f.dfg.value_type(v));
                next[c] += 1;
                assign.push(next[c] - 1);
            }
            assign_start.push(assign.len());
        }
        let slots_of = |k: usize| &assign[assign_start[k]..assign_start[k + 1]];
        for (k, &e) in entries.iter().enumerate() {
            args.clear();
            args.extend(slots_of(k).iter().map(|&i| slots[i]));
            calls.push(BlockCall {
                block: e,
                args: f.dfg.make_value_list(args),
            });
        }
        let Some((&default, rest)) = calls.split_last() else {
            return d;
        };
        let mut targets = self.spare.targets.pop().unwrap_or_default();
        targets.clear();
        targets.extend_from_slice(rest);
        let table = f.dfg.jump_tables.push(JumpTableData { targets, default });
        let br = f.dfg.make_inst(InstData::BrTable {
            index: label,
            table,
        });
        f.dfg.blocks[d].insts.push(br);
        f.layout.push(d);
        self.cache_succs(f, d);

        // Edge blocks of the current source, shared by its arms with the same entry and
        // arguments: (entry, entry number, arguments in `shared_args`, edge block).
        let mut last_from: Option<Block> = None;
        for e in edges {
            let k = self.st.get(e.to).entry_no as usize;
            // The function start enters only a loop that holds the entry block, and such a
            // loop has no other entry (whatever reaches it from the entry is in it), so
            // a dispatched loop never has the start among its entering edges.
            let Some(from) = e.from else {
                continue;
            };
            if last_from != Some(from) {
                shared.clear();
                shared_args.clear();
                last_from = Some(from);
            }
            let Some(old) = dest(f, from, e.dest as usize) else {
                continue;
            };
            let Some(term) = f.terminator(from) else {
                continue;
            };
            let mut old_args = std::mem::take(&mut self.old_args);
            old_args.clear();
            old_args.extend_from_slice(f.dfg.list(old.args));
            let is_jump = matches!(f.dfg.insts[term], InstData::Jump { .. });
            let new_dest = if is_jump {
                let args = edge_args(
                    f,
                    from,
                    Some(term),
                    k,
                    &old_args,
                    slots_of(k),
                    slot_types,
                    &mut self.edge_scratch,
                );
                BlockCall { block: d, args }
            } else {
                let known = shared
                    .iter()
                    .find(|&&(b, kk, lo, hi, _)| {
                        b == e.to
                            && kk == k as u32
                            && shared_args.get(lo as usize..hi as usize) == Some(&old_args[..])
                    })
                    .map(|s| s.4);
                let edge = match known {
                    Some(b) => b,
                    None => {
                        let eb = self.new_block(f);
                        let args = edge_args(
                            f,
                            eb,
                            None,
                            k,
                            &old_args,
                            slots_of(k),
                            slot_types,
                            &mut self.edge_scratch,
                        );
                        let jump = f.dfg.make_inst(InstData::Jump {
                            dest: BlockCall { block: d, args },
                        });
                        f.dfg.blocks[eb].insts.push(jump);
                        f.layout.push(eb);
                        self.cache_succs(f, eb);
                        let lo = shared_args.len() as u32;
                        shared_args.extend_from_slice(&old_args);
                        shared.push((e.to, k as u32, lo, shared_args.len() as u32, eb));
                        eb
                    }
                };
                BlockCall {
                    block: edge,
                    args: f.dfg.make_value_list(&[]),
                }
            };
            self.old_args = old_args;
            set_dest(
                f,
                &mut self.owned,
                &mut self.spare.targets,
                term,
                e.dest as usize,
                new_dest,
            );
            self.set_succ(from, e.dest as usize, new_dest.block);
        }
        d
    }

    /// A new empty block, with an instruction vector left by an earlier function if there
    /// is one.
    fn new_block(&mut self, f: &mut Function) -> Block {
        let b = f.dfg.make_block();
        if let Some(v) = self.spare.insts.get_mut(b.index())
            && v.capacity() > 0
        {
            let mut insts = std::mem::take(v);
            insts.clear();
            f.dfg.blocks[b].insts = insts;
        }
        b
    }
}

/// The search state of one block (see [`Reducer`]); a field is meaningful only where its
/// stamp (`mark`, `visited`, `entry_stamp`) is the current one.
#[derive(Copy, Clone, Default)]
struct BlockState {
    /// Region stamp (in the region being split, header excluded).
    mark: u32,
    /// Tarjan: visit stamp.
    visited: u32,
    /// Tarjan: DFS index (global counter).
    index: u32,
    /// Tarjan: lowlink.
    low: u32,
    /// Component id (global counter).
    comp: u32,
    /// Entry number within its loop, valid when `entry_stamp` matches.
    entry_no: u32,
    /// Stamp for `entry_no`.
    entry_stamp: u32,
    /// Tarjan: on the component stack.
    on_stack: bool,
}

/// [`BlockState`] by block index; blocks beyond the end read as the default and are added
/// when written.
#[derive(Default)]
struct States(Vec<BlockState>);

impl States {
    const DEFAULT: BlockState = BlockState {
        mark: 0,
        visited: 0,
        index: 0,
        low: 0,
        comp: 0,
        entry_no: 0,
        entry_stamp: 0,
        on_stack: false,
    };

    fn get(&self, b: Block) -> &BlockState {
        self.0.get(b.index()).unwrap_or(&Self::DEFAULT)
    }

    fn at(&mut self, b: Block) -> &mut BlockState {
        let i = b.index();
        if i >= self.0.len() {
            self.0.resize(i + 1, Self::DEFAULT);
        }
        &mut self.0[i]
    }
}

/// Scratch buffers of [`Reducer::dispatch`].
#[derive(Default)]
struct DispatchScratch {
    /// The dispatcher's slot parameters (after the label).
    slots: Vec<Value>,
    /// Their types.
    slot_types: Vec<Type>,
    /// The slot of each entry's parameters, entry after entry.
    assign: Vec<usize>,
    /// Where each entry's part of `assign` starts (one more entry at the end).
    assign_start: Vec<usize>,
    /// The dispatcher's destinations.
    calls: Vec<BlockCall>,
    /// One destination's arguments.
    args: Vec<Value>,
    /// Edge blocks of the current source: (entry, entry number, arguments as a range of
    /// `shared_args`, edge block).
    shared: Vec<(Block, u32, u32, u32, Block)>,
    /// See `shared`.
    shared_args: Vec<Value>,
}

/// Scratch buffers of [`edge_args`], kept in the [`Reducer`] so that no edge allocates.
#[derive(Default)]
struct EdgeScratch {
    /// The constants made for the edge.
    consts: Vec<Inst>,
    /// The value of each slot, `None` until assigned.
    vals: Vec<Option<Value>>,
    /// The argument list being built.
    list: Vec<Value>,
}

/// The arguments of an edge to the dispatcher for entry `k`: its label, `args` in the slots
/// `assign` gives them, zeros in the others. Constants go into `block`, before `before` or at
/// the end.
#[allow(clippy::too_many_arguments)]
fn edge_args(
    f: &mut Function,
    block: Block,
    before: Option<Inst>,
    k: usize,
    args: &[Value],
    assign: &[usize],
    slot_types: &[Type],
    scratch: &mut EdgeScratch,
) -> crate::ir::ValueList {
    let EdgeScratch { consts, vals, list } = scratch;
    consts.clear();
    let mut zeros: [Option<Value>; 4] = [None; 4];
    let make = |f: &mut Function, ty: Type, bits: u64, consts: &mut Vec<Inst>| {
        let inst = f.dfg.make_inst(InstData::Const { ty, bits });
        consts.push(inst);
        f.dfg.append_result(inst, ty)
    };
    let label = make(f, Type::I32, k as u64, consts);
    vals.clear();
    vals.resize(slot_types.len(), None);
    for (j, &slot) in assign.iter().enumerate() {
        if let Some(v) = vals.get_mut(slot) {
            *v = Some(args.get(j).copied().unwrap_or(label));
        }
    }
    list.clear();
    list.push(label);
    for (val, &ty) in vals.iter().zip(slot_types) {
        let v = match *val {
            Some(v) => v,
            None => {
                let ty = ty.canonical();
                let zero = match ty {
                    Type::I64 => 1,
                    Type::F32 => 2,
                    Type::F64 => 3,
                    _ => 0,
                };
                match zeros[zero] {
                    Some(z) => z,
                    None => {
                        let z = make(f, ty, 0, consts);
                        zeros[zero] = Some(z);
                        z
                    }
                }
            }
        };
        list.push(v);
    }
    let insts = &mut f.dfg.blocks[block].insts;
    let at = match before {
        Some(t) => insts.iter().rposition(|&i| i == t).unwrap_or(insts.len()),
        None => insts.len(),
    };
    if at == insts.len() {
        insts.append(consts);
    } else {
        insts.splice(at..at, consts.drain(..));
    }
    f.dfg.make_value_list(list)
}

/// Appends a copy of block `b` (fresh parameters and results; operands defined in `b` map to
/// their copies) to the layout.
fn copy_block(f: &mut Function, b: Block) -> Block {
    let copy = f.dfg.make_block();
    let mut map: std::collections::HashMap<Value, Value> = std::collections::HashMap::new();
    let params: Vec<Value> = f.dfg.block_params(b).to_vec();
    for v in params {
        let ty = f.dfg.value_type(v);
        map.insert(v, f.dfg.append_block_param(copy, ty));
    }
    let insts = f.dfg.blocks[b].insts.clone();
    for i in insts {
        let mut data = f.dfg.insts[i];
        // New lists and jump tables: the copy's operands must not alias the original's.
        f.dfg.for_each_arg_mut(&mut data, true, |v| {
            if let Some(&n) = map.get(v) {
                *v = n;
            }
        });
        let new = f.dfg.make_inst(data);
        let results: Vec<Value> = f.dfg.inst_results(i).to_vec();
        for v in results {
            let ty = f.dfg.value_type(v);
            map.insert(v, f.dfg.append_result(new, ty));
        }
        if let Some(&loc) = f.inst_locs.get(i) {
            f.inst_locs[new] = loc;
        }
        f.dfg.blocks[copy].insts.push(new);
    }
    f.layout.push(copy);
    copy
}

/// Destination `i` of `b`'s terminator.
fn dest(f: &Function, b: Block, i: usize) -> Option<BlockCall> {
    let term = f.terminator(b)?;
    match f.dfg.insts.get(term)? {
        InstData::Jump { dest } => (i == 0).then_some(*dest),
        InstData::BrIf {
            then_dest,
            else_dest,
            ..
        } => match i {
            0 => Some(*then_dest),
            1 => Some(*else_dest),
            _ => None,
        },
        InstData::BrTable { table, .. } => {
            let jt = f.dfg.jump_tables.get(*table)?;
            match i.cmp(&jt.targets.len()) {
                std::cmp::Ordering::Less => jt.targets.get(i).copied(),
                std::cmp::Ordering::Equal => Some(jt.default),
                std::cmp::Ordering::Greater => None,
            }
        }
        _ => None,
    }
}

/// Replaces destination `i` of the terminator `term`; a `br_table` gets its own copy of the
/// jump table first (in a vector from `spare` if there is one), unless it already has one
/// of the copies made here (`owned`).
fn set_dest(
    f: &mut Function,
    owned: &mut SecondaryMap<JumpTable, bool>,
    spare: &mut Vec<Vec<BlockCall>>,
    term: Inst,
    i: usize,
    new: BlockCall,
) {
    let Some(data) = f.dfg.insts.get(term).copied() else {
        return;
    };
    match data {
        InstData::Jump { .. } => f.dfg.insts[term] = InstData::Jump { dest: new },
        InstData::BrIf {
            cond,
            then_dest,
            else_dest,
        } => {
            let (t, e) = if i == 0 {
                (new, else_dest)
            } else {
                (then_dest, new)
            };
            f.dfg.insts[term] = InstData::BrIf {
                cond,
                then_dest: t,
                else_dest: e,
            };
        }
        InstData::BrTable { index, table } => {
            let table = if owned[table] {
                table
            } else {
                let Some(jt) = f.dfg.jump_tables.get(table) else {
                    return;
                };
                let mut targets = spare.pop().unwrap_or_default();
                targets.clear();
                targets.extend_from_slice(&jt.targets);
                let default = jt.default;
                let copy = f.dfg.jump_tables.push(JumpTableData { targets, default });
                owned[copy] = true;
                f.dfg.insts[term] = InstData::BrTable { index, table: copy };
                copy
            };
            let jt = &mut f.dfg.jump_tables[table];
            match jt.targets.get_mut(i) {
                Some(t) => *t = new,
                None => jt.default = new,
            }
        }
        _ => {}
    }
}
