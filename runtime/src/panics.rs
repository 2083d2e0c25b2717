//! The one rule for hooks that panic.
//!
//! Every hook call goes through [`HookPanics`]: each departing value reaches every hook once
//! (its `Cleanup`, then the listener), whatever an earlier hook did; the first panic is
//! resumed to the caller once the operation and all its hooks are done; later ones are
//! contained; the map counts them all. While the thread is already unwinding, nothing is
//! resumed (a second panic would abort the process).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// The panics of one operation's hooks, held until the operation is done.
///
/// Each hook runs under [`run`](Self::run), which catches its panic; the operation goes on
/// with the next value's hooks, and [`finish`](Self::finish) counts the panics on the map and
/// resumes the first. For a hook that cannot unwind (no listener, a shard's queue) the
/// compiler removes the catch, so the no-panic path costs nothing.
///
/// Not for implementing: it appears in a hidden method of the listener traits.
#[doc(hidden)]
#[derive(Default)]
pub struct HookPanics {
    first: Option<Box<dyn Any + Send + 'static>>,
    count: u64,
}

impl HookPanics {
    /// Runs one hook, holding its panic.
    #[inline]
    pub fn run(&mut self, hook: impl FnOnce()) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(hook)) {
            self.caught(panic);
        }
    }

    #[cold]
    #[inline(never)]
    fn caught(&mut self, panic: Box<dyn Any + Send + 'static>) {
        self.count += 1;
        // Later panics are contained: their payloads are dropped here.
        if self.first.is_none() {
            self.first = Some(panic);
        }
    }

    /// Whether a hook panicked and the panic will be resumed: the operation's caller will
    /// not receive what it was to hand back. Never while the thread is already unwinding
    /// (nothing is resumed then).
    #[inline]
    pub(crate) fn will_resume(&self) -> bool {
        self.count > 0 && !std::thread::panicking()
    }

    /// Reports how many hooks panicked to `count` (the map's figures) and resumes the first:
    /// the operation's caller sees it. While the thread is already unwinding (a map,
    /// iterator or guard dropped during a panic) a second panic would abort the process, so
    /// it is contained instead. Always inlined: one branch at the end of every operation,
    /// and out of line (as LLVM chose once the `tracing` feature grew the figures' hook-panic
    /// count) it cost 12 instructions an insert.
    #[allow(clippy::inline_always, reason = "measured, see above")]
    #[inline(always)]
    pub(crate) fn finish(self, count: impl FnOnce(u64)) {
        if self.count > 0 {
            count(self.count);
            self.resume_first();
        }
    }
}

impl core::fmt::Debug for HookPanics {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HookPanics")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl HookPanics {
    /// Reports the panics to `count` and resumes the first now; for an operation whose
    /// [`will_resume`](Self::will_resume) said so.
    #[cold]
    #[inline(never)]
    pub(crate) fn resume_now(self, count: impl FnOnce(u64)) -> ! {
        count(self.count);
        resume_unwind(
            self.first
                .unwrap_or_else(|| Box::new("mapguard: a hook panicked")),
        )
    }

    /// Runs `work` with a fresh collector, then resumes the first panic it caught: for one
    /// hook call outside any operation, which contains only its own hooks.
    pub(crate) fn resuming(work: impl FnOnce(&mut Self)) {
        let mut panics = Self::default();
        work(&mut panics);
        panics.resume_first();
    }

    /// Resumes the first panic, uncounted (for a hook called directly, outside any map).
    pub(crate) fn resume_first(self) {
        if let Some(first) = self.first {
            if !std::thread::panicking() {
                resume_unwind(first);
            }
        }
    }
}

/// Runs `work` once per item, each under `panics`: work that panics (a hook, a field's scope
/// end) stops neither the others nor the caller's operation. The first panic resumes after
/// every item's work ran; the others are contained.
pub(crate) fn each_contained<T>(items: impl IntoIterator<Item = T>, mut work: impl FnMut(T)) {
    let mut panics = HookPanics::default();
    for item in items {
        panics.run(|| work(item));
    }
    panics.resume_first();
}

/// Runs `work` from a destructor: while the thread is already unwinding, a panic out of `work`
/// would abort the process, so it is contained (the maps inside have run every hook by then).
pub(crate) fn contain_while_unwinding(work: impl FnOnce()) {
    if std::thread::panicking() {
        let _contained = catch_unwind(AssertUnwindSafe(work));
    } else {
        work();
    }
}

/// What a `#[mapguard::managed]` struct's `end_scope` and `maintain` run each field under (and
/// `maintenance::maintain_all` each enrolled map): every field's maps are reached even if a
/// hook of an earlier field panics, and the first panic resumes once all have been (each map
/// has counted its own).
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct EachField {
    total: usize,
    panics: HookPanics,
}

impl EachField {
    /// Nothing run yet (inherent, for expansions under `#![no_implicit_prelude]`).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs one field's `end_scope` or `maintain`, adding what it returns.
    pub fn run(&mut self, field: impl FnOnce() -> usize) {
        let total = &mut self.total;
        self.panics.run(|| *total += field());
    }

    /// The sum of what every field returned; resumes the first panic, if any.
    #[must_use]
    pub fn finish(self) -> usize {
        self.panics.resume_first();
        self.total
    }
}
