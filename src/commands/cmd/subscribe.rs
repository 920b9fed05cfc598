//! `subscribe FEED [instant|digest] [--include …] [--exclude …]`: post a feed in this
//! channel (channel managers).

use super::super::lex::{Arity, Lexer, echo, feed_ref, split_args, unexpected, words};
use super::super::parse::{Command, DeliveryMode, ParseError, Role};
use super::super::spec::{Choices, FEED, Family, Form, Invocation, OptSpec};
use crate::domain::filter::{Filter, split_terms};

const USAGE: &str = "subscribe FEED [instant|digest] [--include WORD,WORD] [--exclude WORD,WORD]";

pub const FAMILY: Family = Family {
    word: "subscribe",
    group: None,
    forms: &[Form {
        name: "subscribe",
        usage: USAGE,
        summary: "post a feed here, as it arrives or in the digest, optionally filtered by words",
        description: "Post a feed in this channel, as it arrives or in the digest",
        role: Role::ChannelManager,
        options: &[
            FEED.required(),
            OptSpec::text("mode", "Post each article, or collect for the digest")
                .choices(Choices::Fixed(&["instant", "digest"])),
            OptSpec::text(
                "include",
                "Only articles matching: words, title:/author:/category:word, /regex/ (commas)",
            )
            .max_len(500),
            OptSpec::text(
                "exclude",
                "Never articles matching: words, title:/author:/category:word, /regex/ (commas)",
            )
            .max_len(500),
        ],
    }],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let usage = USAGE;
    let args = split_args(
        lexer.rest_tokens()?,
        &[("include", Arity::Many), ("exclude", Arity::Many)],
        usage,
    )?;
    let mut positional = args.positional.into_iter();
    let Some(feed) = positional.next() else {
        return Err(ParseError::Missing { what: "FEED", usage });
    };
    let feed = feed_ref(&feed, usage)?;
    let mode = match positional.next() {
        None => DeliveryMode::default(),
        Some(t) => match t.text.to_lowercase().as_str() {
            "instant" => DeliveryMode::Instant,
            "digest" => DeliveryMode::Digest,
            _ => {
                return Err(ParseError::Invalid {
                    problem: format!("unknown mode \"{}\": use instant or digest", echo(&t.text)),
                    usage,
                });
            }
        },
    };
    if let Some(extra) = positional.next() {
        return Err(unexpected(&extra, usage));
    }
    let include = words(&args.options, "include", usage)?;
    let exclude = words(&args.options, "exclude", usage)?;
    if let Some(both) =
        include.iter().find(|w| exclude.iter().any(|x| x.to_lowercase() == w.to_lowercase()))
    {
        return Err(ParseError::Invalid {
            problem: format!("\"{}\" is in both --include and --exclude", echo(both)),
            usage,
        });
    }
    Filter::parse(&include, &exclude)
        .map_err(|e| ParseError::Invalid { problem: e.to_string(), usage })?;
    Ok(Command::Subscribe { feed, mode, include, exclude })
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    let (include, exclude) = (comma_words(o.str("include")), comma_words(o.str("exclude")));
    Filter::parse(&include, &exclude).map_err(|e| e.to_string())?;
    Ok(Command::Subscribe {
        feed: o.feed()?,
        mode: match o.str("mode") {
            Some("digest") => DeliveryMode::Digest,
            _ => DeliveryMode::Instant,
        },
        include,
        exclude,
    })
}

/// Comma-separated terms (a regular expression keeps its commas).
fn comma_words(v: Option<&str>) -> Vec<String> {
    v.map(split_terms).unwrap_or_default()
}

// ---------------------------------------------------------------- apply

use super::super::parse::FeedRef;
use crate::commands::execute::{Core, Ctx};
use crate::reply::{Reply, Tone};
use crate::store::StoreError;

impl Core {
    pub(crate) async fn subscribe(
        &self,
        ctx: &Ctx,
        feed: &FeedRef,
        mode: DeliveryMode,
        include: &[String],
        exclude: &[String],
    ) -> Result<Reply, StoreError> {
        let f = match self.resolve(ctx, feed).await? {
            Ok(f) => f.feed,
            Err(reply) => {
                // An admin may subscribe to a URL the community does not follow yet.
                let FeedRef::Url(url) = feed else { return Ok(reply) };
                if !(ctx.operator || ctx.role >= Role::Admin) {
                    return Ok(Reply::error(format!(
                        "This community does not follow {url} yet; an admin adds it with `feeds add {url}`."
                    )));
                }
                let added = self.feeds_add(ctx, url, None).await?;
                if added.tone == Tone::Error {
                    return Ok(added);
                }
                match self.resolve(ctx, feed).await? {
                    Ok(f) => f.feed,
                    Err(reply) => return Ok(reply),
                }
            }
        };
        let mode_word = match mode {
            DeliveryMode::Instant => "instant",
            DeliveryMode::Digest => "digest",
        };
        let now = self.clock.now();
        let (_, created) = self
            .store
            .subscribe(ctx.channel.id, f.id, mode_word, include, exclude, Some(&ctx.user), now)
            .await?;
        self.store.set_channel_paused(ctx.channel.id, None).await?;
        let mut text = format!(
            "{} this channel to {} ({mode_word}).",
            if created { "Subscribed" } else { "Updated the subscription of" },
            f.name()
        );
        if !include.is_empty() {
            text.push_str(&format!(" Only articles mentioning: {}.", include.join(", ")));
        }
        if !exclude.is_empty() {
            text.push_str(&format!(" Never articles mentioning: {}.", exclude.join(", ")));
        }
        if mode == DeliveryMode::Digest && ctx.channel.digest_spec.is_none() {
            text.push_str(" This channel has no digest schedule yet: set one with `digest schedule daily 08:00 Europe/Paris`.");
        }
        text.push_str(" New articles from now on will be posted.");
        Ok(Reply::success(text))
    }
}
