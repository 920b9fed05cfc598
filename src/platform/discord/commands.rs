//! The slash commands herald registers, and their options turned into the core's
//! [`Command`] (never re-parsed as text: Discord already split the options).

use serenity::builder::{CreateCommand, CreateCommandOption};
use serenity::model::application::{
    CommandDataOption, CommandDataOptionValue, CommandDataResolved, CommandOptionType,
};
use serenity::model::channel::ChannelType;
use serenity::model::permissions::Permissions;

use crate::commands::cmd::{self, FAMILIES};
use crate::commands::parse::{Command, FeedRef, MAX_PAGE, Role, Since};
use crate::commands::spec::{Family, Form, Invocation, OptKind, OptSpec, OptValue, Upload};

/// Longest search query that still fits a paging button's 100-character custom id.
pub const QUERY_MAX: u16 = crate::commands::cmd::search::QUERY_MAX;

/// Every command herald offers, generated from the command families. Admin commands
/// default to Manage Server and channel commands to Manage Channels; server owners may
/// change that, so the core checks the role again on every call.
pub fn definitions() -> Vec<CreateCommand> {
    FAMILIES.iter().map(|f| family_definition(f)).collect()
}

fn family_definition(family: &Family) -> CreateCommand {
    let mut c = CreateCommand::new(family.word).dm_permission(false);
    match family.role() {
        Role::Admin => c = c.default_member_permissions(Permissions::MANAGE_GUILD),
        Role::ChannelManager => c = c.default_member_permissions(Permissions::MANAGE_CHANNELS),
        Role::Member => {}
    }
    match &family.group {
        Some(group) => {
            c = c.description(group.description);
            for form in family.forms {
                c = c.add_option(subcommand(form));
            }
        }
        None => {
            let form = family.forms.first();
            c = c.description(form.map_or("", |f| f.description));
            for o in form.map_or(&[][..], |f| f.options) {
                c = c.add_option(option(o));
            }
        }
    }
    c
}

fn subcommand(form: &Form) -> CreateCommandOption {
    let word = form.name.rsplit(' ').next().unwrap_or(form.name);
    let mut sub = CreateCommandOption::new(CommandOptionType::SubCommand, word, form.description);
    for o in form.options {
        sub = sub.add_sub_option(option(o));
    }
    sub
}

fn option(spec: &OptSpec) -> CreateCommandOption {
    let kind = match spec.kind {
        OptKind::Text => CommandOptionType::String,
        OptKind::Integer => CommandOptionType::Integer,
        OptKind::File => CommandOptionType::Attachment,
        OptKind::Flag => CommandOptionType::Boolean,
        OptKind::Channel => CommandOptionType::Channel,
        OptKind::Group => CommandOptionType::Role,
    };
    let mut o = CreateCommandOption::new(kind, spec.name, spec.description);
    if spec.required {
        o = o.required(true);
    }
    if spec.autocomplete {
        o = o.set_autocomplete(true);
    }
    if let Some(n) = spec.max_len {
        o = o.max_length(n);
    }
    if let Some(min) = spec.min {
        o = o.min_int_value(min.max(0) as u64);
    }
    if let Some(max) = spec.max {
        o = o.max_int_value(max.max(0) as u64);
    }
    if spec.kind == OptKind::Channel {
        // Where herald posts: text, announcement, forum and media channels.
        o = o.channel_types(vec![
            ChannelType::Text,
            ChannelType::News,
            ChannelType::Forum,
            ChannelType::Unknown(16),
        ]);
    }
    for c in spec.choice_list() {
        o = o.add_string_choice(c, c);
    }
    o
}

/// A slash command's options as a core [`Command`], or a message saying what was wrong.
/// `resolved` holds what ids in the options point at (uploaded files).
pub fn to_command(
    name: &str,
    options: &[CommandDataOption],
    resolved: &CommandDataResolved,
) -> Result<Command, String> {
    // Subcommands carry their own options; top-level commands use the options directly.
    let (sub, opts): (Option<&str>, &[CommandDataOption]) = match options.first() {
        Some(CommandDataOption { name, value: CommandDataOptionValue::SubCommand(o), .. }) => {
            (Some(name.as_str()), o.as_slice())
        }
        _ => (None, options),
    };
    let values = opts
        .iter()
        .filter_map(|o| {
            let v = match &o.value {
                CommandDataOptionValue::String(s) => OptValue::Text(s.clone()),
                CommandDataOptionValue::Autocomplete { value, .. } => OptValue::Text(value.clone()),
                CommandDataOptionValue::Integer(i) => OptValue::Integer(*i),
                CommandDataOptionValue::Boolean(b) => OptValue::Flag(*b),
                CommandDataOptionValue::Channel(id) => OptValue::Channel(id.to_string()),
                CommandDataOptionValue::Role(id) => OptValue::Group(id.to_string()),
                CommandDataOptionValue::Attachment(id) => {
                    OptValue::File(resolved.attachments.get(id).map(|a| Upload {
                        url: a.url.clone(),
                        filename: a.filename.clone(),
                        size: u64::from(a.size),
                        content_type: a.content_type.clone(),
                    }))
                }
                _ => return None,
            };
            Some((o.name.as_str(), v))
        })
        .collect();
    cmd::from_options(name, &Invocation { sub, values })
}

/// A search's paging button id: `s|PAGE|SINCE|FEED|QUERY` (the query last, since it may
/// hold any character). `None` when it would not fit Discord's 100 characters.
pub fn page_button_id(
    page: u32,
    query: &str,
    feed: Option<&FeedRef>,
    since: Option<&str>,
) -> Option<String> {
    let feed = feed.map(|f| f.to_string()).unwrap_or_default();
    if feed.contains('|') {
        return None;
    }
    let id = format!("s|{page}|{}|{feed}|{query}", since.unwrap_or_default());
    (id.chars().count() <= 100).then_some(id)
}

/// The search a paging button asks for.
pub fn parse_page_button(id: &str) -> Option<Command> {
    let mut parts = id.splitn(5, '|');
    if parts.next()? != "s" {
        return None;
    }
    let page: u32 = parts.next()?.parse().ok()?;
    let since = parts.next()?;
    let feed = parts.next()?;
    let query = parts.next()?.to_string();
    Some(Command::Search {
        query,
        feed: FeedRef::parse(feed),
        since: if since.is_empty() { None } else { Some(Since::parse(since)?) },
        page: page.clamp(1, MAX_PAGE),
    })
}

/// What a `since` option was, written back for a button id.
pub fn since_text(since: &Since) -> String {
    match since {
        Since::Ago(d) => format!("{}s", d.as_secs()),
        Since::Date(date) => date.format("%Y-%m-%d").to_string(),
    }
}

/// Matches for a time-zone option: names containing what was typed, shortest first.
pub fn timezone_choices(typed: &str) -> Vec<String> {
    let typed = typed.trim().to_lowercase().replace(' ', "_");
    let mut out: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|n| n.to_lowercase().contains(&typed))
        .collect();
    out.sort_by_key(|n| (!n.to_lowercase().starts_with(&typed), n.len(), *n));
    out.into_iter().take(25).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn page_buttons_round_trip() {
        let id = page_button_id(2, "north | korea", Some(&FeedRef::Id(3)), Some("604800s"))
            .expect("fits");
        match parse_page_button(&id) {
            Some(Command::Search { query, feed, since, page }) => {
                assert_eq!(
                    (query.as_str(), feed, page),
                    ("north | korea", Some(FeedRef::Id(3)), 2)
                );
                assert_eq!(since, Some(Since::Ago(Duration::from_secs(604800))));
            }
            other => panic!("{other:?}"),
        }
        assert!(page_button_id(1, &"x".repeat(120), None, None).is_none());
    }

    #[test]
    fn timezones_autocomplete() {
        let c = timezone_choices("paris");
        assert_eq!(c.first().map(String::as_str), Some("Europe/Paris"));
        assert!(timezone_choices("").len() <= 25);
    }

    #[test]
    fn definitions_respect_discord_limits() {
        let json = serde_json::to_value(definitions()).expect("serializable");
        let cmds = json.as_array().expect("array");
        assert!(cmds.len() <= 100);
        fn check(v: &serde_json::Value) {
            if let Some(d) = v.get("description").and_then(|d| d.as_str()) {
                assert!(!d.is_empty() && d.chars().count() <= 100, "{d}");
            }
            if let Some(n) = v.get("name").and_then(|d| d.as_str()) {
                assert!(n.len() <= 32 && n == n.to_lowercase(), "{n}");
            }
            if let Some(opts) = v.get("options").and_then(|o| o.as_array()) {
                assert!(opts.len() <= 25);
                opts.iter().for_each(check);
            }
        }
        cmds.iter().for_each(check);
    }
}
