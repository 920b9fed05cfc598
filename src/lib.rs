//! herald: a feed bot that brings article digests to Discord servers, Matrix rooms and
//! the terminal. See ARCHITECTURE.md for the map.

// matrix-sdk's sync future is deep enough that proving it `Send` (for `tokio::spawn`)
// needs more than the default 128.
#![recursion_limit = "256"]

pub mod app;
pub mod bench;
pub mod clock;
pub mod commands;
pub mod config;
pub mod deliver;
pub mod demo;
pub mod domain;
pub mod extract;
pub mod ingest;
pub mod localserver;
pub mod platform;
pub mod reply;
pub mod run;
pub mod score;
pub mod service;
pub mod store;
pub mod summarize;
pub mod textcli;
