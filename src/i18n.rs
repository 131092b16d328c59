//! Translations (Japanese first, English second) and language negotiation.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::HttpRequest;

pub const LANGS: [&str; 2] = ["ja", "en"];
pub const LANG_COOKIE: &str = "omakase_lang";

type Table = HashMap<String, String>;

fn tables() -> &'static HashMap<&'static str, Table> {
    static T: OnceLock<HashMap<&'static str, Table>> = OnceLock::new();
    T.get_or_init(|| {
        let mut m = HashMap::new();
        for (lang, src) in [
            ("ja", include_str!("../templates/locales/ja.json")),
            ("en", include_str!("../templates/locales/en.json")),
        ] {
            let table: Table = serde_json::from_str(src).unwrap_or_default();
            m.insert(lang, table);
        }
        m
    })
}

/// The text of `key` in `lang`.
pub fn lookup(lang: &str, key: &str) -> Option<&'static str> {
    tables().get(lang)?.get(key).map(String::as_str)
}

/// All keys of a language (for tests that compare locales).
pub fn keys(lang: &str) -> Vec<&'static str> {
    tables()
        .get(lang)
        .map(|t| t.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The language of a request: the cookie, then Accept-Language, then ja.
pub fn negotiate(req: &HttpRequest) -> &'static str {
    if let Some(c) = req.cookie(LANG_COOKIE) {
        if let Some(l) = LANGS.iter().find(|l| **l == c.value()) {
            return l;
        }
    }
    let header = req
        .headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    from_accept_language(header)
}

/// Picks ja or en from an Accept-Language header by quality; ja if neither.
pub fn from_accept_language(header: &str) -> &'static str {
    let mut best: Option<(&'static str, f32)> = None;
    for part in header.split(',') {
        let mut it = part.trim().split(';');
        let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|v| v.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        let Some(lang) = LANGS.iter().find(|l| **l == primary) else {
            continue;
        };
        if q > 0.0 && best.map(|(_, bq)| q > bq).unwrap_or(true) {
            best = Some((lang, q));
        }
    }
    best.map(|(l, _)| l).unwrap_or("ja")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_have_the_same_keys() {
        let mut ja = keys("ja");
        let mut en = keys("en");
        ja.sort_unstable();
        en.sort_unstable();
        assert!(!ja.is_empty());
        assert_eq!(ja, en);
        assert_eq!(lookup("ja", "nav.home"), Some("ホーム"));
        assert_eq!(lookup("en", "nav.home"), Some("Home"));
    }

    #[test]
    fn negotiates_by_quality() {
        assert_eq!(from_accept_language(""), "ja");
        assert_eq!(from_accept_language("en-US,en;q=0.9"), "en");
        assert_eq!(from_accept_language("ja,en-US;q=0.8"), "ja");
        assert_eq!(from_accept_language("en;q=0.5,ja;q=0.6"), "ja");
        assert_eq!(from_accept_language("fr-FR,en;q=0.3"), "en");
        assert_eq!(from_accept_language("fr-FR"), "ja");
        assert_eq!(from_accept_language("en;q=0"), "ja");
    }
}
