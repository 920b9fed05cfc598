//! Language-aware term normalisation: stop words out, Snowball stems in, so
//! "elections"/"election" meet and "the"/"der"/"le" never make two sentences
//! look alike.

use rust_stemmers::{Algorithm, Stemmer};

/// Languages the summarizer knows by ISO 639-1 code; anything else gets
/// tokens lowercased but unstemmed and no stop list, which still works.
pub struct Lang {
    stemmer: Option<Stemmer>,
    stop: &'static [&'static str],
}

const EN: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he",
    "her", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me",
    "more", "most", "my", "no", "not", "now", "of", "on", "one", "only", "or", "other", "our",
    "out", "over", "said", "says", "say", "she", "so", "some", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "up", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "will", "with", "would", "you", "your", "s",
    "t", "new", "year", "years", "told", "mr", "mrs", "ms",
];
const DE: &[&str] = &[
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "und",
    "oder", "aber", "in", "im", "zu", "zum", "zur", "von", "vom", "mit", "auf", "für", "an", "am",
    "ist", "sind", "war", "wurde", "werden", "hat", "haben", "nicht", "es", "er", "sie", "wir",
    "ich", "auch", "als", "wie", "bei", "nach", "aus", "so", "dass", "sich", "noch", "nur",
];
const FR: &[&str] = &[
    "le", "la", "les", "un", "une", "des", "du", "de", "d", "l", "et", "ou", "mais", "en", "dans",
    "sur", "pour", "par", "avec", "au", "aux", "est", "sont", "a", "ont", "été", "être", "il",
    "elle", "ils", "elles", "nous", "vous", "je", "ne", "pas", "que", "qui", "ce", "cette", "se",
    "sa", "son", "ses", "plus", "qu", "s", "n",
];
const ES: &[&str] = &[
    "el", "la", "los", "las", "un", "una", "unos", "unas", "y", "o", "pero", "en", "de", "del",
    "al", "a", "por", "para", "con", "es", "son", "fue", "ha", "han", "que", "se", "su", "sus",
    "lo", "le", "les", "no", "más", "como", "este", "esta", "ese", "esa",
];
const IT: &[&str] = &[
    "il", "lo", "la", "i", "gli", "le", "un", "una", "uno", "e", "o", "ma", "in", "di", "del",
    "della", "dei", "a", "al", "alla", "da", "per", "con", "su", "è", "sono", "che", "si", "non",
    "come", "più", "l", "anche",
];
const PT: &[&str] = &[
    "o", "a", "os", "as", "um", "uma", "e", "ou", "mas", "em", "no", "na", "nos", "nas", "de",
    "do", "da", "dos", "das", "por", "para", "com", "é", "são", "foi", "que", "se", "não", "mais",
    "como", "seu", "sua",
];
const NL: &[&str] = &[
    "de", "het", "een", "en", "of", "maar", "in", "op", "te", "van", "met", "voor", "aan", "is",
    "zijn", "was", "werd", "dat", "die", "niet", "er", "hij", "zij", "ze", "we", "ook", "als",
];

impl Lang {
    /// `code` is ISO 639-1 ("en"); unknown codes get the neutral behaviour.
    pub fn new(code: Option<&str>) -> Self {
        let (alg, stop): (Option<Algorithm>, &'static [&'static str]) = match code.unwrap_or("") {
            "en" => (Some(Algorithm::English), EN),
            "de" => (Some(Algorithm::German), DE),
            "fr" => (Some(Algorithm::French), FR),
            "es" => (Some(Algorithm::Spanish), ES),
            "it" => (Some(Algorithm::Italian), IT),
            "pt" => (Some(Algorithm::Portuguese), PT),
            "nl" => (Some(Algorithm::Dutch), NL),
            "sv" => (Some(Algorithm::Swedish), &[]),
            "da" => (Some(Algorithm::Danish), &[]),
            "no" => (Some(Algorithm::Norwegian), &[]),
            "fi" => (Some(Algorithm::Finnish), &[]),
            "ru" => (Some(Algorithm::Russian), &[]),
            "ro" => (Some(Algorithm::Romanian), &[]),
            "hu" => (Some(Algorithm::Hungarian), &[]),
            "tr" => (Some(Algorithm::Turkish), &[]),
            "el" => (Some(Algorithm::Greek), &[]),
            "ar" => (Some(Algorithm::Arabic), &[]),
            _ => (None, &[]),
        };
        Self { stemmer: alg.map(Stemmer::create), stop }
    }

    /// Whether `code` (ISO 639-1) is a language this module stems; a page's `lang`
    /// outside these is no better than detecting.
    pub fn known(code: &str) -> bool {
        matches!(
            code,
            "en" | "de"
                | "fr"
                | "es"
                | "it"
                | "pt"
                | "nl"
                | "sv"
                | "da"
                | "no"
                | "fi"
                | "ru"
                | "ro"
                | "hu"
                | "tr"
                | "el"
                | "ar"
        )
    }

    /// Content terms of a sentence: lowercased words minus stop words, stemmed.
    pub fn terms(&self, sentence: &str) -> Vec<String> {
        sentence
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .filter(|w| !self.stop.contains(&w.as_str()))
            .map(|w| match &self.stemmer {
                Some(s) => s.stem(&w).into_owned(),
                None => w,
            })
            .collect()
    }
}

/// Language of `text` as ISO 639-1, when whatlang is confident.
pub fn detect(text: &str) -> Option<&'static str> {
    let sample: String = text.chars().take(1500).collect();
    let info = whatlang::detect(&sample)?;
    // Stemming with a slightly wrong guess still beats not stemming, so the
    // bar is lower than whatlang's own "reliable".
    if !info.is_reliable() && info.confidence() < 0.5 {
        return None;
    }
    use whatlang::Lang::*;
    Some(match info.lang() {
        Eng => "en",
        Deu => "de",
        Fra => "fr",
        Spa => "es",
        Ita => "it",
        Por => "pt",
        Nld => "nl",
        Swe => "sv",
        Dan => "da",
        Nob => "no",
        Fin => "fi",
        Rus => "ru",
        Ron => "ro",
        Hun => "hu",
        Tur => "tr",
        Ell => "el",
        Ara => "ar",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_terms_are_stemmed_without_stop_words() {
        let l = Lang::new(Some("en"));
        assert_eq!(l.terms("The elections were running."), vec!["elect", "run"]);
    }

    #[test]
    fn german_and_unknown() {
        let l = Lang::new(Some("de"));
        assert_eq!(l.terms("Die Häuser und der Garten"), vec!["haus", "gart"]);
        let u = Lang::new(Some("xx"));
        assert_eq!(u.terms("Foo BAR"), vec!["foo", "bar"]);
    }

    #[test]
    fn detects_common_languages() {
        assert_eq!(
            detect(
                "The quick brown fox jumps over the lazy dog while the farmer watches from the porch."
            ),
            Some("en")
        );
        assert_eq!(
            detect(
                "Der schnelle braune Fuchs springt über den faulen Hund, während der Bauer zuschaut."
            ),
            Some("de")
        );
    }
}
