//! `generate_id`: the application's rule for turning a document path into a node id (docs/schema.md).

/// Reproduces the application's id rule: strip one leading `./` (or one run of `/`), strip one
/// case-sensitive `.md`/`.ts`/`.js`/`.json` suffix, lower-case, turn every character outside
/// `[a-z0-9/]` into `-`, runs of `/` into `-`, collapse runs of `-`, trim one `-` at each end.
///
/// ```
/// assert_eq!(resonance::generate_id("./docs/README.md"), "docs-readme");
/// assert_eq!(resonance::generate_id("docs/My Note.MD"), "docs-my-note-md");
/// assert_eq!(resonance::generate_id("Über/ñ.md"), "ber");
/// ```
pub fn generate_id(path: &str) -> String {
    let mut s = if let Some(rest) = path.strip_prefix("./") {
        rest
    } else {
        path.trim_start_matches('/')
    };
    for ext in [".md", ".ts", ".js", ".json"] {
        if let Some(rest) = s.strip_suffix(ext) {
            s = rest;
            break;
        }
    }
    let lower = s.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    for c in lower.chars() {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        // `/` runs become `-` and `-` runs collapse: both reduce to "no two `-` in a row".
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    let out = out.strip_prefix('-').unwrap_or(&out);
    let out = out.strip_suffix('-').unwrap_or(out);
    out.to_string()
}

#[cfg(test)]
mod tests {
    use super::generate_id;

    #[test]
    fn the_documented_examples() {
        assert_eq!(generate_id("./docs/README.md"), "docs-readme");
        assert_eq!(generate_id("docs/My Note.MD"), "docs-my-note-md");
        assert_eq!(generate_id("Über/ñ.md"), "ber");
    }

    #[test]
    fn edge_cases() {
        assert_eq!(generate_id("///a//b.ts"), "a-b");
        assert_eq!(generate_id("./.md"), "");
        assert_eq!(generate_id("a.json.md"), "a-json");
        assert_eq!(generate_id("x.JSON"), "x-json");
        assert_eq!(generate_id("--a--"), "a");
        assert_eq!(generate_id("././a"), "a");
        assert_eq!(generate_id("a🙂b"), "a-b");
    }
}
