//! Themes: for each pledge, the words and two-word phrases that its
//! comments use distinctly more than the comments on the other pledges
//! (TF-IDF), each with up to three representative comments.
//!
//! A small implementation, written here rather than taken from a crate:
//! the Rust TF-IDF crates either treat each comment as a document (we
//! need a pledge's comments against the other pledges') or carry a licence
//! (LGPL) awkward for a single static binary, and the stop-word crates are
//! only a list. So:
//!
//! - words are runs of letters and digits (apostrophes inside words kept,
//!   a trailing "'s" dropped), lower-cased; no stemming;
//! - English stop words ([`STOP_WORDS`]) and words under three letters
//!   are dropped; a phrase is two kept words that were next to each other;
//! - `tf` = the share of the pledge's comments that use the term; `idf` =
//!   ln((1 + N) / (1 + df)) + 1, with N the number of pledges that have
//!   comments and df how many of them use the term; score = tf × idf;
//! - a term must appear in at least two comments (one person's word is not
//!   a theme); the five best terms are kept, best score first; a word that
//!   is used in one phrase in at least two thirds of the comments that use
//!   it is shown as that phrase ("car parking" rather than "parking");
//!   a term sharing a word with one already chosen is skipped;
//! - the representative comments of a term are those that use it, most
//!   up-voted first, then the earliest.
//!
//! Only visible comments are analysed, for every audience.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use uuid::Uuid;

use super::CommentRef;
use crate::domain::{Comment, Item, ItemKind};

pub const TERMS_PER_PLEDGE: usize = 5;
pub const EXAMPLES_PER_TERM: usize = 3;
pub const MIN_COMMENTS_PER_TERM: usize = 2;

#[derive(Debug, Clone, Serialize)]
pub struct ItemThemes {
    pub item_id: Uuid,
    pub title: String,
    /// Visible comments and replies analysed.
    pub comments: usize,
    pub terms: Vec<Theme>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Theme {
    pub term: String,
    pub score: f64,
    /// How many of the pledge's comments use it.
    pub comments: usize,
    pub examples: Vec<CommentRef>,
}

/// English stop words: function words, pronouns, auxiliaries and a few
/// words every comment in a consultation uses ("think", "would").
pub const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "aren't",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "can't",
    "cannot",
    "could",
    "couldn't",
    "did",
    "didn't",
    "do",
    "does",
    "doesn't",
    "doing",
    "don't",
    "down",
    "during",
    "each",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "getting",
    "got",
    "had",
    "hadn't",
    "has",
    "hasn't",
    "have",
    "haven't",
    "having",
    "he",
    "he'd",
    "he'll",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "i'd",
    "i'll",
    "i'm",
    "i've",
    "if",
    "in",
    "into",
    "is",
    "isn't",
    "it",
    "it's",
    "its",
    "itself",
    "just",
    "let's",
    "like",
    "many",
    "may",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "mustn't",
    "my",
    "myself",
    "need",
    "needs",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "others",
    "ought",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "really",
    "same",
    "shall",
    "shan't",
    "she",
    "she'd",
    "she'll",
    "should",
    "shouldn't",
    "so",
    "some",
    "such",
    "than",
    "that",
    "that's",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they'd",
    "they'll",
    "they're",
    "they've",
    "thing",
    "things",
    "think",
    "this",
    "those",
    "though",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "very",
    "was",
    "wasn't",
    "we",
    "we'd",
    "we'll",
    "we're",
    "we've",
    "well",
    "were",
    "weren't",
    "what",
    "what's",
    "when",
    "where",
    "which",
    "while",
    "who",
    "who's",
    "whom",
    "why",
    "will",
    "with",
    "won't",
    "would",
    "wouldn't",
    "yes",
    "yet",
    "you",
    "you'd",
    "you'll",
    "you're",
    "you've",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "lot",
    "lots",
    "make",
    "makes",
    "made",
    "really",
    "still",
    "way",
    "ways",
    "want",
    "wants",
    "going",
    "go",
    "use",
    "used",
    "sure",
    "good",
];

fn is_stop(word: &str) -> bool {
    thread_local! {
        static SET: HashSet<&'static str> = STOP_WORDS.iter().copied().collect();
    }
    SET.with(|s| s.contains(word))
}

/// The words of a text in order; `None` marks a break (a stop word, a
/// short word or punctuation between sentences) that a phrase may not span.
fn words(text: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, out: &mut Vec<Option<String>>| {
        if current.is_empty() {
            return;
        }
        let mut w = current.trim_matches('\'').to_string();
        current.clear();
        if let Some(stem) = w.strip_suffix("'s") {
            w = stem.to_string();
        }
        let keep = w.chars().count() >= 3 && !is_stop(&w) && !w.chars().all(|c| c.is_ascii_digit());
        out.push(keep.then_some(w));
    };
    for ch in text.chars() {
        let ch = if ch == '\u{2019}' { '\'' } else { ch };
        if ch.is_alphanumeric() || (ch == '\'' && !current.is_empty()) {
            current.extend(ch.to_lowercase());
        } else {
            flush(&mut current, &mut out);
            if !ch.is_whitespace() {
                out.push(None);
            }
        }
    }
    flush(&mut current, &mut out);
    out
}

/// The distinct terms (words and two-word phrases) of one comment.
fn terms(text: &str) -> HashSet<String> {
    let w = words(text);
    let mut out = HashSet::new();
    for (i, word) in w.iter().enumerate() {
        if let Some(word) = word {
            out.insert(word.clone());
            if let Some(Some(next)) = w.get(i + 1) {
                out.insert(format!("{word} {next}"));
            }
        }
    }
    out
}

pub fn build(
    slug: &str,
    shown: &[&Item],
    visible: &HashMap<Uuid, Vec<&Comment>>,
) -> Vec<ItemThemes> {
    let pledges: Vec<&&Item> = shown
        .iter()
        .filter(|i| i.kind == ItemKind::Pledge)
        .collect();
    // Per pledge: per comment, its terms.
    let docs: Vec<Vec<(&Comment, HashSet<String>)>> = pledges
        .iter()
        .map(|p| {
            visible
                .get(&p.id)
                .map(|cs| cs.iter().map(|c| (*c, terms(&c.body))).collect())
                .unwrap_or_default()
        })
        .collect();
    // Per pledge: how many comments use each term.
    let tf: Vec<HashMap<&str, usize>> = docs
        .iter()
        .map(|comments| {
            let mut m: HashMap<&str, usize> = HashMap::new();
            for (_, ts) in comments {
                for t in ts {
                    *m.entry(t.as_str()).or_default() += 1;
                }
            }
            m
        })
        .collect();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for m in &tf {
        for t in m.keys() {
            *df.entry(t).or_default() += 1;
        }
    }
    let n_docs = docs.iter().filter(|d| !d.is_empty()).count() as f64;

    pledges
        .iter()
        .zip(docs.iter().zip(&tf))
        .map(|(pledge, (comments, counts))| {
            let total = comments.len();
            let mut scored: Vec<(&str, usize, f64)> = counts
                .iter()
                .filter(|(_, &n)| n >= MIN_COMMENTS_PER_TERM)
                .map(|(&t, &n)| {
                    let idf = ((1.0 + n_docs) / (1.0 + df[t] as f64)).ln() + 1.0;
                    (t, n, n as f64 / total as f64 * idf)
                })
                .collect();
            scored.sort_by(|a, b| {
                b.2.total_cmp(&a.2)
                    .then(b.0.contains(' ').cmp(&a.0.contains(' ')))
                    .then(a.0.cmp(b.0))
            });
            let overlaps = |chosen: &[(&str, usize, f64)], term: &str| {
                chosen
                    .iter()
                    .any(|(t, _, _)| t.split(' ').any(|w| term.split(' ').any(|x| x == w)))
            };
            let mut chosen: Vec<(&str, usize, f64)> = Vec::new();
            for cand in &scored {
                if chosen.len() == TERMS_PER_PLEDGE {
                    break;
                }
                // A word mostly used in one phrase is shown as that phrase.
                let mut pick = *cand;
                if !cand.0.contains(' ') {
                    let phrase = scored
                        .iter()
                        .filter(|(t, n, _)| {
                            t.contains(' ')
                                && t.split(' ').any(|w| w == cand.0)
                                && n * 3 >= cand.1 * 2
                        })
                        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)));
                    if let Some(phrase) = phrase {
                        pick = (phrase.0, phrase.1, cand.2.max(phrase.2));
                    }
                }
                if !overlaps(&chosen, pick.0) {
                    chosen.push(pick);
                }
            }
            let terms = chosen
                .into_iter()
                .map(|(term, n, score)| {
                    let mut using: Vec<&Comment> = comments
                        .iter()
                        .filter(|(_, ts)| ts.contains(term))
                        .map(|(c, _)| *c)
                        .collect();
                    using.sort_by(|a, b| b.up.cmp(&a.up).then(a.seq.cmp(&b.seq)));
                    Theme {
                        term: term.to_string(),
                        score,
                        comments: n,
                        examples: using
                            .into_iter()
                            .take(EXAMPLES_PER_TERM)
                            .map(|c| CommentRef::new(slug, c))
                            .collect(),
                    }
                })
                .collect();
            ItemThemes {
                item_id: pledge.id,
                title: pledge.title.clone(),
                comments: total,
                terms,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_drop_stop_words_and_break_phrases() {
        let w: Vec<Option<String>> = words("The car parking is awful. Staff's parking, too!");
        let kept: Vec<&str> = w.iter().flatten().map(String::as_str).collect();
        assert_eq!(kept, ["car", "parking", "awful", "staff", "parking"]);
        let t = terms("Car parking is awful. Staff parking!");
        assert!(t.contains("car parking"));
        assert!(t.contains("staff parking"));
        assert!(!t.contains("parking awful"), "a stop word breaks a phrase");
        assert!(!t.contains("awful staff"), "a full stop breaks a phrase");
    }
}
