//! Decoding of the HTTP-Redirect (base64 of raw DEFLATE) and HTTP-POST
//! (base64) bindings, with bounded input and bounded inflation.

use std::io::Read;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use flate2::read::DeflateDecoder;

use super::SamlError;

/// Largest encoded SAML message we accept, in bytes.
pub const MAX_ENCODED: usize = 64 * 1024;
/// Largest XML document we accept after decoding and inflation, in bytes.
pub const MAX_XML: usize = 128 * 1024;

fn decode_b64(encoded: &str) -> Result<Vec<u8>, SamlError> {
    if encoded.len() > MAX_ENCODED {
        return Err(SamlError::TooLarge(MAX_ENCODED));
    }
    // POST bodies are often wrapped in lines; whitespace is not data.
    let compact: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    B64.decode(compact.as_bytes())
        .map_err(|_| SamlError::Base64)
}

fn into_utf8(bytes: Vec<u8>) -> Result<String, SamlError> {
    String::from_utf8(bytes).map_err(|_| SamlError::Xml("the message is not UTF-8".into()))
}

/// HTTP-Redirect: base64, then raw DEFLATE, inflating at most `MAX_XML` bytes.
pub fn decode_redirect(encoded: &str) -> Result<String, SamlError> {
    let compressed = decode_b64(encoded)?;
    let mut out = Vec::with_capacity(compressed.len() * 4);
    let mut decoder = DeflateDecoder::new(compressed.as_slice()).take(MAX_XML as u64 + 1);
    decoder
        .read_to_end(&mut out)
        .map_err(|_| SamlError::Deflate)?;
    if out.len() > MAX_XML {
        return Err(SamlError::TooLarge(MAX_XML));
    }
    into_utf8(out)
}

/// HTTP-POST: base64 only.
pub fn decode_post(encoded: &str) -> Result<String, SamlError> {
    let bytes = decode_b64(encoded)?;
    if bytes.len() > MAX_XML {
        return Err(SamlError::TooLarge(MAX_XML));
    }
    into_utf8(bytes)
}

/// Base64 of raw DEFLATE, as an SP sends with HTTP-Redirect.
pub fn encode_redirect(xml: &str) -> String {
    use flate2::write::DeflateEncoder;
    use flate2::Compression;
    use std::io::Write;
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(xml.as_bytes());
    B64.encode(enc.finish().unwrap_or_default())
}

/// Base64 of the message, as it goes into a POST form.
pub fn encode_post(xml: &str) -> String {
    B64.encode(xml.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let xml = "<x>日本語</x>";
        assert_eq!(
            decode_redirect(&encode_redirect(xml)).expect("redirect"),
            xml
        );
        assert_eq!(decode_post(&encode_post(xml)).expect("post"), xml);
    }

    #[test]
    fn refuses_bad_base64_and_deflate() {
        assert!(matches!(decode_redirect("!!!"), Err(SamlError::Base64)));
        assert!(matches!(
            decode_redirect(&B64.encode(b"\xff\xff\xff\xff")),
            Err(SamlError::Deflate)
        ));
        assert!(matches!(
            decode_post(&B64.encode(b"\xff\xfe")),
            Err(SamlError::Xml(_))
        ));
    }

    #[test]
    fn refuses_a_deflate_bomb_quickly() {
        // 40 MiB of zeros deflates to about 40 KB; inflation must stop at the bound.
        let bomb = "\0".repeat(40 * 1024 * 1024);
        let encoded = encode_redirect(&bomb);
        assert!(encoded.len() < MAX_ENCODED);
        assert!(matches!(
            decode_redirect(&encoded),
            Err(SamlError::TooLarge(_))
        ));
    }

    #[test]
    fn refuses_oversized_input() {
        let big = "A".repeat(MAX_ENCODED + 4);
        assert!(matches!(decode_post(&big), Err(SamlError::TooLarge(_))));
    }
}
