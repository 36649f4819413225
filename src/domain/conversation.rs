//! A conversation: a window of time in which people sign up, vote, comment
//! and suggest ideas. Its state (upcoming, open, closed) is derived from
//! the clock so that extending the deadline is a single field change.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use super::text::{clean, FieldError, Invalid, INTRODUCTION_MAX, TITLE_MAX};
use super::ways_in::{clean_email_domains, EmailDomain, WayIn, WaysIn};
use super::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Moderation {
    /// Comments are public at once; facilitators hide after the fact.
    Post,
    /// Comments wait for a facilitator's approval.
    Pre,
}

impl Moderation {
    /// The name in JSON and in the database; `"post".parse()` reads it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationState {
    Upcoming,
    Open,
    Closed,
}

/// One optional question about the participant, answered from a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileQuestion {
    pub key: String,
    pub label: String,
    pub choices: Vec<String>,
}

impl ProfileQuestion {
    /// The questions a conversation asks unless it says otherwise.
    pub fn defaults() -> Vec<ProfileQuestion> {
        vec![
            ProfileQuestion {
                key: "organisation_type".into(),
                label: "Where do you work or volunteer?".into(),
                choices: [
                    "Local Authority",
                    "Primary Care",
                    "VCFSE sector",
                    "Hospital trust",
                    "Children's trust",
                    "Other",
                ]
                .map(String::from)
                .to_vec(),
            },
            ProfileQuestion {
                key: "role".into(),
                label: "Are you staff or a volunteer?".into(),
                choices: vec!["staff".into(), "volunteer".into()],
            },
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Internal id; the slug is the public name.
    #[serde(skip)]
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub introduction: String,
    pub opens_at: Millis,
    pub closes_at: Millis,
    /// How people may become participants (docs/api.md, "Ways in").
    pub ways_in: WaysIn,
    /// The work email domains the `email` way in takes.
    pub email_domains: Vec<EmailDomain>,
    /// Never serialised to participants; checked on sign-up.
    #[serde(skip)]
    pub access_code: Option<String>,
    pub moderation: Moderation,
    pub ideas_need_approval: bool,
    pub profile_questions: Vec<ProfileQuestion>,
    /// Who may read the results (the report's public view).
    pub results_visibility: ResultsVisibility,
    /// Whether those readers see the results while the conversation runs
    /// (always once it has closed).
    pub results_while_open: bool,
    /// When participants see the pledges' tallies (displays and staff
    /// always do).
    pub tallies_visible: TalliesVisible,
    /// The addresses (slugs) of earlier conversations in its series: this
    /// conversation's participants may read their results when those are
    /// for participants.
    pub series: Vec<String>,
    /// Hidden from the list of conversations; its link and report still work.
    pub archived: bool,
    /// Whom participants ask for help ("Problems signing up? Email …"): an
    /// email address or a sentence.
    pub support_contact: Option<String>,
    /// Words and phrases that send a comment to review instead of straight
    /// to the public. Facilitators only: never serialised to clients here.
    #[serde(skip)]
    pub word_list: Vec<String>,
    /// What display screens show; facilitators switch it live.
    #[serde(default)]
    pub display: DisplayMode,
}

/// What the event display screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DisplayMode {
    pub mode: DisplayKind,
    /// The pledge or topic in focus, for `focus`; for `comments`, the one
    /// whose comments the wall shows (`None`: all of them).
    #[serde(default)]
    pub item_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DisplayKind {
    /// Every pledge with its tally.
    #[default]
    All,
    /// One pledge, large.
    Focus,
    /// The wall of approved comments.
    Comments,
}

impl Conversation {
    /// Why a sign-up by `way` is refused here, in the words of the field
    /// the person would fill in instead.
    fn way_refused(&self) -> FieldError {
        let (field, message) = if self.ways_in.allows(WayIn::Code) {
            ("access_code", "this conversation needs an access code")
        } else if self.ways_in.allows(WayIn::Email) {
            (
                "address",
                "this conversation takes part with a work email address",
            )
        } else {
            ("invite_code", "this conversation needs an invite code")
        };
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn state(&self, now: Millis) -> ConversationState {
        if now < self.opens_at {
            ConversationState::Upcoming
        } else if now >= self.closes_at {
            ConversationState::Closed
        } else {
            ConversationState::Open
        }
    }

    /// Contributions are accepted only while open.
    pub fn check_open(&self, now: Millis) -> Result<(), ConversationState> {
        match self.state(now) {
            ConversationState::Open => Ok(()),
            other => Err(other),
        }
    }

    /// Checks a sign-up by `way` (open, or with the access code), and the
    /// profile answers. Email and invite sign-ups are checked against the
    /// store; this checks only that the conversation takes them.
    pub fn check_signup(
        &self,
        way: WayIn,
        access_code: Option<&str>,
        profile: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        if !self.ways_in.allows(way) {
            errors.push(self.way_refused());
        } else if way == WayIn::Code {
            let expected = self.access_code.as_deref().unwrap_or_default();
            let given = access_code.unwrap_or_default().trim();
            if !given.eq_ignore_ascii_case(expected) {
                errors.push(FieldError {
                    field: "access_code".into(),
                    message: "this access code is not right".into(),
                });
            }
        }
        for (key, answer) in profile {
            match self.profile_questions.iter().find(|q| &q.key == key) {
                None => errors.push(FieldError {
                    field: format!("profile.{key}"),
                    message: "is not a question of this conversation".into(),
                }),
                Some(q) if !q.choices.iter().any(|c| c == answer) => errors.push(FieldError {
                    field: format!("profile.{key}"),
                    message: format!("must be one of: {}", q.choices.join(", ")),
                }),
                Some(_) => {}
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid(errors))
        }
    }
}

/// What an organiser gives to create a conversation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub introduction: String,
    pub opens_at: Millis,
    pub closes_at: Millis,
    /// One or more of `open`, `code`, `email`, `invite`.
    #[serde(default)]
    pub ways_in: Option<WaysIn>,
    /// The older single way in (`open` or `code`); kept so existing
    /// clients still work. Sending both is an error.
    #[serde(default)]
    pub signup_mode: Option<WayIn>,
    #[serde(default)]
    pub email_domains: Vec<String>,
    #[serde(default)]
    pub access_code: Option<String>,
    #[serde(default = "default_moderation")]
    pub moderation: Moderation,
    #[serde(default)]
    pub ideas_need_approval: bool,
    #[serde(default)]
    pub profile_questions: Option<Vec<ProfileQuestion>>,
    #[serde(default)]
    pub results_visibility: ResultsVisibility,
    #[serde(default = "default_true")]
    pub results_while_open: bool,
    /// "always" (the default), "after_voting" or "after_close"; read as
    /// text so that another word is a 422 naming the field.
    #[serde(default)]
    pub tallies_visible: Option<String>,
    #[serde(default)]
    pub series: Vec<String>,
    #[serde(default)]
    pub support_contact: Option<String>,
    #[serde(default)]
    pub word_list: Vec<String>,
}

fn default_moderation() -> Moderation {
    Moderation::Post
}
fn default_true() -> bool {
    true
}

impl NewConversation {
    /// Validates and turns the request into a conversation with a fresh id.
    pub fn into_conversation(self) -> Result<Conversation, Invalid> {
        let mut errors = Vec::new();
        let ways_in = match (&self.ways_in, self.signup_mode) {
            (Some(_), Some(_)) => {
                errors.push(FieldError {
                    field: "signup_mode".into(),
                    message: "send ways_in or signup_mode, not both".into(),
                });
                WaysIn::only(WayIn::Open)
            }
            (Some(ways), None) => ways.clone(),
            (None, Some(way)) => WaysIn::only(way),
            (None, None) => WaysIn::only(WayIn::Open),
        };
        let mut push = |r: Result<String, Invalid>| match r {
            Ok(s) => s,
            Err(Invalid(mut e)) => {
                errors.append(&mut e);
                String::new()
            }
        };
        let slug = push(check_slug(&self.slug));
        let title = push(clean("title", &self.title, 1, TITLE_MAX));
        let introduction = push(clean(
            "introduction",
            &self.introduction,
            0,
            INTRODUCTION_MAX,
        ));
        let access_code = self
            .access_code
            .as_ref()
            .map(|code| push(clean_access_code(code)));
        let email_domains = match clean_email_domains(&self.email_domains) {
            Ok(domains) => domains,
            Err(Invalid(mut e)) => {
                errors.append(&mut e);
                Vec::new()
            }
        };
        if let Err(Invalid(mut e)) = check_ways_in(&ways_in, access_code.as_deref(), &email_domains)
        {
            errors.append(&mut e);
        }
        if self.closes_at <= self.opens_at {
            errors.push(FieldError {
                field: "closes_at".into(),
                message: "must be after opens_at".into(),
            });
        }
        let word_list = match clean_word_list(&self.word_list) {
            Ok(words) => words,
            Err(Invalid(mut e)) => {
                errors.append(&mut e);
                Vec::new()
            }
        };
        let mut collect = |r: Result<(), Invalid>| {
            if let Err(Invalid(mut e)) = r {
                errors.append(&mut e);
            }
        };
        let mut series = Vec::new();
        collect(clean_series(&self.series, &slug).map(|s| series = s));
        let mut support_contact = None;
        collect(
            clean_support_contact(self.support_contact.as_deref()).map(|s| support_contact = s),
        );
        let mut tallies_visible = TalliesVisible::default();
        if let Some(word) = &self.tallies_visible {
            collect(TalliesVisible::from_word(word).map(|t| tallies_visible = t));
        }
        let profile_questions = self
            .profile_questions
            .unwrap_or_else(ProfileQuestion::defaults);
        collect(check_profile_questions(&profile_questions));
        if !errors.is_empty() {
            return Err(Invalid(errors));
        }
        Ok(Conversation {
            id: Uuid::new_v4(),
            slug,
            title,
            introduction,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            access_code: if ways_in.allows(WayIn::Code) {
                access_code
            } else {
                None
            },
            ways_in,
            email_domains,
            moderation: self.moderation,
            ideas_need_approval: self.ideas_need_approval,
            profile_questions,
            results_visibility: self.results_visibility,
            results_while_open: self.results_while_open,
            tallies_visible,
            series,
            archived: false,
            support_contact,
            word_list,
            display: DisplayMode::default(),
        })
    }
}

/// What every set of ways in needs: `code` an access code, `email` at
/// least one domain.
fn check_ways_in(
    ways_in: &WaysIn,
    access_code: Option<&str>,
    email_domains: &[EmailDomain],
) -> Result<(), Invalid> {
    let mut errors = Vec::new();
    if ways_in.allows(WayIn::Code) && access_code.is_none() {
        errors.push(FieldError {
            field: "access_code".into(),
            message: "is required when the ways in include \"code\"".into(),
        });
    }
    if ways_in.allows(WayIn::Email) && email_domains.is_empty() {
        errors.push(FieldError {
            field: "email_domains".into(),
            message: "must list at least one domain when the ways in include \"email\"".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Invalid(errors))
    }
}

/// Access codes are typed by people at events: 4 to 64 characters.
pub fn clean_access_code(code: &str) -> Result<String, Invalid> {
    clean("access_code", code, 4, 64)
}

/// What an organiser (or, for the display and word list, a facilitator)
/// changes in a conversation. Only the fields sent change: the store
/// applies the patch to the row as it is inside the writing transaction,
/// so two people changing different fields at once both keep theirs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationPatch {
    pub title: Option<String>,
    pub introduction: Option<String>,
    pub opens_at: Option<Millis>,
    /// A time (RFC 3339) or `"now"` (close early).
    pub closes_at: Option<String>,
    pub moderation: Option<Moderation>,
    pub ideas_need_approval: Option<bool>,
    pub access_code: Option<String>,
    pub results_visibility: Option<ResultsVisibility>,
    pub results_while_open: Option<bool>,
    /// Read as text, like `NewConversation::tallies_visible`.
    pub tallies_visible: Option<String>,
    pub series: Option<Vec<String>>,
    pub archived: Option<bool>,
    pub support_contact: Option<String>,
    /// Only before the conversation opens.
    pub profile_questions: Option<Vec<ProfileQuestion>>,
    pub word_list: Option<Vec<String>>,
    pub display: Option<DisplayMode>,
    pub ways_in: Option<WaysIn>,
    /// The older single way in; the same as `ways_in` with one entry.
    pub signup_mode: Option<WayIn>,
    pub email_domains: Option<Vec<String>>,
}

impl ConversationPatch {
    /// Facilitators may switch the display and edit the word list from the
    /// desk; everything else is the organisers' (admins').
    pub fn admin_only(&self) -> bool {
        self.title.is_some()
            || self.introduction.is_some()
            || self.opens_at.is_some()
            || self.closes_at.is_some()
            || self.moderation.is_some()
            || self.ideas_need_approval.is_some()
            || self.access_code.is_some()
            || self.results_visibility.is_some()
            || self.results_while_open.is_some()
            || self.tallies_visible.is_some()
            || self.series.is_some()
            || self.archived.is_some()
            || self.support_contact.is_some()
            || self.profile_questions.is_some()
            || self.signup_mode.is_some()
            || self.ways_in.is_some()
            || self.email_domains.is_some()
    }

    /// The conversation after the patch, and what kind of change it is for
    /// the event log: "display", "extend", "close" or "update".
    pub fn apply(
        &self,
        before: &Conversation,
        now: Millis,
    ) -> Result<(Conversation, &'static str), Invalid> {
        let mut after = before.clone();
        if let Some(title) = &self.title {
            after.title = clean("title", title, 1, TITLE_MAX)?;
        }
        if let Some(introduction) = &self.introduction {
            after.introduction = clean("introduction", introduction, 0, INTRODUCTION_MAX)?;
        }
        if let Some(opens_at) = self.opens_at {
            after.opens_at = opens_at;
        }
        if let Some(closes_at) = &self.closes_at {
            after.closes_at = if closes_at == "now" {
                now
            } else {
                Millis::parse_rfc3339(closes_at).ok_or_else(|| {
                    Invalid::field(
                        "closes_at",
                        "must be an RFC 3339 time such as 2026-12-04T17:00:00Z, or \"now\"",
                    )
                })?
            };
        }
        if let Some(moderation) = self.moderation {
            after.moderation = moderation;
        }
        if let Some(flag) = self.ideas_need_approval {
            after.ideas_need_approval = flag;
        }
        if let Some(code) = &self.access_code {
            after.access_code = Some(clean_access_code(code)?);
        }
        if let Some(visibility) = self.results_visibility {
            after.results_visibility = visibility;
        }
        if let Some(flag) = self.results_while_open {
            after.results_while_open = flag;
        }
        if let Some(word) = &self.tallies_visible {
            after.tallies_visible = TalliesVisible::from_word(word)?;
        }
        if let Some(series) = &self.series {
            after.series = clean_series(series, &before.slug)?;
        }
        if let Some(flag) = self.archived {
            after.archived = flag;
        }
        if let Some(contact) = &self.support_contact {
            after.support_contact = clean_support_contact(Some(contact))?;
        }
        if let Some(questions) = &self.profile_questions {
            // Answers already given name these keys and choices: changing
            // them under a running conversation would make them mean
            // something else, or nothing.
            if before.state(now) != ConversationState::Upcoming {
                return Err(Invalid::field(
                    "profile_questions",
                    "can only change before the conversation opens: answers already given would no longer match",
                ));
            }
            check_profile_questions(questions)?;
            after.profile_questions = questions.clone();
        }
        let ways_in = match (&self.ways_in, self.signup_mode) {
            (Some(_), Some(_)) => {
                return Err(Invalid::field(
                    "signup_mode",
                    "send ways_in or signup_mode, not both",
                ))
            }
            (Some(ways), None) => Some(ways.clone()),
            (None, Some(way)) => Some(WaysIn::only(way)),
            (None, None) => None,
        };
        if let Some(ways) = ways_in {
            after.ways_in = ways;
        }
        if let Some(patterns) = &self.email_domains {
            after.email_domains = clean_email_domains(patterns)?;
        }
        if !after.ways_in.allows(WayIn::Code) {
            after.access_code = None;
        }
        check_ways_in(
            &after.ways_in,
            after.access_code.as_deref(),
            &after.email_domains,
        )?;
        if let Some(words) = &self.word_list {
            after.word_list = clean_word_list(words)?;
        }
        if let Some(display) = &self.display {
            if display.mode == DisplayKind::Focus && display.item_id.is_none() {
                return Err(Invalid::field(
                    "display.item_id",
                    "is required to focus on a pledge",
                ));
            }
            after.display = display.clone();
        }
        if after.closes_at <= after.opens_at {
            return Err(Invalid::field("closes_at", "must be after opens_at"));
        }
        let action = if after.display != before.display {
            "display"
        } else if after.closes_at > before.closes_at {
            "extend"
        } else if after.closes_at < before.closes_at && after.closes_at <= now {
            "close"
        } else {
            "update"
        };
        Ok((after, action))
    }
}

impl Conversation {
    /// A new comment's status: pending review under pre-moderation, or
    /// when it contains a word from the word list; visible otherwise.
    pub fn comment_status(&self, body: &str) -> super::CommentStatus {
        if self.moderation == Moderation::Pre || matching_word(body, &self.word_list).is_some() {
            super::CommentStatus::Pending
        } else {
            super::CommentStatus::Visible
        }
    }

    /// A new idea's status: pending approval when the organisers asked for it.
    pub fn idea_status(&self) -> super::ItemStatus {
        if self.ideas_need_approval {
            super::ItemStatus::Pending
        } else {
            super::ItemStatus::Visible
        }
    }
}

/// Who may read a conversation's results (its report's public view).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString, Default,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ResultsVisibility {
    /// Anyone with the link.
    #[default]
    Public,
    /// Signed-in participants of this conversation, or of a conversation
    /// that names it in its series.
    Participants,
    /// Facilitators and admins only.
    Staff,
}

impl ResultsVisibility {
    /// The name in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// When participants see how others voted on each pledge. Showing the
/// running count before someone votes invites bandwagoning.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString, Default,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum TalliesVisible {
    /// Every tally, all the time.
    #[default]
    Always,
    /// A pledge's tally once this participant has voted on it.
    AfterVoting,
    /// No tallies until the conversation closes.
    AfterClose,
}

impl TalliesVisible {
    /// The name in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The setting named by `word`, or a 422 naming the field.
    pub fn from_word(word: &str) -> Result<TalliesVisible, Invalid> {
        word.parse().map_err(|_| {
            Invalid::field(
                "tallies_visible",
                "must be one of: always, after_voting, after_close",
            )
        })
    }

    /// What participants see of the tallies, before and after closing.
    pub fn for_participants(self, closed: bool) -> TallyView {
        match self {
            _ if closed => TallyView::All,
            TalliesVisible::Always => TallyView::All,
            TalliesVisible::AfterVoting => TallyView::Voted,
            TalliesVisible::AfterClose => TallyView::None,
        }
    }
}

/// Which pledges' tallies a participant may see now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TallyView {
    /// All of them.
    All,
    /// Only those of pledges this participant has voted on.
    Voted,
    /// None.
    None,
}

impl Conversation {
    /// What a participant (or anyone else who is neither staff nor a
    /// screen holding a display token) sees of the tallies at `now`. Once
    /// the conversation has closed, everyone sees them all.
    pub fn participant_tallies(&self, now: Millis) -> TallyView {
        self.tallies_visible
            .for_participants(self.state(now) == ConversationState::Closed)
    }
}

/// The earlier conversations a conversation names: well-formed addresses,
/// not itself, each once, at most 20. Whether they exist (and form no
/// cycle) is the store's to check, against the conversations it holds.
pub fn clean_series(series: &[String], own: &str) -> Result<Vec<String>, Invalid> {
    let mut cleaned: Vec<String> = Vec::new();
    for slug in series {
        let slug = slug.trim();
        if check_slug(slug).is_err() {
            return Err(Invalid::field(
                "series",
                format!("{slug:?} is not a conversation address"),
            ));
        }
        if slug == own {
            return Err(Invalid::field(
                "series",
                "a conversation cannot be earlier in its own series",
            ));
        }
        if !cleaned.iter().any(|s| s == slug) {
            cleaned.push(slug.to_string());
        }
    }
    if cleaned.len() > 20 {
        return Err(Invalid::field(
            "series",
            "must name at most 20 conversations",
        ));
    }
    Ok(cleaned)
}

/// A support contact: an email address or a sentence, at most 200
/// characters; blank means none.
pub fn clean_support_contact(contact: Option<&str>) -> Result<Option<String>, Invalid> {
    let contact = clean("support_contact", contact.unwrap_or_default(), 0, 200)?;
    Ok((!contact.is_empty()).then_some(contact))
}

/// The "About you" questions: 0 to 10, each with a key (1 to 40
/// characters, unique), a label (1 to 200 characters) and 1 to 30
/// distinct choices (1 to 100 characters each).
pub fn check_profile_questions(questions: &[ProfileQuestion]) -> Result<(), Invalid> {
    let bad = |message: String| Err(Invalid::field("profile_questions", message));
    if questions.len() > 10 {
        return bad("must have at most 10 questions".into());
    }
    for (n, q) in questions.iter().enumerate() {
        // Keys name the answers in exports and errors ("profile.role"):
        // short and plain, but any text (imports carry their own).
        let ok_key = clean("key", &q.key, 1, 40).is_ok_and(|k| k == q.key);
        if !ok_key {
            return bad(format!(
                "question {}: its key must be 1 to 40 characters, without spaces around it",
                n + 1
            ));
        }
        if questions[..n].iter().any(|other| other.key == q.key) {
            return bad(format!(
                "question {}: the key {:?} is used twice",
                n + 1,
                q.key
            ));
        }
        if clean("label", &q.label, 1, 200).is_err() {
            return bad(format!(
                "question {}: the question must be 1 to 200 characters",
                n + 1
            ));
        }
        if q.choices.is_empty() || q.choices.len() > 30 {
            return bad(format!("question {}: give 1 to 30 choices", n + 1));
        }
        for (m, choice) in q.choices.iter().enumerate() {
            if clean("choice", choice, 1, 100).is_err() {
                return bad(format!(
                    "question {}: each choice must be 1 to 100 characters",
                    n + 1
                ));
            }
            if q.choices[..m].contains(choice) {
                return bad(format!(
                    "question {}: the choice {choice:?} is given twice",
                    n + 1
                ));
            }
        }
    }
    Ok(())
}

/// Trims, drops blanks and duplicates, and bounds the word list.
pub fn clean_word_list(words: &[String]) -> Result<Vec<String>, Invalid> {
    let mut cleaned: Vec<String> = Vec::new();
    for word in words {
        let word = clean("word_list", word, 0, 100)?.to_lowercase();
        if !word.is_empty() && !cleaned.contains(&word) {
            cleaned.push(word);
        }
    }
    if cleaned.len() > 500 {
        return Err(Invalid::field("word_list", "must have at most 500 entries"));
    }
    Ok(cleaned)
}

/// The first word-list entry that `text` contains as whole words
/// (case-insensitive), if any.
pub fn matching_word<'a>(text: &str, words: &'a [String]) -> Option<&'a str> {
    let text = text.to_lowercase();
    words.iter().map(String::as_str).find(|word| {
        !word.is_empty()
            && text.match_indices(word).any(|(at, _)| {
                let before = text[..at].chars().next_back();
                let after = text[at + word.len()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            })
    })
}

/// Slugs appear in URLs and QR codes: short, lower case, unambiguous.
pub fn check_slug(slug: &str) -> Result<String, Invalid> {
    let ok = (3..=64).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(slug.to_string())
    } else {
        Err(Invalid::field(
            "slug",
            "must be 3 to 64 characters of a-z, 0-9 and '-', not starting or ending with '-'",
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tallies_visible_hides_until_a_vote_or_the_close_then_never() {
        use TalliesVisible::*;
        assert_eq!(Always.for_participants(false), TallyView::All);
        assert_eq!(AfterVoting.for_participants(false), TallyView::Voted);
        assert_eq!(AfterClose.for_participants(false), TallyView::None);
        for setting in [Always, AfterVoting, AfterClose] {
            assert_eq!(setting.for_participants(true), TallyView::All);
            assert_eq!(TalliesVisible::from_word(setting.as_str()), Ok(setting));
        }
        let refused = TalliesVisible::from_word("later").unwrap_err();
        assert_eq!(refused.0[0].field, "tallies_visible");
    }

    use super::*;

    fn conversation() -> Conversation {
        NewConversation {
            slug: "test-talk".into(),
            title: "Test".into(),
            introduction: String::new(),
            opens_at: Millis(1_000),
            closes_at: Millis(2_000),
            ways_in: None,
            signup_mode: Some(WayIn::Code),
            email_domains: Vec::new(),
            access_code: Some("SECRET1".into()),
            moderation: Moderation::Post,
            ideas_need_approval: false,
            profile_questions: None,
            results_visibility: ResultsVisibility::Public,
            results_while_open: true,
            tallies_visible: None,
            series: Vec::new(),
            support_contact: None,
            word_list: vec![" Smith ".into(), "smith".into(), "".into()],
        }
        .into_conversation()
        .unwrap()
    }

    #[test]
    fn word_lists_match_whole_words_in_any_case() {
        let c = conversation();
        assert_eq!(c.word_list, vec!["smith".to_string()]);
        assert_eq!(
            matching_word("Dr SMITH on ward 4", &c.word_list),
            Some("smith")
        );
        assert_eq!(matching_word("a blacksmithing course", &c.word_list), None);
        let phrases = vec!["ward 4".to_string()];
        assert_eq!(matching_word("It was on ward 4.", &phrases), Some("ward 4"));
        assert_eq!(matching_word("ward 42", &phrases), None);
    }

    #[test]
    fn state_follows_the_clock() {
        let c = conversation();
        assert_eq!(c.state(Millis(999)), ConversationState::Upcoming);
        assert_eq!(c.state(Millis(1_000)), ConversationState::Open);
        assert_eq!(c.state(Millis(2_000)), ConversationState::Closed);
    }

    #[test]
    fn signup_checks_code_and_answers() {
        let c = conversation();
        let mut profile = std::collections::BTreeMap::new();
        assert!(c
            .check_signup(WayIn::Code, Some("secret1"), &profile)
            .is_ok());
        assert!(c.check_signup(WayIn::Code, None, &profile).is_err());
        let err = c.check_signup(WayIn::Open, None, &profile).unwrap_err();
        assert_eq!(err.0[0].field, "access_code");
        profile.insert("role".into(), "astronaut".into());
        let err = c
            .check_signup(WayIn::Code, Some("SECRET1"), &profile)
            .unwrap_err();
        assert_eq!(err.0[0].field, "profile.role");
    }

    #[test]
    fn slugs() {
        assert!(check_slug("best-place-to-work").is_ok());
        assert!(check_slug("Best").is_err());
        assert!(check_slug("a").is_err());
        assert!(check_slug("-x-").is_err());
    }
}

/// A conversation as clients see it: the stored fields plus its state now.
#[derive(Debug, Serialize)]
pub struct ConversationView<'a> {
    #[serde(flatten)]
    pub conversation: &'a Conversation,
    pub state: ConversationState,
}

impl Conversation {
    pub fn view(&self, now: Millis) -> ConversationView<'_> {
        ConversationView {
            conversation: self,
            state: self.state(now),
        }
    }
}
