//! `subscriptions`: this channel's feeds, filters and digest schedule (channel managers).

use super::super::lex::{Lexer, no_args};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{Family, Form, Invocation};

const USAGE: &str = "subscriptions";

pub const FAMILY: Family = Family {
    word: "subscriptions",
    group: None,
    forms: &[Form {
        name: "subscriptions",
        usage: USAGE,
        summary: "list this channel's feeds",
        description: "This channel's feeds, filters and digest schedule",
        role: Role::ChannelManager,
        options: &[],
    }],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    no_args(lexer.rest_tokens()?, USAGE)?;
    Ok(Command::Subscriptions)
}

fn from_options(_: &Invocation<'_>) -> Result<Command, String> {
    Ok(Command::Subscriptions)
}

// ---------------------------------------------------------------- apply

use crate::commands::execute::{Core, Ctx, local_time};
use crate::reply::{Item, Reply};
use crate::store::StoreError;

impl Core {
    pub(crate) async fn subscriptions(&self, ctx: &Ctx) -> Result<Reply, StoreError> {
        let subs = self.store.channel_subscriptions(ctx.channel.id).await?;
        let channel =
            self.store.channel(ctx.channel.id).await?.unwrap_or_else(|| ctx.channel.clone());
        let mut reply = Reply::info(String::new())
            .with_title(format!("{} subscription(s) in this channel", subs.len()));
        if let Some(reason) = &channel.paused_reason {
            reply.text = format!(
                "Posting here is paused: {reason}. Fix the bot's access, then run `subscribe FEED` (or `digest schedule`) here to resume."
            );
        }
        let (expired, last_error) = self.store.channel_expired(ctx.channel.id).await?;
        if expired > 0 {
            reply = reply.with_field(
                "given up",
                format!(
                    "{expired} post(s) could not be delivered in time and expired (last error: {})",
                    last_error.as_deref().unwrap_or("none")
                ),
            );
        }
        if let (Some(spec), tz) =
            (&channel.digest_spec, channel.digest_tz.as_deref().unwrap_or("UTC"))
        {
            let next = channel.digest_next_at.map(|n| local_time(n, tz)).unwrap_or_default();
            reply = reply.with_field("digest", format!("{spec} {tz}; next {next}"));
        }
        let items = subs
            .iter()
            .map(|(s, f)| {
                let mut filters = Vec::new();
                let (inc, exc) = (s.include(), s.exclude());
                if !inc.is_empty() {
                    filters.push(format!("include {}", inc.join(", ")));
                }
                if !exc.is_empty() {
                    filters.push(format!("exclude {}", exc.join(", ")));
                }
                filters.extend(super::subscribe::describe_options(s));
                Item {
                    title: format!("#{} {}", f.id, f.name()),
                    url: Some(f.url.clone()),
                    text: if filters.is_empty() {
                        s.mode.clone()
                    } else {
                        format!("{}; {}", s.mode, filters.join("; "))
                    },
                    meta: None,
                    also_in: Vec::new(),
                    marks: Vec::new(),
                }
            })
            .collect::<Vec<_>>();
        if items.is_empty() && reply.text.is_empty() {
            reply.text =
                "None yet. A channel manager subscribes with `subscribe FEED [instant|digest]`."
                    .into();
        }
        Ok(reply.with_section(None, items))
    }
}
