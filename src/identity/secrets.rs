//! The secrets people type, each parsed from what they typed into one
//! normal form (so a phrase in capitals or a code with a space still
//! works) and generated from the operating system's random source.

use std::sync::LazyLock;

use rand::rngs::OsRng;
use rand::Rng;

use crate::domain::Invalid;

/// The BIP-39 English word list (2,048 words, each told apart by its first
/// four letters), from bitcoin/bips `bip-0039/english.txt`; see
/// `words.md` beside it for where it came from.
const WORD_FILE: &str = include_str!("words.txt");

static WORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| WORD_FILE.lines().collect());

/// Words in a return phrase: 5 of 2,048 is 55 bits.
pub const PHRASE_WORDS: usize = 5;

/// A return phrase: five words from the list, lower case, one space apart.
#[derive(Clone, PartialEq, Eq)]
pub struct ReturnPhrase(String);

impl std::fmt::Debug for ReturnPhrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReturnPhrase(<secret>)")
    }
}

impl ReturnPhrase {
    pub fn generate() -> ReturnPhrase {
        let words: Vec<&str> = (0..PHRASE_WORDS)
            .map(|_| WORDS[OsRng.gen_range(0..WORDS.len())])
            .collect();
        ReturnPhrase(words.join(" "))
    }

    /// Reads a phrase as typed: any case, words separated by spaces,
    /// hyphens, dots or commas.
    pub fn parse(text: &str) -> Result<ReturnPhrase, Invalid> {
        let text = text.to_lowercase();
        let words: Vec<&str> = text
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| !w.is_empty())
            .collect();
        let known = words.iter().all(|w| WORDS.binary_search(w).is_ok());
        if words.len() != PHRASE_WORDS || !known {
            return Err(Invalid::field(
                "phrase",
                "is not a return phrase: it is five words, such as the ones you were shown when you signed up",
            ));
        }
        Ok(ReturnPhrase(words.join(" ")))
    }

    pub fn normalised(&self) -> &str {
        &self.0
    }

    /// The phrase to show, once.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

/// A six-digit code sent by email.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailCode(String);

impl std::fmt::Debug for EmailCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmailCode(<secret>)")
    }
}

impl EmailCode {
    pub fn generate() -> EmailCode {
        EmailCode(format!("{:06}", OsRng.gen_range(0..1_000_000u32)))
    }

    pub fn parse(text: &str) -> Result<EmailCode, Invalid> {
        let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::field(
                "code",
                "is the 6 digits from the email we sent",
            ));
        }
        Ok(EmailCode(digits))
    }

    pub fn digits(&self) -> &str {
        &self.0
    }
}

/// Crockford's base 32: no I, L, O or U, so nothing is misread on paper.
const INVITE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 10 characters of base 32: 50 bits.
const INVITE_LENGTH: usize = 10;

/// A single-use invite code, shown as `ABCDE-FGHJK`.
#[derive(Clone, PartialEq, Eq)]
pub struct InviteCode(String);

impl std::fmt::Debug for InviteCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InviteCode(<secret>)")
    }
}

impl InviteCode {
    pub fn generate() -> InviteCode {
        let code = (0..INVITE_LENGTH)
            .map(|_| INVITE_ALPHABET[OsRng.gen_range(0..32)] as char)
            .collect();
        InviteCode(code)
    }

    /// Reads a code as typed: any case, with or without the hyphen and
    /// spaces; O is read as 0 and I or L as 1, as Crockford's base 32 says.
    pub fn parse(text: &str) -> Result<InviteCode, Invalid> {
        let code: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            })
            .collect();
        let ok = code.len() == INVITE_LENGTH && code.bytes().all(|b| INVITE_ALPHABET.contains(&b));
        if !ok {
            return Err(Invalid::field(
                "invite_code",
                "is not an invite code: it looks like ABCDE-12345",
            ));
        }
        Ok(InviteCode(code))
    }

    pub fn normalised(&self) -> &str {
        &self.0
    }

    /// As printed: two groups of five.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_list_is_bip39_english() {
        assert_eq!(WORDS.len(), 2048);
        assert!(WORDS.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert_eq!((WORDS[0], WORDS[2047]), ("abandon", "zoo"));
    }

    #[test]
    fn phrases_read_back_however_they_are_typed() {
        let phrase = ReturnPhrase::generate();
        assert_eq!(phrase.reveal().split(' ').count(), 5);
        let shouted = phrase.reveal().to_uppercase().replace(' ', " - ");
        assert_eq!(ReturnPhrase::parse(&shouted).unwrap(), phrase);
        assert!(ReturnPhrase::parse("abandon ability able about").is_err());
        assert!(ReturnPhrase::parse("abandon ability able about zzzz").is_err());
        assert!(!format!("{phrase:?}").contains(phrase.reveal()));
    }

    #[test]
    fn codes_read_back_however_they_are_typed() {
        let code = EmailCode::generate();
        assert_eq!(
            EmailCode::parse(&format!(" {} ", code.digits())).unwrap(),
            code
        );
        assert!(EmailCode::parse("12345").is_err());
        assert!(EmailCode::parse("12345a").is_err());
        let invite = InviteCode::generate();
        let typed = invite.display().to_lowercase();
        assert_eq!(InviteCode::parse(&typed).unwrap(), invite);
        assert_eq!(
            InviteCode::parse("oil00-abcde").unwrap(),
            InviteCode::parse("01100ABCDE").unwrap()
        );
        assert!(InviteCode::parse("ABCDE-FGHJ").is_err());
        assert!(InviteCode::parse("ABCDE-FGHJU").is_err());
    }
}
