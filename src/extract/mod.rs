//! Web page → the article's own text and metadata.

/// What extraction found on a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub title: Option<String>,
    pub byline: Option<String>,
    pub published: Option<String>,
    pub image: Option<String>,
    pub lang: Option<String>,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("could not extract an article: {0}")]
    Failed(String),
}

pub fn extract(html: &str, url: Option<&str>) -> Result<Extracted, ExtractError> {
    let cfg =
        dom_smoothie::Config { text_mode: dom_smoothie::TextMode::Formatted, ..Default::default() };
    let mut r = dom_smoothie::Readability::new(html, url, Some(cfg))
        .map_err(|e| ExtractError::Failed(e.to_string()))?;
    let a = r.parse().map_err(|e| ExtractError::Failed(e.to_string()))?;
    Ok(Extracted {
        title: Some(a.title.to_string()).filter(|t| !t.is_empty()),
        byline: a.byline.map(|b| b.to_string()),
        published: a.published_time.map(|b| b.to_string()),
        image: a.image.map(|b| b.to_string()),
        lang: a.lang.map(|b| b.to_string()),
        text: a.text_content.to_string(),
    })
}
