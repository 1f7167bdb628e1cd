//! Exemptions: a finding on an exempted resource is kept, marked `suppressed` with the reason.
//!
//! Two sources:
//! - **a resource tag** (key `tripline:exempt` by default, configurable) whose value lists rule ids separated
//!   by spaces, each optionally with an expiry date: `s3-bucket-policy-public@2027-03-31 iam-policy-widened`.
//!   Spaces are the separator because AWS tag values may contain only Unicode letters, digits, white space
//!   and `_ . : / = + - @` ("Tag naming limits and requirements", AWS Tagging Best Practices /
//!   IAM User Guide "Tagging IAM resources"): a comma is rejected by most services. Commas are still
//!   accepted here for services that allow them. The exemption applies up to and including its date.
//! - **the configuration allow-list**: rule id -> resource ARN glob patterns (`*`, `?`).
//!
//! An exemption whose date has passed no longer applies, and the finding carries a note saying so.
//! "Today" is the evaluation time (the change's time) passed in by the caller: no clock reads here.

use std::collections::BTreeMap;

use time::macros::format_description;
use time::Date;

use crate::finding::Suppression;
use crate::settings::RuleConfig;

/// The result of checking one finding against the exemptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExemptionCheck {
    /// Set when an exemption applies.
    pub suppressed: Option<Suppression>,
    /// Notes for the finding (an expired exemption, an unreadable tag entry).
    pub notes: Vec<String>,
}

/// One entry of the exemption tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEntry<'a> {
    pub rule: &'a str,
    /// The expiry date as written; `None` for no expiry.
    pub until: Option<&'a str>,
}

/// Splits an exemption tag value into entries (separators: white space and commas).
pub fn parse_tag_value(value: &str) -> Vec<TagEntry<'_>> {
    value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(|item| match item.split_once('@') {
            Some((rule, until)) => TagEntry {
                rule,
                until: Some(until),
            },
            None => TagEntry {
                rule: item,
                until: None,
            },
        })
        .collect()
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

/// The date part of an RFC 3339 time (`2026-11-29T01:02:03Z` -> 2026-11-29).
pub fn date_of(time: &str) -> Option<Date> {
    time.get(..10).and_then(parse_date)
}

/// Checks the exemptions for `rule` on `resource_arn`. `tags` are the resource's tags when known;
/// `today` is the evaluation date (`None` when the change's time is unreadable: dated exemptions then
/// do not apply, conservatively).
pub fn check(
    rule: &str,
    resource_arn: &str,
    tags: Option<&BTreeMap<String, String>>,
    config: &RuleConfig,
    today: Option<Date>,
) -> ExemptionCheck {
    let mut notes = Vec::new();
    if let Some(value) = tags.and_then(|t| t.get(&config.exempt_tag_key)) {
        for entry in parse_tag_value(value).into_iter().filter(|e| e.rule == rule) {
            let key = &config.exempt_tag_key;
            match entry.until {
                None => {
                    return ExemptionCheck {
                        suppressed: Some(Suppression {
                            reason: format!("resource tag `{key}` exempts rule `{rule}`"),
                            by: "tag".into(),
                        }),
                        notes,
                    }
                }
                Some(until) => match (parse_date(until), today) {
                    (Some(d), Some(t)) if t <= d => {
                        return ExemptionCheck {
                            suppressed: Some(Suppression {
                                reason: format!("resource tag `{key}` exempts rule `{rule}` until {until}"),
                                by: "tag".into(),
                            }),
                            notes,
                        }
                    }
                    (Some(_), Some(_)) => notes.push(format!(
                        "exemption `{rule}@{until}` in tag `{key}` expired on {until} and no longer applies"
                    )),
                    (Some(_), None) => notes.push(format!(
                        "exemption `{rule}@{until}` in tag `{key}` not applied: the event time is unreadable"
                    )),
                    (None, _) => notes.push(format!(
                        "exemption `{rule}@{until}` in tag `{key}` ignored: `{until}` is not a date (YYYY-MM-DD)"
                    )),
                },
            }
        }
    }
    if let Some(patterns) = config.allow_list.get(rule) {
        if let Some(p) = patterns
            .iter()
            .find(|p| wildmatch::WildMatch::new(p).matches(resource_arn))
        {
            return ExemptionCheck {
                suppressed: Some(Suppression {
                    reason: format!("allow-list pattern `{p}` for rule `{rule}` matches the resource"),
                    by: "allow-list".into(),
                }),
                notes,
            };
        }
    }
    ExemptionCheck {
        suppressed: None,
        notes,
    }
}
