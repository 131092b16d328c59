//! Authentication context classes: which class an assertion states after
//! what the person did, and whether an SP's RequestedAuthnContext (SAML
//! core §3.3.2.2.1) is met, needs a second factor first, or cannot be met.

use super::authn_request::RequestedAuthnContext;

pub const PASSWORD_PROTECTED: &str = super::AC_PASSWORD_PROTECTED;
pub const TIME_SYNC_TOKEN: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken";
pub const MOBILE_TWO_FACTOR: &str =
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract";
pub const REFEDS_MFA: &str = "https://refeds.org/profile/mfa";
pub const MS_MULTIPLE_AUTHN: &str = "http://schemas.microsoft.com/claims/multipleauthn";

/// Strength of the classes we can compare; `None` for classes we do not
/// know (they are never claimed, and compare with nothing).
fn level(class: &str) -> Option<u8> {
    match class {
        REFEDS_MFA | MS_MULTIPLE_AUTHN => return Some(3),
        _ => {}
    }
    if !class.starts_with("urn:oasis:names:tc:SAML:2.0:ac:classes:") {
        return None;
    }
    match class.rsplit(':').next().unwrap_or("") {
        "unspecified" | "InternetProtocol" | "PreviousSession" => Some(0),
        "Password" | "InternetProtocolPassword" => Some(1),
        "PasswordProtectedTransport" => Some(2),
        "TimeSyncToken" | "MobileTwoFactorContract" | "MobileTwoFactorUnregistered" => Some(3),
        // Certificates and smart cards: stronger than anything we do.
        "Smartcard" | "SmartcardPKI" | "X509" | "TLSClient" | "SoftwarePKI" => Some(4),
        _ => None,
    }
}

/// What the person did in this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Achieved<'a> {
    Password,
    /// Password and a second factor: `totp`, `sms` or `recovery`.
    SecondFactor(&'a str),
    /// Password and some second factor (what a step-up would give).
    AnySecondFactor,
}

impl Achieved<'_> {
    /// The classes we may truthfully state, the most specific first.
    fn classes(self) -> &'static [&'static str] {
        match self {
            Achieved::Password => &[PASSWORD_PROTECTED],
            Achieved::SecondFactor("totp") => &[
                TIME_SYNC_TOKEN,
                REFEDS_MFA,
                MS_MULTIPLE_AUTHN,
                PASSWORD_PROTECTED,
            ],
            Achieved::SecondFactor("sms") => &[
                MOBILE_TWO_FACTOR,
                REFEDS_MFA,
                MS_MULTIPLE_AUTHN,
                PASSWORD_PROTECTED,
            ],
            Achieved::SecondFactor(_) => &[REFEDS_MFA, MS_MULTIPLE_AUTHN, PASSWORD_PROTECTED],
            Achieved::AnySecondFactor => &[
                REFEDS_MFA,
                MS_MULTIPLE_AUTHN,
                TIME_SYNC_TOKEN,
                MOBILE_TWO_FACTOR,
                PASSWORD_PROTECTED,
            ],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// State this class in the assertion.
    Answer(&'static str),
    /// Met only after a second factor.
    StepUp,
    /// Cannot be met here: NoAuthnContext.
    Refuse,
}

fn satisfy(rac: Option<&RequestedAuthnContext>, achieved: Achieved<'_>) -> Option<&'static str> {
    let ours = achieved.classes();
    let natural = ours[0];
    let Some(rac) = rac.filter(|r| !r.class_refs.is_empty()) else {
        return Some(natural);
    };
    let asked: Vec<u8> = rac.class_refs.iter().filter_map(|c| level(c)).collect();
    let best = ours.iter().filter_map(|c| level(c)).max().unwrap_or(0);
    match rac.comparison.as_str() {
        "minimum" => asked.iter().any(|a| best >= *a).then_some(natural),
        "better" => asked.iter().any(|a| best > *a).then_some(natural),
        "maximum" => {
            let ceiling = asked.iter().max()?;
            ours.iter()
                .copied()
                .find(|c| level(c).is_some_and(|l| l <= *ceiling))
        }
        _ => rac
            .class_refs
            .iter()
            .find_map(|asked| ours.iter().copied().find(|c| c == asked)),
    }
}

/// The class to state, or whether a second factor would make the request
/// satisfiable.
pub fn decide(rac: Option<&RequestedAuthnContext>, achieved: Achieved<'_>) -> Decision {
    if let Some(c) = satisfy(rac, achieved) {
        return Decision::Answer(c);
    }
    if achieved == Achieved::Password && satisfy(rac, Achieved::AnySecondFactor).is_some() {
        return Decision::StepUp;
    }
    Decision::Refuse
}

/// A RequestedAuthnContext as one line of text (for a parked request).
pub fn to_stored(rac: Option<&RequestedAuthnContext>) -> String {
    match rac {
        None => String::new(),
        Some(r) => std::iter::once(r.comparison.as_str())
            .chain(r.class_refs.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

pub fn from_stored(s: &str) -> Option<RequestedAuthnContext> {
    let mut parts = s.split_whitespace();
    let comparison = parts.next()?.to_string();
    Some(RequestedAuthnContext {
        comparison,
        class_refs: parts.map(str::to_string).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rac(comparison: &str, classes: &[&str]) -> RequestedAuthnContext {
        RequestedAuthnContext {
            comparison: comparison.into(),
            class_refs: classes.iter().map(|s| s.to_string()).collect(),
        }
    }

    const PPT: &str = PASSWORD_PROTECTED;
    const PW: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password";
    const CARD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard";
    const KERBEROS: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos";
    use Achieved::*;
    use Decision::*;

    fn d(c: &str, classes: &[&str], a: Achieved<'_>) -> Decision {
        decide(Some(&rac(c, classes)), a)
    }

    #[test]
    fn password_sessions() {
        assert_eq!(decide(None, Password), Answer(PPT));
        assert_eq!(d("exact", &[], Password), Answer(PPT));
        assert_eq!(d("exact", &[PPT], Password), Answer(PPT));
        assert_eq!(d("exact", &[PW], Password), Refuse);
        assert_eq!(d("exact", &[REFEDS_MFA], Password), StepUp);
        assert_eq!(d("exact", &[TIME_SYNC_TOKEN], Password), StepUp);
        assert_eq!(d("exact", &[KERBEROS], Password), Refuse);
        assert_eq!(d("minimum", &[PW], Password), Answer(PPT));
        assert_eq!(d("minimum", &[PPT], Password), Answer(PPT));
        assert_eq!(d("minimum", &[MOBILE_TWO_FACTOR], Password), StepUp);
        assert_eq!(d("minimum", &[CARD], Password), Refuse);
        assert_eq!(d("better", &[PW], Password), Answer(PPT));
        assert_eq!(d("better", &[PPT], Password), StepUp);
        assert_eq!(d("better", &[TIME_SYNC_TOKEN], Password), Refuse);
        assert_eq!(d("maximum", &[TIME_SYNC_TOKEN], Password), Answer(PPT));
        assert_eq!(d("maximum", &[PW], Password), Refuse);
    }

    #[test]
    fn second_factor_sessions_state_what_was_done() {
        let totp = SecondFactor("totp");
        let sms = SecondFactor("sms");
        assert_eq!(decide(None, totp), Answer(TIME_SYNC_TOKEN));
        assert_eq!(decide(None, sms), Answer(MOBILE_TWO_FACTOR));
        assert_eq!(decide(None, SecondFactor("recovery")), Answer(REFEDS_MFA));
        assert_eq!(d("exact", &[PPT], totp), Answer(PPT));
        assert_eq!(d("exact", &[REFEDS_MFA], sms), Answer(REFEDS_MFA));
        assert_eq!(
            d("exact", &[MS_MULTIPLE_AUTHN, REFEDS_MFA], totp),
            Answer(MS_MULTIPLE_AUTHN)
        );
        // An SMS code is not a time-sync token.
        assert_eq!(d("exact", &[TIME_SYNC_TOKEN], sms), Refuse);
        assert_eq!(d("minimum", &[PPT], sms), Answer(MOBILE_TWO_FACTOR));
        assert_eq!(d("better", &[PPT], totp), Answer(TIME_SYNC_TOKEN));
        assert_eq!(d("maximum", &[PPT], totp), Answer(PPT));
        assert_eq!(d("minimum", &[CARD], totp), Refuse);
    }

    #[test]
    fn stored_form_round_trips() {
        let r = rac("minimum", &[PPT, REFEDS_MFA]);
        assert_eq!(from_stored(&to_stored(Some(&r))), Some(r));
        assert_eq!(from_stored(&to_stored(None)), None);
    }
}
