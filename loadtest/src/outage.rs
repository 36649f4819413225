//! What writers felt while a service chorus depends on restarted: every try
//! of every write is logged, and each restart is judged from the tries that
//! overlap it. docs/operations.md promises refusals (503 with Retry-After),
//! never a hang, and nothing acknowledged that is not durable.

use std::time::Duration;

use serde::Serialize;

/// An answer slower than this is a hang, whatever it said in the end.
pub const HANG: Duration = Duration::from_secs(10);

/// How one try of a write ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Accepted,
    /// A 503 (`retry_after`: it carried a `Retry-After`).
    Unavailable {
        retry_after: bool,
    },
    /// Any other refusal or failure: a status, or a transport error.
    Other(String),
}

/// One try, in microseconds since the load started.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub sent: u64,
    pub answered: u64,
    pub answer: Answer,
}

/// One restart and what the writers saw around it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Restart {
    /// `postgresql` or `redis`.
    pub service: String,
    /// When the stop began, seconds into the load.
    pub stopped_at_s: f64,
    /// From the stop to the service accepting again (the stop, the pause, the start).
    pub down_s: f64,
    /// Tries whose time overlapped this restart's window.
    pub attempts: u64,
    /// 503 answers, and those among them without `Retry-After`.
    pub refused: u64,
    pub refused_without_retry_after: u64,
    /// From the first 503 to the last, when there was one.
    pub refused_for_s: Option<f64>,
    /// The first and last 503, seconds after the stop.
    pub first_refusal_after_stop_s: Option<f64>,
    pub last_refusal_after_stop_s: Option<f64>,
    /// Failures that were not a 503 (other statuses, broken connections).
    pub other_failures: u64,
    pub other_examples: Vec<String>,
    /// Tries that took longer than `HANG` to answer.
    pub hangs: u64,
    pub longest_answer_s: f64,
    /// From the service being back to the first acknowledged write sent after that.
    pub accepted_again_after_s: Option<f64>,
}

fn secs(micros: u64) -> f64 {
    (micros as f64 / 1e4).round() / 100.0
}

impl Restart {
    /// Judges the tries that overlap `[stopped, window_end)`: answered after
    /// the stop, sent before the window ends (the next restart, or never).
    pub fn judge(
        service: &str,
        stopped: u64,
        back: u64,
        window_end: u64,
        attempts: &[Attempt],
    ) -> Restart {
        let mut r = Restart {
            service: service.to_string(),
            stopped_at_s: secs(stopped),
            down_s: secs(back.saturating_sub(stopped)),
            ..Restart::default()
        };
        let mut first_refusal: Option<u64> = None;
        let mut last_refusal: Option<u64> = None;
        let mut longest = 0u64;
        let mut accepted_again: Option<u64> = None;
        for a in attempts
            .iter()
            .filter(|a| a.answered >= stopped && a.sent < window_end)
        {
            r.attempts += 1;
            let took = a.answered.saturating_sub(a.sent);
            longest = longest.max(took);
            if took > HANG.as_micros() as u64 {
                r.hangs += 1;
            }
            match &a.answer {
                Answer::Accepted => {
                    if a.sent >= back {
                        accepted_again =
                            Some(accepted_again.map_or(a.answered, |t| t.min(a.answered)));
                    }
                }
                Answer::Unavailable { retry_after } => {
                    r.refused += 1;
                    if !retry_after {
                        r.refused_without_retry_after += 1;
                    }
                    first_refusal = Some(first_refusal.map_or(a.answered, |t| t.min(a.answered)));
                    last_refusal = Some(last_refusal.map_or(a.answered, |t| t.max(a.answered)));
                }
                Answer::Other(what) => {
                    r.other_failures += 1;
                    if r.other_examples.len() < 3 && !r.other_examples.contains(what) {
                        r.other_examples.push(what.clone());
                    }
                }
            }
        }
        r.longest_answer_s = secs(longest);
        if let (Some(first), Some(last)) = (first_refusal, last_refusal) {
            r.refused_for_s = Some(secs(last - first));
            r.first_refusal_after_stop_s = Some(secs(first.saturating_sub(stopped)));
            r.last_refusal_after_stop_s = Some(secs(last.saturating_sub(stopped)));
        }
        r.accepted_again_after_s = accepted_again.map(|t| secs(t.saturating_sub(back)));
        r
    }

    /// Whether writers saw only what chorus promises: refusals that are 503s
    /// with `Retry-After`, and no hang.
    pub fn as_promised(&self) -> bool {
        self.refused_without_retry_after == 0 && self.other_failures == 0 && self.hangs == 0
    }

    /// One line for the table and the Markdown.
    pub fn summary(&self) -> String {
        let refused = match (
            self.refused_for_s,
            self.first_refusal_after_stop_s,
            self.last_refusal_after_stop_s,
        ) {
            (Some(span), Some(first), Some(last)) => format!(
                "writes refused for {span:.2} s ({} answers 503, from {first:.2} s to {last:.2} s after the stop; {} without Retry-After)",
                self.refused, self.refused_without_retry_after
            ),
            _ => "no write refused".to_string(),
        };
        let others = if self.other_failures == 0 {
            "no other failure".to_string()
        } else {
            format!(
                "{} other failures (e.g. {})",
                self.other_failures,
                self.other_examples.join("; ")
            )
        };
        format!(
            "{} stopped at {:.1} s, back after {:.2} s: {refused}; {others}; {} answers slower than {} s, longest {:.2} s; writes accepted again {} after it came back; {} tries in all ({})",
            self.service,
            self.stopped_at_s,
            self.down_s,
            self.hangs,
            HANG.as_secs(),
            self.longest_answer_s,
            self.accepted_again_after_s
                .map_or("never".to_string(), |s| format!("{s:.2} s")),
            self.attempts,
            if self.as_promised() {
                "as promised: 503 with Retry-After, no hang"
            } else {
                "NOT as promised: a refusal other than 503 with Retry-After, or a hang"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;

    fn attempt(sent: f64, answered: f64, answer: Answer) -> Attempt {
        Attempt {
            sent: (sent * S as f64) as u64,
            answered: (answered * S as f64) as u64,
            answer,
        }
    }

    #[test]
    fn a_restart_is_judged_from_the_tries_that_overlap_it() {
        let refused = Answer::Unavailable { retry_after: true };
        let tries = [
            // Before the stop: not this restart's.
            attempt(1.0, 1.1, Answer::Accepted),
            attempt(9.9, 10.2, refused.clone()),
            attempt(10.5, 10.6, Answer::Unavailable { retry_after: false }),
            attempt(11.0, 12.9, refused.clone()),
            attempt(11.5, 23.0, Answer::Other("HTTP 500".into())),
            // Sent before the service was back: does not count as accepted again.
            attempt(12.0, 13.5, Answer::Accepted),
            attempt(13.2, 13.4, Answer::Accepted),
            // After the window: the next restart's.
            attempt(30.0, 30.1, refused),
        ];
        let r = Restart::judge("postgresql", 10 * S, 13 * S, 30 * S, &tries);
        assert_eq!(r.attempts, 6);
        assert_eq!((r.refused, r.refused_without_retry_after), (3, 1));
        assert_eq!(r.refused_for_s, Some(2.7));
        assert_eq!(r.first_refusal_after_stop_s, Some(0.2));
        assert_eq!(r.other_failures, 1);
        assert_eq!(r.hangs, 1);
        assert_eq!(r.longest_answer_s, 11.5);
        assert_eq!(r.accepted_again_after_s, Some(0.4));
        assert!(!r.as_promised());
        assert!(r.summary().contains("NOT as promised"), "{}", r.summary());
    }
}
