//! Announcements beyond storage: the Markdown body's rendering.

pub mod markdown;
