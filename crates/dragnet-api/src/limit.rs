//! A per-token sliding-window rate limit (reveals per minute).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Allows `per_window` events per token in any window of `window`.
pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// A limiter of `per_window` events per `window`.
    pub fn new(per_window: u32, window: Duration) -> Self {
        RateLimiter {
            per_window,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an event of `key` at `now`; `Err(wait)` when over the limit.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let events = seen.entry(key.to_string()).or_default();
        while events
            .front()
            .is_some_and(|&t| now.duration_since(t) >= self.window)
        {
            events.pop_front();
        }
        if events.len() >= self.per_window as usize {
            let oldest = events.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        events.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_per_window_and_per_key() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(limiter.check("a", t0).is_ok());
        assert!(limiter.check("a", t0 + Duration::from_secs(1)).is_ok());
        let wait = limiter.check("a", t0 + Duration::from_secs(2)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(58));
        assert!(
            limiter.check("b", t0 + Duration::from_secs(2)).is_ok(),
            "per key"
        );
        assert!(
            limiter.check("a", t0 + Duration::from_secs(60)).is_ok(),
            "window slid"
        );
    }
}
