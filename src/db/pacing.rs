//! Pacing of announcement deliveries across every worker and instance: one
//! row per clock minute (`minute:2026-12-01T10:31`) and per UTC day
//! (`day:2026-12-01`) in `send_counters`, counting the deliveries admitted
//! (claimed to start) in it. Admission is a guarded increment in the claim's
//! own write transaction, so it counts exactly what was claimed, needs no
//! leader, and a resume or an outage never releases a burst: a minute that
//! has passed admits nothing, and a new one admits only its own share.

use super::{DbConnection, DbError};
use chrono::NaiveDateTime;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};

/// The limits of `email.announcement_rate_per_minute` and
/// `email.announcement_daily_cap`; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub per_minute: Option<u32>,
    pub per_day: Option<u32>,
}

impl Limits {
    /// Whether any delivery could be held back.
    pub fn is_limited(&self) -> bool {
        self.per_minute.is_some() || self.per_day.is_some()
    }
}

/// The counter of the clock minute `now` falls in.
pub fn minute_bucket(now: NaiveDateTime) -> String {
    format!("minute:{}", now.format("%Y-%m-%dT%H:%M"))
}

/// The counter of the UTC day `now` falls in.
pub fn day_bucket(now: NaiveDateTime) -> String {
    format!("day:{}", now.format("%Y-%m-%d"))
}

#[derive(QueryableByName)]
struct Counter {
    #[diesel(sql_type = Text)]
    bucket: String,
    #[diesel(sql_type = BigInt)]
    admitted: i64,
}

/// The buckets `limits` constrains at `now`, with their limits, in name order
/// (the order rows are locked in, so two workers cannot deadlock).
fn limited_buckets(limits: Limits, now: NaiveDateTime) -> Vec<(String, i64)> {
    let mut buckets: Vec<(String, i64)> = [
        limits.per_day.map(|n| (day_bucket(now), i64::from(n))),
        limits
            .per_minute
            .map(|n| (minute_bucket(now), i64::from(n))),
    ]
    .into_iter()
    .flatten()
    .collect();
    buckets.sort();
    buckets
}

/// Admits up to `wanted` announcement deliveries at `now`; returns how many.
/// Call inside the claim's write transaction, then claim exactly that many:
/// the counters are locked until it commits (PostgreSQL `FOR UPDATE`; the
/// `BEGIN IMMEDIATE` lock on SQLite), and each is raised by one guarded
/// `UPDATE … WHERE admitted + n <= limit`.
pub fn admit(
    conn: &mut DbConnection,
    limits: Limits,
    wanted: usize,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let buckets = limited_buckets(limits, now);
    if buckets.is_empty() || wanted == 0 {
        return Ok(wanted);
    }
    for (bucket, _) in &buckets {
        let insert = diesel::sql_query(
            "INSERT INTO send_counters (bucket, admitted) VALUES ($1, 0) \
             ON CONFLICT (bucket) DO NOTHING",
        )
        .bind::<Text, _>(bucket);
        match conn {
            DbConnection::Postgres(c) => insert.execute(c),
            DbConnection::Sqlite(c) => insert.execute(c),
        }?;
    }
    let names: Vec<&str> = buckets.iter().map(|(b, _)| b.as_str()).collect();
    let counters = read_locked(conn, &names)?;
    let mut admit = i64::try_from(wanted).unwrap_or(i64::MAX);
    for (bucket, limit) in &buckets {
        let admitted = counters
            .iter()
            .find(|c| &c.bucket == bucket)
            .map_or(0, |c| c.admitted);
        admit = admit.min(limit - admitted).max(0);
    }
    if admit == 0 {
        return Ok(0);
    }
    for (bucket, limit) in &buckets {
        let update = diesel::sql_query(
            "UPDATE send_counters SET admitted = admitted + $1 \
             WHERE bucket = $2 AND admitted + $1 <= $3",
        )
        .bind::<BigInt, _>(admit)
        .bind::<Text, _>(bucket)
        .bind::<BigInt, _>(*limit);
        let changed = match conn {
            DbConnection::Postgres(c) => update.execute(c),
            DbConnection::Sqlite(c) => update.execute(c),
        }?;
        if changed != 1 {
            // The rows are locked by this transaction: this cannot happen. Fail
            // the claim (rolled back, nothing admitted) rather than overrun.
            return Err(diesel::result::Error::RollbackTransaction.into());
        }
    }
    Ok(usize::try_from(admit).unwrap_or(0))
}

/// The counters named, locked for this transaction on PostgreSQL.
fn read_locked(conn: &mut DbConnection, names: &[&str]) -> Result<Vec<Counter>, DbError> {
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let lock = match conn {
        DbConnection::Postgres(_) => " FOR UPDATE",
        DbConnection::Sqlite(_) => "",
    };
    let sql = format!(
        "SELECT bucket, CAST(admitted AS BIGINT) AS admitted FROM send_counters \
         WHERE bucket IN ({}) ORDER BY bucket{lock}",
        placeholders.join(", ")
    );
    // At most two names (a day and a minute).
    Ok(match (conn, names) {
        (DbConnection::Postgres(c), [a]) => diesel::sql_query(sql).bind::<Text, _>(a).load(c)?,
        (DbConnection::Sqlite(c), [a]) => diesel::sql_query(sql).bind::<Text, _>(a).load(c)?,
        (DbConnection::Postgres(c), [a, b]) => diesel::sql_query(sql)
            .bind::<Text, _>(a)
            .bind::<Text, _>(b)
            .load(c)?,
        (DbConnection::Sqlite(c), [a, b]) => diesel::sql_query(sql)
            .bind::<Text, _>(a)
            .bind::<Text, _>(b)
            .load(c)?,
        _ => Vec::new(),
    })
}

/// Counts `sent` test sends toward the day's cap (they are not held back by
/// it: an organiser checking a draft is not a delivery to the list, and test
/// sends have their own hourly cap). Inside the claim's transaction.
pub fn count_tests(
    conn: &mut DbConnection,
    limits: Limits,
    tests: usize,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    if limits.per_day.is_none() || tests == 0 {
        return Ok(());
    }
    let upsert = diesel::sql_query(
        "INSERT INTO send_counters (bucket, admitted) VALUES ($1, $2) \
         ON CONFLICT (bucket) DO UPDATE SET admitted = send_counters.admitted + excluded.admitted",
    )
    .bind::<Text, _>(day_bucket(now))
    .bind::<BigInt, _>(i64::try_from(tests).unwrap_or(i64::MAX));
    match conn {
        DbConnection::Postgres(c) => upsert.execute(c),
        DbConnection::Sqlite(c) => upsert.execute(c),
    }?;
    Ok(())
}

/// How many deliveries the counter `bucket` has admitted (0 if it has none).
pub fn admitted(conn: &mut DbConnection, bucket: &str) -> Result<i64, DbError> {
    let query = diesel::sql_query(
        "SELECT bucket, CAST(admitted AS BIGINT) AS admitted FROM send_counters WHERE bucket = $1",
    )
    .bind::<Text, _>(bucket);
    let rows: Vec<Counter> = match conn {
        DbConnection::Postgres(c) => query.load(c),
        DbConnection::Sqlite(c) => query.load(c),
    }?;
    Ok(rows.first().map_or(0, |c| c.admitted))
}

/// Deletes the counters of minutes and days before `cutoff`'s day; returns how
/// many (the retention sweep; a counter matters only while its period lasts).
pub fn delete_before(conn: &mut DbConnection, cutoff: NaiveDateTime) -> Result<usize, DbError> {
    let query = diesel::sql_query(
        "DELETE FROM send_counters WHERE (bucket LIKE 'day:%' AND bucket < $1) \
         OR (bucket LIKE 'minute:%' AND bucket < $2)",
    )
    .bind::<Text, _>(day_bucket(cutoff))
    .bind::<Text, _>(minute_bucket(cutoff));
    Ok(match conn {
        DbConnection::Postgres(c) => query.execute(c),
        DbConnection::Sqlite(c) => query.execute(c),
    }?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(h, m, s))
            .unwrap_or_default()
    }

    #[test]
    fn buckets_name_the_clock_minute_and_the_utc_day() {
        assert_eq!(minute_bucket(at(10, 31, 59)), "minute:2026-12-01T10:31");
        assert_eq!(day_bucket(at(23, 59, 59)), "day:2026-12-01");
    }

    #[test]
    fn buckets_are_locked_in_name_order() {
        let limits = Limits {
            per_minute: Some(5),
            per_day: Some(100),
        };
        let names: Vec<String> = limited_buckets(limits, at(10, 0, 0))
            .into_iter()
            .map(|(b, _)| b)
            .collect();
        assert_eq!(names, ["day:2026-12-01", "minute:2026-12-01T10:00"]);
        assert!(limited_buckets(Limits::default(), at(10, 0, 0)).is_empty());
    }
}
