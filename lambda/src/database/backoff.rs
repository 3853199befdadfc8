//! An instance that was just refused a login stops asking for a while.
//!
//! Why: the fast 503 of [`super::refusal`] still costs the server a login per request (PostgreSQL forks a
//! backend for each attempt, even one it refuses). In a direct storm of 300 instances on a budget of 40,
//! the 260 refused instances kept PostgreSQL so busy with logins that it could no longer refuse them
//! quickly: only 528 of 5,762 refused requests got the fast answer, p95 stayed at the 3 s acquire timeout.
//!
//! How: a refusal (53300/57P03) or a login that failed or timed out opens a back-off window (1 s, doubling
//! while refusals continue, capped at 4 s, each with jitter so that instances refused together do not
//! come back together). During the window a request that would need a new connection is answered 503 at
//! once, without a login; a request that can use a connection already open still runs. After the window
//! one request at a time is let through to try a login: success clears the state, another refusal opens a
//! longer window.

use std::hash::{BuildHasher as _, RandomState};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The first back-off window after a refusal: long enough that a refused instance asks about once a
/// second (a 300-instance storm then costs the server ~260 logins a second, not thousands), short enough
/// that a freed budget is used again within about a second.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest window, however long refusals continue: Lambda's own callers retry after `Retry-After`
/// (2 s), and an instance should not stay idle much longer than a client waits.
pub const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// What a request that may need a new connection may do.
#[derive(Debug)]
pub enum Admission {
    /// Try the login; report how it went through the [`Attempt`] (dropping it unreported lets the next
    /// request try).
    Attempt(Attempt),
    /// Do not log in: the instance was refused recently and the window has not passed, or another request
    /// is trying the login now.
    BackOff,
}

/// The instance's memory of recent refusals, shared by every request of one pool.
#[derive(Debug, Default)]
pub struct Backoff(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    /// The current window's length, `None` when the last login succeeded (or none was refused yet).
    window: Option<Duration>,
    /// No login before this instant.
    until: Option<Instant>,
    /// A request is trying the login now: the others wait for its outcome rather than join it.
    attempting: bool,
}

impl Backoff {
    /// Whether a request may try a login at `now`.
    #[must_use]
    pub fn admit(self: &Arc<Self>, now: Instant) -> Admission {
        let mut state = self.lock();
        if state.attempting || state.until.is_some_and(|until| now < until) {
            return Admission::BackOff;
        }
        // Only after a refusal is the login one at a time: without one, concurrent requests log in at once.
        state.attempting = state.window.is_some();
        Admission::Attempt(Attempt { backoff: self.clone(), exclusive: state.attempting })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One request's permission to try a login.
#[derive(Debug)]
pub struct Attempt {
    backoff: Arc<Backoff>,
    /// Whether this is the one probe after a window (it must release the others when it ends).
    exclusive: bool,
}

impl Attempt {
    /// The login was refused (or failed, or timed out) at `now`: open the next window, its length scaled by
    /// `jitter` in `[0, 1)` to between half and all of it.
    pub fn refused(self, now: Instant, jitter: f64) {
        let mut state = self.backoff.lock();
        if !self.exclusive && state.until.is_some_and(|until| now < until) {
            return; // a request that tried alongside was refused first and opened the window already
        }
        let window = state.window.map_or(FIRST_BACKOFF, |last| (last * 2).min(MAX_BACKOFF));
        state.window = Some(window);
        state.until = Some(now + window.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0));
        state.attempting = false;
    }

    /// A login succeeded: forget every refusal.
    pub fn logged_in(self) {
        *self.backoff.lock() = State::default();
    }
}

impl Drop for Attempt {
    /// An attempt that ends unreported (a request that needed no login after all, or was cancelled) lets
    /// the next request try; the window is left as it was.
    fn drop(&mut self) {
        if self.exclusive {
            self.backoff.lock().attempting = false;
        }
    }
}

/// A jitter in `[0, 1)` from the standard library's per-process random hash keys (no RNG crate for one
/// number a second).
#[must_use]
pub fn jitter() -> f64 {
    let bits = RandomState::new().hash_one(Instant::now());
    #[expect(clippy::cast_precision_loss, reason = "53 random bits are plenty")]
    let fraction = (bits >> 11) as f64 / (1_u64 << 53) as f64;
    fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(backoff: &Arc<Backoff>, now: Instant) -> Attempt {
        match backoff.admit(now) {
            Admission::Attempt(attempt) => attempt,
            Admission::BackOff => panic!("expected a login attempt at {now:?}"),
        }
    }

    fn backs_off(backoff: &Arc<Backoff>, now: Instant) -> bool {
        matches!(backoff.admit(now), Admission::BackOff)
    }

    impl Backoff {
        fn backing_off(&self, now: Instant) -> bool {
            let state = self.lock();
            state.attempting || state.until.is_some_and(|until| now < until)
        }
    }

    #[test]
    fn without_a_refusal_every_request_may_log_in_at_once() {
        let (backoff, now) = (Arc::new(Backoff::default()), Instant::now());
        let (first, second) = (attempt(&backoff, now), attempt(&backoff, now));
        first.logged_in();
        drop(second);
        assert!(!backoff.backing_off(now));
    }

    #[test]
    fn a_refusal_backs_off_for_the_window_then_lets_one_probe_through() {
        let (backoff, t0) = (Arc::new(Backoff::default()), Instant::now());
        attempt(&backoff, t0).refused(t0, 0.999_999);
        assert!(backs_off(&backoff, t0 + Duration::from_millis(10)));
        assert!(backs_off(&backoff, t0 + FIRST_BACKOFF - Duration::from_millis(1)));

        let after = t0 + FIRST_BACKOFF;
        let probe = attempt(&backoff, after);
        assert!(backs_off(&backoff, after), "one probe at a time");
        probe.logged_in();
        assert!(!backoff.backing_off(after));
        let (a, b) = (attempt(&backoff, after), attempt(&backoff, after));
        drop((a, b));
    }

    #[test]
    fn the_window_doubles_while_refusals_continue_up_to_the_cap_with_jitter_at_least_half() {
        let (backoff, mut now) = (Arc::new(Backoff::default()), Instant::now());
        let mut windows = Vec::new();
        for _ in 0..6 {
            attempt(&backoff, now).refused(now, 0.0);
            let opened = now;
            while backs_off(&backoff, now) {
                now += Duration::from_millis(10);
            }
            windows.push((now - opened).as_millis());
        }
        assert_eq!(windows, [500, 1000, 2000, 2000, 2000, 2000], "half of 1, 2, 4, 4... seconds at jitter 0");
    }

    #[test]
    fn a_success_after_refusals_starts_again_from_the_first_window() {
        let (backoff, t0) = (Arc::new(Backoff::default()), Instant::now());
        attempt(&backoff, t0).refused(t0, 0.0);
        let t1 = t0 + MAX_BACKOFF;
        attempt(&backoff, t1).refused(t1, 0.0);
        let t2 = t1 + MAX_BACKOFF;
        attempt(&backoff, t2).logged_in();
        attempt(&backoff, t2).refused(t2, 0.999_999);
        assert!(backs_off(&backoff, t2 + FIRST_BACKOFF - Duration::from_millis(1)));
        assert!(!backs_off(&backoff, t2 + FIRST_BACKOFF));
    }

    #[test]
    fn a_probe_dropped_unreported_lets_the_next_request_try_and_keeps_the_window() {
        let (backoff, t0) = (Arc::new(Backoff::default()), Instant::now());
        attempt(&backoff, t0).refused(t0, 0.0);
        let t1 = t0 + FIRST_BACKOFF;
        drop(attempt(&backoff, t1));
        attempt(&backoff, t1).refused(t1, 0.0);
        assert!(
            backs_off(&backoff, t1 + Duration::from_millis(999)),
            "the second window is 2 s (1 s at jitter 0)"
        );
        assert!(!backs_off(&backoff, t1 + Duration::from_secs(1)));
    }

    #[test]
    fn requests_refused_together_open_one_window_not_a_longer_one_each() {
        let (backoff, t0) = (Arc::new(Backoff::default()), Instant::now());
        let (first, second) = (attempt(&backoff, t0), attempt(&backoff, t0));
        first.refused(t0, 0.0);
        second.refused(t0 + Duration::from_millis(5), 0.0);
        assert!(
            !backs_off(&backoff, t0 + Duration::from_millis(500)),
            "still the first window: 1 s at jitter 0"
        );
    }

    #[test]
    fn jitter_is_a_fraction() {
        assert!((0..100).map(|_| jitter()).all(|j| (0.0..1.0).contains(&j)));
    }
}
