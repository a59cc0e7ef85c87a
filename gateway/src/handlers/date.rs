//! `format_date_time`: RFC 1123 dates for the `Date` header.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats seconds since the Unix epoch as an HTTP date, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`
/// (`wsgiref.handlers.format_date_time`; years below 1000 are space-padded as there).
///
/// ```
/// use gateway::handlers::format_date_time;
///
/// assert_eq!(format_date_time(0), "Thu, 01 Jan 1970 00:00:00 GMT");
/// assert_eq!(format_date_time(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
/// assert_eq!(format_date_time(253402300799), "Fri, 31 Dec 9999 23:59:59 GMT");
/// ```
pub fn format_date_time(timestamp: i64) -> String {
    let days = timestamp.div_euclid(86_400);
    let secs = timestamp.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 3 from Monday).
    let weekday = WEEKDAYS[(days + 3).rem_euclid(7) as usize];
    format!(
        "{weekday}, {day:02} {} {year:4} {:02}:{:02}:{:02} GMT",
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

thread_local! {
    static CACHE: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
}

/// Calls `f` with the current time as an HTTP date, formatted at most once per second per
/// thread (no allocation on the hot path).
pub(crate) fn with_http_date_now<T>(f: impl FnOnce(&str) -> T) -> T {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != now {
            *cache = (now, format_date_time(now));
        }
        f(&cache.1)
    })
}

/// The current time as an HTTP date.
pub(crate) fn http_date_now() -> String {
    with_http_date_now(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::format_date_time;

    #[test]
    fn reference_dates() {
        assert_eq!(
            format_date_time(1149533394),
            "Mon, 05 Jun 2006 18:49:54 GMT"
        );
        // Year 1 is space-padded, as Python's '%4d' does.
        assert_eq!(
            format_date_time(-62_135_596_800 + 3 * 86_400),
            "Thu, 04 Jan    1 00:00:00 GMT"
        );
    }
}
