//! A real Synapse for the Matrix tests: started once per test binary by
//! `tests/it/support/synapse.sh` (which installs it into a venv outside the repository),
//! stopped when the test process ends (the script's watchdog), users registered through
//! the shared-secret admin API, and a small client-server API client for them.
//!
//! Synapse missing is a failure, loudly. Only `HERALD_SKIP_SYNAPSE=1` skips the tests
//! (for a quick local run), and says so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/synapse.sh");

pub struct Synapse {
    pub url: String,
    dir: PathBuf,
    secret: String,
}

static SHARED: OnceLock<Option<Synapse>> = OnceLock::new();

/// Whether the Matrix tests are skipped (and why, printed once per test).
fn skipped() -> bool {
    if std::env::var("HERALD_SKIP_SYNAPSE").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: HERALD_SKIP_SYNAPSE=1, so no Synapse and no Matrix test");
        return true;
    }
    false
}

/// The test binary's Synapse, started on first use; `None` only when skipped.
pub fn shared() -> Option<&'static Synapse> {
    if skipped() {
        return None;
    }
    SHARED
        .get_or_init(|| {
            let dir = fresh_dir();
            Some(Synapse::start_in(&dir).unwrap_or_else(|e| panic!("{e}")))
        })
        .as_ref()
}

/// A Synapse of one's own (for tests that stop and start it), stopped on drop.
pub fn own() -> Option<OwnSynapse> {
    if skipped() {
        return None;
    }
    let dir = fresh_dir();
    Some(OwnSynapse(Synapse::start_in(&dir).unwrap_or_else(|e| panic!("{e}"))))
}

/// A Synapse of one's own with the default rate limits for messages, joins and invites
/// (what a production homeserver enforces), stopped on drop.
pub fn own_with_default_limits() -> Option<OwnSynapse> {
    if skipped() {
        return None;
    }
    let dir = fresh_dir();
    std::fs::write(dir.join("default_rate_limits"), "").expect("marker");
    Some(OwnSynapse(Synapse::start_in(&dir).unwrap_or_else(|e| panic!("{e}"))))
}

pub struct OwnSynapse(pub Synapse);

impl Drop for OwnSynapse {
    fn drop(&mut self) {
        self.0.stop();
        let _ = std::fs::remove_dir_all(&self.0.dir);
    }
}

impl std::ops::Deref for OwnSynapse {
    type Target = Synapse;
    fn deref(&self) -> &Synapse {
        &self.0
    }
}

fn fresh_dir() -> PathBuf {
    let dir = tempfile::Builder::new().prefix("herald-synapse-").tempdir().expect("tempdir");
    let path = dir.keep();
    // The script's watchdog removes the directory once this process has ended.
    std::fs::write(path.join(".remove_on_exit"), "").expect("marker");
    path
}

impl Synapse {
    fn start_in(dir: &Path) -> Result<Synapse, String> {
        let out = Command::new("bash")
            .arg(SCRIPT)
            .arg("start")
            .arg(dir)
            .arg(std::process::id().to_string())
            .output()
            .map_err(|e| format!("cannot run {SCRIPT}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "Synapse could not be installed or started by {SCRIPT} (the Matrix tests need it; \
                 set HERALD_SKIP_SYNAPSE=1 to skip them locally):\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let url = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or("").to_string();
        let secret =
            std::fs::read_to_string(dir.join("shared_secret")).map_err(|e| e.to_string())?;
        Ok(Synapse { url, dir: dir.to_path_buf(), secret })
    }

    pub fn stop(&self) {
        let _ = Command::new("bash").arg(SCRIPT).arg("stop").arg(&self.dir).status();
    }

    /// Starts it again on the same port and database after [`stop`](Self::stop).
    pub fn start_again(&self) {
        let again = Synapse::start_in(&self.dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.url, self.url);
    }

    /// Registers `@name:localhost` through the shared-secret admin API.
    pub async fn register(&self, name: &str) -> User {
        let http = reqwest::Client::new();
        let url = format!("{}/_synapse/admin/v1/register", self.url);
        let nonce = json_of(http.get(&url).send().await.expect("nonce")).await.1;
        let nonce = nonce["nonce"].as_str().expect("nonce field").to_string();
        let password = format!("pw-{name}");
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(self.secret.as_bytes()).expect("hmac");
        mac.update(format!("{nonce}\0{name}\0{password}\0notadmin").as_bytes());
        let mac: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        let resp = http
            .post(&url)
            .header("content-type", "application/json")
            .body(
                json!({"nonce": nonce, "username": name, "password": password,
                       "admin": false, "mac": mac})
                .to_string(),
            )
            .send()
            .await
            .expect("register");
        let (status, body) = json_of(resp).await;
        assert!(status.is_success(), "registering {name}: {status} {body}");
        User {
            id: body["user_id"].as_str().expect("user_id").to_string(),
            token: body["access_token"].as_str().expect("token").to_string(),
            password,
            base: self.url.clone(),
            http,
        }
    }
}

/// A registered user speaking the client-server API directly.
#[derive(Clone)]
pub struct User {
    pub id: String,
    pub token: String,
    pub password: String,
    base: String,
    http: reqwest::Client,
}

async fn json_of(resp: reqwest::Response) -> (reqwest::StatusCode, Value) {
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap_or_default();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl User {
    pub fn localpart(&self) -> &str {
        self.id.trim_start_matches('@').split(':').next().unwrap_or("")
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/_matrix/client/v3{path}", self.base);
        let mut req = self.http.request(method.clone(), &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let (status, v) = json_of(resp).await;
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    /// What the homeserver tells anyone about `user`'s keys (`POST /keys/query`).
    pub async fn keys_query(&self, user: &str) -> Value {
        self.call(reqwest::Method::POST, "/keys/query", Some(json!({"device_keys": {user: []}})))
            .await
    }

    /// Creates a room with `extra` merged into the request; returns its id.
    pub async fn create_room(&self, extra: Value) -> String {
        let mut body = json!({"preset": "private_chat", "name": "herald test"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let v = self.call(reqwest::Method::POST, "/createRoom", Some(body)).await;
        v["room_id"].as_str().expect("room_id").to_string()
    }

    pub async fn invite(&self, room: &str, user: &str) {
        let path = format!("/rooms/{}/invite", enc(room));
        self.call(reqwest::Method::POST, &path, Some(json!({"user_id": user}))).await;
    }

    pub async fn join(&self, room: &str) {
        self.call(reqwest::Method::POST, &format!("/join/{}", enc(room)), Some(json!({}))).await;
    }

    pub async fn kick(&self, room: &str, user: &str) {
        let path = format!("/rooms/{}/kick", enc(room));
        self.call(reqwest::Method::POST, &path, Some(json!({"user_id": user}))).await;
    }

    /// Sends a text message; returns its event id.
    pub async fn say(&self, room: &str, text: &str) -> String {
        self.send(room, json!({"msgtype": "m.text", "body": text})).await
    }

    /// Sends an `m.room.message` with this content; returns its event id.
    pub async fn send(&self, room: &str, content: Value) -> String {
        let txn = format!("t{}", fastrand::u64(..));
        let path = format!("/rooms/{}/send/m.room.message/{txn}", enc(room));
        let v = self.call(reqwest::Method::PUT, &path, Some(content)).await;
        v["event_id"].as_str().expect("event_id").to_string()
    }

    /// Sets `user`'s power level in `room`.
    pub async fn set_power(&self, room: &str, user: &str, level: i64) {
        let path = format!("/rooms/{}/state/m.room.power_levels/", enc(room));
        let mut pl = self.call(reqwest::Method::GET, &path, None).await;
        pl["users"][user] = json!(level);
        self.call(reqwest::Method::PUT, &path, Some(pl)).await;
    }

    /// Sets the power level needed to send events of `event_type` in `room`.
    pub async fn set_event_level(&self, room: &str, event_type: &str, level: i64) {
        let path = format!("/rooms/{}/state/m.room.power_levels/", enc(room));
        let mut pl = self.call(reqwest::Method::GET, &path, None).await;
        pl["events"][event_type] = json!(level);
        self.call(reqwest::Method::PUT, &path, Some(pl)).await;
    }

    /// `user`'s membership in `room` (`invite`, `join`, `leave`, …).
    pub async fn membership(&self, room: &str, user: &str) -> String {
        let path = format!("/rooms/{}/state/m.room.member/{}", enc(room), enc(user));
        let v = self.call(reqwest::Method::GET, &path, None).await;
        v["membership"].as_str().unwrap_or_default().to_string()
    }

    pub async fn joined_members(&self, room: &str) -> Vec<String> {
        let path = format!("/rooms/{}/joined_members", enc(room));
        let v = self.call(reqwest::Method::GET, &path, None).await;
        v["joined"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
    }

    /// The room's messages (`m.room.message` and `m.room.encrypted`), oldest first.
    pub async fn messages(&self, room: &str) -> Vec<Value> {
        let path = format!("/rooms/{}/messages?dir=b&limit=500", enc(room));
        let v = self.call(reqwest::Method::GET, &path, None).await;
        let mut events: Vec<Value> = v["chunk"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| matches!(e["type"].as_str(), Some("m.room.message" | "m.room.encrypted")))
            .collect();
        events.reverse();
        events
    }

    /// Waits (up to 60 s: CI machines are busy) until `room` has a message for which
    /// `pred` holds; returns it.
    pub async fn wait_for(&self, room: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(e) = self.messages(room).await.into_iter().find(|e| pred(e)) {
                return e;
            }
            if Instant::now() > deadline {
                let all = self.messages(room).await;
                panic!("timed out waiting for {what} in {room}; messages: {all:#?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for herald's answer to the command event `event_id`.
    pub async fn reply_to(&self, room: &str, event_id: &str) -> Value {
        self.wait_for(room, &format!("the reply to {event_id}"), |e| {
            e["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == event_id
        })
        .await
    }

    /// Waits until `user` has joined `room`.
    pub async fn wait_joined(&self, room: &str, user: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.joined_members(room).await.iter().any(|m| m == user) {
            assert!(Instant::now() < deadline, "{user} did not join {room}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
