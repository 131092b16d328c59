//! A small namespace-resolved DOM built with quick-xml, for the messages we
//! receive. A DOCTYPE is refused outright (no entity expansion, no XXE), the
//! nesting depth and the number of elements are bounded, and only the five
//! predefined entities and character references are understood.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::SamlError;

const MAX_DEPTH: usize = 48;
const MAX_ELEMENTS: usize = 20_000;

#[derive(Debug, Default, Clone)]
pub struct XNode {
    pub ns: String,
    pub local: String,
    /// (namespace URI or "", local name, value)
    pub attrs: Vec<(String, String, String)>,
    pub children: Vec<XNode>,
    pub text: String,
}

impl XNode {
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// An unqualified attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(ns, l, _)| ns.is_empty() && l == name)
            .map(|(_, _, v)| v.as_str())
    }

    pub fn child(&self, ns: &str, local: &str) -> Option<&XNode> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a XNode> + 'a {
        self.children.iter().filter(move |c| c.is(ns, local))
    }

    /// All descendants (depth first) with this name.
    pub fn descendants<'a>(&'a self, ns: &str, local: &str, out: &mut Vec<&'a XNode>) {
        for c in &self.children {
            if c.is(ns, local) {
                out.push(c);
            }
            c.descendants(ns, local, out);
        }
    }

    pub fn trimmed_text(&self) -> &str {
        self.text.trim()
    }
}

/// Parses a whole document into its root element.
pub fn parse(xml: &str) -> Result<XNode, SamlError> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<XNode> = Vec::new();
    let mut root: Option<XNode> = None;
    let mut count = 0usize;
    loop {
        let (res, ev) = reader
            .read_resolved_event()
            .map_err(|e| SamlError::Xml(e.to_string()))?;
        match ev {
            Event::DocType(_) => return Err(SamlError::Doctype),
            Event::Start(start) => {
                if root.is_some() {
                    return Err(SamlError::Xml("content after the root element".into()));
                }
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(SamlError::Xml("document too deep or too large".into()));
                }
                let mut node = XNode {
                    ns: ns_of(res)?,
                    local: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    ..XNode::default()
                };
                for a in start.attributes() {
                    let a = a.map_err(|e| SamlError::Xml(e.to_string()))?;
                    let key = a.key;
                    if key.as_ref() == b"xmlns" || key.as_ref().starts_with(b"xmlns:") {
                        continue;
                    }
                    let (ares, local) = reader.resolve_attribute(key);
                    let value = a
                        .unescape_value()
                        .map_err(|e| SamlError::Xml(e.to_string()))?
                        .into_owned();
                    node.attrs.push((
                        ns_of(ares)?,
                        String::from_utf8_lossy(local.as_ref()).into_owned(),
                        value,
                    ));
                }
                stack.push(node);
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| SamlError::Xml("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| SamlError::Xml(e.to_string()))?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(SamlError::Xml("text outside the root element".into())),
                }
            }
            Event::CData(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            Event::Empty(_) => return Err(SamlError::Xml("unexpected empty element".into())),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(SamlError::Xml("the document ends inside an element".into()));
    }
    root.ok_or_else(|| SamlError::Xml("no root element".into()))
}

fn ns_of(res: ResolveResult) -> Result<String, SamlError> {
    match res {
        ResolveResult::Bound(ns) => Ok(String::from_utf8_lossy(ns.as_ref()).into_owned()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(p) => Err(SamlError::Xml(format!(
            "undeclared namespace prefix {}",
            String::from_utf8_lossy(&p)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_namespaces_and_attributes() {
        let doc = r#"<?xml version="1.0"?><a:x xmlns:a="urn:a" xmlns:b="urn:b" k="v&amp;w" b:q="1"><b:y>t&lt;1</b:y><z/></a:x>"#;
        let root = parse(doc).expect("parse");
        assert!(root.is("urn:a", "x"));
        assert_eq!(root.attr("k"), Some("v&w"));
        assert_eq!(root.attr("q"), None);
        assert_eq!(
            root.child("urn:b", "y").map(|n| n.text.as_str()),
            Some("t<1")
        );
        assert!(root.child("", "z").is_some());
    }

    #[test]
    fn refuses_doctype_and_entities() {
        let doc = r#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>"#;
        assert!(matches!(parse(doc), Err(SamlError::Doctype)));
        assert!(parse("<x>&e;</x>").is_err());
    }

    #[test]
    fn refuses_broken_and_deep_documents() {
        assert!(parse("<x><y></x>").is_err());
        assert!(parse("<x>").is_err());
        assert!(parse("").is_err());
        assert!(parse("<x/><y/>").is_err());
        assert!(parse("<p:x/>").is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(&deep).is_err());
    }
}
