//! The `invite` way in: single-use codes an admin hands out (to volunteers
//! without a work address, say). Codes are shown once, when made, and kept
//! only as keyed hashes; the CSV and the printable sheet are made from the
//! codes the admin's page still holds. Counts of issued and used codes are
//! all anyone can read later: never who used which.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::conversation;
use crate::domain::{Conversation, Invalid};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::json::ApiJson;
use crate::http::AppState;
use crate::identity::secrets::InviteCode;
use crate::store::write::{self, InviteCounts};

/// Most codes made at once (a printable sheet of 125 A4 pages).
const MAX_BATCH: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvites {
    count: usize,
}

/// `201`: the new codes, shown this once, and the counts after.
#[derive(Debug, Serialize, Deserialize)]
pub struct InvitesIssued {
    pub codes: Vec<String>,
    pub issued: i64,
    pub used: i64,
}

pub async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<NewInvites>,
) -> Result<Response, ApiError> {
    caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    if !(1..=MAX_BATCH).contains(&body.count) {
        return Err(Invalid::field("count", format!("must be between 1 and {MAX_BATCH}")).into());
    }
    let codes: Vec<InviteCode> = (0..body.count).map(|_| InviteCode::generate()).collect();
    let counts = state
        .store
        .write(write::IssueInvites {
            conversation_id: conversation.id,
            code_hashes: codes
                .iter()
                .map(|code| state.identity.invite_hash(conversation.id, code))
                .collect(),
        })
        .await?
        .answer;
    let body = InvitesIssued {
        codes: codes.iter().map(InviteCode::display).collect(),
        issued: counts.issued,
        used: counts.used,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET …/invites`: `{"issued": 40, "used": 12}`.
pub async fn counts(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Json<InviteCounts>, ApiError> {
    caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    Ok(Json(state.store.invite_counts(conversation.id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeList {
    codes: Vec<String>,
}

/// The codes given, each checked for shape (not looked up: the page that
/// sends them has just been shown them).
fn parse_codes(list: &CodeList) -> Result<Vec<InviteCode>, ApiError> {
    if list.codes.is_empty() || list.codes.len() > MAX_BATCH {
        return Err(Invalid::field("codes", format!("must hold 1 to {MAX_BATCH} codes")).into());
    }
    Ok(list
        .codes
        .iter()
        .map(|c| InviteCode::parse(c))
        .collect::<Result<_, _>>()?)
}

/// The link on each card: opening it (or scanning its QR code) fills in the code.
fn invite_link(
    state: &AppState,
    headers: &HeaderMap,
    conversation: &Conversation,
    code: &InviteCode,
) -> String {
    let join = super::moderation::join_link(state, headers, conversation);
    let base = join.split('?').next().unwrap_or(&join);
    format!("{base}#invite={}", code.display())
}

/// `POST …/invites/csv`: the codes as CSV (`code,link`), to download.
pub async fn csv(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(slug): Path<String>,
    ApiJson(list): ApiJson<CodeList>,
) -> Result<Response, ApiError> {
    caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    let codes = parse_codes(&list)?;
    let internal = |e: csv::Error| ApiError::Internal(e.to_string());
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["code", "link"]).map_err(internal)?;
    for code in &codes {
        let link = invite_link(&state, &headers, &conversation, code);
        csv.write_record([code.display(), link]).map_err(internal)?;
    }
    let csv = csv
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"invites-{}.csv\"", conversation.slug),
            ),
        ],
        csv,
    )
        .into_response())
}

/// `POST …/invites/sheet`: a printable A4 page of cards, one code and QR
/// code each, as a standalone HTML file to download and print.
pub async fn sheet(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(slug): Path<String>,
    ApiJson(list): ApiJson<CodeList>,
) -> Result<Response, ApiError> {
    caller.admin()?;
    let conversation = conversation(&state, &slug).await?;
    let codes = parse_codes(&list)?;
    let mut cards = String::new();
    for code in &codes {
        let link = invite_link(&state, &headers, &conversation, code);
        let qr = qrcode::QrCode::new(link.as_bytes())
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(160, 160)
            .quiet_zone(false)
            .build();
        // The SVG is ours (no XML declaration needed inline); the code is
        // base 32 and the title is escaped.
        let qr = qr
            .trim_start_matches(|c| c != '<')
            .splitn(2, "?>")
            .last()
            .unwrap_or_default();
        cards.push_str(&format!(
            "<section class=\"card\"><h2>{title}</h2><p>Take part anonymously. Scan the code, or open <b>{page}</b> and enter:</p>\
             <p class=\"code\">{code}</p><div class=\"qr\">{qr}</div>\
             <p class=\"small\">This invite lets one person in, once. Nobody can tell who used it.</p></section>\n",
            title = escape(&conversation.title),
            page = escape(link.split('#').next().unwrap_or_default()),
            code = code.display(),
        ));
    }
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Invites: {title}</title>\n<style>{SHEET_CSS}</style></head>\n<body>\n{cards}</body></html>\n",
        title = escape(&conversation.title),
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"invites-{}.html\"",
                    conversation.slug
                ),
            ),
        ],
        html,
    )
        .into_response())
}

/// Two columns of four cards on each A4 page; a card never splits.
const SHEET_CSS: &str = "@page{size:A4;margin:10mm}\
body{margin:0;font-family:system-ui,sans-serif;color:#000;display:grid;grid-template-columns:1fr 1fr;gap:4mm}\
.card{box-sizing:border-box;height:66mm;border:1px dashed #555;padding:4mm;break-inside:avoid;page-break-inside:avoid;position:relative}\
.card h2{font-size:11pt;margin:0 0 2mm;max-width:55mm}.card p{font-size:8.5pt;margin:0 0 2mm;max-width:55mm}\
.code{font:bold 15pt ui-monospace,monospace;letter-spacing:.08em}.small{font-size:7pt!important}\
.qr{position:absolute;right:4mm;top:4mm;width:30mm;height:30mm}.qr svg{width:100%;height:100%}";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
