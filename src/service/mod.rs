//! herald as a service: stopping on SIGTERM/SIGINT without losing work (`shutdown`),
//! the operators' HTTP endpoint (`http`: `/healthz`, `/readyz`, `/metrics`), the
//! metrics themselves (`metrics`), readiness (`health`) and `herald status` (`status`).

pub mod health;
pub mod http;
pub mod logs;
pub mod metrics;
pub mod shutdown;
pub mod status;
