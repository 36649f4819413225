//! The parts of chorus's REST API (docs/api.md) the load test calls.

use anyhow::{anyhow, bail, Context};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration as TimeDuration, OffsetDateTime};

use crate::subscriber::Held;

/// The cookie chorus sets on a staff login.
pub const STAFF_COOKIE: &str = "chorus_staff";
/// The prefix of the cookie chorus sets on sign-up: one per conversation,
/// `chorus_p_` and the conversation's id as 32 hex digits.
pub const PARTICIPANT_COOKIE_PREFIX: &str = "chorus_p_";

/// An HTTP client for one chorus base URL, sending a session cookie when given one.
pub struct Api<'a> {
    pub http: &'a Client,
    pub base: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct SnapshotItem {
    pub id: String,
    #[serde(default)]
    pub strong: i64,
    #[serde(default)]
    pub wrong: i64,
    #[serde(default)]
    pub version: u64,
    #[serde(default)]
    pub comments: u64,
}

#[derive(Debug, Deserialize)]
pub struct Snapshot {
    pub items: Vec<SnapshotItem>,
    #[serde(default)]
    pub seq: u64,
}

/// One try of a vote: its tally, or the status it was refused with.
#[derive(Debug)]
pub enum VoteAttempt {
    Accepted(Held),
    Refused {
        status: u16,
        /// `Retry-After` in seconds, when the answer carried one.
        retry_after: Option<u64>,
        body: String,
    },
}

#[derive(Debug, Deserialize)]
struct VoteAnswer {
    tally: TallyAnswer,
}

#[derive(Debug, Deserialize)]
struct TallyAnswer {
    strong: i64,
    wrong: i64,
    version: u64,
}

/// The cookie named `prefix...` from a response's `Set-Cookie`, as `name=value`.
fn session_cookie(resp: &Response, prefix: &str) -> Option<String> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(prefix))
        .map(|v| v.split(';').next().unwrap_or(v).to_string())
}

/// Fails with the status and body of a non-success answer.
async fn check(resp: Response, what: &str) -> anyhow::Result<Response> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body = resp.text().await.unwrap_or_default();
    let body: String = body.chars().take(400).collect();
    bail!("{what}: HTTP {status}: {body}")
}

impl Api<'_> {
    fn request(&self, method: Method, path: &str, cookie: Option<&str>) -> RequestBuilder {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(cookie) = cookie {
            req = req.header(reqwest::header::COOKIE, cookie);
        }
        req
    }

    /// `POST /api/login`: returns the session cookie.
    pub async fn login(&self, name: &str, password: &str) -> anyhow::Result<String> {
        let resp = self
            .request(Method::POST, "/api/login", None)
            .json(&json!({"name": name, "password": password}))
            .send()
            .await?;
        let resp = check(resp, "login").await?;
        session_cookie(&resp, &format!("{STAFF_COOKIE}="))
            .ok_or_else(|| anyhow!("login answered without a {STAFF_COOKIE} cookie"))
    }

    /// `POST /api/conversations`: an open conversation, open since an hour ago, for a day.
    pub async fn create_conversation(&self, admin: &str, slug: &str) -> anyhow::Result<()> {
        let now = OffsetDateTime::now_utc();
        let body = json!({
            "slug": slug,
            "title": "Load test",
            "introduction": "Created by chorus's loadtest.",
            "opens_at": (now - TimeDuration::hours(1)).format(&Rfc3339)?,
            "closes_at": (now + TimeDuration::days(1)).format(&Rfc3339)?,
            "signup_mode": "open",
            "moderation": "post",
            "ideas_need_approval": true,
        });
        let resp = self
            .request(Method::POST, "/api/conversations", Some(admin))
            .json(&body)
            .send()
            .await?;
        check(resp, "create conversation").await?;
        Ok(())
    }

    /// `POST /api/conversations/{slug}/items`: a pledge with our own id.
    pub async fn add_pledge(
        &self,
        admin: &str,
        slug: &str,
        id: &str,
        position: usize,
    ) -> anyhow::Result<()> {
        let body = json!({
            "id": id,
            "title": format!("Pledge {position}"),
            "body": "A pledge for the load test to vote on.",
            "position": position,
        });
        let resp = self
            .request(
                Method::POST,
                &format!("/api/conversations/{slug}/items"),
                Some(admin),
            )
            .json(&body)
            .send()
            .await?;
        check(resp, "add pledge").await?;
        Ok(())
    }

    /// `POST /api/conversations/{slug}/participants`: returns the session cookie.
    pub async fn sign_up(&self, slug: &str) -> anyhow::Result<String> {
        let resp = self
            .request(
                Method::POST,
                &format!("/api/conversations/{slug}/participants"),
                None,
            )
            .json(&json!({}))
            .send()
            .await?;
        let resp = check(resp, "sign up").await?;
        session_cookie(&resp, PARTICIPANT_COOKIE_PREFIX).ok_or_else(|| {
            anyhow!("sign-up answered without a {PARTICIPANT_COOKIE_PREFIX}... cookie")
        })
    }

    /// `PUT /api/conversations/{slug}/items/{item}/vote`: the tally it produced.
    pub async fn vote(
        &self,
        cookie: &str,
        slug: &str,
        item: &str,
        choice: &str,
    ) -> anyhow::Result<Held> {
        let body = json!({"request_id": uuid::Uuid::new_v4(), "choice": choice});
        let resp = self
            .request(
                Method::PUT,
                &format!("/api/conversations/{slug}/items/{item}/vote"),
                Some(cookie),
            )
            .json(&body)
            .send()
            .await?;
        let answer: VoteAnswer = check(resp, "vote")
            .await?
            .json()
            .await
            .context("vote answer")?;
        Ok(Held {
            strong: answer.tally.strong,
            wrong: answer.tally.wrong,
            version: answer.tally.version,
        })
    }

    /// `PUT .../vote` once with the caller's request id, as a client that
    /// retries sends it: the answer whatever its status (only a failed
    /// connection or an unreadable success is an error).
    pub async fn vote_attempt(
        &self,
        cookie: &str,
        slug: &str,
        item: &str,
        choice: &str,
        request_id: uuid::Uuid,
    ) -> anyhow::Result<VoteAttempt> {
        let body = json!({"request_id": request_id, "choice": choice});
        let resp = self
            .request(
                Method::PUT,
                &format!("/api/conversations/{slug}/items/{item}/vote"),
                Some(cookie),
            )
            .json(&body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body: String = resp
                .text()
                .await
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect();
            return Ok(VoteAttempt::Refused {
                status,
                retry_after,
                body,
            });
        }
        let answer: VoteAnswer = resp.json().await.context("vote answer")?;
        Ok(VoteAttempt::Accepted(Held {
            strong: answer.tally.strong,
            wrong: answer.tally.wrong,
            version: answer.tally.version,
        }))
    }

    /// `POST /api/conversations/{slug}/items/{item}/comments` with a client-made
    /// id; a reply when `parent` names a top-level comment of the same item.
    pub async fn comment(
        &self,
        cookie: &str,
        slug: &str,
        item: &str,
        id: &str,
        body: &str,
        parent: Option<&str>,
    ) -> anyhow::Result<()> {
        let resp = self
            .request(
                Method::POST,
                &format!("/api/conversations/{slug}/items/{item}/comments"),
                Some(cookie),
            )
            .json(&json!({"id": id, "body": body, "parent_id": parent}))
            .send()
            .await?;
        check(resp, "comment").await?;
        Ok(())
    }

    /// `PUT /api/conversations/{slug}/comments/{comment}/vote`: an up-vote.
    pub async fn up_vote(&self, cookie: &str, slug: &str, comment: &str) -> anyhow::Result<()> {
        let body = json!({"request_id": uuid::Uuid::new_v4(), "up": true});
        let resp = self
            .request(
                Method::PUT,
                &format!("/api/conversations/{slug}/comments/{comment}/vote"),
                Some(cookie),
            )
            .json(&body)
            .send()
            .await?;
        check(resp, "comment up-vote").await?;
        Ok(())
    }

    /// `POST path` with a JSON body as the caller with this cookie.
    pub async fn post_json(&self, path: &str, cookie: &str, body: &Value) -> anyhow::Result<()> {
        let resp = self
            .request(Method::POST, path, Some(cookie))
            .json(body)
            .send()
            .await?;
        check(resp, path).await?;
        Ok(())
    }

    /// `GET path` as a browser asks for it (compressed when the server
    /// compresses), the whole body read: how many bytes came over the wire.
    pub async fn get_bytes(&self, path: &str, cookie: Option<&str>) -> anyhow::Result<usize> {
        let resp = self
            .request(Method::GET, path, cookie)
            .header(reqwest::header::ACCEPT_ENCODING, "gzip, deflate, br")
            .send()
            .await?;
        let body = check(resp, path).await?.bytes().await?;
        Ok(body.len())
    }

    /// `GET path` as text (uncompressed), e.g. `/metrics`.
    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let resp = self.request(Method::GET, path, None).send().await?;
        Ok(check(resp, path).await?.text().await?)
    }

    /// `GET path` as JSON (uncompressed).
    pub async fn get_json(&self, path: &str, cookie: Option<&str>) -> anyhow::Result<Value> {
        let resp = self.request(Method::GET, path, cookie).send().await?;
        check(resp, path)
            .await?
            .json()
            .await
            .with_context(|| format!("{path}: not JSON"))
    }

    /// `GET /api/conversations/{slug}`: the snapshot.
    pub async fn snapshot(&self, slug: &str) -> anyhow::Result<Snapshot> {
        let resp = self
            .request(Method::GET, &format!("/api/conversations/{slug}"), None)
            .send()
            .await?;
        check(resp, "snapshot")
            .await?
            .json()
            .await
            .context("snapshot")
    }

    /// `GET /api/conversations/{slug}/items/{item}/comments`, every page: the comment ids in order.
    pub async fn comment_ids(&self, slug: &str, item: &str) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::new();
        let mut after = 0u64;
        for _ in 0..10_000 {
            let resp = self
                .request(
                    Method::GET,
                    &format!(
                        "/api/conversations/{slug}/items/{item}/comments?after={after}&limit=500"
                    ),
                    None,
                )
                .send()
                .await?;
            let page: Value = check(resp, "comments").await?.json().await?;
            if let Some(list) = page["comments"].as_array() {
                ids.extend(
                    list.iter()
                        .filter_map(|c| c["id"].as_str().map(str::to_string)),
                );
            }
            match page["next"].as_u64() {
                Some(next) if next > after => after = next,
                _ => return Ok(ids),
            }
        }
        Ok(ids)
    }
}
