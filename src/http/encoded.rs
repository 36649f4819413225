//! A JSON answer encoded once and served many times.
//!
//! The compression layer (`http::compression`) compresses each answer as it
//! goes out, which is right for answers made per request. A kept answer
//! read by many (the report: 200 KB of JSON for a big conversation, read by
//! every organiser and, once published, by every participant) would pay
//! that per request: profiled, 55% of the report's serving CPU was brotli
//! and another 19% zeroing brotli's tables (docs/benchmarks.md). So a kept
//! answer is serialised once and compressed once per coding, and each
//! request takes the bytes its `Accept-Encoding` prefers. The compression
//! layer leaves an answer that already has a `Content-Encoding` alone.

use std::io::Write;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use serde::Serialize;

/// brotli quality for a body compressed once and served many times: about
/// the size of quality 11 at a fraction of its time (tower-http uses 4 for
/// answers made on the fly).
const BROTLI_QUALITY: u32 = 9;
const BROTLI_WINDOW_BITS: u32 = 22;

/// One JSON body in the three codings chorus serves.
pub struct EncodedJson {
    identity: Bytes,
    gzip: Bytes,
    brotli: Bytes,
}

/// A content coding the client accepts, in chorus's order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl EncodedJson {
    /// Serialises and compresses `value` (CPU-heavy for a big body: call it
    /// where the body is built, off the async threads).
    pub fn new<T: Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        let identity = serde_json::to_vec(value)?;
        let mut gzip = flate2::write::GzEncoder::new(
            Vec::with_capacity(identity.len() / 4),
            flate2::Compression::default(),
        );
        let mut brotli = brotli::CompressorWriter::new(
            Vec::with_capacity(identity.len() / 5),
            4096,
            BROTLI_QUALITY,
            BROTLI_WINDOW_BITS,
        );
        // Writing into a Vec cannot fail.
        gzip.write_all(&identity).expect("gzip into memory");
        brotli.write_all(&identity).expect("brotli into memory");
        Ok(EncodedJson {
            gzip: gzip.finish().expect("gzip into memory").into(),
            brotli: brotli.into_inner().into(),
            identity: identity.into(),
        })
    }

    /// The body in the coding the request's headers prefer (as it is when
    /// it is no bigger than the compression layer's threshold), with
    /// `Content-Type`, `Content-Encoding` and `Vary`. Cloning [`Bytes`]
    /// shares them: no copy per request.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        // As the compression layer does: a small body goes as it is.
        let small = self.identity.len() <= usize::from(super::COMPRESS_ABOVE);
        let coding = if small {
            Coding::Identity
        } else {
            preferred(request)
        };
        let (body, coding) = match coding {
            Coding::Brotli => (self.brotli.clone(), Some("br")),
            Coding::Gzip => (self.gzip.clone(), Some("gzip")),
            Coding::Identity => (self.identity.clone(), None),
        };
        let mut response = Response::new(Body::from(body));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if let Some(coding) = coding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        response
    }
}

/// The coding to answer with: brotli, then gzip, when `Accept-Encoding`
/// lists it with a quality above zero (or `*` does), weighing the qualities
/// as RFC 9110 §12.5.3 says; otherwise the body as it is. Written here
/// because tower-http's parser is private to its compression layer.
fn preferred(request: &HeaderMap) -> Coding {
    let mut best = (Coding::Identity, 0.0_f32);
    let mut wildcard = None;
    let (mut brotli, mut gzip) = (None, None);
    for value in request.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for entry in value.split(',') {
            let mut parts = entry.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next_back()
                .unwrap_or(1.0);
            match name.as_str() {
                "br" => brotli = Some(quality),
                "gzip" | "x-gzip" => gzip = Some(quality),
                "*" => wildcard = Some(quality),
                _ => {}
            }
        }
    }
    for (coding, quality) in [(Coding::Brotli, brotli), (Coding::Gzip, gzip)] {
        let quality = quality.or(wildcard).unwrap_or(0.0);
        if quality > best.1 {
            best = (coding, quality);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_preferred_coding_follows_the_qualities() {
        for (asked, expected) in [
            ("", Coding::Identity),
            ("identity", Coding::Identity),
            ("gzip", Coding::Gzip),
            ("br", Coding::Brotli),
            ("gzip, deflate, br, zstd", Coding::Brotli),
            ("br;q=0.5, gzip", Coding::Gzip),
            ("br;q=0, gzip;q=0", Coding::Identity),
            ("*", Coding::Brotli),
            ("*;q=0.3, gzip;q=0.5", Coding::Gzip),
            ("GZIP ; q=0.8", Coding::Gzip),
        ] {
            assert_eq!(preferred(&accepting(asked)), expected, "{asked:?}");
        }
        assert_eq!(preferred(&HeaderMap::new()), Coding::Identity);
    }
}
