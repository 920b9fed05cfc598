//! `unsubscribe FEED`: stop posting a feed in this channel (channel managers).

use super::super::lex::{Lexer, one_feed};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{FEED, Family, Form, Invocation};

const USAGE: &str = "unsubscribe FEED";

pub const FAMILY: Family = Family {
    word: "unsubscribe",
    group: None,
    forms: &[Form {
        name: "unsubscribe",
        usage: USAGE,
        summary: "stop posting a feed here",
        description: "Stop posting a feed in this channel",
        role: Role::ChannelManager,
        options: &[FEED.required()],
    }],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    Ok(Command::Unsubscribe { feed: one_feed(lexer.rest_tokens()?, USAGE)? })
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(Command::Unsubscribe { feed: o.feed()? })
}

// ---------------------------------------------------------------- apply

use super::super::parse::FeedRef;
use crate::commands::execute::{Core, Ctx};
use crate::reply::Reply;
use crate::store::StoreError;

impl Core {
    pub(crate) async fn unsubscribe(&self, ctx: &Ctx, feed: &FeedRef) -> Result<Reply, StoreError> {
        Ok(match self.resolve(ctx, feed).await? {
            Err(reply) => reply,
            Ok(f) => {
                if self.store.unsubscribe(ctx.channel.id, f.feed.id).await? {
                    Reply::success(format!("This channel no longer receives {}.", f.feed.name()))
                } else {
                    Reply::error(format!(
                        "This channel is not subscribed to {}. See `subscriptions`.",
                        f.feed.name()
                    ))
                }
            }
        })
    }
}
