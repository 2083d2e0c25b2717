//! Integration, model-based and memory tests for mapguard live in `tests/`; this crate holds
//! the README doctest and what several of those tests share.

pub mod ledger;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// A small deterministic generator (xorshift) for the threaded tests: fast, and a run with the
/// same seed repeats.
///
/// ```
/// let (mut a, mut b) = (mapguard_tests::Rng(7), mapguard_tests::Rng(7));
/// assert_eq!(a.below(100), b.below(100));
/// assert!(a.below(10) < 10);
/// ```
#[derive(Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    ///
    /// ```
    /// assert_ne!(mapguard_tests::Rng(1).next_u64(), 0);
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    ///
    /// ```
    /// assert!(mapguard_tests::Rng(3).below(5) < 5);
    /// ```
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}
