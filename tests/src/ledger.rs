//! A ledger of every value's hooks, hand-backs and drops, with hooks that panic on demand: what
//! the exactly-once tests under panicking hooks check against.
//!
//! ```
//! use mapguard::{LruMap, RemovalCause};
//! use mapguard_tests::ledger::{Arm, Book, listener, panic_of};
//!
//! let book = Book::new();
//! let mut map = LruMap::builder(8).cleanup().on_removal(listener).build();
//! map.insert(1, book.value());
//! map.insert(2, book.value());
//! book.arm(Arm::Both);
//! assert!(panic_of(|| map.clear()).is_some()); // the first hook's panic reaches us...
//! assert_eq!(book.left_with(RemovalCause::Cleared).len(), 2); // ...after every value's hooks
//! book.arm(Arm::Nothing);
//! drop(map);
//! book.assert_none_lost();
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};

use mapguard::{Cleanup, RemovalCause};

/// Which hooks panic, on every call, while armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arm {
    /// No hook panics.
    Nothing,
    /// The value's `Cleanup` panics (after recording).
    Cleanup,
    /// The listener panics (after recording).
    Listener,
    /// Both panic.
    Both,
}

impl Arm {
    /// The arms that make hooks panic.
    pub const PANICKING: [Self; 3] = [Self::Cleanup, Self::Listener, Self::Both];
}

/// What happened to one value.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// Causes of its `Cleanup` calls, in order.
    pub cleaned: Vec<RemovalCause>,
    /// Causes of its listener calls, in order.
    pub listened: Vec<RemovalCause>,
    /// Whether the caller received it (so it owes no hook).
    pub handed_back: bool,
    /// How many times it was dropped.
    pub dropped: u32,
}

#[derive(Debug)]
struct Inner {
    records: Vec<Record>,
    arm: Arm,
    panics: u64,
}

/// The ledger. Values carry it, so a plain `fn` hook (as `#[managed_map(on_remove = ...)]`
/// takes) records through the value. Clones share one ledger; it is `Send + Sync`.
#[derive(Clone, Debug)]
pub struct Book(Arc<Mutex<Inner>>);

impl Default for Book {
    fn default() -> Self {
        Self::new()
    }
}

impl Book {
    /// An empty ledger, hooks unarmed. Also silences the panics tests provoke on purpose.
    #[must_use]
    pub fn new() -> Self {
        quiet_panics();
        Self(Arc::new(Mutex::new(Inner {
            records: Vec::new(),
            arm: Arm::Nothing,
            panics: 0,
        })))
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new value; ids count up from 0.
    #[must_use]
    pub fn value(&self) -> Probe {
        let mut inner = self.inner();
        inner.records.push(Record::default());
        Probe {
            id: inner.records.len() - 1,
            book: self.clone(),
        }
    }

    /// Makes `arm`'s hooks panic from now on.
    pub fn arm(&self, arm: Arm) {
        self.inner().arm = arm;
    }

    /// The caller received `value` (and drops it now): it owes no hook.
    pub fn hand_back(&self, value: Probe) {
        self.inner().records[value.id].handed_back = true;
        drop(value);
    }

    /// Values created so far.
    #[must_use]
    pub fn created(&self) -> usize {
        self.inner().records.len()
    }

    /// Hook panics raised so far.
    #[must_use]
    pub fn panics(&self) -> u64 {
        self.inner().panics
    }

    /// What happened to value `id`.
    #[must_use]
    pub fn record(&self, id: usize) -> Record {
        self.inner().records[id].clone()
    }

    /// The causes value `id` was cleaned with.
    #[must_use]
    pub fn cleaned(&self, id: usize) -> Vec<RemovalCause> {
        self.record(id).cleaned
    }

    /// The causes value `id` reached the listener with.
    #[must_use]
    pub fn listened(&self, id: usize) -> Vec<RemovalCause> {
        self.record(id).listened
    }

    /// Values that reached the listener once, with `cause`.
    #[must_use]
    pub fn left_with(&self, cause: RemovalCause) -> Vec<usize> {
        let inner = self.inner();
        (0..inner.records.len())
            .filter(|&id| inner.records[id].listened == [cause])
            .collect()
    }

    /// Values that reached a hook so far.
    #[must_use]
    pub fn hooked(&self) -> usize {
        self.inner()
            .records
            .iter()
            .filter(|r| !r.cleaned.is_empty() || !r.listened.is_empty())
            .count()
    }

    /// Whether value `id` has left: hooked or handed back.
    #[must_use]
    pub fn gone(&self, id: usize) -> bool {
        let record = self.record(id);
        record.handed_back || !record.listened.is_empty() || !record.cleaned.is_empty()
    }

    /// No value lost: each dropped once; handed back with no hook, or through both hooks
    /// once with one cause.
    ///
    /// # Panics
    ///
    /// Naming the first value that broke the rule.
    #[track_caller]
    pub fn assert_none_lost(&self) {
        let inner = self.inner();
        for (id, record) in inner.records.iter().enumerate() {
            assert_eq!(record.dropped, 1, "value {id}: {record:?}");
            if record.handed_back {
                assert!(
                    record.cleaned.is_empty() && record.listened.is_empty(),
                    "value {id} was handed back and hooked: {record:?}"
                );
            } else {
                assert_eq!(record.cleaned.len(), 1, "value {id}: {record:?}");
                assert_eq!(
                    record.listened, record.cleaned,
                    "value {id} missed its listener or got another cause: {record:?}"
                );
            }
        }
    }
}

/// A value whose hooks and drop its [`Book`] records.
#[derive(Debug)]
pub struct Probe {
    /// Its id in the book.
    pub id: usize,
    book: Book,
}

impl Probe {
    /// The listener's half: records `cause`, then panics if the book is armed for listeners.
    ///
    /// # Panics
    ///
    /// When armed, on purpose.
    pub fn heard(self, cause: RemovalCause) {
        let arm = {
            let mut inner = self.book.inner();
            inner.records[self.id].listened.push(cause);
            let arm = inner.arm;
            if matches!(arm, Arm::Listener | Arm::Both) {
                inner.panics += 1;
            }
            arm
        };
        let id = self.id;
        assert!(
            !matches!(arm, Arm::Listener | Arm::Both),
            "listener panics on purpose: value {id}"
        );
    }
}

impl Cleanup for Probe {
    fn cleanup(&mut self, cause: RemovalCause) {
        let arm = {
            let mut inner = self.book.inner();
            inner.records[self.id].cleaned.push(cause);
            let arm = inner.arm;
            if matches!(arm, Arm::Cleanup | Arm::Both) {
                inner.panics += 1;
            }
            arm
        };
        assert!(
            !matches!(arm, Arm::Cleanup | Arm::Both),
            "cleanup panics on purpose: value {}",
            self.id
        );
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.book.inner().records[self.id].dropped += 1;
    }
}

/// A listener for any map of `Probe` values: [`Probe::heard`].
///
/// # Panics
///
/// When the book is armed for listeners, on purpose.
pub fn listener<K>(_key: K, value: Probe, cause: RemovalCause) {
    value.heard(cause);
}

/// Silences the panics the tests provoke on purpose (messages with "on purpose"); others
/// print as usual.
fn quiet_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !message.contains("on purpose") {
                default(info);
            }
        }));
    });
}

/// Runs `f`; the panic's message if it panicked.
pub fn panic_of<R>(f: impl FnOnce() -> R) -> Option<String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => None,
        Err(payload) => Some(
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default(),
        ),
    }
}
