//! `FeedUrl`: an absolute http(s) URL with a host and no fragment.

use std::fmt;

use url::Url;

/// The address of a feed. Construct with [`FeedUrl::parse`]; a value always holds an
/// absolute `http` or `https` URL with a host and without a fragment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeedUrl(Url);

impl FeedUrl {
    /// Accepts what people paste: surrounding spaces, a missing scheme
    /// (`example.com/feed.xml` means https), a `#fragment` (dropped).
    pub fn parse(input: &str) -> Result<FeedUrl, String> {
        let trimmed = input.trim().trim_matches(|c| c == '<' || c == '>');
        if trimmed.is_empty() {
            return Err("a feed URL is required (e.g. https://example.com/feed.xml)".into());
        }
        let candidate = if trimmed.contains("://") {
            trimmed.to_string()
        } else {
            format!("https://{trimmed}")
        };
        let mut url = Url::parse(&candidate)
            .map_err(|e| format!("\"{trimmed}\" is not a valid URL ({e})"))?;
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(format!(
                    "\"{trimmed}\": only http and https feeds are supported, not {other}"
                ));
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("\"{trimmed}\" has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("\"{trimmed}\": credentials in feed URLs are not supported"));
        }
        url.set_fragment(None);
        Ok(FeedUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    pub fn host(&self) -> &str {
        // Invariant of the type: `parse` refused URLs without a host.
        self.0.host_str().unwrap_or_default()
    }
}

impl fmt::Display for FeedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_people_paste() {
        assert_eq!(
            FeedUrl::parse(" example.com/feed.xml ").map(|u| u.to_string()),
            Ok("https://example.com/feed.xml".to_string())
        );
        assert_eq!(
            FeedUrl::parse("http://Example.com/a#frag").map(|u| u.to_string()),
            Ok("http://example.com/a".to_string())
        );
    }

    #[test]
    fn refuses_what_is_not_a_feed_address() {
        for bad in
            ["", "ftp://example.com/x", "file:///etc/passwd", "https://", "http://u:p@x.com/"]
        {
            assert!(FeedUrl::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(FeedUrl::parse("javascript:alert(1)").is_err());
    }
}
