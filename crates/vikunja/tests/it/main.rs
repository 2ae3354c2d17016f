//! The Vikunja client against the simulator: paging, retries, rate limits, timeouts and
//! Vikunja's error bodies, each checked in the simulator's request log.

mod caldav;
mod errors;
mod helpers;
mod paging;
mod probes;
mod rate_limit;
mod retries;
mod token;
mod writes;
