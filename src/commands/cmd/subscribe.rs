//! `subscribe FEED [instant|digest] [--include …] [--exclude …] [--style …] [--template …]
//! [--mention ROLE] [--notify] [--thread] [--webhook] [--preview]`: post a feed in this
//! channel (channel managers), and how its posts look. Subscribing again updates the
//! subscription: mode and filters as given, the other options where given.

use super::super::lex::{
    Arity, Lexer, echo, feed_ref, flag, split_args, strip_angle_brackets, unexpected, words,
};
use super::super::parse::{Command, DeliveryMode, ParseError, Role, SubscribeOptions};
use super::super::spec::{Choices, FEED, Family, Form, Invocation, OptSpec};
use crate::domain::filter::{Filter, split_terms};
use crate::domain::template::{self, PostStyle, Template};

const USAGE: &str = "subscribe FEED [instant|digest] [--include WORD,WORD] [--exclude WORD,WORD] \
     [--style embed|compact|link] [--template TEXT] [--mention ROLE] [--notify] [--thread] \
     [--webhook] [--preview]";

/// The word that takes a template or a mention back to the default.
const DEFAULT_WORDS: &[&str] = &["default", "none", "off"];

pub const FAMILY: Family = Family {
    word: "subscribe",
    group: None,
    forms: &[Form {
        name: "subscribe",
        usage: USAGE,
        summary: "post a feed here, as it arrives or in the digest, optionally filtered by words, \
                  in a style or template of your own, pinging a role",
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
            OptSpec::text("style", "How posts look: a card, one line, or the bare link")
                .choices(Choices::Fixed(PostStyle::WORDS)),
            OptSpec::text("template", "Your own post text: {title} {summary} {link} {feed} …")
                .max_len(template::MAX_SOURCE as u16),
            OptSpec::group("mention", "A role to ping with each post"),
            OptSpec::flag("notify", "Post so that members get notifications"),
            OptSpec::flag("thread", "Open a discussion thread on each post"),
            OptSpec::flag("webhook", "Post under the feed's name and picture"),
            OptSpec::flag("preview", "Show the latest article as it would be posted; save nothing"),
            OptSpec::channel("channel", "The channel to post in (default: this one)"),
        ],
    }],
    parse,
    from_options,
};

fn parse(lexer: &mut Lexer<'_>) -> Result<Command, ParseError> {
    let usage = USAGE;
    let args = split_args(
        lexer.rest_tokens()?,
        &[
            ("include", Arity::Many),
            ("exclude", Arity::Many),
            ("style", Arity::One),
            ("template", Arity::One),
            ("mention", Arity::One),
            ("notify", Arity::Flag),
            ("thread", Arity::Flag),
            ("webhook", Arity::Flag),
            ("preview", Arity::Flag),
        ],
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
    let one = |name: &str| args.options.one(name).map(|t| t.text);
    let options = SubscribeOptions {
        template: one("template")
            .map(|t| parse_template(&t))
            .transpose()
            .map_err(|problem| ParseError::Invalid { problem, usage })?,
        style: one("style")
            .map(|s| style(&s))
            .transpose()
            .map_err(|problem| ParseError::Invalid { problem, usage })?,
        mention: one("mention").map(|m| mention(&m)),
        notify: flag(&args.options, "notify", usage)?,
        thread: flag(&args.options, "thread", usage)?,
        webhook: flag(&args.options, "webhook", usage)?,
        preview: flag(&args.options, "preview", usage)?.unwrap_or(false),
        channel: None,
    };
    Ok(Command::Subscribe { feed, mode, include, exclude, options })
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
        options: SubscribeOptions {
            template: o.str("template").map(parse_template).transpose()?,
            style: o.str("style").map(style).transpose()?,
            mention: o.id("mention").map(mention),
            notify: o.flag("notify"),
            thread: o.flag("thread"),
            webhook: o.flag("webhook"),
            preview: o.flag("preview").unwrap_or(false),
            channel: o.id("channel").map(String::from),
        },
    })
}

/// A template as typed (`\n` writes a line break, as chat inputs have no other way), or
/// the default again. Its length against the channel's posts is checked on use.
fn parse_template(text: &str) -> Result<Option<Template>, String> {
    if DEFAULT_WORDS.contains(&text.trim().to_lowercase().as_str()) {
        return Ok(None);
    }
    let text = text.replace("\\n", "\n");
    Template::parse(&text, template::MAX_SOURCE).map(Some).map_err(|e| e.to_string())
}

fn style(word: &str) -> Result<PostStyle, String> {
    PostStyle::parse(word).ok_or_else(|| {
        format!("unknown style \"{}\": use {}", echo(word), PostStyle::WORDS.join(", "))
    })
}

fn mention(text: &str) -> Option<String> {
    let t = strip_angle_brackets(text.trim());
    (!DEFAULT_WORDS.contains(&t.to_lowercase().as_str())).then(|| text.trim().to_string())
}

/// Comma-separated terms (a regular expression keeps its commas).
fn comma_words(v: Option<&str>) -> Vec<String> {
    v.map(split_terms).unwrap_or_default()
}

// ---------------------------------------------------------------- apply

use super::super::parse::FeedRef;
use crate::commands::execute::{Core, Ctx};
use crate::deliver::post::article_delivery;
use crate::reply::{Reply, Tone, Visibility};
use crate::store::{DeliveryJob, FeedRow, OptionsChange, StoreError, SubscriptionRow};

impl Core {
    pub(crate) async fn subscribe(
        &self,
        ctx: &Ctx,
        feed: &FeedRef,
        mode: DeliveryMode,
        include: &[String],
        exclude: &[String],
        options: &SubscribeOptions,
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
                if options.preview {
                    return Ok(Reply::error(format!(
                        "This community does not follow {url} yet, so there is nothing to preview; an admin adds it with `feeds add {url}`."
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
        let existing = self.store.subscription(ctx.channel.id, f.id).await?;
        let change = match self.options_change(ctx, existing.as_ref(), options) {
            Ok(change) => change,
            Err(problem) => return Ok(Reply::error(format!("{problem}. Nothing was changed."))),
        };
        if options.preview {
            return self.subscribe_preview(ctx, &f, existing.as_ref(), &change).await;
        }
        let mode_word = match mode {
            DeliveryMode::Instant => "instant",
            DeliveryMode::Digest => "digest",
        };
        let now = self.clock.now();
        let (row, created) = self
            .store
            .subscribe_with(
                ctx.channel.id,
                f.id,
                mode_word,
                include,
                exclude,
                &change,
                Some(&ctx.user),
                now,
            )
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
        let described = describe_options(&row);
        if !described.is_empty() {
            text.push_str(&format!(" Posts: {}.", described.join("; ")));
        }
        if mode == DeliveryMode::Digest && ctx.channel.digest_spec.is_none() {
            text.push_str(" This channel has no digest schedule yet: set one with `digest schedule daily 08:00 Europe/Paris`.");
        }
        text.push_str(" New articles from now on will be posted.");
        Ok(Reply::success(text))
    }

    /// The options as they will be stored, checked against what posts hold here: a
    /// template must fit its style's post, a link post takes none, a ping must name a
    /// group the platform knows.
    fn options_change(
        &self,
        ctx: &Ctx,
        existing: Option<&SubscriptionRow>,
        o: &SubscribeOptions,
    ) -> Result<OptionsChange, String> {
        let style = o
            .style
            .or_else(|| existing.and_then(|s| PostStyle::parse(&s.style)))
            .unwrap_or_default();
        let template = match &o.template {
            Some(t) => t.clone(),
            None => existing
                .and_then(|s| s.template.as_deref())
                .and_then(|t| Template::parse(t, usize::MAX).ok()),
        };
        if let Some(t) = &template {
            if style == PostStyle::Link {
                return Err("a link post is the bare link, so it takes no template: choose \
                            `--style compact` or `--style embed`, or drop the template with \
                            `--template default`"
                    .into());
            }
            let limits = self.platforms.post_limits(&ctx.channel.platform);
            let max = if style == PostStyle::Embed { limits.card } else { limits.text };
            t.check_fits(max).map_err(|e| e.to_string())?;
        }
        let mention = match &o.mention {
            Some(Some(text)) => {
                let platform = self.platforms.get(&ctx.channel.platform);
                let id = match platform {
                    Some(p) => p.parse_mention(text),
                    None => Err("posts here cannot ping a group".into()),
                }
                .map_err(|e| format!("--mention {}: {e}", echo(text)))?;
                Some(Some(id))
            }
            Some(None) => Some(None),
            None => None,
        };
        Ok(OptionsChange {
            template: o.template.as_ref().map(|t| t.as_ref().map(|t| t.source().to_string())),
            style: o.style.map(|s| s.as_str().to_string()),
            mention,
            notify: o.notify,
            thread: o.thread,
            webhook: o.webhook,
        })
    }

    /// The feed's latest article as this subscription would post it; nothing is saved.
    async fn subscribe_preview(
        &self,
        ctx: &Ctx,
        f: &FeedRow,
        existing: Option<&SubscriptionRow>,
        change: &OptionsChange,
    ) -> Result<Reply, StoreError> {
        let Some(a) = self.store.latest_articles(&[f.id], 1).await?.into_iter().next() else {
            return Ok(Reply::info(format!(
                "{} has no articles yet, so there is nothing to preview; nothing was saved.",
                f.name()
            )));
        };
        let pick = |new: &Option<Option<String>>, old: Option<&String>| match new {
            Some(v) => v.clone(),
            None => old.cloned(),
        };
        let job = DeliveryJob {
            id: 0,
            idem_key: String::new(),
            attempts: 0,
            next_attempt_at: 0,
            created_at: 0,
            channel_id: ctx.channel.id,
            platform: ctx.channel.platform.clone(),
            external_id: ctx.channel.external_id.clone(),
            article_id: a.id,
            title: a.title,
            url: a.url,
            summary: a.summary,
            image_url: a.image_url,
            published_at: a.published_at,
            fetched_at: a.fetched_at,
            feed_title: f.title.clone(),
            feed_url: f.url.clone(),
            author: a.author,
            feed_site_url: f.site_url.clone(),
            template: pick(&change.template, existing.and_then(|s| s.template.as_ref())),
            style: change
                .style
                .clone()
                .or_else(|| existing.map(|s| s.style.clone()))
                .unwrap_or_else(|| "embed".into()),
            mention: None,
            notify: false,
            thread: false,
            webhook: false,
            progress: None,
        };
        let mut reply = article_delivery(&job).reply;
        reply.visibility = Visibility::Private;
        reply.footer = Some(format!("{} · preview: nothing was saved", f.name()));
        Ok(reply)
    }
}

/// A subscription's options that differ from the default, for confirmations and lists.
pub(crate) fn describe_options(s: &SubscriptionRow) -> Vec<String> {
    let mut out = Vec::new();
    if s.style != PostStyle::Embed.as_str() {
        out.push(format!("style {}", s.style));
    }
    if let Some(t) = &s.template {
        out.push(format!("template \"{}\"", t.replace('\n', "\\n")));
    }
    if let Some(m) = &s.mention {
        out.push(format!("pinging role {m}"));
    }
    for (on, what) in [
        (s.notify, "notifying"),
        (s.thread, "a thread per article"),
        (s.webhook, "as the feed (webhook)"),
    ] {
        if on {
            out.push(what.to_string());
        }
    }
    out
}
