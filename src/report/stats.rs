//! The few statistics the report uses: the support share, its 95% Wilson
//! score interval, and how evenly an item split its voters.

/// The normal quantile for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The share of `n` voters who voted strong, or `None` when nobody voted.
pub fn share(strong: i64, n: i64) -> Option<f64> {
    (n > 0).then(|| strong as f64 / n as f64)
}

/// The 95% Wilson score interval for `successes` out of `n`, or `None`
/// when `n` is zero. Unlike the textbook "p ± 1.96·se" interval it stays
/// inside 0..1 and behaves sensibly for small groups and for shares near
/// 0% or 100%.
pub fn wilson(successes: i64, n: i64) -> Option<(f64, f64)> {
    if n <= 0 {
        return None;
    }
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// How evenly split the voters were: 1 when exactly half voted strong and
/// half wrong, 0 when everyone agreed. `None` when nobody voted.
pub fn split(strong: i64, n: i64) -> Option<f64> {
    share(strong, n).map(|p| 1.0 - (2.0 * p - 1.0).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // 8 of 10: the usual worked example gives 0.4902 to 0.9433.
        let (lo, hi) = wilson(8, 10).unwrap();
        assert!((lo - 0.4902).abs() < 1e-4, "{lo}");
        assert!((hi - 0.9433).abs() < 1e-4, "{hi}");
        // 0 of 5 starts at 0; 5 of 5 ends at 1.
        assert_eq!(wilson(0, 5).unwrap().0, 0.0);
        assert!((wilson(5, 5).unwrap().1 - 1.0).abs() < 1e-12);
        assert!(wilson(0, 0).is_none());
    }

    #[test]
    fn split_is_one_at_half() {
        assert_eq!(split(5, 10), Some(1.0));
        assert_eq!(split(10, 10), Some(0.0));
        assert_eq!(split(0, 10), Some(0.0));
        assert_eq!(split(3, 4), Some(0.5));
        assert_eq!(split(0, 0), None);
    }
}
