//! The demo's deterministic text embedding (no model download): a signed feature-hashing bag of
//! words and word bigrams.
//!
//! Procedure, so anyone can reproduce a vector: lower-case the text; tokens are runs of ASCII letters
//! and digits of length ≥ 2 that are not in [`STOPWORDS`], with one trailing `s` dropped from words
//! longer than three letters (not from `ss`); features are every token and every pair of
//! adjacent tokens (`"a b"`); each feature's 64-bit FNV-1a hash picks a component (`hash % DIM`) and a
//! sign (the top bit); a feature seen `n` times adds `±(1 + ln n)`; the vector is then L2-normalised
//! by the engine (FAFCAS). Texts sharing words and phrases get a positive dot product.

/// Dimension of the demo vectors.
pub const DIM: usize = 512;

/// Words too common to carry meaning.
pub const STOPWORDS: &[&str] = &[
    "the", "and", "of", "to", "in", "is", "it", "a", "an", "for", "on", "or", "be", "by", "as",
    "at", "that", "this", "with", "are", "its", "from", "not", "no", "if", "then", "than", "so",
    "we", "each", "one", "every", "any", "all", "when", "which", "what", "how", "can", "must",
    "never", "only", "also", "has", "have", "was",
];

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The tokens of `text` (see the module doc).
pub fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| t.len() >= 2 && !STOPWORDS.contains(t))
        .map(|t| {
            if t.len() > 3 && t.ends_with('s') && !t.ends_with("ss") {
                t[..t.len() - 1].to_string()
            } else {
                t.to_string()
            }
        })
        .collect()
}

/// The (unnormalised) embedding of `text`; all zeros when it has no token.
pub fn embed(text: &str) -> Vec<f32> {
    let toks = tokens(text);
    let mut counts: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for t in &toks {
        *counts.entry(t.clone()).or_default() += 1;
    }
    for w in toks.windows(2) {
        *counts.entry(format!("{} {}", w[0], w[1])).or_default() += 1;
    }
    let mut v = vec![0f32; DIM];
    for (f, n) in counts {
        let h = fnv1a(&f);
        let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
        v[(h % DIM as u64) as usize] += sign * (1.0 + (n as f32).ln());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_similar_texts_score_higher() {
        assert_eq!(
            embed("WAL mode and busy timeout"),
            embed("WAL mode and busy timeout")
        );
        let unit = |v: Vec<f32>| {
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / n).collect::<Vec<_>>()
        };
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        let q = unit(embed("busy timeout for WAL connections"));
        let near = unit(embed(
            "the busy timeout is set first on every WAL connection",
        ));
        let far = unit(embed(
            "Louvain communities and PageRank on the graph snapshot",
        ));
        assert!(dot(&q, &near) > dot(&q, &far));
        assert!(embed("the of and").iter().all(|x| *x == 0.0));
    }
}
