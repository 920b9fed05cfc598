//! herald's integration tests, one binary (as zero2prod and rust-analyzer do): the test
//! build links once, and `support` is shared by every module without `dead_code` allows.
//!
//! Run one area with a filter: `cargo test --test it matrix::`.

#![recursion_limit = "256"] // matrix-sdk futures and big json! literals

mod alloc;
mod support;

mod cli;
mod console;
mod delivery;
mod dev_data;
mod discord;
mod feedparser;
mod golden_feeds;
mod hostile_web;
mod ingest;
mod matrix;
mod multiprocess;
mod postgres;
mod search;
mod service;
mod store;
mod store_communities;
mod store_deliveries;
mod tidy;
