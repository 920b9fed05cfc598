//! How a command family declares itself, independent of any platform: its words, who may
//! use it, its help, its options (what a platform with structured commands, such as
//! Discord's slash commands, registers), and the two ways in — a text line through the
//! shared lexer, or options a platform already split.
//!
//! Each family lives in one file of `cmd/`; the help, the usage lines and every
//! platform's command registration are generated from these declarations.

use super::lex::Lexer;
use super::parse::{Command, FeedRef, ParseError, Role};

/// One top-level command word ("feeds", "search") and everything under it.
pub struct Family {
    pub word: &'static str,
    /// `Some` when the word only groups subcommands ("feeds add", "feeds list").
    pub group: Option<Group>,
    /// Every form, in help order. A family without a group has one form named `word`.
    pub forms: &'static [Form],
    /// The rest of a text line after `word` → a command.
    pub parse: fn(&mut Lexer<'_>) -> Result<Command, ParseError>,
    /// Options a platform split already (never re-parsed as text) → a command, or a
    /// one-line message saying what was wrong.
    pub from_options: fn(&Invocation<'_>) -> Result<Command, String>,
}

/// A word that groups subcommands.
pub struct Group {
    /// One line for a platform's command list ("Manage the feeds this server follows").
    pub description: &'static str,
    /// The usage shown for the word alone ("feeds add|remove|…").
    pub usage: &'static str,
}

/// One command form ("feeds add", "search").
pub struct Form {
    /// The command words, e.g. "feeds add"; the key of [`super::parse::usage`] and help.
    pub name: &'static str,
    pub usage: &'static str,
    /// The help line.
    pub summary: &'static str,
    /// One line for a platform's command picker (at most 100 characters).
    pub description: &'static str,
    pub role: Role,
    pub options: &'static [OptSpec],
}

impl Family {
    /// The least role any form needs: a platform's default visibility of the command.
    pub fn role(&self) -> Role {
        self.forms.iter().map(|f| f.role).min().unwrap_or(Role::Member)
    }

    /// The subcommand words ("add", "list"), empty without a group.
    pub fn subwords(&self) -> Vec<&'static str> {
        if self.group.is_none() {
            return Vec::new();
        }
        self.forms.iter().filter_map(|f| f.name.rsplit(' ').next()).collect()
    }

    /// The form a subcommand word names (the only form without a group).
    pub fn form(&self, sub: Option<&str>) -> Option<&'static Form> {
        match (&self.group, sub) {
            (None, None) => self.forms.first(),
            (Some(_), Some(sub)) => {
                self.forms.iter().find(|f| f.name.rsplit(' ').next() == Some(sub))
            }
            _ => None,
        }
    }
}

/// What kind of value an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptKind {
    Text,
    Integer,
    /// An uploaded file.
    File,
    /// On or off.
    Flag,
    /// A channel of the community (platforms with structured commands only: elsewhere a
    /// command acts where it is typed).
    Channel,
    /// A group of people the platform can ping (a role).
    Group,
}

/// The fixed values an option offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choices {
    None,
    Fixed(&'static [&'static str]),
    /// Every help topic ("search", "feeds add"), generated from the families.
    HelpTopics,
}

/// One option of a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptSpec {
    pub name: &'static str,
    pub kind: OptKind,
    pub description: &'static str,
    pub required: bool,
    /// The platform should suggest values while it is typed (feeds, time zones).
    pub autocomplete: bool,
    pub max_len: Option<u16>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub choices: Choices,
}

impl OptSpec {
    const fn new(kind: OptKind, name: &'static str, description: &'static str) -> OptSpec {
        OptSpec {
            name,
            kind,
            description,
            required: false,
            autocomplete: false,
            max_len: None,
            min: None,
            max: None,
            choices: Choices::None,
        }
    }

    pub const fn text(name: &'static str, description: &'static str) -> OptSpec {
        OptSpec::new(OptKind::Text, name, description)
    }

    pub const fn integer(name: &'static str, description: &'static str) -> OptSpec {
        OptSpec::new(OptKind::Integer, name, description)
    }

    pub const fn flag(name: &'static str, description: &'static str) -> OptSpec {
        OptSpec::new(OptKind::Flag, name, description)
    }

    pub const fn channel(name: &'static str, description: &'static str) -> OptSpec {
        OptSpec::new(OptKind::Channel, name, description)
    }

    pub const fn group(name: &'static str, description: &'static str) -> OptSpec {
        OptSpec::new(OptKind::Group, name, description)
    }

    pub const fn file(name: &'static str, description: &'static str) -> OptSpec {
        OptSpec::new(OptKind::File, name, description)
    }

    pub const fn required(self) -> OptSpec {
        OptSpec { required: true, ..self }
    }

    pub const fn autocomplete(self) -> OptSpec {
        OptSpec { autocomplete: true, ..self }
    }

    pub const fn max_len(self, n: u16) -> OptSpec {
        OptSpec { max_len: Some(n), ..self }
    }

    pub const fn range(self, min: i64, max: Option<i64>) -> OptSpec {
        OptSpec { min: Some(min), max, ..self }
    }

    pub const fn choices(self, choices: Choices) -> OptSpec {
        OptSpec { choices, ..self }
    }

    /// The offered values, in order.
    pub fn choice_list(&self) -> Vec<&'static str> {
        match self.choices {
            Choices::None => Vec::new(),
            Choices::Fixed(c) => c.to_vec(),
            Choices::HelpTopics => super::cmd::help_topics(),
        }
    }
}

/// The feed option most commands take.
pub const FEED: OptSpec =
    OptSpec::text("feed", "The feed: its #id, URL or name").autocomplete().max_len(2048);

/// A command as a platform with structured options delivers it.
#[derive(Debug, Clone, Default)]
pub struct Invocation<'a> {
    /// The subcommand word, for a family with a group.
    pub sub: Option<&'a str>,
    pub values: Vec<(&'a str, OptValue)>,
}

/// One option's value.
#[derive(Debug, Clone, PartialEq)]
pub enum OptValue {
    Text(String),
    Integer(i64),
    /// An uploaded file; `None` when the platform did not deliver what it pointed at.
    File(Option<Upload>),
    Flag(bool),
    /// The platform's id of a channel.
    Channel(String),
    /// The platform's id of a group (a role), as the platform's mention syntax.
    Group(String),
}

/// A file a user uploaded, readable at `url`.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub url: String,
    pub filename: String,
    pub size: u64,
    pub content_type: Option<String>,
}

impl Invocation<'_> {
    fn get(&self, name: &str) -> Option<&OptValue> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(OptValue::Text(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn required_str(&self, name: &str) -> Result<String, String> {
        match self.str(name).map(str::trim) {
            Some(s) if !s.is_empty() => Ok(s.to_string()),
            _ => Err(format!("missing {name}")),
        }
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(OptValue::Integer(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Some(OptValue::Flag(b)) => Some(*b),
            _ => None,
        }
    }

    /// A channel or group option's id.
    pub fn id(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(OptValue::Channel(id) | OptValue::Group(id)) => Some(id.as_str()),
            _ => None,
        }
    }

    /// `None` when no file was given; `Some(None)` when one was but did not arrive.
    pub fn file(&self, name: &str) -> Option<Option<&Upload>> {
        match self.get(name) {
            Some(OptValue::File(f)) => Some(f.as_ref()),
            _ => None,
        }
    }

    pub fn feed(&self) -> Result<FeedRef, String> {
        self.optional_feed().ok_or_else(|| "missing the feed (its #id, URL or name)".to_string())
    }

    pub fn optional_feed(&self) -> Option<FeedRef> {
        self.str("feed").and_then(FeedRef::parse)
    }
}
