//! A tiny XML tree whose serialisation *is* its exclusive canonical form
//! (W3C xml-exc-c14n without comments).
//!
//! Every element and attribute carries its namespace; the writer declares a
//! namespace on the first element of the output where it is visibly used and
//! not already declared by an output ancestor, sorts namespace declarations by
//! prefix and attributes by (namespace URI, local name), writes explicit end
//! tags and escapes text and attribute values the way C14N does. Values are
//! always escaped: no caller can splice markup into the output.

use std::fmt::Write;

/// A namespace: the prefix we write and its URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ns {
    pub prefix: &'static str,
    pub uri: &'static str,
}

pub const SAMLP: Ns = Ns {
    prefix: "samlp",
    uri: "urn:oasis:names:tc:SAML:2.0:protocol",
};
pub const SAML: Ns = Ns {
    prefix: "saml",
    uri: "urn:oasis:names:tc:SAML:2.0:assertion",
};
pub const DS: Ns = Ns {
    prefix: "ds",
    uri: "http://www.w3.org/2000/09/xmldsig#",
};
pub const MD: Ns = Ns {
    prefix: "md",
    uri: "urn:oasis:names:tc:SAML:2.0:metadata",
};

#[derive(Debug, Clone)]
pub enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug, Clone)]
pub struct Element {
    pub ns: Ns,
    pub name: &'static str,
    /// Unqualified attributes only (SAML needs no others): (name, value).
    pub attrs: Vec<(&'static str, String)>,
    pub children: Vec<Node>,
}

impl Element {
    pub fn new(ns: Ns, name: &'static str) -> Self {
        Element {
            ns,
            name,
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    pub fn attr(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.attrs.push((name, value.into()));
        self
    }

    pub fn opt_attr(self, name: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    pub fn children(mut self, children: impl IntoIterator<Item = Element>) -> Self {
        self.children
            .extend(children.into_iter().map(Node::Element));
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// The value of an unqualified attribute.
    pub fn get_attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Inserts a child element at `index` among the node list.
    pub fn insert_child(&mut self, index: usize, child: Element) {
        let at = index.min(self.children.len());
        self.children.insert(at, Node::Element(child));
    }

    /// Mutable access to the first child element with this name.
    pub fn child_mut(&mut self, ns: Ns, name: &str) -> Option<&mut Element> {
        self.children.iter_mut().find_map(|n| match n {
            Node::Element(e) if e.ns == ns && e.name == name => Some(e),
            _ => None,
        })
    }

    /// The exclusive canonical form of this element as an apex (no
    /// namespace inherited from an ancestor).
    pub fn to_c14n(&self) -> String {
        let mut out = String::with_capacity(4096);
        let mut scope: Vec<Ns> = Vec::with_capacity(8);
        write_element(self, &mut out, &mut scope);
        out
    }
}

fn write_element(e: &Element, out: &mut String, scope: &mut Vec<Ns>) {
    // Only the element's own prefix is visibly used: attributes are unqualified.
    let declared = scope.iter().rev().find(|n| n.prefix == e.ns.prefix);
    let needs_decl = declared.map(|n| n.uri != e.ns.uri).unwrap_or(true);
    out.push('<');
    out.push_str(e.ns.prefix);
    out.push(':');
    out.push_str(e.name);
    if needs_decl {
        out.push_str(" xmlns:");
        out.push_str(e.ns.prefix);
        out.push_str("=\"");
        escape_attr(e.ns.uri, out);
        out.push('"');
        scope.push(e.ns);
    }
    let mut attrs: Vec<&(&'static str, String)> = e.attrs.iter().collect();
    attrs.sort_by(|a, b| a.0.cmp(b.0));
    for (name, value) in attrs {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_attr(value, out);
        out.push('"');
    }
    out.push('>');
    for child in &e.children {
        match child {
            Node::Element(c) => write_element(c, out, scope),
            Node::Text(t) => escape_text(t, out),
        }
    }
    out.push_str("</");
    out.push_str(e.ns.prefix);
    out.push(':');
    out.push_str(e.name);
    out.push('>');
    if needs_decl {
        scope.pop();
    }
}

/// C14N escaping of text nodes.
pub fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// C14N escaping of attribute values.
pub fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// Characters XML 1.0 allows; anything else (control characters) would make
/// the document unparseable, so the writer replaces it.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes text for a non-canonical context (used nowhere else than in
/// tests and metadata); identical to C14N text escaping.
pub fn escaped_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_text(s, &mut out);
    out
}

/// Writes `Y-m-dTH:M:SZ` (SAML's xs:dateTime in UTC, whole seconds).
pub fn saml_instant(t: chrono::DateTime<chrono::Utc>) -> String {
    let mut s = String::with_capacity(20);
    let _ = write!(s, "{}", t.format("%Y-%m-%dT%H:%M:%SZ"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_namespace_once_where_first_used() {
        let doc = Element::new(SAMLP, "Response")
            .attr("ID", "_1")
            .child(Element::new(SAML, "Issuer").text("idp"))
            .child(Element::new(SAMLP, "Status"))
            .child(Element::new(SAML, "Assertion").child(Element::new(SAML, "Issuer").text("idp")));
        assert_eq!(
            doc.to_c14n(),
            concat!(
                r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1">"#,
                r#"<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">idp</saml:Issuer>"#,
                r#"<samlp:Status></samlp:Status>"#,
                r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Issuer>idp</saml:Issuer></saml:Assertion>"#,
                r#"</samlp:Response>"#
            )
        );
    }

    #[test]
    fn sorts_attributes_and_escapes_values() {
        let e = Element::new(SAML, "A")
            .attr("b", "x\"<&>\t\n\r")
            .attr("Z", "1")
            .attr("a", "2")
            .text("t<&>\r\"'");
        assert_eq!(
            e.to_c14n(),
            r#"<saml:A xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Z="1" a="2" b="x&quot;&lt;&amp;>&#x9;&#xA;&#xD;">t&lt;&amp;&gt;&#xD;"'</saml:A>"#
        );
    }

    #[test]
    fn markup_in_values_stays_text() {
        let evil = r#"x</saml:AttributeValue><saml:Attribute Name="role">"#;
        let out = Element::new(SAML, "AttributeValue").text(evil).to_c14n();
        assert!(!out.contains("<saml:Attribute "));
        assert!(out.contains("x&lt;/saml:AttributeValue&gt;&lt;saml:Attribute Name=\"role\"&gt;"));
    }

    #[test]
    fn control_characters_are_replaced() {
        let out = Element::new(SAML, "A")
            .attr("v", "a\u{1}b")
            .text("c\u{0}d")
            .to_c14n();
        assert!(out.contains("a\u{FFFD}b"));
        assert!(out.contains("c\u{FFFD}d"));
    }
}
