//! Handlebars pages and static files, compiled into the binary.

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use rust_embed::RustEmbed;
use serde::Serialize;

use crate::i18n;

#[derive(RustEmbed)]
#[folder = "templates/"]
pub struct Assets;

pub type Templates = Handlebars<'static>;

/// `{{t "key"}}`: the text of `key` in the page's language (`lang` at the
/// root of the context), with `{0}`, `{1}` … replaced by further
/// parameters. A missing key is an error, never a silent blank.
fn t_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    ctx: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let key = h
        .param(0)
        .and_then(|p| p.value().as_str())
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
    let lang = ctx
        .data()
        .get("lang")
        .and_then(|v| v.as_str())
        .unwrap_or("ja");
    let text = i18n::lookup(lang, key).ok_or_else(|| {
        RenderError::from(RenderErrorReason::Other(format!(
            "no translation {lang}:{key}"
        )))
    })?;
    // `{{t "key" a b}}` puts the further parameters in for {0}, {1}, ….
    let mut text = text.to_string();
    for (i, p) in h.params().iter().enumerate().skip(1) {
        let v = match p.value() {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        text = text.replace(&format!("{{{}}}", i - 1), &v);
    }
    out.write(&handlebars::html_escape(&text))?;
    Ok(())
}

// `{{urlencode s}}`: `s` percent-encoded for a query string value.
handlebars::handlebars_helper!(url_helper: |s: str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>());

// `(concat "a." b)`: two strings joined, for building i18n keys.
handlebars::handlebars_helper!(concat_helper: |a: str, b: str| format!("{a}{b}"));

/// Registers every `*.hbs` under templates/ by its path without extension
/// (`profile/edit`, `layouts/base`).
pub fn load() -> Result<Templates, String> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_helper("t", Box::new(t_helper));
    hb.register_helper("concat", Box::new(concat_helper));
    hb.register_helper("urlencode", Box::new(url_helper));
    for path in Assets::iter() {
        let Some(name) = path.strip_suffix(".hbs") else {
            continue;
        };
        let file = Assets::get(&path).ok_or_else(|| format!("missing template {path}"))?;
        let src = std::str::from_utf8(&file.data).map_err(|e| format!("{path}: {e}"))?;
        hb.register_template_string(name, src)
            .map_err(|e| format!("template {path}: {e}"))?;
    }
    Ok(hb)
}

/// Names of all page templates (not layouts), for tests.
pub fn page_names() -> Vec<String> {
    Assets::iter()
        .filter_map(|p| p.strip_suffix(".hbs").map(str::to_string))
        .filter(|n| !n.starts_with("layouts/"))
        .collect()
}

/// A static asset by path under templates/static/, with its content type.
pub fn static_file(path: &str) -> Option<(std::borrow::Cow<'static, [u8]>, &'static str)> {
    if path.contains("..") {
        return None;
    }
    let file = Assets::get(&format!("static/{path}"))?;
    let ctype = match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    Some((file.data, ctype))
}

/// Renders `name` with `data`.
pub fn render<T: Serialize>(hb: &Templates, name: &str, data: &T) -> Result<String, String> {
    hb.render(name, data)
        .map_err(|e| format!("render {name}: {e}"))
}
