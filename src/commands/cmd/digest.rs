//! `digest schedule|now|preview`: this channel's digest (channel managers).

use super::super::lex::{Lexer, closest, echo, no_args};
use super::super::parse::{Command, ParseError, Role};
use super::super::spec::{Family, Form, Group, Invocation, OptSpec};
use crate::domain::schedule::Schedule;

const USAGE: &str = "digest schedule SPEC [TZ] | digest now | digest preview";
const USAGE_DIGEST_SCHEDULE: &str =
    "digest schedule hourly|daily HH:MM|weekdays HH:MM|weekly DAY HH:MM|every Nh|every Nm [TZ]";
const USAGE_DIGEST_NOW: &str = "digest now";
const USAGE_DIGEST_PREVIEW: &str = "digest preview";

pub const FAMILY: Family = Family {
    word: "digest",
    group: Some(Group { description: "This channel's digest", usage: USAGE }),
    forms: &[
        Form {
            name: "digest schedule",
            usage: USAGE_DIGEST_SCHEDULE,
            summary: "set when this channel's digest is posted",
            description: "Set when the digest is posted",
            role: Role::ChannelManager,
            options: &[
                OptSpec::text(
                    "when",
                    "hourly, daily 08:00, weekdays 09:00, weekly mon 08:00, every 6h",
                )
                .required()
                .max_len(40),
                OptSpec::text("timezone", "An IANA time zone, e.g. Europe/Paris")
                    .autocomplete()
                    .max_len(64),
            ],
        },
        Form {
            name: "digest now",
            usage: USAGE_DIGEST_NOW,
            summary: "post the digest now",
            description: "Post the digest now",
            role: Role::ChannelManager,
            options: &[],
        },
        Form {
            name: "digest preview",
            usage: USAGE_DIGEST_PREVIEW,
            summary: "show the next digest without posting it",
            description: "Show the next digest without posting it",
            role: Role::ChannelManager,
            options: &[],
        },
    ],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let Some(sub) = lexer.next_token()? else {
        return Err(ParseError::Missing { what: "subcommand", usage: USAGE });
    };
    let word = sub.text.to_lowercase();
    match word.as_str() {
        "schedule" => {
            let mut tokens = lexer.rest_tokens()?;
            if tokens.is_empty() {
                return Err(ParseError::Missing { what: "schedule", usage: USAGE_DIGEST_SCHEDULE });
            }
            let tz = match tokens.last() {
                Some(last)
                    if tokens.len() > 1
                        && (last.text.contains('/') || last.text.eq_ignore_ascii_case("utc")) =>
                {
                    tokens.pop().map(|t| t.text)
                }
                _ => None,
            };
            let spec: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
            let schedule = Schedule::parse(&spec.join(" "), tz.as_deref())?;
            Ok(Command::DigestSchedule { schedule })
        }
        "now" => {
            no_args(lexer.rest_tokens()?, USAGE_DIGEST_NOW)?;
            Ok(Command::DigestNow)
        }
        "preview" => {
            no_args(lexer.rest_tokens()?, USAGE_DIGEST_PREVIEW)?;
            Ok(Command::DigestPreview)
        }
        _ => Err(ParseError::UnknownSubcommand {
            command: "digest",
            word: echo(&sub.text),
            suggestion: closest(&word, &FAMILY.subwords()),
        }),
    }
}

fn from_options(o: &Invocation<'_>) -> Result<Command, String> {
    Ok(match o.sub {
        Some("schedule") => {
            let when = o.required_str("when")?;
            let schedule = Schedule::parse(&when, o.str("timezone")).map_err(|e| e.to_string())?;
            Command::DigestSchedule { schedule }
        }
        Some("now") => Command::DigestNow,
        Some("preview") => Command::DigestPreview,
        other => return Err(super::unknown("digest", other)),
    })
}

// ---------------------------------------------------------------- apply

use crate::commands::execute::{Core, Ctx, at, channel_tz, local_time};
use crate::deliver::digest::compose_digest;
use crate::deliver::outbox::digest_articles;
use crate::reply::Reply;
use crate::store::StoreError;

impl Core {
    pub(crate) async fn digest_schedule(
        &self,
        ctx: &Ctx,
        schedule: &Schedule,
        now: i64,
    ) -> Result<Reply, StoreError> {
        let next = at(now).map(|t| schedule.next_after(t).timestamp());
        self.store
            .set_digest_schedule(
                ctx.channel.id,
                Some((&schedule.spec(), schedule.tz_name())),
                Some(now),
                next,
            )
            .await?;
        self.store.set_channel_paused(ctx.channel.id, None).await?;
        let when = next.map(|n| local_time(n, schedule.tz_name())).unwrap_or_default();
        Ok(Reply::success(format!(
            "Digest schedule for this channel: {schedule}. Next digest: {when}. \
             Articles from `digest`-mode subscriptions go into it."
        )))
    }

    pub(crate) async fn digest_now(&self, ctx: &Ctx, now: i64) -> Result<Reply, StoreError> {
        // Windows are half-open, [start, end): up to and including this second.
        // The store takes the start itself, so two requests never overlap.
        Ok(match self.store.open_digest(ctx.channel.id, now + 1, None, now).await? {
            None => Reply::info("Nothing new since the last digest."),
            Some(_) => {
                self.dispatch.notify_one();
                Reply::success("Digest on its way (nothing is posted if there is nothing new).")
            }
        })
    }

    pub(crate) async fn digest_preview(&self, ctx: &Ctx, now: i64) -> Result<Reply, StoreError> {
        let channel =
            self.store.channel(ctx.channel.id).await?.unwrap_or_else(|| ctx.channel.clone());
        let start = channel.digest_last_end.unwrap_or(channel.created_at);
        let sources = self.store.digest_sources(ctx.channel.id, start, now + 1).await?;
        let tz = channel_tz(&channel);
        let parts = compose_digest(
            start,
            now + 1,
            tz,
            digest_articles(sources),
            &self.platforms.digest_limits(&channel.platform),
        );
        Ok(match parts.into_iter().next() {
            None => Reply::info(
                "The next digest is empty so far: no digest-mode articles since the last one.",
            ),
            Some(mut first) => {
                first.visibility = crate::reply::Visibility::Private;
                first.title = first.title.map(|t| format!("Preview: {t}"));
                first
            }
        })
    }
}
