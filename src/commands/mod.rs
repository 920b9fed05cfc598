//! The command core shared by every platform: text (or a platform's structured
//! options) becomes a typed [`parse::Command`] once, is permission-checked once against
//! its [`parse::Role`], and is executed against the store, returning a neutral reply.
//!
//! - `cmd/`: one file per command family (grammar, role, help, option spec);
//! - `spec.rs`: how a family declares itself, platform-neutral;
//! - `lex.rs`: the lexer and option splitter the text grammars share;
//! - `parse.rs`: the typed [`parse::Command`], [`parse::Role`], and the text entry point;
//! - `reference.rs`: a command named in herald's own text, as a command's words and
//!   options, for platforms that show commands their own way;
//! - `execute.rs`: [`Core`], which runs commands.

pub mod cmd;
pub mod execute;
pub mod lex;
pub mod parse;
pub mod reference;
pub mod spec;

pub use execute::{Core, CoreLimits, Ctx, Scope};
