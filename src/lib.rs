//! herald: a feed bot that brings article digests to Discord servers, Matrix rooms and
//! the terminal. See ARCHITECTURE.md for the map.

pub mod app;
pub mod bench;
pub mod clock;
pub mod commands;
pub mod config;
pub mod domain;
pub mod extract;
pub mod ingest;
pub mod localserver;
pub mod score;
pub mod store;
pub mod summarize;
pub mod textcli;
