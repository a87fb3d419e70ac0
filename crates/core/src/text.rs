//! Characters that change how text reads without being seen.
//!
//! C0 and C1 controls, and the bidirectional embeddings, overrides (U+202A–U+202E) and
//! isolates (U+2066–U+2069), which can make `invoice<U+202E>fdp.exe` read as a PDF. What a
//! person types (names, titles, notes) is refused when it holds them; text from a
//! helpdesk is cleaned instead. The joiners (U+200C, U+200D), which Persian and Indic
//! names and emoji need, and the plain direction marks are ordinary text.

/// Whether a character is one of those, with line breaks and tabs allowed or not.
pub fn is_hidden_control(c: char, multiline: bool) -> bool {
    if multiline && matches!(c, '\n' | '\t') {
        return false;
    }
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `text` holds any such character.
pub fn has_hidden_controls(text: &str, multiline: bool) -> bool {
    text.chars().any(|c| is_hidden_control(c, multiline))
}

/// `text` without them. A carriage return is dropped from multi-line text, whose lines
/// end in `\n`.
pub fn strip_hidden_controls(text: &str, multiline: bool) -> String {
    text.chars()
        .filter(|&c| !is_hidden_control(c, multiline))
        .collect()
}

/// At most `max` characters of `text`, cut at a character boundary; text that was cut
/// ends in "…" so a reader knows.
pub fn cut_to(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// Text as text inside markup (HTML, or the XML subset notification servers render):
/// the five predefined entities, which every such reader knows. Quotes matter only
/// inside attributes, but cost nothing to escape.
pub fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_direction_overrides_are_hidden_controls() {
        for text in [
            "a\u{0}b",
            "a\u{7}b",
            "a\u{1b}[31mb",
            "a\u{85}b",
            "a\u{9f}b",
            "invoice\u{202E}fdp.exe",
            "a\u{202A}b",
            "a\u{2066}b",
            "a\u{2069}b",
            "a\rb",
        ] {
            assert!(has_hidden_controls(text, true), "{text:?}");
        }
        assert!(has_hidden_controls("a\nb", false));
        assert!(has_hidden_controls("a\tb", false));
    }

    #[test]
    fn joiners_marks_and_line_breaks_in_multi_line_text_are_text() {
        for text in [
            "می\u{200C}خواهم",
            "क्\u{200D}ष",
            "👩\u{200D}💻",
            "שלום\u{200F} Ada",
            "first line\nsecond\tline",
        ] {
            assert!(!has_hidden_controls(text, true), "{text:?}");
        }
    }

    #[test]
    fn stripping_keeps_the_rest_in_order() {
        assert_eq!(
            strip_hidden_controls("invoice\u{202E}fdp.exe\u{0}", false),
            "invoicefdp.exe"
        );
        assert_eq!(
            strip_hidden_controls("a\r\nb\u{1b}c", true),
            "a\nbc".to_owned()
        );
        assert_eq!(strip_hidden_controls("a\nb", false), "ab");
    }

    #[test]
    fn cutting_counts_characters_and_marks_the_cut() {
        assert_eq!(cut_to("Ada", 3), "Ada");
        assert_eq!(cut_to("Ada Lovelace", 4), "Ada…");
        assert_eq!(cut_to("ŻŻŻŻ", 3), "ŻŻ…");
        assert_eq!(cut_to("abc", 0), "");
    }

    #[test]
    fn markup_is_escaped_to_text_once() {
        assert_eq!(
            escape_markup(
                r#"<b>x</b> & <img src="file:///etc/passwd"> <a href='https://evil.example'>y</a>"#
            ),
            "&lt;b&gt;x&lt;/b&gt; &amp; &lt;img src=&quot;file:///etc/passwd&quot;&gt; \
             &lt;a href=&apos;https://evil.example&apos;&gt;y&lt;/a&gt;"
        );
        // An entity someone typed shows as they typed it.
        assert_eq!(
            escape_markup("&amp; Ä\nnext line"),
            "&amp;amp; Ä\nnext line"
        );
    }
}
