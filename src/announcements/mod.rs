//! Announcements beyond storage: the Markdown body's rendering, the send
//! time as organisers type it, and the progress their pages show.

pub mod markdown;
pub mod progress;
pub mod schedule;
