//! What a community's managers are told when delivery needs them: a channel paused, a
//! feed disabled, posts given up. Each says what happened, why, and the command that
//! fixes it.

use super::outbox::DeliveryPolicy;
use crate::domain::units::format_duration;
use crate::reply::{Reply, Tone};
use crate::store::{ChannelRow, NoticeSubject};

/// How a notice speaks of a channel, as the channel's platform says it.
pub struct ChannelWords<'a> {
    /// The channel named the way its platform links it.
    pub mention: &'a (dyn Fn(&ChannelRow) -> String + Sync),
    /// What gives herald back its access there ("give herald access there again").
    pub regain_access: &'a (dyn Fn(&ChannelRow) -> String + Sync),
}

/// The notice for `subject`.
pub fn notice_post(
    subject: &NoticeSubject,
    words: &ChannelWords<'_>,
    policy: &DeliveryPolicy,
) -> Reply {
    let mention = words.mention;
    let (title, text) = match subject {
        NoticeSubject::ChannelPaused { channel, reason } => (
            "herald stopped posting in a channel".to_string(),
            format!(
                "Posting in {} is paused: {reason}. Nothing is lost: posts wait for up to {}. \
                 To fix it, {}, then run `subscribe FEED` in that channel to resume.",
                mention(channel),
                format_duration(policy.max_age),
                (words.regain_access)(channel),
            ),
        ),
        NoticeSubject::FeedDisabled { feed_id, name, reason } => (
            format!("Feed #{feed_id} was disabled"),
            format!(
                "herald stopped fetching {name} (#{feed_id}): {reason}. If the site moved, \
                 an admin replaces it with `feeds remove {feed_id}` and `feeds add NEW-URL`; \
                 once it works again, an operator revives it with `feeds resume {feed_id}`."
            ),
        ),
        NoticeSubject::PostsExpired { channel, expired, last_error } => (
            "Posts were given up".to_string(),
            format!(
                "{expired} post(s) for {} could not be delivered within {} and were given up \
                 (last error: {}). Check herald's access to that channel and the platform's \
                 status; `subscriptions` there shows what is owed.",
                mention(channel),
                format_duration(policy.max_age),
                last_error.as_deref().unwrap_or("none"),
            ),
        ),
        NoticeSubject::Obsolete => (String::new(), String::new()),
    };
    Reply::public(Tone::Error, text).with_title(title)
}
