//! Integer figures as the text the table and the console show: no floats
//! (the workspace denies float arithmetic), one decimal.

/// `part / whole` as a percentage with one decimal, e.g. `"23.4%"`.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_owned();
    }
    let permille = u128::from(part) * 1000 / u128::from(whole);
    format!("{}.{}%", permille / 10, permille % 10)
}

/// Microseconds as milliseconds with one decimal, e.g. `"12.3 ms"`.
pub fn ms(us: u64) -> String {
    format!("{}.{} ms", us / 1000, (us % 1000) / 100)
}

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{}.{} MiB", kib / 1024, (kib % 1024) * 10 / 1024)
}
