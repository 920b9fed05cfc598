//! An article as a post.

use crate::reply::{Reply, Tone};
use crate::store::DeliveryJob;

/// The neutral post for one article: linked title, summary, feed name, date, image.
pub fn article_post(job: &DeliveryJob) -> Reply {
    let feed =
        job.feed_title.clone().filter(|t| !t.trim().is_empty()).unwrap_or(job.feed_url.clone());
    let when = job.published_at.unwrap_or(job.fetched_at);
    let mut reply = Reply::public(Tone::Article, job.summary.clone())
        .with_title(job.title.clone().unwrap_or_else(|| "(untitled)".into()))
        .with_url(job.url.clone())
        .with_footer(format!("{feed} · #{}", job.article_id))
        .with_published(when);
    reply.image_url = job.image_url.clone();
    reply
}
