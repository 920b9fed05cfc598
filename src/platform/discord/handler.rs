//! Gateway events: slash commands, autocomplete and paging buttons go to the command
//! core; a guild or channel going away pauses posting there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serenity::all::{
    ButtonStyle, ChannelId, ChannelType, CommandInteraction, ComponentInteraction, Context,
    CreateActionRow, CreateAllowedMentions, CreateAutocompleteResponse, CreateButton,
    CreateInteractionResponse, CreateInteractionResponseMessage, EditInteractionResponse,
    EventHandler, Guild, GuildChannel, GuildId, Interaction, Member, Message, Permissions, Ready,
    UnavailableGuild, User,
};

use super::PLATFORM;
use super::commands::{self, page_button_id, parse_page_button, since_text, timezone_choices};
use super::render;
use crate::clock::SharedClock;
use crate::commands::parse::{Command, FeedRef, Role};
use crate::commands::{Core, Ctx};
use crate::config::CommunityConfig;
use crate::reply::{Reply, Tone, Visibility};
use crate::store::{Store, StoreError};

/// The Discord permissions a member has in the channel, as a herald role. Administrator
/// and Manage Server manage the server's feeds; Manage Channels manages a channel's
/// subscriptions and digest.
pub fn role_for(perms: Permissions) -> Role {
    if perms.intersects(Permissions::ADMINISTRATOR | Permissions::MANAGE_GUILD) {
        Role::Admin
    } else if perms.contains(Permissions::MANAGE_CHANNELS) {
        Role::ChannelManager
    } else {
        Role::Member
    }
}

pub struct Handler {
    core: Core,
    store: Store,
    clock: SharedClock,
    community: CommunityConfig,
    dev_guild: Option<u64>,
    /// Commands are registered on the first READY only; a re-IDENTIFY after a dropped
    /// connection needs no second bulk overwrite.
    registered: Arc<AtomicBool>,
}

impl Handler {
    pub fn new(
        core: Core,
        store: Store,
        clock: SharedClock,
        community: CommunityConfig,
        dev_guild: Option<u64>,
    ) -> Handler {
        Handler { core, store, clock, community, dev_guild, registered: Arc::default() }
    }

    /// The herald context of whoever sent an interaction, where.
    async fn ctx(
        &self,
        guild: Option<GuildId>,
        channel: ChannelId,
        user: &User,
        member: Option<&Member>,
    ) -> Result<Result<Ctx, Reply>, StoreError> {
        let Some(guild) = guild else {
            return Ok(Err(Reply::error(
                "herald works in servers: use its commands in a server's channel.",
            )));
        };
        let now = self.clock.now();
        let community =
            self.store.ensure_community(PLATFORM, &guild.to_string(), None, now).await?;
        let channel =
            self.store.ensure_channel(community, PLATFORM, &channel.to_string(), None, now).await?;
        let perms = member.and_then(|m| m.permissions).unwrap_or_else(Permissions::empty);
        let user = user.id.to_string();
        Ok(Ok(Ctx {
            community_id: community,
            channel,
            operator: self.community.is_operator(PLATFORM, &user),
            user,
            role: role_for(perms),
            local_files: false,
            scope: crate::commands::Scope::Community,
        }))
    }

    async fn on_command(&self, http: &serenity::http::Http, ci: &CommandInteraction) {
        let reply = match self.ctx(ci.guild_id, ci.channel_id, &ci.user, ci.member.as_deref()).await
        {
            Err(e) => {
                tracing::error!("discord: store failed: {e}");
                Err(Reply::error("Something went wrong on herald's side; try again shortly."))
            }
            Ok(Err(reply)) => Err(reply),
            Ok(Ok(ctx)) => {
                match commands::to_command(&ci.data.name, &ci.data.options, &ci.data.resolved) {
                    Err(problem) => {
                        Err(Reply::error(format!("{problem}. See `/help {}`.", ci.data.name)))
                    }
                    Ok(cmd) => Ok((ctx, cmd)),
                }
            }
        };
        let (mut ctx, cmd) = match reply {
            Err(reply) => return respond(http, ci, &reply, Vec::new()).await,
            Ok(v) => v,
        };
        // `/subscribe channel:#other` acts in that channel, with the invoker's
        // permissions there (Discord resolves them into the interaction).
        let target = match &cmd {
            Command::Subscribe { options, .. } => options.channel.clone(),
            _ => None,
        };
        let elsewhere = target.as_ref().is_some_and(|t| *t != ci.channel_id.to_string());
        if let Some(target) = target.filter(|_| elsewhere) {
            match self.retarget(&mut ctx, ci, &target).await {
                Ok(Ok(())) => {}
                Ok(Err(reply)) => return respond(http, ci, &reply, Vec::new()).await,
                Err(e) => {
                    tracing::error!("discord: store failed: {e}");
                    let reply =
                        Reply::error("Something went wrong on herald's side; try again shortly.");
                    return respond(http, ci, &reply, Vec::new()).await;
                }
            }
        }
        // A thread cannot hold threads: refuse while the person is there to choose.
        let in_thread = !elsewhere
            && ci.channel.as_ref().is_some_and(|c| {
                matches!(
                    c.kind,
                    ChannelType::PublicThread
                        | ChannelType::PrivateThread
                        | ChannelType::NewsThread
                )
            });
        if in_thread
            && matches!(&cmd, Command::Subscribe { options, .. } if options.thread == Some(true))
        {
            let reply = Reply::error(
                "This channel is a thread, and a thread cannot hold threads: subscribe without \
                 `thread`, or in the channel the thread belongs to.",
            );
            return respond(http, ci, &reply, Vec::new()).await;
        }
        let wants_webhook = matches!(
            &cmd,
            Command::Subscribe { options, .. } if options.webhook == Some(true) && !options.preview
        );
        // A subscription herald could never deliver is refused while the person is
        // still there to fix it (the interaction carries herald's own permissions here).
        let posts_here = matches!(cmd, Command::Subscribe { .. } | Command::DigestSchedule { .. });
        if posts_here
            && !elsewhere
            && (ctx.operator || ctx.role >= cmd.required_role())
            && let Some(app) = ci.app_permissions
        {
            let thread = ci.channel.as_ref().is_some_and(|c| {
                matches!(
                    c.kind,
                    ChannelType::PublicThread
                        | ChannelType::PrivateThread
                        | ChannelType::NewsThread
                )
            });
            let missing = super::missing_post_permissions(app, thread);
            if !missing.is_empty() {
                let reply = Reply::error(format!(
                    "herald cannot post in this channel: it lacks the {} permission{} here. \
                     Give herald {} in this channel's settings (Permissions), then run `/{}` \
                     again.",
                    missing.join(", "),
                    if missing.len() > 1 { "s" } else { "" },
                    missing.join(", "),
                    ci.data.name,
                ));
                return respond(http, ci, &reply, Vec::new()).await;
            }
        }
        // Fetching a feed, or re-indexing a long-followed feed's archive for this
        // community's search, can take longer than the 3 seconds Discord waits for an
        // answer: acknowledge first (privately: these answers are settings), then edit
        // it in.
        let slow = matches!(
            cmd,
            Command::FeedsAdd { .. }
                | Command::FeedsRemove { .. }
                | Command::FeedsImport { .. }
                | Command::Subscribe { feed: FeedRef::Url(_), .. }
        );
        if slow && let Err(e) = ci.defer_ephemeral(http).await {
            tracing::warn!("discord: deferring an interaction failed: {e}");
            return;
        }
        let buttons = search_buttons(&cmd);
        let export = matches!(cmd, Command::FeedsExport);
        let mut reply = self.core.execute(&ctx, cmd).await;
        // Without Manage Webhooks posts come from herald itself: say so now, once.
        if wants_webhook
            && reply.tone == Tone::Success
            && !elsewhere
            && ci.app_permissions.is_some_and(|p| {
                !p.intersects(Permissions::MANAGE_WEBHOOKS | Permissions::ADMINISTRATOR)
            })
        {
            reply.text.push_str(
                " herald lacks the Manage Webhooks permission here, so posts come from herald \
                 itself until it is given.",
            );
        }
        // OPML goes in code blocks (escaping would corrupt it); a refusal is prose.
        let embeds = if export && reply.tone != Tone::Error {
            code_embeds(&reply)
        } else {
            render::embeds(&reply)
        };
        let components = buttons.map(|b| b.row(&reply)).into_iter().flatten().collect::<Vec<_>>();
        if slow {
            let edit = EditInteractionResponse::new()
                .embeds(embeds.iter().map(render::Embed::to_builder).collect())
                .components(components)
                .allowed_mentions(CreateAllowedMentions::new());
            if let Err(e) = ci.edit_response(http, edit).await {
                tracing::warn!("discord: editing a deferred answer failed: {e}");
            }
        } else {
            send_embeds(http, ci, &reply, embeds, components).await;
        }
    }

    /// Points `ctx` at another channel of the server, with the invoker's role there.
    async fn retarget(
        &self,
        ctx: &mut Ctx,
        ci: &CommandInteraction,
        target: &str,
    ) -> Result<Result<(), Reply>, StoreError> {
        let resolved = target
            .parse::<u64>()
            .ok()
            .and_then(|id| ci.data.resolved.channels.get(&ChannelId::new(id.max(1))));
        let Some(channel) = resolved else {
            return Ok(Err(Reply::error(
                "Discord did not say which channel that is; pick it from the list.",
            )));
        };
        let perms = channel.permissions.unwrap_or_else(Permissions::empty);
        ctx.role = role_for(perms);
        if !ctx.operator && ctx.role < Role::ChannelManager {
            return Ok(Err(Reply::error(format!(
                "You need the Manage Channels permission in <#{}> to subscribe it.",
                channel.id
            ))));
        }
        ctx.channel = self
            .store
            .ensure_channel(
                ctx.community_id,
                PLATFORM,
                &channel.id.to_string(),
                channel.name.as_deref(),
                self.clock.now(),
            )
            .await?;
        Ok(Ok(()))
    }

    async fn on_autocomplete(&self, http: &serenity::http::Http, ci: &CommandInteraction) {
        let Some(focused) = ci.data.autocomplete() else { return };
        let typed = focused.value.trim().trim_start_matches('#').to_lowercase();
        let choices: Vec<(String, String)> = match focused.name {
            "timezone" => timezone_choices(&typed).into_iter().map(|t| (t.clone(), t)).collect(),
            "feed" => {
                let Ok(Ok(ctx)) =
                    self.ctx(ci.guild_id, ci.channel_id, &ci.user, ci.member.as_deref()).await
                else {
                    return;
                };
                match self.store.community_feeds(ctx.community_id).await {
                    Ok(feeds) => feeds
                        .into_iter()
                        .filter(|f| {
                            typed.is_empty()
                                || f.feed.id.to_string() == typed
                                || f.feed.name().to_lowercase().contains(&typed)
                                || f.feed.url.to_lowercase().contains(&typed)
                        })
                        .take(25)
                        .map(|f| {
                            let label =
                                render::truncate(&format!("#{} {}", f.feed.id, f.feed.name()), 100);
                            (label, format!("#{}", f.feed.id))
                        })
                        .collect(),
                    Err(e) => {
                        tracing::error!("discord: store failed: {e}");
                        Vec::new()
                    }
                }
            }
            _ => Vec::new(),
        };
        let mut resp = CreateAutocompleteResponse::new();
        for (name, value) in choices {
            resp = resp.add_string_choice(name, value);
        }
        if let Err(e) =
            ci.create_response(http, CreateInteractionResponse::Autocomplete(resp)).await
        {
            tracing::warn!("discord: autocomplete answer failed: {e}");
        }
    }

    async fn on_component(&self, http: &serenity::http::Http, ci: &ComponentInteraction) {
        let Some(cmd) = parse_page_button(&ci.data.custom_id) else { return };
        let ctx = match self.ctx(ci.guild_id, ci.channel_id, &ci.user, ci.member.as_ref()).await {
            Ok(Ok(ctx)) => ctx,
            _ => return,
        };
        let buttons = search_buttons(&cmd);
        let reply = self.core.execute(&ctx, cmd).await;
        let embeds = render::embeds(&reply);
        let components = buttons.map(|b| b.row(&reply)).into_iter().flatten().collect();
        // The page replaces the message it was asked from.
        let msg = CreateInteractionResponseMessage::new()
            .embeds(embeds.iter().map(render::Embed::to_builder).collect())
            .components(components)
            .allowed_mentions(CreateAllowedMentions::new());
        if let Err(e) =
            ci.create_response(http, CreateInteractionResponse::UpdateMessage(msg)).await
        {
            tracing::warn!("discord: paging answer failed: {e}");
        }
    }

    async fn register(&self, ctx: &Context) {
        if self.registered.swap(true, Ordering::SeqCst) {
            return;
        }
        let defs = commands::definitions();
        let result = match self.dev_guild {
            Some(g) => GuildId::new(g).set_commands(&ctx.http, defs).await,
            None => serenity::all::Command::set_global_commands(&ctx.http, defs).await,
        };
        match result {
            Ok(c) => tracing::info!("discord: {} slash commands registered", c.len()),
            Err(e) => {
                self.registered.store(false, Ordering::SeqCst);
                tracing::error!("discord: registering slash commands failed: {e}");
            }
        }
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(
            "discord: connected as {} in {} server(s)",
            ready.user.name,
            ready.guilds.len()
        );
        self.register(&ctx).await;
    }

    async fn guild_create(&self, _ctx: Context, guild: Guild, _is_new: Option<bool>) {
        let now = self.clock.now();
        if let Err(e) = self
            .store
            .ensure_community(PLATFORM, &guild.id.to_string(), Some(&guild.name), now)
            .await
        {
            tracing::error!("discord: recording server {} failed: {e}", guild.id);
        }
    }

    async fn guild_delete(
        &self,
        _ctx: Context,
        incomplete: UnavailableGuild,
        _full: Option<Guild>,
    ) {
        // `unavailable` means an outage, not a removal: keep posting (the outbox retries).
        if incomplete.unavailable {
            return;
        }
        match self
            .store
            .pause_community_channels(
                PLATFORM,
                &incomplete.id.to_string(),
                "herald was removed from this server",
            )
            .await
        {
            Ok(n) => tracing::info!(
                "discord: removed from server {}; {n} channel(s) paused",
                incomplete.id
            ),
            Err(e) => tracing::error!("discord: pausing server {} failed: {e}", incomplete.id),
        }
    }

    async fn channel_delete(
        &self,
        _ctx: Context,
        channel: GuildChannel,
        _messages: Option<Vec<Message>>,
    ) {
        let result = async {
            if let Some(ch) =
                self.store.channel_by_external(PLATFORM, &channel.id.to_string()).await?
            {
                self.store.set_channel_paused(ch.id, Some("the channel was deleted")).await?;
            }
            Ok::<_, StoreError>(())
        };
        if let Err(e) = result.await {
            tracing::error!("discord: pausing channel {} failed: {e}", channel.id);
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match &interaction {
            Interaction::Command(ci) => self.on_command(&ctx.http, ci).await,
            Interaction::Autocomplete(ci) => self.on_autocomplete(&ctx.http, ci).await,
            Interaction::Component(ci) => self.on_component(&ctx.http, ci).await,
            _ => {}
        }
    }
}

/// What a search's paging buttons need to know.
struct SearchButtons {
    query: String,
    feed: Option<FeedRef>,
    since: Option<String>,
}

fn search_buttons(cmd: &Command) -> Option<SearchButtons> {
    match cmd {
        Command::Search { query, feed, since, .. } => Some(SearchButtons {
            query: query.clone(),
            feed: feed.clone(),
            since: since.as_ref().map(since_text),
        }),
        _ => None,
    }
}

impl SearchButtons {
    /// Previous / Next for a paged reply; nothing when there is one page or the search
    /// does not fit a button id.
    fn row(&self, reply: &Reply) -> Option<CreateActionRow> {
        let page = reply.page.as_ref()?;
        if page.number <= 1 && !page.has_next {
            return None;
        }
        let id = |n: u32| page_button_id(n, &self.query, self.feed.as_ref(), self.since.as_deref());
        let prev_n = page.number.saturating_sub(1).max(1);
        let (prev, next) = (id(prev_n)?, id(page.number + 1)?);
        Some(CreateActionRow::Buttons(vec![
            CreateButton::new(prev)
                .label("◀ Previous")
                .style(ButtonStyle::Secondary)
                .disabled(page.number <= 1),
            CreateButton::new(next)
                .label("Next ▶")
                .style(ButtonStyle::Secondary)
                .disabled(!page.has_next),
        ]))
    }
}

/// The OPML export as code blocks (markdown escaping would corrupt it), split over
/// embeds within Discord's limits.
fn code_embeds(reply: &Reply) -> Vec<render::Embed> {
    let text = reply.text.replace("```", "`\u{200b}``");
    let chunk = 3900;
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<render::Embed> = chars
        .chunks(chunk)
        .map(|c| render::Embed {
            description: format!("```xml\n{}\n```", c.iter().collect::<String>()),
            colour: 0x5865F2,
            ..render::Embed::default()
        })
        .collect();
    match out.first_mut() {
        Some(first) => first.title = reply.title.clone(),
        // Never an empty message (Discord refuses it with 50006).
        None => return render::embeds(reply),
    }
    render::fit(out)
}

/// Answers a slash command with embeds (private when the reply is).
async fn send_embeds(
    http: &serenity::http::Http,
    ci: &CommandInteraction,
    reply: &Reply,
    embeds: Vec<render::Embed>,
    components: Vec<CreateActionRow>,
) {
    let msg = CreateInteractionResponseMessage::new()
        .embeds(embeds.iter().map(render::Embed::to_builder).collect())
        .components(components)
        .ephemeral(reply.visibility == Visibility::Private)
        .allowed_mentions(CreateAllowedMentions::new());
    if let Err(e) = ci.create_response(http, CreateInteractionResponse::Message(msg)).await {
        tracing::warn!("discord: answering /{} failed: {e}", ci.data.name);
    }
}

async fn respond(
    http: &serenity::http::Http,
    ci: &CommandInteraction,
    reply: &Reply,
    components: Vec<CreateActionRow>,
) {
    send_embeds(http, ci, reply, render::embeds(reply), components).await
}
