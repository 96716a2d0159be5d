//! Parse, don't validate: each input type can only be built from text that passed its rules, and
//! the rest of the code takes the type. Each `parse` returns the message to show beside the field.

/// A local username: 3-30 of `a-z 0-9 _`, compared case-insensitively (stored lowercase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Reads a username as typed; `Alice` and `alice` are the same account.
    pub fn parse(input: &str) -> Result<Username, String> {
        let name = input.trim().to_ascii_lowercase();
        name_rules(&name, "Username")?;
        Ok(Username(name))
    }

    /// The lowercase name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A forum's URL name: the same rules as usernames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForumName(String);

impl ForumName {
    /// Reads a forum name.
    pub fn parse(input: &str) -> Result<ForumName, String> {
        let name = input.trim().to_ascii_lowercase();
        name_rules(&name, "Forum name")?;
        Ok(ForumName(name))
    }

    /// The lowercase name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn name_rules(name: &str, what: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("{what} is required."));
    }
    if name.len() < 3 || name.len() > 30 {
        return Err(format!("{what} must be 3 to 30 characters long."));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!(
            "{what} may use only letters a-z, digits 0-9 and underscores."
        ));
    }
    Ok(())
}

/// Whether `c` is invisible and can change how a name reads without being seen: bidirectional
/// embeddings, overrides and isolates (U+202A-202E, U+2066-2069), zero-width characters and
/// direction marks (U+200B-200F), the Arabic letter mark (U+061C), the word joiner and invisible
/// operators (U+2060-2064) and the byte order mark (U+FEFF). Unicode Technical Report 36
/// ("Unicode Security Considerations") describes the spoofing they allow. Names and titles
/// drop them; post bodies keep them, where direction marks have honest uses.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{061C}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}')
}

/// `input` without invisible characters ([`is_invisible`]), trimmed, each run of whitespace
/// (line breaks too) made one space.
fn visible_line(input: &str) -> String {
    let visible: String = input.chars().filter(|c| !is_invisible(*c)).collect();
    visible.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text from another server made fit to show as one line: control and invisible characters
/// removed, runs of whitespace made one space, and cut to `max_chars` characters (ending in
/// "…" when cut). Never fails: a name that is too long is shortened, not refused.
pub fn remote_line(input: &str, max_chars: usize) -> String {
    let spaced: String = input
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = visible_line(&spaced);
    if text.chars().count() <= max_chars {
        return text;
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Text from another server made fit to keep as several lines (a description, a post's
/// source): NUL and other control characters except line breaks and tabs removed, and cut to
/// at most `max_bytes` bytes at a character boundary. Returns the text and whether it was cut.
pub fn remote_text(input: &str, max_bytes: usize) -> (String, bool) {
    let mut text: String = input
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    if text.len() <= max_bytes {
        return (text, false);
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (text, true)
}

/// A username from another server: `preferredUsername` must look like a handle (letters,
/// digits, `_`, `-` and `.`, as Mastodon, Lemmy, Pleroma and NodeBB all produce, or a domain
/// with its port, as instance actors use), so that `name@domain` cannot be made to show
/// something else.
pub fn remote_username(input: &str) -> Result<String, String> {
    let name = input.trim();
    if name.is_empty() || name.len() > 255 {
        return Err(format!(
            "{name:?} is not a plausible username (1 to 255 characters)"
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
    {
        return Err(format!(
            "{name:?} is not a plausible username (letters, digits, _, -, . and : only)"
        ));
    }
    Ok(name.to_ascii_lowercase())
}

/// Single-line text: invisible characters dropped ([`is_invisible`]), trimmed, inner runs of
/// whitespace (newlines too) become one space, control characters refused, length in
/// characters bounded.
pub(crate) fn single_line(
    input: &str,
    what: &str,
    max_chars: usize,
    required: bool,
) -> Result<String, String> {
    let text = visible_line(input);
    if text.is_empty() && required {
        return Err(format!("{what} is required."));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("{what} may not contain control characters."));
    }
    let count = text.chars().count();
    if count > max_chars {
        return Err(format!(
            "{what} is {count} characters long; the limit is {max_chars}."
        ));
    }
    Ok(text)
}

/// The name shown beside a person's posts: 1-50 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Reads a display name; an empty one falls back to `username`.
    pub fn parse_or(input: &str, username: &Username) -> Result<DisplayName, String> {
        let text = single_line(input, "Display name", 50, false)?;
        Ok(DisplayName(if text.is_empty() {
            username.as_str().to_string()
        } else {
            text
        }))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 10 characters (and at most 1024, so hashing stays cheap).
pub struct NewPassword(String);

impl NewPassword {
    /// Reads a new password. It is not trimmed: every character counts.
    pub fn parse(input: &str) -> Result<NewPassword, String> {
        let count = input.chars().count();
        if count < 10 {
            return Err("Password must be at least 10 characters long.".into());
        }
        if count > 1024 {
            return Err("Password must be at most 1024 characters long.".into());
        }
        Ok(NewPassword(input.to_string()))
    }

    /// The password.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

/// A thread title: one line, 1 to `limits.title_max_chars` characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadTitle(String);

impl ThreadTitle {
    /// Reads a title.
    pub fn parse(input: &str, max_chars: usize) -> Result<ThreadTitle, String> {
        single_line(input, "Title", max_chars, true).map(ThreadTitle)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A forum title: one line, 1-100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForumTitle(String);

impl ForumTitle {
    /// Reads a forum title.
    pub fn parse(input: &str) -> Result<ForumTitle, String> {
        single_line(input, "Title", 100, true).map(ForumTitle)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A forum description: plain text, up to 1000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForumDescription(String);

impl ForumDescription {
    /// Reads a description.
    pub fn parse(input: &str) -> Result<ForumDescription, String> {
        single_line(input, "Description", 1000, false).map(ForumDescription)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a moderator acted: plain text on one line, up to [`Reason::MAX_CHARS`] characters;
/// required where the action needs one (a removal, a ban, a report), optional elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reason(String);

impl Reason {
    /// The longest reason.
    pub const MAX_CHARS: usize = 1000;

    /// Reads a reason.
    pub fn parse(input: &str, required: bool) -> Result<Reason, String> {
        single_line(input, "Reason", Reason::MAX_CHARS, required).map(Reason)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An applicant's answer to the instance's question: plain text on one line, up to
/// [`Answer::MAX_CHARS`] characters, required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer(String);

impl Answer {
    /// The longest answer.
    pub const MAX_CHARS: usize = 1000;

    /// Reads an answer.
    pub fn parse(input: &str) -> Result<Answer, String> {
        single_line(input, "An answer", Answer::MAX_CHARS, true).map(Answer)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, lowercased: one `@` between a local part and a domain with a dot, no
/// spaces or control characters, at most 254 characters (RFC 5321's limit for a path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Reads an address.
    pub fn parse(input: &str) -> Result<EmailAddress, String> {
        let text = input.trim().to_lowercase();
        if text.is_empty() {
            return Err("An e-mail address is required.".into());
        }
        let wrong = || {
            Err(format!(
                "“{text}” is not an e-mail address, such as name@school.example."
            ))
        };
        if text.chars().count() > 254 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return wrong();
        }
        match text.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.') =>
            {
                Ok(EmailAddress(text))
            }
            _ => wrong(),
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }
}

/// A post body in Markdown: not blank, at most `limits.body_max_bytes` bytes, line endings `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostBody(String);

impl PostBody {
    /// Reads a body. Trailing whitespace is dropped; leading indentation is kept (it is Markdown).
    pub fn parse(input: &str, max_bytes: usize) -> Result<PostBody, String> {
        let text = input.replace("\r\n", "\n").replace('\r', "\n");
        let text = text.trim_end();
        let text = text.trim_start_matches(['\n']);
        if text.trim().is_empty() {
            return Err("Write something first: the post is empty.".into());
        }
        if text.len() > max_bytes {
            return Err(format!(
                "The post is {} KiB long; the limit is {} KiB.",
                text.len().div_ceil(1024),
                max_bytes / 1024
            ));
        }
        if text.contains('\0') {
            return Err("The post contains a NUL character.".into());
        }
        Ok(PostBody(text.to_string()))
    }

    /// The Markdown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_read_with_their_domain() {
        let a = EmailAddress::parse("  Ms.Rivera@School.Example ").unwrap();
        assert_eq!(a.as_str(), "ms.rivera@school.example");
        assert_eq!(a.domain(), "school.example");
        for bad in [
            "",
            "rivera",
            "@school.example",
            "a@b",
            "a@b@c.example",
            "a b@c.example",
            "a@.example",
            "a@example.",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Answer::parse(" ").is_err());
        assert!(Answer::parse(&"x".repeat(1001)).is_err());
    }

    #[test]
    fn reasons_are_one_line_and_bounded() {
        assert_eq!(
            Reason::parse("  Off topic ", true).unwrap().as_str(),
            "Off topic"
        );
        assert_eq!(Reason::parse("", false).unwrap().as_str(), "");
        assert!(Reason::parse(" ", true).is_err());
        assert!(Reason::parse("a\u{7}b", false).is_err());
        assert!(Reason::parse(&"x".repeat(Reason::MAX_CHARS), true).is_ok());
        assert!(Reason::parse(&"x".repeat(Reason::MAX_CHARS + 1), true).is_err());
    }

    #[test]
    fn usernames_are_lowercased_and_checked() {
        assert_eq!(Username::parse(" Alice_1 ").unwrap().as_str(), "alice_1");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(31)).is_err());
        assert!(Username::parse(&"a".repeat(30)).is_ok());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("alice-b").is_err());
        assert!(Username::parse("élodie").is_err());
        assert!(Username::parse("").unwrap_err().contains("required"));
    }

    #[test]
    fn titles_are_one_line_and_bounded_in_characters() {
        assert_eq!(
            ThreadTitle::parse("  Fractions\n in  year 5 ", 200)
                .unwrap()
                .as_str(),
            "Fractions in year 5"
        );
        assert!(ThreadTitle::parse("   ", 200)
            .unwrap_err()
            .contains("required"));
        // 200 multi-byte characters are within a 200-character limit.
        assert!(ThreadTitle::parse(&"é".repeat(200), 200).is_ok());
        assert!(ThreadTitle::parse(&"é".repeat(201), 200)
            .unwrap_err()
            .contains("201"));
        assert!(ThreadTitle::parse("a\u{7}b", 200).is_err());
    }

    #[test]
    fn bodies_normalise_line_endings_and_enforce_bytes() {
        assert_eq!(
            PostBody::parse("a\r\nb  \n\n", 100).unwrap().as_str(),
            "a\nb"
        );
        assert_eq!(
            PostBody::parse("\n    code\n", 100).unwrap().as_str(),
            "    code"
        );
        assert!(PostBody::parse(" \n\t", 100).is_err());
        assert!(PostBody::parse(&"x".repeat(101), 100).is_err());
        assert!(PostBody::parse(&"x".repeat(100), 100).is_ok());
    }

    #[test]
    fn names_lose_invisible_characters() {
        let u = Username::parse("bob").unwrap();
        // A right-to-left override would show "moc.elpmaxe" as "example.com".
        assert_eq!(
            DisplayName::parse_or("Ms\u{202E}Bob\u{200B}\u{2066}x\u{2069}\u{FEFF}\u{061C}", &u)
                .unwrap()
                .as_str(),
            "MsBobx"
        );
        assert_eq!(
            ThreadTitle::parse("\u{200F}Title\u{202A}", 200)
                .unwrap()
                .as_str(),
            "Title"
        );
        assert!(ThreadTitle::parse("\u{200B}\u{200B}", 200).is_err());
        assert_eq!(ForumTitle::parse("A\u{2067}B").unwrap().as_str(), "AB");
    }

    #[test]
    fn remote_text_is_cleaned_and_bounded() {
        assert_eq!(
            remote_line("  Ms\u{0}\u{7} Rivera\u{202E}\n", 50),
            "Ms Rivera"
        );
        assert_eq!(remote_line(&"é".repeat(60), 50).chars().count(), 50);
        assert!(remote_line(&"é".repeat(60), 50).ends_with('…'));
        assert_eq!(remote_line("short", 50), "short");
        let (text, cut) = remote_text("a\u{0}b\nc\td\u{1b}", 100);
        assert_eq!((text.as_str(), cut), ("ab\nc\td", false));
        let (text, cut) = remote_text(&"é".repeat(10), 5);
        assert_eq!((text.as_str(), cut), ("éé", true));
        // Post bodies keep direction marks.
        assert_eq!(remote_text("a\u{200F}b", 100).0, "a\u{200F}b");
    }

    #[test]
    fn remote_usernames_must_look_like_handles() {
        assert_eq!(remote_username("Alice.B-1_x").unwrap(), "alice.b-1_x");
        assert_eq!(
            remote_username("school.example:8443").unwrap(),
            "school.example:8443"
        );
        for bad in [
            "",
            "a b",
            "a@b",
            "evil\u{202E}moc",
            "x/y",
            "<b>",
            &"a".repeat(256),
        ] {
            assert!(remote_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_ten_characters() {
        assert!(NewPassword::parse("123456789").is_err());
        assert!(NewPassword::parse("1234567890").is_ok());
        assert!(NewPassword::parse("ééééééééé").is_err());
        assert_eq!(
            format!("{:?}", NewPassword::parse("secret-secret").unwrap()),
            "NewPassword(..)"
        );
    }

    #[test]
    fn display_names_fall_back_to_the_username() {
        let u = Username::parse("bob").unwrap();
        assert_eq!(DisplayName::parse_or("  ", &u).unwrap().as_str(), "bob");
        assert_eq!(
            DisplayName::parse_or("Ms Bob", &u).unwrap().as_str(),
            "Ms Bob"
        );
        assert!(DisplayName::parse_or(&"x".repeat(51), &u).is_err());
    }
}
