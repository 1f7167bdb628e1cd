//! Exact `*` / `?` glob languages: matching, inclusion with witnesses, and the partition of strings into
//! atoms by which patterns match them.
//!
//! A glob is compiled to a linear NFA (one state per token position). Inclusion and atoms are decided on
//! the product of those NFAs, explored breadth-first over an alphabet made of every literal character of
//! the patterns plus one character that none of them uses (all such characters behave alike). This is
//! exact: a product state reached by some string is reached by a string over that alphabet. (`globset`
//! and `wildmatch` only match; neither decides inclusion.)

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: product states are short integer vectors; SipHash's DoS resistance is not needed here.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// One token of a glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tok {
    Lit(char),
    /// `*`: any sequence, including empty.
    Star,
    /// `?`: exactly one character.
    One,
    /// A policy variable (`${aws:username}`, Version 2012-10-17), by the FNV hash of its lowercase name.
    /// It stands for one unknown value per request: only `*` or the same variable is sure to match it
    /// (`?` is not: the value may be longer than one character; a literal is not: the value may differ).
    Var(u64),
}

/// One symbol of the alphabet the product automaton explores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sym {
    Ch(char),
    Var(u64),
    /// A character no pattern uses literally.
    Other,
}

/// A compiled glob pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Glob {
    pub toks: Vec<Tok>,
    /// The written name of each variable token (for renderings and witnesses).
    pub var_names: Vec<(u64, String)>,
}

fn var_id(name: &str) -> u64 {
    let mut h = Fnv::default();
    h.write(name.trim().to_lowercase().as_bytes());
    h.finish()
}

/// Whether `s` (read under Version 2012-10-17) contains a policy variable other than the `${*}`, `${?}`,
/// `${$}` escapes.
pub fn has_variable(s: &str) -> bool {
    s.contains("${")
        && Glob::parse_with(s, true, false)
            .toks
            .iter()
            .any(|t| matches!(t, Tok::Var(_)))
}

/// Rewrites a value written under Version 2008-10-17 (or without Version), where `${...}` is literal text,
/// into the equivalent 2012-10-17 spelling (every `$` becomes the escape `${$}`), so that values of both
/// versions can be compared under one reading.
pub fn as_2012(s: &str) -> String {
    s.replace('$', "${$}")
}

/// Upper bound on explored product states; beyond it the caller must answer "cannot prove".
pub const MAX_STATES: usize = 200_000;

/// Work units one check (one `diff`, one escalation report) may spend: automaton positions stepped,
/// product states stored, cells of the diff's cross product. Counted, not timed, so verdicts are the same
/// on every machine; sized so that every document within AWS's policy size limits is judged within about
/// 50 ms on the reference machine (see `BENCHMARKS.md`).
pub const WORK_UNITS: u64 = 1_000_000;

/// Estimated bytes one product-automaton exploration may hold (states, their index and the BFS tree);
/// keeps the extra memory of a check well under 32 MiB.
pub const MAX_EXPLORATION_BYTES: usize = 12 << 20;

/// A counted budget of work shared by every glob decision of one check (issue 15: complexity budgets).
/// When it runs out, the decision that needed more is left undecided and the caller answers
/// conservatively with a `cannot-prove` reason starting "complexity budget".
#[derive(Debug)]
pub struct Budget {
    units: u64,
    left: Cell<u64>,
    max_bytes: usize,
    exceeded: Cell<Option<&'static str>>,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::new(WORK_UNITS, MAX_EXPLORATION_BYTES)
    }
}

impl Budget {
    /// A budget of `units` work units, each exploration holding at most about `max_bytes`.
    pub fn new(units: u64, max_bytes: usize) -> Budget {
        Budget {
            units,
            left: Cell::new(units),
            max_bytes,
            exceeded: Cell::new(None),
        }
    }

    /// Spends `units`; `false` (and the budget is marked exceeded by `what`) when they are not left.
    pub fn spend(&self, units: u64, what: &'static str) -> bool {
        let left = self.left.get();
        if units > left {
            self.left.set(0);
            self.fail(what);
            return false;
        }
        self.left.set(left - units);
        true
    }

    /// Records that `what` exceeded the budget (the first cause is kept).
    pub fn fail(&self, what: &'static str) {
        if self.exceeded.get().is_none() {
            self.exceeded.set(Some(what));
        }
    }

    /// What exceeded the budget, if anything did.
    pub fn exceeded(&self) -> Option<&'static str> {
        self.exceeded.get()
    }

    /// Work units left.
    pub fn left(&self) -> u64 {
        self.left.get()
    }

    /// The reason text for an exceeded budget (`complexity budget exceeded: ...`).
    pub fn message(&self) -> Option<String> {
        self.exceeded().map(|what| {
            format!(
                "complexity budget exceeded: {what} (limits: {} work units per check, {} MiB per automaton); the answer is the conservative one",
                self.units,
                self.max_bytes >> 20
            )
        })
    }
}

impl Glob {
    /// Compiles `pattern`. With `variables` (policy Version 2012-10-17), `${*}`, `${?}` and `${$}` are the
    /// literal characters `*`, `?`, `$`; other `${...}` variables stay literal text (a variable stands for
    /// one value per request, which only an identical variable is sure to match).
    pub fn parse(pattern: &str, variables: bool) -> Glob {
        Glob::parse_with(pattern, variables, true)
    }

    /// Like [`Glob::parse`]; without `wildcards`, `*` and `?` are literal characters (`StringEquals`).
    /// With `variables`, `${name}` is a [`Tok::Var`] (version doc: under 2012-10-17 `${aws:username}` is a
    /// variable; under 2008-10-17 it is a literal string).
    pub fn parse_with(pattern: &str, variables: bool, wildcards: bool) -> Glob {
        let mut toks = Vec::with_capacity(pattern.len());
        let mut var_names = Vec::new();
        let mut rest = pattern;
        while let Some(c) = rest.chars().next() {
            if variables && rest.starts_with("${") {
                let escaped = [("${*}", '*'), ("${?}", '?'), ("${$}", '$')]
                    .iter()
                    .find(|(e, _)| rest.starts_with(e));
                if let Some((e, lit)) = escaped {
                    toks.push(Tok::Lit(*lit));
                    rest = &rest[e.len()..];
                    continue;
                }
                if let Some(end) = rest.find('}') {
                    let name = &rest[2..end];
                    if !name.is_empty() && !name.contains('{') {
                        let id = var_id(name);
                        toks.push(Tok::Var(id));
                        if !var_names.iter().any(|(k, _)| *k == id) {
                            var_names.push((id, name.to_string()));
                        }
                        rest = &rest[end + 1..];
                        continue;
                    }
                }
            }
            toks.push(match c {
                '*' if wildcards => Tok::Star,
                '?' if wildcards => Tok::One,
                other => Tok::Lit(other),
            });
            rest = &rest[c.len_utf8()..];
        }
        // Collapse runs of `*`.
        toks.dedup_by(|a, b| *a == Tok::Star && *b == Tok::Star);
        Glob { toks, var_names }
    }

    /// Whether some string of the language starts with `prefix` (exact: the NFA's position set after
    /// reading `prefix` is not empty; from every position some string reaches the end, a variable token
    /// being matched by its own symbol).
    pub fn may_start_with(&self, prefix: &str) -> bool {
        let mut pos = vec![0u32];
        closure_positions(&self.toks, &mut pos);
        for c in prefix.chars() {
            let mut next = Vec::with_capacity(pos.len());
            for &p in &pos {
                match self.toks.get(p as usize) {
                    Some(Tok::Star) => next.push(p),
                    Some(Tok::One) => next.push(p + 1),
                    Some(Tok::Lit(l)) if *l == c => next.push(p + 1),
                    _ => {}
                }
            }
            if next.is_empty() {
                return false;
            }
            closure_positions(&self.toks, &mut next);
            pos = next;
        }
        true
    }

    /// Whether the pattern contains a policy variable.
    pub fn has_var(&self) -> bool {
        self.toks.iter().any(|t| matches!(t, Tok::Var(_)))
    }

    fn var_name(&self, id: u64) -> &str {
        self.var_names
            .iter()
            .find(|(k, _)| *k == id)
            .map_or("?", |(_, n)| n.as_str())
    }

    /// A glob matching exactly `s`.
    pub fn literal(s: &str) -> Glob {
        Glob {
            toks: s.chars().map(Tok::Lit).collect(),
            var_names: Vec::new(),
        }
    }

    /// Whether the pattern has no wildcard.
    pub fn is_literal(&self) -> bool {
        self.toks.iter().all(|t| matches!(t, Tok::Lit(_)))
    }

    /// Whether the pattern matches every string.
    pub fn is_universal(&self) -> bool {
        self.toks == [Tok::Star]
    }

    /// The text this pattern matches when it has no wildcard.
    pub fn literal_text(&self) -> Option<String> {
        self.toks
            .iter()
            .map(|t| match t {
                Tok::Lit(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// The pattern written out with `*` and `?` as characters: a readable string the pattern matches.
    pub fn rendering(&self) -> String {
        let mut out = String::new();
        for t in &self.toks {
            match t {
                Tok::Lit(c) => out.push(*c),
                Tok::Star => out.push('*'),
                Tok::One => out.push('?'),
                Tok::Var(id) => {
                    out.push_str("${");
                    out.push_str(self.var_name(*id));
                    out.push('}');
                }
            }
        }
        out
    }

    /// Whether the concrete string `s` is in the language (a variable token matches no concrete text: its
    /// value is unknown). Greedy matching with backtracking to the last `*` (correct for
    /// `*`/`?` globs, no allocation).
    pub fn matches(&self, s: &str) -> bool {
        let p = &self.toks;
        let (mut pi, mut si) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        loop {
            match s[si..].chars().next() {
                Some(c) => {
                    match p.get(pi) {
                        Some(Tok::Star) => {
                            star = Some((pi, si));
                            pi += 1;
                            continue;
                        }
                        Some(Tok::One) => {
                            pi += 1;
                            si += c.len_utf8();
                            continue;
                        }
                        Some(Tok::Lit(l)) if *l == c => {
                            pi += 1;
                            si += c.len_utf8();
                            continue;
                        }
                        _ => {}
                    }
                    // Mismatch: let the last `*` absorb one more character.
                    let Some((sp, ss)) = star else { return false };
                    let Some(skipped) = s[ss..].chars().next() else {
                        return false;
                    };
                    let next = ss + skipped.len_utf8();
                    star = Some((sp, next));
                    pi = sp + 1;
                    si = next;
                }
                None => {
                    while p.get(pi) == Some(&Tok::Star) {
                        pi += 1;
                    }
                    return pi == p.len();
                }
            }
        }
    }
}

/// Product state: for each live pattern, its sorted NFA positions. Encoded flat as
/// `[pattern, count, positions...]*` so it can be hashed.
type State = Vec<u32>;

fn closure_positions(toks: &[Tok], positions: &mut Vec<u32>) {
    let mut i = 0;
    while i < positions.len() {
        let p = positions[i] as usize;
        if p < toks.len() && toks[p] == Tok::Star && !positions.contains(&(p as u32 + 1)) {
            positions.push(p as u32 + 1);
        }
        i += 1;
    }
    positions.sort_unstable();
    positions.dedup();
}

fn start_state(globs: &[&Glob]) -> State {
    let mut st = Vec::new();
    for (k, g) in globs.iter().enumerate() {
        let mut pos = vec![0u32];
        closure_positions(&g.toks, &mut pos);
        st.push(k as u32);
        st.push(pos.len() as u32);
        st.extend(pos);
    }
    st
}

fn step(globs: &[&Glob], st: &State, c: Sym) -> State {
    let mut out = Vec::new();
    let mut i = 0;
    let mut pos = Vec::new();
    while i < st.len() {
        let k = st[i] as usize;
        let n = st[i + 1] as usize;
        let toks = &globs[k].toks;
        pos.clear();
        for &p in &st[i + 2..i + 2 + n] {
            let p = p as usize;
            match toks.get(p) {
                Some(Tok::Star) => pos.push(p as u32),
                Some(Tok::One) if !matches!(c, Sym::Var(_)) => pos.push(p as u32 + 1),
                Some(Tok::Lit(l)) if Sym::Ch(*l) == c => pos.push(p as u32 + 1),
                Some(Tok::Var(v)) if Sym::Var(*v) == c => pos.push(p as u32 + 1),
                _ => {}
            }
        }
        if !pos.is_empty() {
            closure_positions(toks, &mut pos);
            out.push(k as u32);
            out.push(pos.len() as u32);
            out.extend(pos.iter().copied());
        }
        i += 2 + n;
    }
    out
}

/// Which patterns accept in state `st` (bit `k` set for pattern `k`).
fn accepting(globs: &[&Glob], st: &State, words: usize) -> Vec<u64> {
    let mut sig = vec![0u64; words];
    let mut i = 0;
    while i < st.len() {
        let k = st[i] as usize;
        let n = st[i + 1] as usize;
        if st[i + 2..i + 2 + n].contains(&(globs[k].toks.len() as u32)) {
            sig[k / 64] |= 1 << (k % 64);
        }
        i += 2 + n;
    }
    sig
}

/// The characters and variables a live pattern can consume literally next.
fn next_chars(globs: &[&Glob], st: &State, out: &mut Vec<Sym>) {
    out.clear();
    let mut i = 0;
    while i < st.len() {
        let k = st[i] as usize;
        let n = st[i + 1] as usize;
        for &p in &st[i + 2..i + 2 + n] {
            match globs[k].toks.get(p as usize) {
                Some(Tok::Lit(c)) => out.push(Sym::Ch(*c)),
                Some(Tok::Var(v)) => out.push(Sym::Var(*v)),
                _ => {}
            }
        }
        i += 2 + n;
    }
    out.sort_unstable_by_key(|s| match s {
        Sym::Ch(c) => (0, u64::from(*c)),
        Sym::Var(v) => (1, *v),
        Sym::Other => (2, 0),
    });
    out.dedup();
}

/// A character no pattern uses literally (stands for all such characters).
fn other_char(globs: &[&Glob]) -> char {
    let used = |c: char| globs.iter().any(|g| g.toks.contains(&Tok::Lit(c)));
    ['x', 'z', 'q', '0', '_', '~', '#']
        .into_iter()
        .chain(('\u{100}'..='\u{2FF}').filter(|c| !c.is_whitespace()))
        .find(|c| !used(*c))
        .unwrap_or('\u{10FFFF}')
}

/// One atom of the partition of all strings by the patterns that match them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    /// Bit `k` is set when pattern `k` matches the atom's strings.
    pub signature: Vec<u64>,
    /// A shortest string of the atom (readable renderings of the patterns are preferred when they fall in
    /// the atom).
    pub witness: String,
}

/// Partitions all strings by which of `globs` match them; returns every non-empty class with a witness,
/// or `None` when the exploration exceeds [`MAX_STATES`] or the default [`Budget`].
pub fn atoms(globs: &[&Glob]) -> Option<Vec<Atom>> {
    atoms_within(globs, &Budget::default())
}

/// Estimated bytes held per stored product state besides its positions (index entry, BFS node).
const STATE_OVERHEAD: usize = 128;

/// Work units of one transition of the product automaton (allocation, hashing, lookup) besides its
/// positions, and of storing one new state. Work units are calibrated to a few nanoseconds each.
const STEP_COST: u64 = 24;
const STATE_COST: u64 = 48;

/// [`atoms`] within `budget`: `None` (and the budget marked exceeded) when the exploration needs more
/// states, memory or work than it allows.
pub fn atoms_within(globs: &[&Glob], budget: &Budget) -> Option<Vec<Atom>> {
    let words = globs.len().div_ceil(64).max(1);
    let other = other_char(globs);
    let mut seen: FastMap<State, usize> = FastMap::default();
    // (state, parent index, symbol)
    let mut nodes: Vec<(State, usize, Sym)> = Vec::new();
    let mut found: FastMap<Vec<u64>, usize> = FastMap::default();
    let start = start_state(globs);
    let mut held = STATE_OVERHEAD + 8 * start.len();
    seen.insert(start.clone(), 0);
    nodes.push((start, usize::MAX, Sym::Other));
    let mut queue = VecDeque::from([0usize]);
    let mut chars = Vec::new();
    while let Some(idx) = queue.pop_front() {
        // The state is only needed here (`seen` keeps its own copy).
        let st = std::mem::take(&mut nodes[idx].0);
        found.entry(accepting(globs, &st, words)).or_insert(idx);
        if st.is_empty() {
            continue; // dead state: only the empty signature, already recorded
        }
        next_chars(globs, &st, &mut chars);
        // One transition per symbol: a new position vector, hashed and looked up.
        if !budget.spend(
            (chars.len() as u64 + 1) * (STEP_COST + 2 * st.len() as u64),
            "the product automaton of the patterns needs too many steps",
        ) {
            return None;
        }
        for c in chars.iter().copied().chain([Sym::Other]) {
            let nx = step(globs, &st, c);
            if !seen.contains_key(&nx) {
                held += STATE_OVERHEAD + 8 * nx.len();
                if !budget.spend(
                    STATE_COST + nx.len() as u64,
                    "the product automaton of the patterns needs too many states",
                ) {
                    return None;
                }
                if nodes.len() >= MAX_STATES || held > budget.max_bytes {
                    budget.fail("the product automaton of the patterns needs too many states");
                    return None;
                }
                seen.insert(nx.clone(), nodes.len());
                nodes.push((nx, idx, c));
                queue.push_back(nodes.len() - 1);
            }
        }
    }
    let name = |v: u64| {
        globs
            .iter()
            .find_map(|g| g.var_names.iter().find(|(k, _)| *k == v).map(|(_, n)| n.as_str()))
            .unwrap_or("?")
    };
    let path = |mut i: usize| {
        let mut syms = Vec::new();
        while i != 0 && i != usize::MAX {
            syms.push(nodes[i].2);
            i = nodes[i].1;
        }
        let mut s = String::new();
        for sym in syms.into_iter().rev() {
            match sym {
                Sym::Ch(c) => s.push(c),
                Sym::Other => s.push(other),
                Sym::Var(v) => {
                    s.push_str("${");
                    s.push_str(name(v));
                    s.push('}');
                }
            }
        }
        s
    };
    let mut out: Vec<Atom> = found
        .into_iter()
        .map(|(signature, idx)| Atom {
            signature,
            witness: path(idx),
        })
        .collect();
    // Prefer readable witnesses: a pattern's own rendering, when it lies in the atom (only without
    // variables: a rendered variable is not the concrete text the matcher would see).
    let any_var = globs.iter().any(|g| g.has_var());
    for g in globs.iter().filter(|_| !any_var) {
        let r = g.rendering();
        let mut sig = vec![0u64; words];
        for (k, h) in globs.iter().enumerate() {
            if h.matches(&r) {
                sig[k / 64] |= 1 << (k % 64);
            }
        }
        if let Some(a) = out.iter_mut().find(|a| a.signature == sig) {
            if a.witness.is_empty() || !globs.iter().any(|h| h.rendering() == a.witness) {
                a.witness = r;
            }
        }
    }
    out.sort_by(|a, b| a.witness.cmp(&b.witness));
    Some(out)
}

/// Whether `L(p) ⊆ L(q1) ∪ ... ∪ L(qn)`. `Ok(None)` when included, `Ok(Some(witness))` with a string of
/// `p` matched by none of `qs` otherwise, `Err(())` when the exploration exceeds [`MAX_STATES`] or the
/// default [`Budget`].
#[allow(clippy::result_unit_err)]
pub fn uncovered(p: &Glob, qs: &[&Glob]) -> Result<Option<String>, ()> {
    uncovered_within(p, qs, &Budget::default())
}

/// [`uncovered`] within `budget`. Cheap exact steps first: `p` equal to one of `qs`, or one of `qs` is
/// `*`, is included without automaton work; a literal `p` is decided by matching.
#[allow(clippy::result_unit_err)]
pub fn uncovered_within(p: &Glob, qs: &[&Glob], budget: &Budget) -> Result<Option<String>, ()> {
    if qs.iter().any(|q| q.toks == p.toks || q.is_universal()) {
        return Ok(None);
    }
    if let Some(text) = p.literal_text() {
        let cost: u64 = qs
            .iter()
            .map(|q| 8 + (q.toks.len() * text.len().max(1)) as u64)
            .sum();
        if !budget.spend(cost, "matching the patterns needs too many steps") {
            return Err(());
        }
        return Ok((!qs.iter().any(|q| q.matches(&text))).then_some(text));
    }
    let mut all: Vec<&Glob> = vec![p];
    all.extend_from_slice(qs);
    let atoms = atoms_within(&all, budget).ok_or(())?;
    Ok(atoms
        .into_iter()
        .find(|a| {
            a.signature[0] & 1 == 1
                && a.signature.iter().enumerate().all(|(w, bits)| {
                    let mask = if w == 0 { !1u64 } else { !0u64 };
                    bits & mask == 0
                })
        })
        .map(|a| a.witness))
}

/// Whether some string (symbolic: a variable is a symbol only `*` or the same variable matches) is in both
/// languages. Exact and polynomial: reachability on the product of the two NFAs (`|a| × |b|` states, no
/// subset construction). `None` when `budget` runs out.
pub fn intersects_within(a: &Glob, b: &Glob, budget: &Budget) -> Option<bool> {
    let (x, y) = (&a.toks, &b.toks);
    let (n, m) = (x.len() + 1, y.len() + 1);
    if !budget.spend((n * m) as u64, "intersecting the patterns needs too many steps") {
        return None;
    }
    let one = |t: &Tok, u: &Tok| match (t, u) {
        (Tok::One, Tok::One) | (Tok::One, Tok::Lit(_)) | (Tok::Lit(_), Tok::One) => true,
        (Tok::Lit(c), Tok::Lit(d)) => c == d,
        (Tok::Var(v), Tok::Var(w)) => v == w,
        _ => false,
    };
    let mut seen = vec![false; n * m];
    let mut stack = vec![(0usize, 0usize)];
    seen[0] = true;
    while let Some((i, j)) = stack.pop() {
        if i == x.len() && j == y.len() {
            return Some(true);
        }
        let (ti, tj) = (x.get(i), y.get(j));
        let mut next: [Option<(usize, usize)>; 3] = [None; 3];
        match (ti, tj) {
            // A `*` may match nothing, or absorb a symbol the other side consumes.
            (Some(Tok::Star), Some(Tok::Star)) => {
                next = [Some((i + 1, j)), Some((i, j + 1)), None];
            }
            (Some(Tok::Star), Some(_)) => next = [Some((i + 1, j)), Some((i, j + 1)), None],
            (Some(_), Some(Tok::Star)) => next = [Some((i, j + 1)), Some((i + 1, j)), None],
            (Some(Tok::Star), None) => next[0] = Some((i + 1, j)),
            (None, Some(Tok::Star)) => next[0] = Some((i, j + 1)),
            (Some(t), Some(u)) if one(t, u) => next[0] = Some((i + 1, j + 1)),
            _ => {}
        }
        for (i2, j2) in next.into_iter().flatten() {
            if !seen[i2 * m + j2] {
                seen[i2 * m + j2] = true;
                stack.push((i2, j2));
            }
        }
    }
    Some(false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn g(s: &str) -> Glob {
        Glob::parse(s, true)
    }

    #[test]
    fn matching() {
        let cases = [
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", true),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::c/x", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*", "", true),
            ("a*b*c", "aXbYbc", true),
            ("${*}", "*", true),
            ("${*}", "x", false),
        ];
        for (p, s, m) in cases {
            assert_eq!(g(p).matches(s), m, "{p} ~ {s}");
        }
    }

    /// Reference matcher (dynamic programming) for the greedy one.
    fn dp(p: &[Tok], s: &[char]) -> bool {
        let mut m = vec![vec![false; s.len() + 1]; p.len() + 1];
        m[p.len()][s.len()] = true;
        for i in (0..p.len()).rev() {
            for j in (0..=s.len()).rev() {
                m[i][j] = match p[i] {
                    Tok::Star => m[i + 1][j] || (j < s.len() && m[i][j + 1]),
                    Tok::One => j < s.len() && m[i + 1][j + 1],
                    Tok::Lit(c) => j < s.len() && s[j] == c && m[i + 1][j + 1],
                    Tok::Var(_) => false,
                };
            }
        }
        m[0][0]
    }

    #[test]
    fn greedy_matcher_agrees_with_reference() {
        let alphabet = ['a', 'b', '*', '?'];
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for _ in 0..5000 {
            let plen = next(7);
            let pat: String = (0..plen).map(|_| alphabet[next(4)]).collect();
            let slen = next(7);
            let s: String = (0..slen).map(|_| alphabet[next(2)]).collect();
            let g = Glob::parse(&pat, false);
            let chars: Vec<char> = s.chars().collect();
            assert_eq!(g.matches(&s), dp(&g.toks, &chars), "{pat} ~ {s}");
        }
    }

    /// The polynomial procedures (product-NFA intersection, prefix test, cheap inclusion steps) agree with
    /// the partition into atoms on random patterns.
    #[test]
    fn cheap_procedures_agree_with_atoms() {
        let alphabet = ['a', 'b', '*', '?'];
        let mut seed = 11u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for _ in 0..3000 {
            let mut pat = || -> String { (0..next(7)).map(|_| alphabet[next(4)]).collect() };
            let (x, y) = (Glob::parse(&pat(), false), Glob::parse(&pat(), false));
            let atoms = atoms(&[&x, &y]).unwrap();
            let both = atoms.iter().any(|a| a.signature[0] & 0b11 == 0b11);
            let b = Budget::default();
            assert_eq!(intersects_within(&x, &y, &b), Some(both), "{x:?} & {y:?}");
            let prefix: String = (0..next(4)).map(|_| alphabet[next(2)]).collect();
            let pre = Glob::parse(&format!("{prefix}*"), false);
            let atoms = super::atoms(&[&x, &pre]).unwrap();
            let starts = atoms.iter().any(|a| a.signature[0] & 0b11 == 0b11);
            assert_eq!(x.may_start_with(&prefix), starts, "{x:?} starts with {prefix}");
            // Inclusion with the cheap steps equals inclusion on the automaton.
            let with_steps = uncovered(&x, &[&y]).unwrap().is_none();
            let all = super::atoms(&[&x, &y]).unwrap();
            let exact = !all.iter().any(|a| a.signature[0] & 0b11 == 0b01);
            assert_eq!(with_steps, exact, "{x:?} in {y:?}");
        }
        // Variables: only `*` or the same variable meets a variable.
        let b = Budget::default();
        assert_eq!(
            intersects_within(&g("x${aws:username}"), &g("x*"), &b),
            Some(true)
        );
        assert_eq!(
            intersects_within(&g("x${aws:username}"), &g("x?"), &b),
            Some(false)
        );
        assert_eq!(
            intersects_within(&g("x${aws:username}"), &g("x${aws:userid}"), &b),
            Some(false)
        );
    }

    #[test]
    fn an_exhausted_budget_leaves_the_question_open() {
        let b = Budget::new(5, 1 << 20);
        let (p, q) = (g("a*b?*a*b??*"), g("*a?b*"));
        assert_eq!(uncovered_within(&p, &[&q], &b), Err(()));
        assert!(b.message().unwrap().starts_with("complexity budget exceeded: "));
        // Cheap exact steps need no budget.
        let none = Budget::new(0, 0);
        assert_eq!(uncovered_within(&p, &[&p], &none), Ok(None));
        assert_eq!(uncovered_within(&p, &[&g("*")], &none), Ok(None));
    }

    #[test]
    fn inclusion() {
        // (p, qs, included)
        let cases: Vec<(&str, Vec<&str>, bool)> = vec![
            ("arn:aws:s3:::b/a*", vec!["arn:aws:s3:::b/*"], true),
            ("arn:aws:s3:::b/*", vec!["arn:aws:s3:::b/a*"], false),
            (
                "arn:aws:s3:::b/*",
                vec!["arn:aws:s3:::b/a*", "arn:aws:s3:::b/"],
                false,
            ),
            ("a*", vec!["a", "a?*"], true),
            ("??", vec!["a?", "?b"], false),
            ("*", vec!["?*"], false),
            ("*", vec!["", "?*"], true),
            ("a*b", vec!["a*"], true),
            ("x${aws:username}", vec!["x*"], true),
            ("x*", vec!["x${aws:username}"], false),
            // A variable is matched by `*` or the same variable only: not by `?`, not by a literal.
            ("x${aws:username}", vec!["x?"], false),
            ("x${aws:username}", vec!["x${aws:userid}"], false),
            ("x${aws:username}y", vec!["x${AWS:UserName}*"], true),
        ];
        for (p, qs, inc) in cases {
            let qs: Vec<Glob> = qs.into_iter().map(g).collect();
            let refs: Vec<&Glob> = qs.iter().collect();
            let r = uncovered(&g(p), &refs).unwrap();
            assert_eq!(r.is_none(), inc, "{p} in {qs:?}: {r:?}");
            // A witness with a variable is symbolic (the matcher sees only concrete strings).
            if let Some(w) = r.filter(|_| !g(p).has_var()) {
                assert!(
                    g(p).matches(&w) && !qs.iter().any(|q| q.matches(&w)),
                    "bad witness {w}"
                );
            }
        }
    }
}
