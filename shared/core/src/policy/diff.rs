//! "No new access": does `new` allow any request that `old` does not?
//!
//! IAM evaluation (reference_policies_evaluation-logic.html): a request is denied by default, allowed
//! when some `Allow` statement matches it with all its conditions true, and denied whenever a matching
//! `Deny` has all its conditions true. A request is a (principal, action, resource, context) tuple.
//!
//! Method. Each of the three named dimensions is partitioned into *atoms*: classes of values that every
//! statement either wholly contains or wholly excludes.
//! - Actions are a finite set: the IAM action catalog ([`super::actions`]) plus every literal action the
//!   two policies name (unknown actions are literal names) plus, for wildcard patterns of services absent
//!   from the catalog, sample instantiations. Wildcard patterns expand against that set, so `s3:Get*`
//!   equals the explicit list of the catalog's `s3:Get...` actions.
//! - Resources and principals are glob languages (`*`, `?`), partitioned exactly by the automaton of
//!   [`super::glob`]. Resources are case-sensitive; actions are compared lowercase.
//! - Policy variables (reference_policies_elements_version.html): under Version 2012-10-17 `${aws:username}`
//!   is a variable, a symbol that only `*` or the same variable matches (one unknown value per request);
//!   under 2008-10-17 or without Version it is literal text. Both versions are read in one spelling (the
//!   2008 `$` becomes the 2012 escape `${$}`), so a Version change that turns text into a variable is a
//!   change of language. See `DimAtom` for how old `Deny` and `NotResource` statements stay sound.
//!
//! For every cell (principal atom × action atom × resource atom) that some new `Allow` covers, the
//! context (conditions) is reasoned about symbolically: each statement's `Condition` block is a
//! conjunction of atomic conditions, and the engine proves, for every new `Allow` `s` in the cell that no
//! new `Deny` certainly overrides, that (1) some old `Allow` `o` has conditions implied by `s`'s, and (2)
//! every old `Deny` `d` in the cell is either implied by a new `Deny` or contradicts `s`. Implication and
//! contradiction are decided per atomic condition for the operators whose meaning is known (string, ARN,
//! IP, numeric and date as parsed ranges, boolean, `Null`, with `IfExists` and set prefixes). Whenever the
//! proof fails the answer is "widened". The reason names a definite cause (`new-allow`,
//! `condition-not-implied`, `deny-removed`) only when the widening is certain; otherwise (an unknown
//! operator, an operator pair the engine does not relate, an exploration limit) it is `cannot-prove`.

use std::collections::{BTreeSet, HashMap};

use ipnet::IpNet;
use serde::Serialize;

use super::actions::catalog;
use super::glob::{self, Budget, Glob};
use super::grammar::{
    Condition, Effect, NameBlock, Operator, Policy, PrincipalType, Principals, SetOp, Statement,
};
use super::public::Reason;

/// One (principal, action, resource) the new policy allows and the old one does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    pub action: String,
    pub resource: String,
    /// Present when either policy has a `Principal` (resource and trust policies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The new statement granting it (`Sid` or `#<index>`).
    pub statement: String,
}

/// The diff verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// `true` when `new` allows some request `old` does not, or when that cannot be ruled out.
    pub widened: bool,
    /// A few witnesses (at most [`MAX_WITNESSES`]).
    pub new_access: Vec<Access>,
    pub reasons: Vec<Reason>,
}

/// Most witnesses reported.
pub const MAX_WITNESSES: usize = 10;

// ---------------------------------------------------------------------------------------------------
// Bit sets over statements.

type Bits = Vec<u64>;

fn set_bit(b: &mut Bits, i: usize) {
    b[i / 64] |= 1 << (i % 64);
}

fn has_bit(b: &[u64], i: usize) -> bool {
    b[i / 64] >> (i % 64) & 1 == 1
}

fn and(a: &[u64], b: &[u64]) -> Bits {
    a.iter().zip(b).map(|(x, y)| x & y).collect()
}

fn intersects(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).any(|(x, y)| x & y != 0)
}

fn members(b: &[u64]) -> impl Iterator<Item = usize> + '_ {
    b.iter().enumerate().flat_map(|(w, &bits)| {
        (0..64)
            .filter(move |k| bits >> k & 1 == 1)
            .map(move |k| w * 64 + k)
    })
}

// ---------------------------------------------------------------------------------------------------
// Conditions.

/// A normalized atomic condition.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Atomic {
    set: SetOp,
    op: Operator,
    if_exists: bool,
    key: String,
    values: Vec<String>,
    /// Whether `${...}` is read as a variable; always `true` after [`normalize`] (values are rewritten to
    /// the 2012-10-17 spelling).
    vars: bool,
    /// The operator as written, for reasons.
    written: String,
}

fn normalize(c: &Condition, vars: bool) -> Atomic {
    let ignore_case = matches!(
        c.op,
        Operator::StringEqualsIgnoreCase | Operator::StringNotEqualsIgnoreCase
    ) || (c.op == Operator::Bool);
    // Values are compared under one reading: a 2008-10-17 value's literal `${...}` text is rewritten to
    // its 2012-10-17 escape, so it never equals a variable of the same name.
    let mut values: Vec<String> = c
        .values
        .iter()
        .map(|v| if vars { v.clone() } else { glob::as_2012(v) })
        .map(|v| if ignore_case { v.to_lowercase() } else { v })
        .collect();
    values.sort();
    values.dedup();
    Atomic {
        set: c.set,
        op: c.op,
        if_exists: c.if_exists,
        key: c.key.clone(),
        values,
        vars: true,
        written: c.operator.clone(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fam {
    StrPos,
    StrNeg,
    IcPos,
    IcNeg,
    ArnPos,
    ArnNeg,
    IpPos,
    IpNeg,
    NumEq,
    NumNe,
    NumLt,
    NumLe,
    NumGt,
    NumGe,
    Eq, // Bool, BinaryEquals: value-set membership compared as text
    /// DateEquals, DateLessThan(Equals), DateGreaterThan(Equals): compared as instants.
    DatePos,
    /// DateNotEquals (true when the key is absent).
    DateNe,
    Null,
    Opaque, // unknown operators: only identical conditions are related
}

fn fam(op: Operator) -> Fam {
    use Operator as O;
    match op {
        O::StringEquals | O::StringLike => Fam::StrPos,
        O::StringNotEquals | O::StringNotLike => Fam::StrNeg,
        O::StringEqualsIgnoreCase => Fam::IcPos,
        O::StringNotEqualsIgnoreCase => Fam::IcNeg,
        O::ArnEquals | O::ArnLike => Fam::ArnPos,
        O::ArnNotEquals | O::ArnNotLike => Fam::ArnNeg,
        O::IpAddress => Fam::IpPos,
        O::NotIpAddress => Fam::IpNeg,
        O::NumericEquals => Fam::NumEq,
        O::NumericNotEquals => Fam::NumNe,
        O::NumericLessThan => Fam::NumLt,
        O::NumericLessThanEquals => Fam::NumLe,
        O::NumericGreaterThan => Fam::NumGt,
        O::NumericGreaterThanEquals => Fam::NumGe,
        O::Bool | O::BinaryEquals => Fam::Eq,
        O::DateEquals
        | O::DateLessThan
        | O::DateLessThanEquals
        | O::DateGreaterThan
        | O::DateGreaterThanEquals => Fam::DatePos,
        O::DateNotEquals => Fam::DateNe,
        O::Null => Fam::Null,
        O::Unknown => Fam::Opaque,
    }
}

/// The comparison of a numeric or date operator
/// (reference_policies_elements_condition_operators.html, "Numeric" and "Date condition operators").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// A date value as seconds since the epoch: ISO 8601 (RFC 3339 date-time, or a date alone, read as
/// midnight UTC) or epoch (UNIX) seconds, the two forms the Date operators accept.
fn parse_date(v: &str) -> Option<f64> {
    use time::format_description::well_known::Rfc3339;
    let v = v.trim();
    if let Ok(n) = v.parse::<f64>() {
        return n.is_finite().then_some(n);
    }
    if let Ok(t) = time::OffsetDateTime::parse(v, &Rfc3339) {
        return Some(t.unix_timestamp() as f64 + f64::from(t.nanosecond()) / 1e9);
    }
    let d = time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp() as f64)
}

/// `(is a date, comparison, parsed values)` of a numeric or date condition whose values all parse.
fn ordered(a: &Atomic) -> Option<(bool, Cmp, Vec<f64>)> {
    use Operator as O;
    let (date, cmp) = match a.op {
        O::NumericLessThan => (false, Cmp::Lt),
        O::NumericLessThanEquals => (false, Cmp::Le),
        O::NumericGreaterThan => (false, Cmp::Gt),
        O::NumericGreaterThanEquals => (false, Cmp::Ge),
        O::NumericEquals => (false, Cmp::Eq),
        O::NumericNotEquals => (false, Cmp::Ne),
        O::DateLessThan => (true, Cmp::Lt),
        O::DateLessThanEquals => (true, Cmp::Le),
        O::DateGreaterThan => (true, Cmp::Gt),
        O::DateGreaterThanEquals => (true, Cmp::Ge),
        O::DateEquals => (true, Cmp::Eq),
        O::DateNotEquals => (true, Cmp::Ne),
        _ => return None,
    };
    let values: Option<Vec<f64>> = a
        .values
        .iter()
        .map(|v| {
            if date {
                parse_date(v)
            } else {
                v.trim().parse::<f64>().ok().filter(|n| n.is_finite())
            }
        })
        .collect();
    values.filter(|v| !v.is_empty()).map(|v| (date, cmp, v))
}

/// The set of values an ordered condition accepts (several values: any of them for the positive
/// operators, none of them for `NotEquals`). Bounds are `(value, inclusive)`; numbers are treated as
/// reals, so an inclusion found also holds for integers.
enum Range {
    Interval {
        lo: Option<(f64, bool)>,
        hi: Option<(f64, bool)>,
    },
    Points(Vec<f64>),
    AllBut(Vec<f64>),
}

fn range(cmp: Cmp, v: Vec<f64>) -> Range {
    let (mx, mn) = (max(&v), min(&v));
    match cmp {
        Cmp::Lt => Range::Interval {
            lo: None,
            hi: Some((mx, false)),
        },
        Cmp::Le => Range::Interval {
            lo: None,
            hi: Some((mx, true)),
        },
        Cmp::Gt => Range::Interval {
            lo: Some((mn, false)),
            hi: None,
        },
        Cmp::Ge => Range::Interval {
            lo: Some((mn, true)),
            hi: None,
        },
        Cmp::Eq => Range::Points(v),
        Cmp::Ne => Range::AllBut(v),
    }
}

fn range_contains(r: &Range, x: f64) -> bool {
    match r {
        Range::Interval { lo, hi } => {
            lo.is_none_or(|(l, inc)| x > l || (inc && x == l))
                && hi.is_none_or(|(h, inc)| x < h || (inc && x == h))
        }
        Range::Points(p) => p.contains(&x),
        Range::AllBut(p) => !p.contains(&x),
    }
}

/// `a ⊆ b` for ordered conditions.
fn range_subset(a: &Range, b: &Range) -> bool {
    match (a, b) {
        (Range::Points(p), _) => p.iter().all(|&x| range_contains(b, x)),
        (Range::Interval { lo: la, hi: ha }, Range::Interval { lo: lb, hi: hb }) => {
            let hi_ok = match (ha, hb) {
                (_, None) => true,
                (None, Some(_)) => false,
                (Some((x, ix)), Some((y, iy))) => x < y || (x == y && (*iy || !*ix)),
            };
            let lo_ok = match (la, lb) {
                (_, None) => true,
                (None, Some(_)) => false,
                (Some((x, ix)), Some((y, iy))) => x > y || (x == y && (*iy || !*ix)),
            };
            hi_ok && lo_ok
        }
        (Range::Interval { .. }, Range::AllBut(p)) => p.iter().all(|&x| !range_contains(a, x)),
        (Range::AllBut(pa), Range::AllBut(pb)) => pb.iter().all(|x| pa.contains(x)),
        _ => false,
    }
}

/// Implication between numeric or date conditions of one kind (`None` when either is not one, or a
/// value does not parse). `NotEquals` is true when the key is absent (like every negated operator), the
/// others false; so a `NotEquals` never implies a positive operator, which the ranges already ensure.
fn ordered_implies(a: &Atomic, b: &Atomic) -> Option<bool> {
    let (da, ca, va) = ordered(a)?;
    let (db, cb, vb) = ordered(b)?;
    (da == db).then(|| range_subset(&range(ca, va), &range(cb, vb)))
}

/// Whether the condition is true when its key is absent from the request: `...IfExists`, the negated
/// operators, `Null: true` and `ForAllValues` (reference_policies_elements_condition_operators.html;
/// ForAllValues "also returns true if there are no context keys in the request").
fn true_when_absent(b: &Atomic) -> bool {
    b.if_exists
        || b.set == SetOp::ForAllValues
        || (b.set == SetOp::None
            && matches!(
                fam(b.op),
                Fam::StrNeg | Fam::IcNeg | Fam::ArnNeg | Fam::IpNeg | Fam::NumNe | Fam::DateNe
            ))
        || (fam(b.op) == Fam::Null && b.values.iter().all(|v| v.eq_ignore_ascii_case("true")))
}

/// Whether the operator is false when the key is absent (a positive match; the negated operators are
/// true then). `IfExists` and `Null` are the caller's to weigh.
fn false_without_key(x: &Atomic) -> bool {
    matches!(
        fam(x.op),
        Fam::StrPos
            | Fam::IcPos
            | Fam::ArnPos
            | Fam::IpPos
            | Fam::NumEq
            | Fam::NumLt
            | Fam::NumLe
            | Fam::NumGt
            | Fam::NumGe
            | Fam::Eq
            | Fam::DatePos
    )
}

/// Whether the condition is false when its key is absent (it requires the key).
fn requires_key(x: &Atomic) -> bool {
    (!x.if_exists && x.set == SetOp::None && false_without_key(x))
        || (fam(x.op) == Fam::Null && x.values.iter().all(|v| v.eq_ignore_ascii_case("false")))
}

/// The string languages of a condition's values (`StringEquals` values are literal; `Like` and `Arn`
/// operators take `*` / `?`).
fn langs(a: &Atomic) -> Vec<Glob> {
    let wild = matches!(
        a.op,
        Operator::StringLike
            | Operator::StringNotLike
            | Operator::ArnEquals
            | Operator::ArnLike
            | Operator::ArnNotEquals
            | Operator::ArnNotLike
    );
    a.values
        .iter()
        .map(|v| Glob::parse_with(v, a.vars, wild))
        .collect()
}

/// Every language of `xs` is inside the union of `ys` (`false` when undecided). Variables are symbols that
/// only `*` or the same variable matches, so an inclusion found holds for every value of the variables.
fn lang_subset(xs: &[Glob], ys: &[Glob], bud: &Budget) -> bool {
    let refs: Vec<&Glob> = ys.iter().collect();
    xs.iter().all(|x| {
        if let Some(t) = x.literal_text() {
            return ys.iter().any(|y| y.matches(&t));
        }
        matches!(glob::uncovered_within(x, &refs, bud), Ok(None))
    })
}

/// ARN operators compare each of the six colon-separated components separately
/// (reference_policies_elements_condition_operators.html, ARN condition operators). Every value of `xs`
/// must fit, component by component, inside one value of `ys`; values with fewer than six components
/// never fit (sound: the answer is only "yes" when it is certain).
fn arn_subset(xs: &Atomic, ys: &Atomic, bud: &Budget) -> bool {
    let split = |v: &str, vars: bool| -> Option<Vec<Glob>> {
        let parts: Vec<&str> = v.splitn(6, ':').collect();
        (parts.len() == 6).then(|| parts.iter().map(|p| Glob::parse(p, vars)).collect())
    };
    xs.values.iter().all(|x| {
        // A variable's name contains `:`, so splitting would cut it: only the identical value is sure to fit.
        if (xs.vars && glob::has_variable(x)) || ys.values.iter().any(|y| ys.vars && glob::has_variable(y)) {
            return ys.values.contains(x);
        }
        let Some(xp) = split(x, xs.vars) else { return false };
        ys.values.iter().any(|y| {
            let Some(yp) = split(y, ys.vars) else { return false };
            xp.iter()
                .zip(&yp)
                .all(|(a, b)| lang_subset(std::slice::from_ref(a), std::slice::from_ref(b), bud))
        })
    })
}

/// No string is in both unions. Never claimed when a variable is involved (its value may be any string).
fn lang_disjoint(xs: &[Glob], ys: &[Glob], bud: &Budget) -> bool {
    let all: Vec<&Glob> = xs.iter().chain(ys).collect();
    if all.iter().any(|g| g.has_var()) {
        return false;
    }
    if all.iter().all(|g| g.is_literal()) {
        let a: BTreeSet<String> = xs.iter().filter_map(Glob::literal_text).collect();
        return ys.iter().filter_map(Glob::literal_text).all(|t| !a.contains(&t));
    }
    // Disjoint unions: no pair intersects (decided on the product NFA, without subset construction).
    xs.iter().all(|x| {
        ys.iter()
            .all(|y| glob::intersects_within(x, y, bud) == Some(false))
    })
}

fn cidrs(a: &Atomic) -> Option<Vec<IpNet>> {
    a.values
        .iter()
        .map(|v| {
            v.parse::<IpNet>()
                .ok()
                .or_else(|| v.parse::<std::net::IpAddr>().ok().map(IpNet::from))
        })
        .collect()
}

fn cidr_subset(a: &Atomic, b: &Atomic) -> bool {
    match (cidrs(a), cidrs(b)) {
        (Some(xs), Some(ys)) => xs.iter().all(|x| ys.iter().any(|y| y.contains(x))),
        _ => false,
    }
}

fn nums(a: &Atomic) -> Option<Vec<f64>> {
    a.values.iter().map(|v| v.parse::<f64>().ok()).collect()
}

fn num_cmp(a: &Atomic, b: &Atomic, f: impl Fn(&[f64], &[f64]) -> bool) -> bool {
    match (nums(a), nums(b)) {
        (Some(x), Some(y)) if !x.is_empty() && !y.is_empty() => f(&x, &y),
        _ => false,
    }
}

fn text_subset(a: &[String], b: &[String]) -> bool {
    a.iter().all(|v| b.contains(v))
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Whether atomic condition `a` implies `b` (every context satisfying `a` satisfies `b`).
fn implies_atom_in(a: &Atomic, b: &Atomic, bud: &Budget) -> bool {
    if a.set == b.set && a.op == b.op && a.if_exists == b.if_exists && a.key == b.key && a.values == b.values
    {
        return true;
    }
    if a.key != b.key {
        return false;
    }
    let null_true =
        |x: &Atomic| fam(x.op) == Fam::Null && x.values.iter().all(|v| v.eq_ignore_ascii_case("true"));
    let null_false =
        |x: &Atomic| fam(x.op) == Fam::Null && x.values.iter().all(|v| v.eq_ignore_ascii_case("false"));
    // `Null: true` means the key is absent: it implies every condition that is true then.
    if null_true(a) {
        return true_when_absent(b);
    }
    // A condition that requires the key implies `Null: false`.
    if null_false(b) {
        return requires_key(a);
    }
    if a.set != b.set || (a.if_exists && !b.if_exists) {
        return false;
    }
    if let Some(r) = ordered_implies(a, b) {
        return r;
    }
    let no_var = |x: &Atomic| !x.values.iter().any(|v| glob::has_variable(v));
    match (fam(a.op), fam(b.op)) {
        // `StringEquals` values, lowercased, inside the `StringEqualsIgnoreCase` set (whose values are
        // stored lowercase).
        (Fam::StrPos, Fam::IcPos) if a.op == Operator::StringEquals => {
            a.values.iter().all(|v| b.values.contains(&v.to_lowercase()))
        }
        // Every value `StringNotEquals` excludes is excluded, case-insensitively, by `a`.
        (Fam::IcNeg, Fam::StrNeg) if b.op == Operator::StringNotEquals => {
            b.values.iter().all(|v| a.values.contains(&v.to_lowercase()))
        }
        (Fam::IcPos, Fam::IcNeg) => {
            a.set == SetOp::None && no_var(a) && no_var(b) && a.values.iter().all(|v| !b.values.contains(v))
        }
        (Fam::StrPos, Fam::StrPos) => lang_subset(&langs(a), &langs(b), bud),
        (Fam::StrNeg, Fam::StrNeg) => lang_subset(&langs(b), &langs(a), bud),
        (Fam::ArnPos, Fam::ArnPos) => arn_subset(a, b, bud),
        (Fam::ArnNeg, Fam::ArnNeg) => arn_subset(b, a, bud),
        (Fam::IcPos, Fam::IcPos) | (Fam::Eq, Fam::Eq) => text_subset(&a.values, &b.values),
        (Fam::IcNeg, Fam::IcNeg) => text_subset(&b.values, &a.values),
        // Presence with a value outside the excluded set.
        (Fam::StrPos, Fam::StrNeg) | (Fam::ArnPos, Fam::ArnNeg) => {
            a.set == SetOp::None && lang_disjoint(&langs(a), &langs(b), bud)
        }
        (Fam::IpPos, Fam::IpPos) => cidr_subset(a, b),
        (Fam::IpNeg, Fam::IpNeg) => cidr_subset(b, a),
        // Numeric and date operators: [`ordered_implies`] above.
        _ => false,
    }
}

/// Whether no context satisfies both `a` and `b`.
fn contradicts_atom_in(a: &Atomic, b: &Atomic, bud: &Budget) -> bool {
    if a.key != b.key || a.set != SetOp::None || b.set != SetOp::None {
        return false;
    }
    // Conditions that are false when the key is absent (negated operators are true then).
    let present = |x: &Atomic| !x.if_exists && false_without_key(x);
    let null_true =
        |x: &Atomic| fam(x.op) == Fam::Null && x.values.iter().all(|v| v.eq_ignore_ascii_case("true"));
    let null_false =
        |x: &Atomic| fam(x.op) == Fam::Null && x.values.iter().all(|v| v.eq_ignore_ascii_case("false"));
    // Null true (absent) against anything requiring presence.
    if (null_true(a) && (present(b) || null_false(b))) || (null_true(b) && (present(a) || null_false(a))) {
        return true;
    }
    let pos_neg = |p: &Atomic, n: &Atomic| {
        !p.if_exists
            && match (fam(p.op), fam(n.op)) {
                (Fam::StrPos, Fam::StrNeg) => lang_subset(&langs(p), &langs(n), bud),
                (Fam::ArnPos, Fam::ArnNeg) => arn_subset(p, n, bud),
                (Fam::IcPos, Fam::IcNeg) => text_subset(&p.values, &n.values),
                (Fam::IpPos, Fam::IpNeg) => cidr_subset(p, n),
                (Fam::NumEq, Fam::NumNe) => num_cmp(p, n, |x, y| x.iter().all(|v| y.contains(v))),
                _ => false,
            }
    };
    if pos_neg(a, b) || pos_neg(b, a) {
        return true;
    }
    // Two presence-requiring equalities with disjoint literal values (single-valued key).
    if !a.if_exists && !b.if_exists && fam(a.op) == fam(b.op) {
        return match fam(a.op) {
            Fam::StrPos | Fam::ArnPos => lang_disjoint(&langs(a), &langs(b), bud),
            Fam::IcPos | Fam::Eq => {
                let var = |x: &Atomic| x.values.iter().any(|v| glob::has_variable(v));
                !var(a) && !var(b) && a.values.iter().all(|v| !b.values.contains(v))
            }
            _ => false,
        };
    }
    false
}

/// Whether old conditions `old` certainly fail for some request the new conditions `new` allow: `old`
/// has a condition on a key that `new` does not mention at all, false either when that key is absent or
/// when it is present (so a request choosing the key that way passes `new`, which ignores the key, and
/// fails `old`). Used only to tell a certain widening from an unproven one in the reasons.
fn unconstrained_requirement(new: &[Atomic], old: &[Atomic], bud: &Budget) -> bool {
    !contradicts(new, new, bud)
        && old.iter().any(|y| {
            !new.iter().any(|x| x.key == y.key)
                && (requires_key(y)
                    || (fam(y.op) == Fam::Null && y.values.iter().all(|v| v.eq_ignore_ascii_case("true"))))
        })
}

/// Conjunction `a` implies conjunction `b`.
fn implies(a: &[Atomic], b: &[Atomic], bud: &Budget) -> bool {
    b.iter().all(|y| a.iter().any(|x| implies_atom_in(x, y, bud)))
}

fn contradicts(a: &[Atomic], b: &[Atomic], bud: &Budget) -> bool {
    a.iter().any(|x| b.iter().any(|y| contradicts_atom_in(x, y, bud)))
}

fn unknown_operator(c: &[Atomic]) -> Option<&str> {
    c.iter()
        .find(|a| a.op == Operator::Unknown)
        .map(|a| a.written.as_str())
}

// ---------------------------------------------------------------------------------------------------
// Dimensions.

struct Stmt<'a> {
    s: &'a Statement,
    new: bool,
    /// The policy reads `${...}` as variables (Version 2012-10-17).
    vars: bool,
    conds: Vec<Atomic>,
}

/// One atom of a dimension: the statements containing it and a witness.
///
/// With policy variables an atom is a class of *symbolic* strings (a variable is a symbol that only `*`
/// or the same variable matches); a statement's symbolic answer is then exact in one direction only. So
/// each atom carries three masks: `mask`, where a new `Allow` must be checked (every request it allows
/// is the instance of a symbolic string it matches, or, for `NotResource`, a concrete string it does
/// not match); `def`, statements that match every instance whatever the variables' values (usable as
/// an old `Allow` that covers or a new `Deny` that overrides); `poss`, statements that may match some
/// instance (old `Deny` statements that must be accounted for). Without variables the three agree.
struct DimAtom {
    mask: Bits,
    def: Bits,
    poss: Bits,
    witness: String,
}

/// Statement patterns for a glob dimension: `None` = the whole dimension.
struct GlobSpec {
    negated: bool,
    patterns: Option<Vec<(String, bool)>>,
    /// The statement is a new `Allow` (its patterns decide which symbolic strings are checked).
    checked: bool,
}

fn glob_dimension(specs: &[GlobSpec], words: usize, bud: &Budget) -> Option<Vec<DimAtom>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut globs: Vec<Glob> = Vec::new();
    let mut per_stmt: Vec<Vec<usize>> = Vec::with_capacity(specs.len());
    for spec in specs {
        let mut ids = Vec::new();
        for (p, vars) in spec.patterns.iter().flatten() {
            // One reading for both versions: 2008-10-17 `${...}` text is literal (escaped), 2012-10-17
            // `${...}` is a variable.
            let canon = if *vars { p.clone() } else { glob::as_2012(p) };
            let id = *index.entry(canon).or_insert_with_key(|c| {
                globs.push(Glob::parse(c, true));
                globs.len() - 1
            });
            ids.push(id);
        }
        per_stmt.push(ids);
    }
    let own_var: Vec<bool> = per_stmt
        .iter()
        .map(|ids| ids.iter().any(|&k| globs[k].has_var()))
        .collect();
    // Symbolic strings with variables are checked when a new `Allow` pattern has a variable.
    let checked_var = specs
        .iter()
        .zip(&own_var)
        .any(|(s, v)| s.checked && !s.negated && *v);
    let uncertain: Vec<bool> = specs
        .iter()
        .zip(&own_var)
        .map(|(s, v)| s.patterns.is_some() && (*v || checked_var))
        .collect();
    let refs: Vec<&Glob> = globs.iter().collect();
    let atoms = if refs.is_empty() {
        vec![glob::Atom {
            signature: vec![0],
            witness: "*".into(),
        }]
    } else {
        glob::atoms_within(&refs, bud)?
    };
    // The atoms' masks: three bit sets of `words` words each.
    if !bud.spend(
        (atoms.len() * (specs.len() + 3 * words)) as u64,
        "the pattern atoms need too much memory",
    ) {
        return None;
    }
    Some(
        atoms
            .into_iter()
            .map(|a| {
                let mut mask = vec![0u64; words];
                let mut def = vec![0u64; words];
                let mut poss = vec![0u64; words];
                for (i, spec) in specs.iter().enumerate() {
                    let inside = match &spec.patterns {
                        None => true,
                        Some(_) => per_stmt[i].iter().any(|&k| has_bit(&a.signature, k)),
                    };
                    let m = inside != spec.negated;
                    if m {
                        set_bit(&mut mask, i);
                    }
                    if m && !(spec.negated && uncertain[i]) {
                        set_bit(&mut def, i);
                    }
                    if m || (!spec.negated && uncertain[i]) {
                        set_bit(&mut poss, i);
                    }
                }
                let witness = if a.witness.is_empty() {
                    "*".to_string()
                } else {
                    a.witness
                };
                DimAtom {
                    mask,
                    def,
                    poss,
                    witness,
                }
            })
            .collect(),
    )
}

/// An account principal (`123456789012` or `arn:aws:iam::123456789012:root`) stands for every principal of
/// the account, in `Allow` and `Deny` alike (IAM Principal element, "AWS account principals": the account
/// delegates to its identities).
fn principal_patterns(s: &Statement, vars: bool, checked: bool) -> GlobSpec {
    let Some(block) = &s.principal else {
        return GlobSpec {
            negated: false,
            patterns: None,
            checked,
        };
    };
    let patterns = match &block.principals {
        Principals::Any => None,
        Principals::Map(map) => {
            let mut out = Vec::new();
            let mut universal = false;
            for (t, values) in map {
                for v in values {
                    match t {
                        // `{"AWS": "*"}` is the same as `"*"`.
                        PrincipalType::Aws if v == "*" => universal = true,
                        PrincipalType::Aws => {
                            // An account (id or `:root`) stands for every principal of that account.
                            let acct = super::cross_account::principal_account(v);
                            let root = crate::resource_kind::is_account_id(v) || v.ends_with(":root");
                            match acct {
                                Some(a) if root => out.push((format!("AWS:arn:*::{a}:*"), false)),
                                _ => out.push((format!("AWS:{v}"), vars)),
                            }
                        }
                        _ => out.push((format!("{}:{v}", t.as_str()), vars)),
                    }
                }
            }
            (!universal).then_some(out)
        }
    };
    GlobSpec {
        negated: block.negated,
        patterns,
        checked,
    }
}

fn resource_patterns(s: &Statement, vars: bool, checked: bool) -> GlobSpec {
    match &s.resource {
        None => GlobSpec {
            negated: false,
            patterns: None,
            checked,
        },
        Some(r) if r.values.iter().any(|v| v == "*") => GlobSpec {
            negated: r.negated,
            patterns: None,
            checked,
        },
        Some(r) => GlobSpec {
            negated: r.negated,
            patterns: Some(r.values.iter().map(|v| (v.clone(), vars)).collect()),
            checked,
        },
    }
}

/// Action atoms over the finite universe (catalog + extras).
fn action_dimension(stmts: &[Stmt], words: usize, bud: &Budget) -> Option<Vec<DimAtom>> {
    let cat = catalog();
    let n_cat = cat.len();
    // Extra elements: literal actions outside the catalog, and samples of wildcard patterns whose service
    // is not a fixed catalog service (open world).
    let mut extras: Vec<String> = Vec::new();
    let mut extra_set: BTreeSet<String> = BTreeSet::new();
    for st in stmts {
        for p in &st.s.action.values {
            let lower = p.to_ascii_lowercase();
            let g = Glob::parse(&lower, false);
            let samples: Vec<String> = if g.is_literal() {
                if cat.index.contains_key(&lower) {
                    vec![]
                } else {
                    vec![lower.clone()]
                }
            } else {
                let fixed_known = lower
                    .split_once(':')
                    .is_some_and(|(svc, _)| !svc.contains(['*', '?']) && cat.has_service(svc));
                if fixed_known {
                    vec![]
                } else {
                    // Samples of the open world: the pattern with `*` empty or a fresh word, and an action
                    // of an unlisted service when the pattern's service part is a wildcard. Only
                    // well-formed `service:action` strings are kept.
                    [
                        lower.replace('*', "").replace('?', "x"),
                        lower.replace('*', "zzunlisted").replace('?', "x"),
                        "zzunlisted:zzunlisted".to_string(),
                    ]
                    .into_iter()
                    .filter(|s| {
                        s.split_once(':')
                            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
                            && g.matches(s)
                    })
                    .collect()
                }
            };
            for s in samples {
                // Samples of wildcard patterns that land in a known service stay closed-world; literal
                // names the policies use are always part of the universe.
                let known_service = s.split_once(':').is_some_and(|(svc, _)| cat.has_service(svc));
                if cat.index.contains_key(&s) || (known_service && !g.is_literal()) {
                    continue;
                }
                if extra_set.insert(s.clone()) {
                    extras.push(s);
                }
            }
        }
    }
    let universe = n_cat + extras.len();
    let mut base = vec![0u64; words];
    let mut member_lists: Vec<Vec<usize>> = Vec::with_capacity(stmts.len());
    let mut cache: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, st) in stmts.iter().enumerate() {
        let all = st.s.action.values.iter().any(|v| v == "*");
        let complement = st.s.action.negated != all;
        if complement {
            set_bit(&mut base, i);
        }
        let mut m: Vec<usize> = Vec::new();
        if !all {
            for p in &st.s.action.values {
                let lower = p.to_ascii_lowercase();
                if !cache.contains_key(&lower) {
                    // Matching a wildcard pattern against every action of the catalog it may name.
                    let g = Glob::parse(&lower, false);
                    let scanned = if g.is_literal() {
                        1
                    } else {
                        match lower.split_once(':') {
                            Some((svc, _)) if !svc.contains(['*', '?']) => {
                                cat.services.get(svc).map_or(0, |r| r.len())
                            }
                            _ => n_cat,
                        }
                    };
                    // One match costs an allocation-free scan of the name, tens of nanoseconds.
                    let cost = (scanned + extras.len()) * (16 + g.toks.len());
                    if !bud.spend(cost as u64, "expanding the action patterns needs too many steps") {
                        return None;
                    }
                }
                let expanded = cache.entry(lower.clone()).or_insert_with(|| {
                    let mut v = cat.expand(&lower);
                    let g = Glob::parse(&lower, false);
                    v.extend(
                        extras
                            .iter()
                            .enumerate()
                            .filter(|(_, e)| g.matches(e))
                            .map(|(k, _)| n_cat + k),
                    );
                    v
                });
                m.extend(expanded.iter().copied());
            }
            m.sort_unstable();
            m.dedup();
        }
        if !bud.spend(8 * m.len() as u64, "the action sets need too much memory") {
            return None;
        }
        member_lists.push(m);
    }
    let mut touched: HashMap<usize, Bits> = HashMap::new();
    for (i, m) in member_lists.iter().enumerate() {
        for &e in m {
            let sig = touched.entry(e).or_insert_with(|| base.clone());
            sig[i / 64] ^= 1 << (i % 64);
        }
    }
    let name = |e: usize| {
        if e < n_cat {
            cat.names[e].clone()
        } else {
            extras[e - n_cat].clone()
        }
    };
    let mut by_sig: HashMap<Bits, usize> = HashMap::new();
    let mut keys: Vec<usize> = touched.keys().copied().collect();
    keys.sort_unstable();
    for e in keys {
        let sig = &touched[&e];
        by_sig.entry(sig.clone()).or_insert(e);
    }
    if touched.len() < universe {
        if let Some(e) = (0..universe).find(|e| !touched.contains_key(e)) {
            by_sig.entry(base.clone()).or_insert(e);
        }
    }
    let mut out: Vec<DimAtom> = by_sig
        .into_iter()
        .map(|(mask, e)| DimAtom {
            def: mask.clone(),
            poss: mask.clone(),
            mask,
            witness: name(e),
        })
        .collect();
    out.sort_by(|a, b| a.witness.cmp(&b.witness));
    Some(out)
}

// ---------------------------------------------------------------------------------------------------

fn reason(stmt: &str, code: &str, cause: String) -> Reason {
    Reason::new(stmt, code, cause)
}

/// Whether two statements match exactly the same principals, actions and resources (same elements as
/// written, read under the same policy-variable rule), whatever the variables' values.
fn same_scope(a: &Stmt, b: &Stmt) -> bool {
    a.vars == b.vars
        && a.s.principal == b.s.principal
        && a.s.action == b.s.action
        && a.s.resource == b.s.resource
}

/// Whether statement `a` matches only principals, actions and resources that `b` matches, read from the
/// elements as written (sets of patterns, whatever the patterns mean): same principals, `a`'s action and
/// resource patterns among `b`'s (or `b`'s is `*`), for `NotAction` / `NotResource` `b`'s among `a`'s.
fn within_scope(a: &Stmt, b: &Stmt) -> bool {
    fn names_within(x: &NameBlock, y: &NameBlock, lower: bool) -> bool {
        let eq = |u: &String, v: &String| if lower { u.eq_ignore_ascii_case(v) } else { u == v };
        x.negated == y.negated
            && if x.negated {
                y.values.iter().all(|v| x.values.iter().any(|u| eq(u, v)))
            } else {
                y.values.iter().any(|v| v == "*")
                    || x.values.iter().all(|u| y.values.iter().any(|v| eq(u, v)))
            }
    }
    a.vars == b.vars
        && a.s.principal == b.s.principal
        && names_within(&a.s.action, &b.s.action, true)
        && match (&a.s.resource, &b.s.resource) {
            (None, None) => true,
            (Some(x), Some(y)) => names_within(x, y, false),
            _ => false,
        }
}

/// Why the requests of one cell are not proven covered (empty when they are). `cell` holds the
/// `(mask, def, poss)` masks of [`DimAtom`], intersected over the dimensions.
fn evaluate(cell: &(Bits, Bits, Bits), stmts: &[Stmt], bud: &Budget) -> Vec<Reason> {
    let (mask, def, poss) = cell;
    let pick = |bits: &[u64], new: bool, effect: Effect| -> Vec<&Stmt> {
        members(bits)
            .map(|i| &stmts[i])
            .filter(|s| s.new == new && s.s.effect == effect)
            .collect()
    };
    let (na, nd, oa, od) = (
        pick(mask, true, Effect::Allow),
        pick(def, true, Effect::Deny),
        pick(def, false, Effect::Allow),
        pick(poss, false, Effect::Deny),
    );
    let all_nd: Vec<&Stmt> = stmts
        .iter()
        .filter(|s| s.new && s.s.effect == Effect::Deny)
        .collect();
    let mut out = Vec::new();
    for s in na {
        if nd.iter().any(|d| implies(&s.conds, &d.conds, bud)) {
            continue; // a new Deny always overrides s here
        }
        let label = s.s.label();
        // An old `Allow` of the same scope covers `s` wherever `s` applies, even where variables leave
        // the cell's symbolic answer uncertain.
        let covered = oa.iter().any(|o| implies(&s.conds, &o.conds, bud))
            || stmts.iter().any(|o| {
                !o.new && o.s.effect == Effect::Allow && same_scope(s, o) && implies(&s.conds, &o.conds, bud)
            });
        if !covered {
            let unknown =
                unknown_operator(&s.conds).or_else(|| oa.iter().find_map(|o| unknown_operator(&o.conds)));
            if let Some(op) = unknown {
                out.push(reason(
                    &label,
                    "cannot-prove",
                    format!("cannot prove no new access: condition operator `{op}` is not understood"),
                ));
            } else if oa.is_empty() {
                out.push(reason(
                    &label,
                    "new-allow",
                    "allows requests no old `Allow` statement allows".into(),
                ));
            } else {
                let labels: Vec<String> = oa.iter().map(|o| o.s.label()).collect();
                if oa
                    .iter()
                    .all(|o| unconstrained_requirement(&s.conds, &o.conds, bud))
                {
                    out.push(reason(
                        &label,
                        "condition-not-implied",
                        format!(
                            "old statement(s) {} allow the same requests only under conditions this statement does not require",
                            labels.join(", ")
                        ),
                    ));
                } else {
                    out.push(reason(
                        &label,
                        "cannot-prove",
                        format!(
                            "cannot prove no new access: cannot prove this statement's conditions are at least as strict as those of old statement(s) {}",
                            labels.join(", ")
                        ),
                    ));
                }
            }
            continue;
        }
        for d in &od {
            if nd.iter().any(|d2| implies(&d.conds, &d2.conds, bud))
                || all_nd
                    .iter()
                    .any(|d2| same_scope(d, d2) && implies(&d.conds, &d2.conds, bud))
                || contradicts(&s.conds, &d.conds, bud)
            {
                continue;
            }
            let unknown = unknown_operator(&d.conds).is_some()
                || unknown_operator(&s.conds).is_some()
                || nd.iter().any(|d2| unknown_operator(&d2.conds).is_some());
            // Definite only when no new `Deny` may apply here and the old Deny's conditions constrain other
            // keys than `s`'s (so both can hold at once); otherwise the proof merely failed.
            let definite = !unknown
                && !stmts
                    .iter()
                    .enumerate()
                    .any(|(i, x)| x.new && x.s.effect == Effect::Deny && has_bit(poss, i))
                && d.conds.iter().all(|y| s.conds.iter().all(|x| x.key != y.key));
            let code = if definite { "deny-removed" } else { "cannot-prove" };
            let prefix = if code == "cannot-prove" {
                "cannot prove no new access: "
            } else {
                ""
            };
            out.push(reason(
                &label,
                code,
                format!(
                    "{prefix}old `Deny` statement {} no longer applies to some requests this statement allows",
                    d.s.label()
                ),
            ));
        }
    }
    out
}

/// Does `new` allow any request `old` does not? See the module documentation.
///
/// Complexity budget (issue 15): the work is counted ([`Budget`]: automaton steps and states, action
/// expansion, cells of the cross product); when the default budget runs out the answer is `widened` with
/// one `cannot-prove` reason starting "complexity budget", never an unbounded search. Cheap exact steps
/// come first: a new `Allow` with the same principals, actions and resources as an old `Allow` and
/// conditions at least as strict is covered without automaton work, provided every old `Deny` survives
/// in `new` (same scope, conditions no stricter); so `diff(p, p)` is never widened.
pub fn diff(old: &Policy, new: &Policy) -> Diff {
    diff_within(old, new, &Budget::default())
}

/// [`diff`] within `budget` (benches and tests use smaller or larger ones).
pub fn diff_within(old: &Policy, new: &Policy, budget: &Budget) -> Diff {
    let bud = budget;
    let mut stmts: Vec<Stmt> = Vec::new();
    for (p, is_new) in [(old, false), (new, true)] {
        let vars = p.version.has_variables();
        for s in &p.statements {
            stmts.push(Stmt {
                s,
                new: is_new,
                vars,
                conds: s.conditions.iter().map(|c| normalize(c, vars)).collect(),
            });
        }
    }
    let cannot = |cause: &str| Diff {
        widened: true,
        new_access: Vec::new(),
        reasons: vec![reason(
            "policy",
            "cannot-prove",
            format!("cannot prove no new access: {cause}"),
        )],
    };
    let over_budget = |bud: &Budget| {
        bud.message().map(|m| Diff {
            widened: true,
            new_access: Vec::new(),
            reasons: vec![reason("policy", "cannot-prove", m)],
        })
    };
    if let Some(e) = &catalog().error {
        return cannot(e);
    }
    // Cheap exact step: new `Allow` statements within the scope (as written) of an old `Allow`, with
    // conditions at least as strict. Dropping them from `new` changes nothing when every old `Deny` is
    // within a new `Deny` whose conditions are no stricter: whatever a dropped statement allows, an old
    // `Allow` allowed and no old `Deny` refused (`new` would refuse it too).
    let denies_kept = stmts
        .iter()
        .filter(|d| !d.new && d.s.effect == Effect::Deny)
        .all(|d| {
            stmts.iter().any(|d2| {
                d2.new
                    && d2.s.effect == Effect::Deny
                    && within_scope(d, d2)
                    && implies(&d.conds, &d2.conds, bud)
            })
        });
    if denies_kept {
        let covered: Vec<bool> = stmts
            .iter()
            .map(|s| {
                s.new
                    && s.s.effect == Effect::Allow
                    && stmts.iter().any(|o| {
                        !o.new
                            && o.s.effect == Effect::Allow
                            && within_scope(s, o)
                            && implies(&s.conds, &o.conds, bud)
                    })
            })
            .collect();
        let mut k = 0;
        stmts.retain(|_| {
            k += 1;
            !covered[k - 1]
        });
    }
    if !stmts.iter().any(|s| s.new && s.s.effect == Effect::Allow) {
        // No new `Allow` left to check: nothing new is allowed (budget or not, this is exact).
        return Diff {
            widened: false,
            new_access: Vec::new(),
            reasons: Vec::new(),
        };
    }
    let words = stmts.len().div_ceil(64).max(1);
    let mut new_allow = vec![0u64; words];
    for (i, st) in stmts.iter().enumerate() {
        if st.new && st.s.effect == Effect::Allow {
            set_bit(&mut new_allow, i);
        }
    }
    let with_principals = stmts.iter().any(|s| s.s.principal.is_some());
    let principal_atoms = if with_principals {
        let specs: Vec<GlobSpec> = stmts
            .iter()
            .map(|s| principal_patterns(s.s, s.vars, s.new && s.s.effect == Effect::Allow))
            .collect();
        match glob_dimension(&specs, words, bud) {
            Some(a) => a,
            None => {
                return over_budget(bud)
                    .unwrap_or_else(|| cannot("the principal patterns are too complex to compare"))
            }
        }
    } else {
        vec![DimAtom {
            mask: vec![!0u64; words],
            def: vec![!0u64; words],
            poss: vec![!0u64; words],
            witness: String::new(),
        }]
    };
    let resource_specs: Vec<GlobSpec> = stmts
        .iter()
        .map(|s| resource_patterns(s.s, s.vars, s.new && s.s.effect == Effect::Allow))
        .collect();
    let Some(resource_atoms) = glob_dimension(&resource_specs, words, bud) else {
        return over_budget(bud)
            .unwrap_or_else(|| cannot("the resource patterns are too complex to compare"));
    };
    let Some(action_atoms) = action_dimension(&stmts, words, bud) else {
        return over_budget(bud).unwrap_or_else(|| cannot("the action patterns are too complex to compare"));
    };

    let mut cache: HashMap<(Bits, Bits, Bits), Vec<Reason>> = HashMap::new();
    let mut new_access = Vec::new();
    let mut reasons: Vec<Reason> = Vec::new();
    // Work units of one cell of the cross product (mask intersections) and of one cached evaluation.
    let cell_cost = 24 + 4 * words as u64;
    let entry_cost = 256 + 24 * words as u64;
    for pa in &principal_atoms {
        let m1 = and(&pa.mask, &new_allow);
        if !m1.iter().any(|w| *w != 0) {
            continue;
        }
        for aa in &action_atoms {
            if !bud.spend(
                cell_cost,
                "the cross product of principals, actions and resources is too large",
            ) {
                return over_budget(bud).unwrap_or_else(|| cannot("the policies are too complex to compare"));
            }
            let m2 = and(&pa.mask, &aa.mask);
            if !intersects(&m2, &new_allow) {
                continue;
            }
            for ra in &resource_atoms {
                if !bud.spend(
                    cell_cost,
                    "the cross product of principals, actions and resources is too large",
                ) {
                    return over_budget(bud)
                        .unwrap_or_else(|| cannot("the policies are too complex to compare"));
                }
                let m3 = and(&m2, &ra.mask);
                if !intersects(&m3, &new_allow) {
                    continue;
                }
                // Without variables `def` and `poss` equal the mask (no extra work on the common path).
                let key =
                    if pa.mask == pa.def && pa.mask == pa.poss && ra.mask == ra.def && ra.mask == ra.poss {
                        (m3.clone(), m3.clone(), m3)
                    } else {
                        let def = and(&and(&pa.def, &aa.def), &ra.def);
                        let poss = and(&and(&pa.poss, &aa.poss), &ra.poss);
                        (m3, def, poss)
                    };
                if !cache.contains_key(&key) {
                    let pairs = 16 * members(&key.0).count() as u64 * (1 + members(&key.2).count() as u64);
                    if !bud.spend(
                        entry_cost + pairs,
                        "the cross product of principals, actions and resources is too large",
                    ) {
                        return over_budget(bud)
                            .unwrap_or_else(|| cannot("the policies are too complex to compare"));
                    }
                }
                let rs = cache.entry(key).or_insert_with_key(|k| evaluate(k, &stmts, bud));
                if rs.is_empty() {
                    continue;
                }
                for r in rs.iter() {
                    if !reasons.contains(r) {
                        reasons.push(r.clone());
                    }
                }
                if new_access.len() < MAX_WITNESSES {
                    new_access.push(Access {
                        action: aa.witness.clone(),
                        resource: ra.witness.clone(),
                        principal: with_principals.then(|| pa.witness.clone()),
                        statement: rs[0].statement.clone(),
                    });
                }
            }
        }
    }
    // A relation left undecided for lack of budget may have turned a proof into a failure (or a definite
    // reason into a guess): the verdict is then the conservative one, said so.
    if let Some(d) = over_budget(bud) {
        return d;
    }
    Diff {
        widened: !reasons.is_empty(),
        new_access,
        reasons,
    }
}

/// The budgeted relations with a fresh default budget (unit tests).
#[cfg(test)]
fn implies_atom(a: &Atomic, b: &Atomic) -> bool {
    implies_atom_in(a, b, &Budget::default())
}

#[cfg(test)]
fn contradicts_atom(a: &Atomic, b: &Atomic) -> bool {
    contradicts_atom_in(a, b, &Budget::default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn atom(op: &str, key: &str, values: &[&str]) -> Atomic {
        let c = Condition {
            operator: op.into(),
            op: OPS
                .iter()
                .find(|(n, _)| *n == op)
                .map(|(_, o)| *o)
                .unwrap_or(Operator::Unknown),
            if_exists: false,
            set: SetOp::None,
            key: key.into(),
            key_raw: key.into(),
            values: values.iter().map(|s| s.to_string()).collect(),
        };
        normalize(&c, true)
    }

    const OPS: &[(&str, Operator)] = &[
        ("StringEquals", Operator::StringEquals),
        ("StringLike", Operator::StringLike),
        ("StringNotEquals", Operator::StringNotEquals),
        ("IpAddress", Operator::IpAddress),
        ("NumericLessThan", Operator::NumericLessThan),
        ("Bool", Operator::Bool),
    ];

    #[test]
    fn atomic_implication_and_contradiction() {
        let cases = [
            (
                atom("StringEquals", "k", &["a"]),
                atom("StringEquals", "k", &["a", "b"]),
                true,
            ),
            (
                atom("StringEquals", "k", &["a", "b"]),
                atom("StringEquals", "k", &["a"]),
                false,
            ),
            (
                atom("StringEquals", "k", &["ab"]),
                atom("StringLike", "k", &["a*"]),
                true,
            ),
            (
                atom("StringLike", "k", &["ab*"]),
                atom("StringLike", "k", &["a*"]),
                true,
            ),
            (
                atom("StringEquals", "k", &["a"]),
                atom("StringNotEquals", "k", &["b"]),
                true,
            ),
            (
                atom("IpAddress", "k", &["10.1.0.0/16"]),
                atom("IpAddress", "k", &["10.0.0.0/8"]),
                true,
            ),
            (
                atom("NumericLessThan", "k", &["5"]),
                atom("NumericLessThan", "k", &["10"]),
                true,
            ),
            (
                atom("NumericLessThan", "k", &["10"]),
                atom("NumericLessThan", "k", &["5"]),
                false,
            ),
        ];
        for (a, b, expected) in cases {
            assert_eq!(implies_atom(&a, &b), expected, "{a:?} => {b:?}");
        }
        assert!(contradicts_atom(
            &atom("StringEquals", "k", &["a"]),
            &atom("StringNotEquals", "k", &["a"])
        ));
        assert!(contradicts_atom(
            &atom("Bool", "k", &["true"]),
            &atom("Bool", "k", &["false"])
        ));
        assert!(!contradicts_atom(
            &atom("StringEquals", "k", &["a"]),
            &atom("StringNotEquals", "k", &["b"])
        ));
        // A negated operator is true when the key is absent: no contradiction with `Null: true`.
        let mut absent = atom("StringEquals", "k", &["true"]);
        absent.op = Operator::Null;
        assert!(!contradicts_atom(&absent, &atom("StringNotEquals", "k", &["a"])));
        assert!(contradicts_atom(&absent, &atom("StringEquals", "k", &["a"])));
        // ARN operators compare component by component; a malformed pattern implies nothing.
        let arn = |op: Operator, v: &str| {
            let mut a = atom("StringLike", "aws:sourcearn", &[v]);
            a.op = op;
            a
        };
        let exact = arn(Operator::ArnEquals, "arn:aws:s3:::b");
        assert!(implies_atom(&exact, &arn(Operator::ArnLike, "arn:aws:s3:::*")));
        assert!(!implies_atom(&exact, &arn(Operator::ArnLike, "arn:aws:*:b")));
    }
}
