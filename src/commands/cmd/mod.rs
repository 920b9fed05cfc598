//! Every command family, one file each, in the spirit of mini-redis's `cmd/`: its words,
//! role, help, options and grammar (see [`Family`]) and, below them, what
//! [`crate::commands::Core`] does with its commands (`impl Core` methods). Adding a
//! command is a new file here, its line in [`FAMILIES`], its [`Command`] variant and the
//! arm in `Core::run` that calls its method.
//!
//! The help text, the usage lines and the platforms' command registrations (Discord's
//! slash commands) are all generated from [`FAMILIES`], so they cannot drift apart.

pub mod article;
pub mod digest;
pub mod feeds;
pub mod help;
pub mod latest;
pub mod search;
pub mod subscribe;
pub mod subscriptions;
pub mod unsubscribe;

use super::lex::closest;
use super::parse::{Command, Role};
use super::spec::{Family, Form, Invocation};

/// Every family, in the order platforms list them.
pub const FAMILIES: &[&Family] = &[
    &feeds::FAMILY,
    &subscribe::FAMILY,
    &unsubscribe::FAMILY,
    &subscriptions::FAMILY,
    &digest::FAMILY,
    &search::FAMILY,
    &article::FAMILY,
    &latest::FAMILY,
    &help::FAMILY,
];

/// The family a (lower-case) first word names.
pub fn family(word: &str) -> Option<&'static Family> {
    FAMILIES.iter().copied().find(|f| f.word == word)
}

/// The form named "feeds add", "search", ….
pub fn form_named(name: &str) -> Option<&'static Form> {
    FAMILIES.iter().flat_map(|f| f.forms).find(|f| f.name == name)
}

/// Every form, grouped by who may use it (everyone first), in family order: the order
/// of the help.
pub fn forms_in_help_order() -> Vec<&'static Form> {
    let mut out = Vec::new();
    for role in [Role::Member, Role::ChannelManager, Role::Admin] {
        for f in FAMILIES {
            out.extend(f.forms.iter().filter(|form| form.role == role));
        }
    }
    out
}

/// Every topic `help` explains, in help order ("help" itself left out).
pub fn help_topics() -> Vec<&'static str> {
    forms_in_help_order().into_iter().map(|f| f.name).filter(|n| *n != "help").collect()
}

/// A command from options a platform already split: `word` is the command's name,
/// `sub` in `invocation` its subcommand.
pub fn from_options(word: &str, invocation: &Invocation<'_>) -> Result<Command, String> {
    match family(word) {
        Some(f) if f.group.is_some() || invocation.sub.is_none() => (f.from_options)(invocation),
        _ => Err(unknown(word, invocation.sub)),
    }
}

fn unknown(word: &str, sub: Option<&str>) -> String {
    format!(
        "herald does not know `{word}{}`; its commands may have been updated — try `help`",
        sub.map(|s| format!(" {s}")).unwrap_or_default()
    )
}

/// Whether `code`, a code span in herald's own text, is a command to type, so each
/// adapter can write it in its own syntax (`/feeds add URL`, `!herald feeds add URL`).
pub fn is_command_reference(code: &str) -> bool {
    let first = code.split_whitespace().next().unwrap_or("");
    FAMILIES.iter().any(|f| f.word.eq_ignore_ascii_case(first))
}

/// Suggests a command for a mistyped first word. Subcommand words typed on their own
/// ("remove") suggest the full form ("feeds remove").
pub(crate) fn suggest_command(word: &str) -> Option<&'static str> {
    let words: Vec<&'static str> = FAMILIES.iter().map(|f| f.word).collect();
    if let Some(top) = closest(word, &words) {
        return Some(top);
    }
    forms_in_help_order()
        .into_iter()
        .filter(|f| f.name.contains(' '))
        .find(|f| f.name.rsplit(' ').next() == Some(word))
        .map(|f| f.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_references_start_with_a_command_word() {
        assert!(is_command_reference("feeds add URL"));
        assert!(is_command_reference("subscribe 1"));
        assert!(!is_command_reference("source"));
        assert!(!is_command_reference(""));
    }

    #[test]
    fn families_are_consistent() {
        let mut names = Vec::new();
        for f in FAMILIES {
            assert!(!f.forms.is_empty(), "{}", f.word);
            for form in f.forms {
                let words: Vec<&str> = form.name.split(' ').collect();
                assert_eq!(words[0], f.word, "{} belongs to its family", form.name);
                assert_eq!(words.len(), if f.group.is_some() { 2 } else { 1 }, "{}", form.name);
                assert!(form.usage.starts_with(form.name), "{}", form.usage);
                assert!(!names.contains(&form.name), "{} declared twice", form.name);
                names.push(form.name);
                assert_eq!(f.form(words.get(1).copied()).map(|x| x.name), Some(form.name));
            }
        }
        // Every command parses to a declared form of its own name.
        for line in [
            "feeds add https://x.org/rss",
            "feeds remove 1",
            "feeds pause 1",
            "feeds resume 1",
            "feeds list",
            "feeds import https://x.org/f.opml",
            "feeds export",
            "subscribe 1",
            "unsubscribe 1",
            "subscriptions",
            "digest schedule daily 08:00",
            "digest now",
            "digest preview",
            "search x",
            "article 1",
            "latest",
            "help",
        ] {
            let cmd = super::super::parse::parse(line).expect("parses");
            assert!(form_named(cmd.name()).is_some(), "{line}: {} is declared", cmd.name());
            assert!(line.starts_with(cmd.name()), "{line}");
        }
        assert_eq!(help_topics().len(), names.len() - 1, "every form but help is a topic");
    }
}
