//! CSV as Excel reads and writes it: UTF-8 with a BOM on export, BOM or
//! not on import, RFC 4180 quoting, CRLF or LF line ends.

pub const BOM: char = '\u{FEFF}';

/// One field: quoted when needed, and defused against spreadsheet formula
/// injection (a leading = @ or a sign that does not start a number becomes
/// text with a leading apostrophe, which `parse` removes again).
pub fn field(s: &str) -> String {
    let risky = match s.chars().next() {
        Some('=') | Some('@') | Some('\t') | Some('\r') => true,
        Some('+') | Some('-') => !s[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')')),
        _ => false,
    };
    let defused = if risky {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// One line (with CRLF) of fields.
pub fn row(fields: &[&str]) -> String {
    let mut line = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

fn undefuse(s: String) -> String {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '@', '+', '-', '\t', '\r']) => rest.to_string(),
        _ => s,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: &'static str,
}

/// Parses the whole text into records, each with the line it starts on.
/// Blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<(usize, Vec<String>)>, ParseError> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut quoted = false;
    let mut line = 1usize;
    let mut start = 1usize;
    let mut chars = text.chars().peekable();
    let mut end_record =
        |fields: &mut Vec<String>, cur: &mut String, quoted: &mut bool, start: usize| {
            fields.push(undefuse(std::mem::take(cur)));
            let f = std::mem::take(fields);
            if !(f.len() == 1 && f[0].is_empty() && !*quoted) {
                records.push((start, f));
            }
            *quoted = false;
        };
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cur.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    cur.push('\n');
                }
                c => cur.push(c),
            }
            continue;
        }
        match c {
            '"' if cur.is_empty() => {
                in_quotes = true;
                quoted = true;
            }
            '"' => {
                return Err(ParseError {
                    line,
                    message: "a quote inside an unquoted field",
                })
            }
            ',' => fields.push(undefuse(std::mem::take(&mut cur))),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                end_record(&mut fields, &mut cur, &mut quoted, start);
                line += 1;
                start = line;
            }
            c => cur.push(c),
        }
    }
    if in_quotes {
        return Err(ParseError {
            line: start,
            message: "a quoted field is not closed",
        });
    }
    if !cur.is_empty() || !fields.is_empty() || quoted {
        end_record(&mut fields, &mut cur, &mut quoted, start);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_quoted_and_defused_fields() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field("+81 90-1234-5678"), "+81 90-1234-5678");
        assert_eq!(field("-cmd"), "'-cmd");
        assert_eq!(field("山田 太郎"), "山田 太郎");
    }

    #[test]
    fn parses_bom_quotes_crlf_and_round_trips() {
        let text =
            "\u{FEFF}a,b,c\r\n\"x,1\",\"he said \"\"hi\"\"\",'=1+1\r\n\r\n\"multi\nline\",,last\n";
        let r = parse(text).expect("parse");
        assert_eq!(r.len(), 3);
        assert_eq!(r[0], (1, vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(
            r[1].1,
            vec!["x,1".to_string(), "he said \"hi\"".into(), "=1+1".into()]
        );
        assert_eq!(r[2].0, 4);
        assert_eq!(
            r[2].1,
            vec!["multi\nline".to_string(), String::new(), "last".into()]
        );
        let values = ["=evil()", "a,b", "\"q\"", "+81 3", "-x", "日本"];
        let line = row(&values);
        let back = parse(&line).expect("parse");
        assert_eq!(
            back[0].1,
            values.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn refuses_broken_quotes() {
        assert!(parse("a,\"b\n").is_err());
        assert!(parse("a,b\"c\n").is_err());
    }
}
