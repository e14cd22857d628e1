//! What organisers work with: the dashboard and its meeting planner, charts, the CSV
//! export, login and password hashing.

pub mod charts;
pub mod csv_export;
pub mod dashboard;
pub mod login;
pub mod passwords;
pub mod planner;
pub mod weeks;
