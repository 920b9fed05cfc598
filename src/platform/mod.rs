//! Platform adapters, and the only place that knows any platform. Each one is a folder
//! that implements the two ports: outbound, [`Platform`] (declared by the dispatcher in
//! `deliver/port.rs`: a neutral [`crate::reply::Reply`] sent with the outbox's
//! idempotency key), and inbound, [`Adapter`] (its events become a `Ctx` and a command
//! for `Core::execute`, whose `Reply` it renders).

pub mod console;
pub mod discord;
pub mod held;
pub mod matrix;
pub mod terminal;

pub use crate::deliver::port::{Platform, Platforms, SendError, SendFuture, Sent};

use std::any::Any;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::app::App;
use crate::clock::SharedClock;
use crate::commands::Core;
use crate::service::health::ConnectedProbe;

/// The inbound side of a platform: a running connection that turns its people's events
/// into a `Ctx` (community, channel, the role their platform permissions map to,
/// operator or not) and a `Command`, runs it with [`Core::execute`], and renders the
/// neutral `Reply` its own way. What herald's wiring (`run.rs`) needs of one is below.
pub trait Adapter: Send + Sync + Any {
    /// The `channels.platform` value it serves.
    fn name(&self) -> &'static str;
    /// Its outbound side, for the dispatcher.
    fn platform(&self) -> Arc<dyn Platform>;
    /// Whether its connection is up, for `/readyz`.
    fn connected_probe(&self, clock: SharedClock) -> ConnectedProbe;
    /// Closes its connection.
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;
    /// For tests and tools that need the concrete adapter back.
    fn as_any(&self) -> &dyn Any;
}

/// Starts every adapter the configuration asks for, in a fixed order, each with a
/// clone of `core`. Adding a platform adds its line here.
pub async fn start_configured(app: &App, core: &Core) -> anyhow::Result<Vec<Box<dyn Adapter>>> {
    let mut adapters: Vec<Box<dyn Adapter>> = Vec::new();
    if let Some(cfg) = &app.config.discord {
        let bot = discord::DiscordBot::start(
            cfg,
            core.clone(),
            app.store.clone(),
            app.clock.clone(),
            app.config.community.clone(),
            (&held::holder_id(&app.config.data_dir), app.config.service.leader_ttl),
        )
        .await?;
        adapters.push(Box::new(bot));
    }
    if let Some(cfg) = &app.config.matrix {
        let bot = matrix::MatrixBot::start(
            cfg,
            &app.config.data_dir,
            core.clone(),
            app.store.clone(),
            app.clock.clone(),
            app.config.community.clone(),
            app.config.service.leader_ttl,
        )
        .await?;
        adapters.push(Box::new(bot));
    }
    Ok(adapters)
}

/// Log filters for the platform crates' own noise: matrix-sdk logs expected 404s
/// (account data not set yet) as errors and nags about key backup, which herald does
/// not use.
pub const LOG_FILTER: &str = "matrix_sdk::http_client=off,matrix_sdk_crypto::backups=error";
