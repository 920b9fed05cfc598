//! An article as a post, shaped by its subscription's options.

use super::port::{Persona, Post};
use crate::domain::template::{Fields, PostStyle, Template, Templated};
use crate::reply::{Reply, Tone};
use crate::store::DeliveryJob;

/// The neutral post for one article: linked title, summary, feed name, date, image.
pub fn article_post(job: &DeliveryJob) -> Reply {
    let when = job.published_at.unwrap_or(job.fetched_at);
    let mut reply = Reply::public(Tone::Article, job.summary.clone())
        .with_title(job.title.clone().unwrap_or_else(|| "(untitled)".into()))
        .with_url(job.url.clone())
        .with_footer(format!("{} · #{}", feed_name(job), job.article_id))
        .with_published(when);
    reply.image_url = job.image_url.clone();
    reply
}

fn feed_name(job: &DeliveryJob) -> String {
    job.feed_title.clone().filter(|t| !t.trim().is_empty()).unwrap_or(job.feed_url.clone())
}

/// The article post with everything its subscription asks for.
pub fn article_delivery(job: &DeliveryJob) -> Post {
    let mut reply = article_post(job);
    reply.style = PostStyle::parse(&job.style).unwrap_or_default();
    // The template was checked against the platform's limits when it was set; the
    // platform cuts feed text to fit when it renders.
    reply.templated = job
        .template
        .as_deref()
        .and_then(|t| match Template::parse(t, usize::MAX) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(delivery = job.id, "stored template ignored: {e}");
                None
            }
        })
        .map(|template| Templated { template, fields: fields(job) });
    Post {
        reply,
        mention: job.mention.clone(),
        notify: job.notify,
        thread: job.thread,
        persona: job.webhook.then(|| Persona {
            name: feed_name(job),
            avatar_url: job.feed_site_url.as_deref().and_then(favicon),
        }),
        topics: topics(job),
    }
}

/// An article's values for template placeholders.
pub fn fields(job: &DeliveryJob) -> Fields {
    let when = job.published_at.unwrap_or(job.fetched_at);
    Fields {
        title: job.title.clone().unwrap_or_else(|| "(untitled)".into()),
        summary: job.summary.clone(),
        link: job.url.clone(),
        feed: feed_name(job),
        published: chrono::DateTime::from_timestamp(when, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        author: job.author.clone().filter(|a| !a.trim().is_empty()),
        image: job.image_url.clone(),
    }
}

/// The site's favicon (`/favicon.ico` at its origin): the feed row keeps no icon of
/// its own, and browsers look there too.
pub fn favicon(site_url: &str) -> Option<String> {
    let url = reqwest::Url::parse(site_url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let mut icon = url.clone();
    icon.set_path("/favicon.ico");
    icon.set_query(None);
    icon.set_fragment(None);
    Some(icon.to_string())
}

/// The words of the feed's name and the article's title, lower-cased, each once.
fn topics(job: &DeliveryJob) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for text in [Some(feed_name(job)), job.title.clone()].into_iter().flatten() {
        for w in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            let w = w.to_lowercase();
            if !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn favicons_sit_at_the_sites_origin() {
        assert_eq!(
            favicon("https://news.example/blog/?x=1").as_deref(),
            Some("https://news.example/favicon.ico")
        );
        assert_eq!(favicon("ftp://x.example/"), None);
        assert_eq!(favicon("not a url"), None);
    }
}
