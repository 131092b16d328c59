//! Which profile attributes a service receives, under which names and
//! NameFormat. A service without its own list gets the default set.

use serde::{Deserialize, Serialize};

use crate::db::models::users::User;
use crate::saml::response::{Attribute, ATTRNAME_FORMAT_URI};

pub const NAME_FORMATS: [&str; 3] = [
    ATTRNAME_FORMAT_URI,
    "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
    "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified",
];

/// (source, default Name, default FriendlyName, released by default)
pub const SOURCES: [(&str, &str, &str, bool); 8] = [
    ("uid", "urn:oid:0.9.2342.19200300.100.1.1", "uid", true),
    ("mail", "urn:oid:0.9.2342.19200300.100.1.3", "mail", true),
    (
        "displayName",
        "urn:oid:2.16.840.1.113730.3.1.241",
        "displayName",
        true,
    ),
    ("o", "urn:oid:2.5.4.10", "o", true),
    ("ou", "urn:oid:2.5.4.11", "ou", true),
    (
        "telephoneNumber",
        "urn:oid:2.5.4.20",
        "telephoneNumber",
        true,
    ),
    (
        "mobile",
        "urn:oid:0.9.2342.19200300.100.1.41",
        "mobile",
        true,
    ),
    (
        "groups",
        "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
        "isMemberOf",
        false,
    ),
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Release {
    pub source: String,
    pub name: String,
    pub friendly_name: String,
    pub name_format: String,
}

pub fn defaults() -> Vec<Release> {
    SOURCES
        .iter()
        .filter(|s| s.3)
        .map(|(source, name, friendly, _)| Release {
            source: source.to_string(),
            name: name.to_string(),
            friendly_name: friendly.to_string(),
            name_format: ATTRNAME_FORMAT_URI.to_string(),
        })
        .collect()
}

/// The service's list (stored JSON) or the default set.
pub fn effective(stored: &str) -> Vec<Release> {
    if stored.trim().is_empty() {
        return defaults();
    }
    serde_json::from_str(stored).unwrap_or_else(|_| defaults())
}

pub fn needs_groups(releases: &[Release]) -> bool {
    releases.iter().any(|r| r.source == "groups")
}

fn values(u: &User, groups: &[String], source: &str) -> Vec<String> {
    let one = |v: &str| {
        if v.is_empty() {
            vec![]
        } else {
            vec![v.to_string()]
        }
    };
    match source {
        "uid" => one(&u.username),
        "mail" => one(&u.email),
        "displayName" => one(&u.display_name),
        "o" => one(&u.organization),
        "ou" => one(&u.department),
        "telephoneNumber" => one(&u.phone),
        "mobile" => one(&u.mobile),
        "groups" => groups.to_vec(),
        _ => vec![],
    }
}

/// The attributes to put in the assertion (empty ones are left out).
pub fn build(u: &User, groups: &[String], releases: &[Release]) -> Vec<Attribute> {
    releases
        .iter()
        .filter_map(|r| {
            let v = values(u, groups, &r.source);
            (!v.is_empty()).then(|| Attribute {
                name: r.name.clone(),
                friendly_name: r.friendly_name.clone(),
                name_format: r.name_format.clone(),
                values: v,
            })
        })
        .collect()
}

/// Checks an admin's list: known sources, a name, a known NameFormat, no
/// name twice. Returns the message key of the first problem.
pub fn validate(releases: &[Release]) -> Result<(), &'static str> {
    let mut names = std::collections::HashSet::new();
    for r in releases {
        if !SOURCES.iter().any(|s| s.0 == r.source) {
            return Err("admin.attr_unknown_source");
        }
        if r.name.trim().is_empty() || r.name.len() > 256 || r.friendly_name.len() > 256 {
            return Err("admin.attr_name_invalid");
        }
        if !NAME_FORMATS.contains(&r.name_format.as_str()) {
            return Err("admin.attr_format_invalid");
        }
        if !names.insert(r.name.clone()) {
            return Err("admin.attr_duplicate");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let d = defaults();
        assert_eq!(d.len(), 7);
        assert!(!needs_groups(&d));
        assert_eq!(effective(""), d);
        assert_eq!(effective("not json"), d);
        assert!(validate(&d).is_ok());
        let mut dup = d.clone();
        dup.push(d[0].clone());
        assert_eq!(validate(&dup), Err("admin.attr_duplicate"));
        let mut bad = d.clone();
        bad[0].name_format = "x".into();
        assert_eq!(validate(&bad), Err("admin.attr_format_invalid"));
    }
}
