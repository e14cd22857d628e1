//! How much one client may do: the per-IP signup bucket and the login throttle. They
//! sit below `web` so that login and the retention sweep can use them too.

pub mod buckets;
pub mod limiter;
pub mod throttle;
