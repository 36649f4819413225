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
//!   a trailing "'s" dropped), lower-cased;
//! - English stop words ([`STOP_WORDS`]) and words under three letters
//!   are dropped; a phrase is two kept words that were next to each other;
//! - each kept word is reduced to its stem (the English Snowball stemmer
//!   of the `rust-stemmers` crate, then a final doubled consonant made
//!   single, see [`stem`]), and terms are counted by stem: "rota" and
//!   "rotas" are one term, "staff" and "staffing" another. A term is
//!   shown as the form the pledge's comments use most ("rotas" if that is
//!   what people wrote), a phrase likewise ("car parking");
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

use rust_stemmers::{Algorithm, Stemmer};
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
    /// The form of the term the pledge's comments use most.
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

/// The stem a word is counted by: English Snowball, then a final doubled
/// consonant made single. Snowball reduces "staffing" to "staf" (it drops
/// "ing", then one of a final double letter) but leaves "staff" alone; the
/// second step makes every form meet ("staff", "staffs", "staffing" and
/// "staffed" are all "staf").
fn stem(stemmer: &Stemmer, word: &str) -> String {
    let mut s = stemmer.stem(word).into_owned();
    let mut tail = s.chars().rev();
    if let (Some(last), Some(before)) = (tail.next(), tail.next()) {
        if last == before && last.is_alphabetic() && !"aeiouy".contains(last) {
            s.pop();
        }
    }
    s
}

/// How often each written form of a term was used, per term (stem key).
type Forms = HashMap<String, HashMap<String, usize>>;

/// The distinct terms (words and two-word phrases, as stems) of one
/// comment; counts the forms it wrote them in into `forms`.
fn terms(stemmer: &Stemmer, text: &str, forms: &mut Forms) -> HashSet<String> {
    let w = words(text);
    let stems: Vec<Option<String>> = w
        .iter()
        .map(|word| word.as_deref().map(|x| stem(stemmer, x)))
        .collect();
    let mut out = HashSet::new();
    let mut seen = |key: String, form: String, out: &mut HashSet<String>| {
        *forms
            .entry(key.clone())
            .or_default()
            .entry(form)
            .or_default() += 1;
        out.insert(key);
    };
    for (i, word) in w.iter().enumerate() {
        let (Some(word), Some(key)) = (word, &stems[i]) else {
            continue;
        };
        seen(key.clone(), word.clone(), &mut out);
        if let (Some(Some(next)), Some(Some(next_key))) = (w.get(i + 1), stems.get(i + 1)) {
            seen(
                format!("{key} {next_key}"),
                format!("{word} {next}"),
                &mut out,
            );
        }
    }
    out
}

/// The form of a term to show: the most used, then the shortest, then
/// the first alphabetically.
fn shown_form(forms: &Forms, key: &str) -> String {
    forms
        .get(key)
        .and_then(|f| {
            f.iter().min_by(|a, b| {
                b.1.cmp(a.1)
                    .then(a.0.len().cmp(&b.0.len()))
                    .then(a.0.cmp(b.0))
            })
        })
        .map(|(form, _)| form.clone())
        .unwrap_or_else(|| key.to_string())
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
    let stemmer = Stemmer::create(Algorithm::English);
    // Per pledge: per comment, its terms; and the forms they were written in.
    let mut forms: Vec<Forms> = vec![Forms::new(); pledges.len()];
    let docs: Vec<Vec<(&Comment, HashSet<String>)>> = pledges
        .iter()
        .zip(forms.iter_mut())
        .map(|(p, forms)| {
            visible
                .get(&p.id)
                .map(|cs| {
                    cs.iter()
                        .map(|c| (*c, terms(&stemmer, &c.body, forms)))
                        .collect()
                })
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
        .zip(docs.iter().zip(&tf).zip(&forms))
        .map(|(pledge, ((comments, counts), forms))| {
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
                        term: shown_form(forms, term),
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
    use crate::domain::{CommentStatus, Millis, Tally};

    fn shown_terms(text: &str) -> (HashSet<String>, Forms) {
        let stemmer = Stemmer::create(Algorithm::English);
        let mut forms = Forms::new();
        let keys = terms(&stemmer, text, &mut forms);
        let shown = keys.iter().map(|k| shown_form(&forms, k)).collect();
        (shown, forms)
    }

    #[test]
    fn words_drop_stop_words_and_break_phrases() {
        let w: Vec<Option<String>> = words("The car parking is awful. Staff's parking, too!");
        let kept: Vec<&str> = w.iter().flatten().map(String::as_str).collect();
        assert_eq!(kept, ["car", "parking", "awful", "staff", "parking"]);
        let (t, _) = shown_terms("Car parking is awful. Staff parking!");
        assert!(t.contains("car parking"), "{t:?}");
        assert!(t.contains("staff parking"), "{t:?}");
        assert!(!t.contains("parking awful"), "a stop word breaks a phrase");
        assert!(!t.contains("awful staff"), "a full stop breaks a phrase");
    }

    #[test]
    fn forms_of_a_word_meet_at_one_stem() {
        let stemmer = Stemmer::create(Algorithm::English);
        let s = |w: &str| stem(&stemmer, w);
        assert_eq!(s("staff"), s("staffing"));
        assert_eq!(s("staff"), s("staffed"));
        assert_eq!(s("staff"), s("staffs"));
        assert_eq!(s("rota"), s("rotas"));
        assert_eq!(s("parking"), s("park"));
        assert_ne!(s("staff"), s("stuff"));
        assert_ne!(s("rota"), s("rotation"), "Snowball keeps these apart");
    }

    fn comment(item: Uuid, body: &str, seq: i64) -> Comment {
        Comment {
            id: Uuid::new_v4(),
            item_id: item,
            parent_id: None,
            handle: "Amber Heron".into(),
            body: body.into(),
            status: CommentStatus::Visible,
            pinned: false,
            hidden_reason: None,
            up: 0,
            up_version: 0,
            flags: 0,
            seq,
            created_at: Millis(0),
            edited: false,
            deleted: false,
        }
    }

    fn pledge(title: &str, position: i64) -> Item {
        Item {
            id: Uuid::new_v4(),
            conversation_id: Uuid::nil(),
            kind: ItemKind::Pledge,
            title: title.into(),
            body: String::new(),
            status: crate::domain::ItemStatus::Visible,
            position,
            handle: None,
            tally: Tally::default(),
            comments: 0,
            created_at: Millis(0),
            edited: false,
            deleted: false,
        }
    }

    /// "rota" and "rotas", "staff" and "staffing": one theme each, shown as
    /// the form most used, counting every comment that used any form.
    #[test]
    fn themes_group_forms_by_stem_and_show_the_most_used() {
        let rotas = pledge("Flexible rotas", 0);
        let pay = pledge("Fair pay", 1);
        let on_rotas = [
            "Rotas are published too late.",
            "The rota changes every week.",
            "Rotas should be set a month ahead.",
            "Staffing is thin at weekends.",
            "More staff on nights, please.",
        ];
        let on_pay = ["Pay has not kept up.", "Pay rises every year, please."];
        let comments: Vec<Comment> = on_rotas
            .iter()
            .map(|b| (rotas.id, b))
            .chain(on_pay.iter().map(|b| (pay.id, b)))
            .enumerate()
            .map(|(n, (item, body))| comment(item, body, n as i64))
            .collect();
        let mut visible: HashMap<Uuid, Vec<&Comment>> = HashMap::new();
        for c in &comments {
            visible.entry(c.item_id).or_default().push(c);
        }
        let themes = build("talk", &[&rotas, &pay], &visible);
        let terms: Vec<(&str, usize)> = themes[0]
            .terms
            .iter()
            .map(|t| (t.term.as_str(), t.comments))
            .collect();
        assert!(
            terms.contains(&("rotas", 3)),
            "three comments say rota or rotas, two of them \"rotas\": {terms:?}"
        );
        assert!(
            terms.contains(&("staff", 2)) || terms.contains(&("staffing", 2)),
            "staff and staffing are one theme: {terms:?}"
        );
        assert!(!terms.iter().any(|(t, _)| *t == "rota"), "{terms:?}");
        let rota = themes[0].terms.iter().find(|t| t.term == "rotas").unwrap();
        assert_eq!(rota.examples.len(), 3, "every form's comments are examples");
    }
}
