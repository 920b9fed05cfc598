//! The command core shared by every platform: text (or a Discord interaction) is parsed
//! once into a typed [`parse::Command`], permission-checked once against its
//! [`parse::Role`], and executed against the store.
//!
//! Today this holds the grammar; execution and the neutral reply come with the
//! console, Discord and Matrix adapters.

pub mod execute;
pub mod parse;

pub use execute::{Core, CoreLimits, Ctx};
