//! What a community's managers are told when delivery needs them: a channel paused, a
//! feed disabled, posts given up. Each says what happened, why, and the command that
//! fixes it.

use super::outbox::DeliveryPolicy;
use crate::domain::units::format_duration;
use crate::reply::{Reply, Tone};
use crate::store::{ChannelRow, NoticeSubject};

/// The notice for `subject`; `mention` names a channel the way its platform links it.
pub fn notice_post(
    subject: &NoticeSubject,
    mention: &dyn Fn(&ChannelRow) -> String,
    policy: &DeliveryPolicy,
) -> Reply {
    let (title, text) = match subject {
        NoticeSubject::ChannelPaused { channel, reason } => (
            "herald stopped posting in a channel".to_string(),
            format!(
                "Posting in {} is paused: {reason}. Nothing is lost: posts wait for up to {}. \
                 To fix it, give herald access there again (View Channel, Send Messages and \
                 Embed Links; on Matrix, invite it back with a power level that may send \
                 messages), then run `subscribe FEED` in that channel to resume.",
                mention(channel),
                format_duration(policy.max_age),
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
