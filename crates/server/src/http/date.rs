//! HTTP dates (RFC 9110 §5.6.7): IMF-fixdate generation, and parsing of all three formats a
//! recipient must accept, at one-second resolution, as seconds since the Unix epoch.

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The latest second an IMF-fixdate can show (9999-12-31T23:59:59Z).
const MAX_SECS: i64 = 253_402_300_799;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01: `(year, month 1..=12, day 1..=31)`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Day of the week, 0 = Sunday (1970-01-01 was a Thursday).
fn weekday(days: i64) -> usize {
    (days + 4).rem_euclid(7) as usize
}

struct Parts {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    time_of_day: u32,
}

fn parts(secs: i64) -> Parts {
    let secs = secs.clamp(0, MAX_SECS);
    let days = secs.div_euclid(86_400);
    let time_of_day = secs.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    Parts {
        year,
        month,
        day,
        hour: time_of_day / 3600,
        minute: time_of_day / 60 % 60,
        second: time_of_day % 60,
        time_of_day,
    }
}

/// `secs` as an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7). Times
/// outside 1970..=9999 are clamped into it.
pub fn format_http_date(secs: i64) -> String {
    let p = parts(secs);
    let days = secs.clamp(0, MAX_SECS).div_euclid(86_400);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[weekday(days)],
        p.day,
        MONTHS[p.month as usize - 1],
        p.year,
        p.hour,
        p.minute,
        p.second
    )
}

/// `secs` in the Common Log Format's timestamp, `10/Oct/2000:13:55:36 +0000`.
pub fn format_common_log_date(secs: i64) -> String {
    let p = parts(secs);
    debug_assert!(p.time_of_day < 86_400);
    format!(
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
        p.day,
        MONTHS[p.month as usize - 1],
        p.year,
        p.hour,
        p.minute,
        p.second
    )
}

/// The year (UTC) of a time, for [`parse_http_date`]'s two-digit years.
pub fn year_of(secs: i64) -> i64 {
    parts(secs).year
}

/// Parses an HTTP-date in any of the three formats of RFC 9110 §5.6.7 (IMF-fixdate, the
/// obsolete RFC 850 form and asctime) into seconds since the epoch. `current_year` places an
/// RFC 850 two-digit year: one that would be more than 50 years in the future means the
/// most recent past year with those digits. Anything else, including a day name that does
/// not match the date, is `None`: the caller ignores an invalid date.
pub fn parse_http_date(value: &[u8], current_year: i64) -> Option<i64> {
    let s = std::str::from_utf8(value).ok()?;
    parse_imf_fixdate(s)
        .or_else(|| parse_rfc850(s, current_year))
        .or_else(|| parse_asctime(s))
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn month(s: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == s).map(|i| i as u32 + 1)
}

/// `HH:MM:SS` → seconds of the day.
fn time_of_day(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, sec) = (digits(&s[0..2])?, digits(&s[3..5])?, digits(&s[6..8])?);
    (h < 24 && m < 60 && sec < 60).then_some(h * 3600 + m * 60 + sec)
}

fn assemble(day_name: usize, year: i64, month: u32, day: u32, time: u32) -> Option<i64> {
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    (weekday(days) == day_name).then_some(days * 86_400 + i64::from(time))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn parse_imf_fixdate(s: &str) -> Option<i64> {
    if s.len() != 29 || !s.is_ascii() {
        return None;
    }
    let day_name = DAYS.iter().position(|d| *d == &s[0..3])?;
    if &s[3..5] != ", " || &s[7..8] != " " || &s[11..12] != " " || &s[16..17] != " " {
        return None;
    }
    if &s[25..] != " GMT" {
        return None;
    }
    let day = digits(&s[5..7])?;
    let month = month(&s[8..11])?;
    let year = i64::from(digits(&s[12..16])?);
    let time = time_of_day(&s[17..25])?;
    assemble(day_name, year, month, day, time)
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`
fn parse_rfc850(s: &str, current_year: i64) -> Option<i64> {
    if !s.is_ascii() {
        return None;
    }
    let (name, rest) = s.split_once(", ")?;
    let day_name = LONG_DAYS.iter().position(|d| *d == name)?;
    // `06-Nov-94 08:49:37 GMT`
    if rest.len() != 22 || &rest[2..3] != "-" || &rest[6..7] != "-" || &rest[9..10] != " " {
        return None;
    }
    if &rest[18..] != " GMT" {
        return None;
    }
    let day = digits(&rest[0..2])?;
    let month = month(&rest[3..6])?;
    let two_digits = i64::from(digits(&rest[7..9])?);
    let mut year = current_year - current_year.rem_euclid(100) + two_digits;
    if year > current_year + 50 {
        year -= 100;
    }
    let time = time_of_day(&rest[10..18])?;
    assemble(day_name, year, month, day, time)
}

/// `Sun Nov  6 08:49:37 1994`
fn parse_asctime(s: &str) -> Option<i64> {
    if s.len() != 24 || !s.is_ascii() {
        return None;
    }
    let day_name = DAYS.iter().position(|d| *d == &s[0..3])?;
    if &s[3..4] != " " || &s[7..8] != " " || &s[10..11] != " " || &s[19..20] != " " {
        return None;
    }
    let month = month(&s[4..7])?;
    let day = match &s[8..10] {
        d if d.starts_with(' ') => digits(&d[1..])?,
        d => digits(d)?,
    };
    let time = time_of_day(&s[11..19])?;
    let year = i64::from(digits(&s[20..24])?);
    assemble(day_name, year, month, day, time)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_6_1994: i64 = 784_111_777;

    #[test]
    fn formats_imf_fixdate() {
        assert_eq!(
            format_http_date(NOV_6_1994),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            format_http_date(951_782_400),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(format_http_date(-5), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(format_http_date(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(
            format_common_log_date(NOV_6_1994),
            "06/Nov/1994:08:49:37 +0000"
        );
    }

    #[test]
    fn parses_all_three_formats_to_the_same_second() {
        for s in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(s.as_bytes(), 2026), Some(NOV_6_1994), "{s}");
        }
        assert_eq!(
            parse_http_date(b"Wed Nov 16 08:49:37 1994", 2026),
            Some(NOV_6_1994 + 10 * 86_400)
        );
    }

    #[test]
    fn round_trips_every_day_over_centuries() {
        let mut secs = -86_400 * 3;
        while secs < MAX_SECS {
            let s = secs.max(0) + 45_296;
            assert_eq!(
                parse_http_date(format_http_date(s).as_bytes(), 2026),
                Some(s)
            );
            secs += 86_400 * 13 + 7;
        }
    }

    #[test]
    fn rfc850_two_digit_years_more_than_50_years_ahead_are_last_century() {
        // 2026: `76` is 50 years ahead (kept), `77` would be 51 (so 1977).
        let y = |s: &str, now| parse_http_date(s.as_bytes(), now).map(year_of);
        assert_eq!(y("Sunday, 06-Nov-94 08:49:37 GMT", 2026), Some(1994));
        assert_eq!(y("Tuesday, 06-Nov-07 08:49:37 GMT", 2026), Some(2007));
        assert_eq!(y("Friday, 06-Nov-76 08:49:37 GMT", 2026), Some(2076));
        assert_eq!(y("Sunday, 06-Nov-77 08:49:37 GMT", 2026), Some(1977));
        assert_eq!(y("Saturday, 06-Nov-94 08:49:37 GMT", 2050), Some(2094));
    }

    #[test]
    fn invalid_dates_are_none() {
        for s in [
            "",
            "yesterday",
            "0",
            "784111777",
            "Mon, 06 Nov 1994 08:49:37 GMT", // wrong day name
            "Sun, 06 Nov 1994 08:49:37 UTC", // not GMT
            "sun, 06 Nov 1994 08:49:37 GMT", // case-sensitive
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",   // two digits
            "Sun,  06 Nov 1994 08:49:37 GMT", // extra space
            "Sun, 06 Nov 1994 08:49:37 GMT ", // trailing space
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:60 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Thu, 29 Feb 1900 00:00:00 GMT", // not a leap year
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 +8:49:37 GMT",
            "Sun, 06 Nov 199a 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT\u{e9}",
            "Sun, 06-Nov-94 08:49:37 GMT", // short day name in RFC 850
            "Sunday, 06-Nov-1994 08:49:37 GMT", // four-digit year in RFC 850
            "Sun Nov 06 08:49:37 1994 GMT",
            "Sun Nov  6 08:49:37 94",
        ] {
            assert_eq!(parse_http_date(s.as_bytes(), 2026), None, "{s:?} parsed");
        }
        assert_eq!(parse_http_date(b"\xff\xfe", 2026), None);
    }
}
