//! Input values inside messages: bounded and on one line.
//!
//! Every error (and every ignore reason) that repeats part of its input goes through [`quote`]: at most
//! [`QUOTE_MAX_CHARS`] characters of the value, cut on a character boundary and marked with [`ELLIPSIS`]
//! when cut, and with every character that could break a line or a terminal escaped as in Rust string
//! literals (`\n`, `\r`, `\t`, `\u{1b}`): the C0 and C1 controls and DEL, the Unicode line and paragraph
//! separators (U+2028, U+2029) and the bidirectional overrides and isolates (U+202A..U+202E,
//! U+2066..U+2069), which reorder what a terminal shows. A 1 MB value thus costs at most 200 characters of an
//! error line, and a value holding a newline or an escape sequence cannot forge a second line or recolour the
//! terminal.
//!
//! The backslash itself is not escaped, so quoting is idempotent (`quote(quote(v)) == quote(v)`): a value
//! quoted where an error is built and again where it is displayed reads the same.

/// The most characters of a value a message quotes (escapes count with their written length).
pub const QUOTE_MAX_CHARS: usize = 200;

/// Marks a value cut at [`QUOTE_MAX_CHARS`].
pub const ELLIPSIS: char = '…';

/// `value` for a message: at most [`QUOTE_MAX_CHARS`] characters, controls escaped, one line.
pub fn quote(value: &str) -> String {
    bounded(value, QUOTE_MAX_CHARS)
}

/// `text` with controls escaped (see the module documentation), cut after `max_chars` characters of
/// output (an escape is never split) with [`ELLIPSIS`] appended when cut.
pub fn bounded(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)) + ELLIPSIS.len_utf8());
    let mut used = 0usize;
    for c in text.chars() {
        let width = escaped_width(c);
        if used + width > max_chars {
            out.push(ELLIPSIS);
            return out;
        }
        push_escaped(&mut out, c);
        used += width;
    }
    out
}

/// Whether `c` is escaped by [`quote`].
pub fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escaped_width(c: char) -> usize {
    match c {
        '\n' | '\r' | '\t' => 2,
        // `\u{` + hex digits + `}`
        c if needs_escape(c) => 4 + hex_digits(u32::from(c)),
        _ => 1,
    }
}

fn hex_digits(mut n: u32) -> usize {
    let mut digits = 1;
    while n >= 16 {
        n /= 16;
        digits += 1;
    }
    digits
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if needs_escape(c) => {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// Truncates to at most `max` characters, marking a cut with `...` (for texts with a hard limit: Slack
/// sections, Config annotations).
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let keep: String = s.chars().take(max.saturating_sub(3)).collect();
    format!("{keep}...")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_unchanged() {
        for v in [
            "",
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            "héllo wörld",
            "日本語",
            "a\\nb",
        ] {
            assert_eq!(quote(v), v);
        }
    }

    #[test]
    fn controls_are_escaped_on_one_line() {
        let cases = [
            ("a\nb", "a\\nb"),
            ("a\r\nb", "a\\r\\nb"),
            ("tab\there", "tab\\there"),
            ("\u{1b}[31mred\u{1b}[0m", "\\u{1b}[31mred\\u{1b}[0m"),
            ("nul\0", "nul\\u{0}"),
            ("del\u{7f}", "del\\u{7f}"),
            ("c1\u{85}\u{9b}", "c1\\u{85}\\u{9b}"),
            ("ls\u{2028}ps\u{2029}", "ls\\u{2028}ps\\u{2029}"),
            ("rlo\u{202e}fdp.exe", "rlo\\u{202e}fdp.exe"),
        ];
        for (value, expected) in cases {
            let q = quote(value);
            assert_eq!(q, expected, "{value:?}");
            assert!(!q.chars().any(needs_escape), "{q:?}");
            assert_eq!(q.lines().count(), 1);
        }
    }

    #[test]
    fn long_values_are_cut_at_200_characters() {
        let q = quote(&"a".repeat(1_000_000));
        assert_eq!(q.chars().count(), QUOTE_MAX_CHARS + 1);
        assert!(q.ends_with(ELLIPSIS));
        assert_eq!(q.trim_end_matches(ELLIPSIS), "a".repeat(QUOTE_MAX_CHARS));
        // Exactly at the limit: not cut.
        assert_eq!(quote(&"b".repeat(QUOTE_MAX_CHARS)), "b".repeat(QUOTE_MAX_CHARS));
        assert_eq!(
            quote(&"b".repeat(QUOTE_MAX_CHARS + 1)).chars().count(),
            QUOTE_MAX_CHARS + 1
        );
    }

    #[test]
    fn multibyte_characters_are_never_split() {
        // 2-, 3- and 4-byte UTF-8 characters, and mixes that put the cut at every byte offset of one.
        for unit in ["é", "€", "日", "𝄞", "a€", "ab𝄞", "é𝄞€"] {
            for prefix in 0..4 {
                let value = format!("{}{}", "x".repeat(prefix), unit.repeat(300));
                let q = quote(&value);
                let body = q.strip_suffix(ELLIPSIS).unwrap();
                assert_eq!(body.chars().count(), QUOTE_MAX_CHARS, "{unit} {prefix}");
                assert!(value.starts_with(body), "{unit} {prefix}");
            }
        }
    }

    #[test]
    fn escapes_are_never_split_and_count_toward_the_limit() {
        let value = format!("{}{}", "a".repeat(197), "\u{1b}".repeat(10));
        let q = quote(&value);
        // 197 + `\u{1b}` (6) > 200: the escape is left out whole.
        assert_eq!(q, format!("{}{ELLIPSIS}", "a".repeat(197)));
        let q = quote(&"\n".repeat(500));
        assert_eq!(q, format!("{}{ELLIPSIS}", "\\n".repeat(100)));
    }

    #[test]
    fn quoting_is_idempotent() {
        for value in [
            "plain".to_owned(),
            "x\ny\u{1b}z".to_owned(),
            "é".repeat(500),
            format!("{}\u{1b}", "a".repeat(198)),
            "\t".repeat(300),
        ] {
            let once = quote(&value);
            assert_eq!(quote(&once), once, "{value:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_value_is_bounded_one_line_and_a_prefix(value in "\\PC{0,300}|[\\x00-\\x{a0}\\x{2028}\\x{202e}é日𝄞]{0,400}") {
            let q = quote(&value);
            proptest::prop_assert!(!q.chars().any(needs_escape));
            proptest::prop_assert_eq!(quote(&q), q.clone());
            // The longest prefix of the value whose escaped form fits, escaped, then `…` when cut.
            let kept: String = value
                .chars()
                .scan(0usize, |used, c| {
                    *used += escaped_width(c);
                    (*used <= QUOTE_MAX_CHARS).then_some(c)
                })
                .collect();
            let mut expected = String::new();
            for c in kept.chars() {
                push_escaped(&mut expected, c);
            }
            proptest::prop_assert!(expected.chars().count() <= QUOTE_MAX_CHARS);
            if kept.len() < value.len() {
                expected.push(ELLIPSIS);
            }
            proptest::prop_assert_eq!(q, expected);
        }
    }

    #[test]
    fn bounded_takes_any_limit() {
        assert_eq!(bounded("hello", 0), format!("{ELLIPSIS}"));
        assert_eq!(bounded("", 0), "");
        assert_eq!(bounded("hello\nworld", 7), format!("hello\\n{ELLIPSIS}"));
    }
}
