//! Loading always settles: whatever panics or is dropped while a value loads (the loader,
//! the value's `Clone`, the key's `Eq`, a hook the store runs, the waiting future), the key's
//! flight ends and the next caller loads; no waiter waits forever. The map keeps the loader's
//! own value and a refusal hands that value back. Waiters here are futures polled by hand, so
//! that "already waiting" is a fact of the test, not a matter of timing.

use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use mapguard::testing::block_on;
use mapguard::{
    ConcurrentAdaptiveMap, ConcurrentBoundedMap, ConcurrentLruMap, ConcurrentWeakKeyMap,
    RemovalCause,
};

use crate::loading::poll_once;

/// Whether one of the panics left in `panics` is due (and counts it taken).
fn take_one(panics: &AtomicUsize) -> bool {
    panics
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok()
}

/// A value whose next `panics` clones panic; the count is shared by all its copies.
#[derive(Debug)]
struct Fragile {
    n: u64,
    panics: Arc<AtomicUsize>,
}

impl Clone for Fragile {
    fn clone(&self) -> Self {
        assert!(!take_one(&self.panics), "Clone panics");
        Self {
            n: self.n,
            panics: Arc::clone(&self.panics),
        }
    }
}

impl PartialEq for Fragile {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n
    }
}

fn fragile(n: u64, panics: &Arc<AtomicUsize>) -> Fragile {
    Fragile {
        n,
        panics: Arc::clone(panics),
    }
}

/// A key that every other key collides with, so storing one compares it with the keys
/// present; its next `panics` comparisons panic.
#[derive(Debug, Clone)]
struct Touchy {
    id: u64,
    panics: Arc<AtomicUsize>,
}

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        0_u8.hash(state);
    }
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        assert!(!take_one(&self.panics), "Eq panics");
        self.id == other.id
    }
}

impl Eq for Touchy {}

#[test]
fn a_clone_that_panics_after_the_load_abandons_the_flight_for_the_waiter_and_the_next_caller() {
    let map = ConcurrentLruMap::<u64, Fragile>::new(64);
    let panics = Arc::new(AtomicUsize::new(0));
    let woken = Arc::new(AtomicUsize::new(0));
    let (release, gate) = tokio::sync::oneshot::channel::<()>();
    let mut loader = Box::pin(map.get_or_insert_async(1, async {
        gate.await.unwrap();
        panics.store(1, Ordering::SeqCst);
        fragile(10, &panics)
    }));
    assert!(poll_once(loader.as_mut(), &woken).is_pending());
    let mut waiter = pin!(map.get_or_insert_async(1, async { fragile(20, &panics) }));
    assert!(poll_once(waiter.as_mut(), &woken).is_pending(), "it waits");
    release.send(()).unwrap();
    let failed = catch_unwind(AssertUnwindSafe(|| poll_once(loader.as_mut(), &woken)));
    assert!(failed.is_err(), "the loader's clone panicked");
    assert!(!map.contains_key(&1), "nothing stored");
    assert!(woken.load(Ordering::SeqCst) >= 1, "the waiter was woken");
    let Poll::Ready(value) = poll_once(waiter.as_mut(), &woken) else {
        panic!("the waiter still waits for an abandoned flight");
    };
    assert_eq!(value.n, 20, "the waiter loaded in its place");
    // And a caller after it finds the waiter's value, not a flight.
    assert_eq!(map.get_or_insert_with(1, || unreachable!()).n, 20);
}

#[test]
fn a_clone_that_panics_in_a_blocking_load_leaves_no_flight_behind() {
    let map = ConcurrentLruMap::<u64, Fragile>::new(64);
    let panics = Arc::new(AtomicUsize::new(1));
    let failed = catch_unwind(AssertUnwindSafe(|| {
        map.get_or_insert_with(1, || fragile(10, &panics))
    }));
    assert!(failed.is_err());
    let next = crate::loading::within_limit("the call after a panicking clone", move || {
        map.get_or_insert_with(1, || fragile(11, &panics)).n
    });
    assert_eq!(next, 11);
}

#[test]
fn an_eq_that_panics_while_the_load_is_stored_abandons_the_flight() {
    let map = ConcurrentLruMap::<Touchy, u64>::builder(64)
        .shards(1)
        .build();
    let panics = Arc::new(AtomicUsize::new(0));
    let key = |id| Touchy {
        id,
        panics: Arc::clone(&panics),
    };
    map.insert(key(0), 0);
    let woken = Arc::new(AtomicUsize::new(0));
    let (release, gate) = tokio::sync::oneshot::channel::<()>();
    let mut loader = Box::pin(map.get_or_insert_async(key(1), async {
        gate.await.unwrap();
        // The store compares the new key with key 0 (they collide): that comparison panics.
        panics.store(1, Ordering::SeqCst);
        10
    }));
    assert!(poll_once(loader.as_mut(), &woken).is_pending());
    let mut waiter = pin!(map.get_or_insert_async(key(1), async { 20 }));
    assert!(poll_once(waiter.as_mut(), &woken).is_pending(), "it waits");
    release.send(()).unwrap();
    let failed = catch_unwind(AssertUnwindSafe(|| poll_once(loader.as_mut(), &woken)));
    assert!(failed.is_err(), "the store's Eq panicked");
    assert_eq!(poll_once(waiter.as_mut(), &woken), Poll::Ready(20));
    assert_eq!(map.get(&key(1)), Some(20));
}

#[test]
fn a_hook_that_panics_during_the_store_still_settles_the_flight_with_the_value_stored() {
    let evictions = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&evictions);
    let map = ConcurrentLruMap::<u64, u64>::builder(1)
        .shards(1)
        .on_removal(move |key, _value, cause| {
            seen.lock().unwrap().push((key, cause));
            assert!(cause != RemovalCause::Evicted, "the eviction hook panics");
        })
        .build();
    map.insert(0, 0);
    let woken = Arc::new(AtomicUsize::new(0));
    let (release, gate) = tokio::sync::oneshot::channel::<()>();
    let mut loader = Box::pin(map.get_or_insert_async(1, async {
        gate.await.unwrap();
        10
    }));
    assert!(poll_once(loader.as_mut(), &woken).is_pending());
    let mut waiter = pin!(map.get_or_insert_async(1, async { unreachable!("it finds 10") }));
    assert!(poll_once(waiter.as_mut(), &woken).is_pending());
    release.send(()).unwrap();
    let failed = catch_unwind(AssertUnwindSafe(|| poll_once(loader.as_mut(), &woken)));
    assert!(failed.is_err(), "the evicted value's hook panicked");
    assert_eq!(*evictions.lock().unwrap(), [(0, RemovalCause::Evicted)]);
    assert_eq!(poll_once(waiter.as_mut(), &woken), Poll::Ready(10));
}

#[test]
fn a_dropped_waiter_leaves_the_load_to_finish_for_the_others() {
    let map = ConcurrentLruMap::<u64, u64>::new(64);
    let woken = Arc::new(AtomicUsize::new(0));
    let (release, gate) = tokio::sync::oneshot::channel::<()>();
    let mut loader = Box::pin(map.get_or_insert_async(1, async {
        gate.await.unwrap();
        10
    }));
    assert!(poll_once(loader.as_mut(), &woken).is_pending());
    let mut dropped = Box::pin(map.get_or_insert_async(1, async { unreachable!() }));
    assert!(poll_once(dropped.as_mut(), &woken).is_pending());
    drop(dropped);
    let mut waiter = pin!(map.get_or_insert_async(1, async { unreachable!() }));
    assert!(poll_once(waiter.as_mut(), &woken).is_pending());
    release.send(()).unwrap();
    assert_eq!(poll_once(loader.as_mut(), &woken), Poll::Ready(10));
    assert_eq!(poll_once(waiter.as_mut(), &woken), Poll::Ready(10));
}

/// The panic an async loader gets for awaiting its own key, by form of the inner call.
fn self_wait_message(inner_blocks: bool) -> String {
    let map = Arc::new(ConcurrentLruMap::<u64, u64>::new(64));
    let inner = Arc::clone(&map);
    let outcome = crate::loading::within_limit("an async loader asking for its own key", {
        move || {
            catch_unwind(AssertUnwindSafe(|| {
                block_on(inner.get_or_insert_async(1, async {
                    if inner_blocks {
                        inner.get_or_insert_with(1, || 2)
                    } else {
                        inner.get_or_insert_async(1, async { 2 }).await
                    }
                }))
            }))
        }
    });
    let message = *outcome.unwrap_err().downcast::<&str>().unwrap();
    assert!(!map.contains_key(&1), "nothing stored");
    // The abandoned load left no flight behind.
    assert_eq!(block_on(map.get_or_insert_async(1, async { 3 })), 3);
    message.to_owned()
}

#[test]
fn an_async_loader_awaiting_its_own_key_panics_instead_of_pending_forever() {
    for inner_blocks in [false, true] {
        let message = self_wait_message(inner_blocks);
        assert!(message.contains("the key it is loading"), "{message}");
    }
}

#[test]
fn two_loads_of_one_key_in_one_task_are_not_a_self_wait() {
    let map = ConcurrentLruMap::<u64, u64>::new(64);
    let woken = Arc::new(AtomicUsize::new(0));
    let (release, gate) = tokio::sync::oneshot::channel::<u64>();
    // Both polled from this one thread, neither inside the other's load.
    let mut first = pin!(map.get_or_insert_async(1, async { gate.await.unwrap() + 1 }));
    let mut second = pin!(map.get_or_insert_async(1, async { unreachable!() }));
    assert!(poll_once(first.as_mut(), &woken).is_pending());
    assert!(poll_once(second.as_mut(), &woken).is_pending());
    release.send(4).unwrap();
    assert_eq!(poll_once(first.as_mut(), &woken), Poll::Ready(5));
    assert_eq!(poll_once(second.as_mut(), &woken), Poll::Ready(5));
}

/// A value that knows whether it is the one its loader made or a clone of it.
#[derive(Debug, PartialEq)]
struct Made {
    n: u64,
    copy: bool,
}

impl Clone for Made {
    fn clone(&self) -> Self {
        Self {
            n: self.n,
            copy: true,
        }
    }
}

fn made(n: u64) -> Made {
    Made { n, copy: false }
}

#[test]
fn every_evicting_kind_keeps_the_loaders_own_value_and_hands_out_clones() {
    let lru = ConcurrentLruMap::<u64, Made>::new(8);
    let adaptive = ConcurrentAdaptiveMap::<u64, Made>::new(8);
    let loaded = [
        lru.get_or_insert_with(1, || made(1)),
        block_on(lru.get_or_insert_async(2, async { made(2) })),
        adaptive.get_or_insert_with(1, || made(1)),
        block_on(adaptive.get_or_insert_async(2, async { made(2) })),
    ];
    assert!(loaded.iter().all(|value| value.copy), "{loaded:?}");
    for key in [1, 2] {
        assert_eq!(lru.remove(&key), Some(made(key)), "LRU keeps the original");
        assert_eq!(adaptive.remove(&key), Some(made(key)), "adaptive too");
    }
    let weak = ConcurrentWeakKeyMap::<std::sync::Weak<u64>, Made>::new();
    let key = Arc::new(1);
    assert!(weak.get_or_insert_with(Arc::clone(&key), || made(1)).copy);
    assert_eq!(weak.remove(&1), Some(made(1)), "weak-keyed too");
}

#[test]
fn a_bounded_map_keeps_the_loaders_own_value_and_a_refusal_hands_it_back() {
    let map = ConcurrentBoundedMap::<u64, Made>::builder(1)
        .shards(1)
        .build();
    assert!(map.get_or_insert_with(1, || made(1)).unwrap().copy);
    let refused = map.get_or_insert_with(2, || made(2)).unwrap_err();
    assert_eq!(refused.into_inner(), (2, made(2)), "the loader's own value");
    let refused = block_on(map.get_or_insert_async(3, async { made(3) })).unwrap_err();
    assert_eq!(refused.into_inner(), (3, made(3)));
    assert_eq!(map.remove(&1), Some(made(1)), "the map kept the original");
}

/// A key whose `Hash` panics while `panics` says so.
#[derive(Debug, Clone)]
struct Unhashable {
    id: u64,
    panics: Arc<AtomicUsize>,
}

impl PartialEq for Unhashable {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Unhashable {}

impl Hash for Unhashable {
    fn hash<H: Hasher>(&self, state: &mut H) {
        assert!(self.panics.load(Ordering::SeqCst) == 0, "Hash panics");
        self.id.hash(state);
    }
}

#[test]
fn a_hash_that_panics_fails_only_its_own_call_and_starts_no_flight() {
    let map = ConcurrentLruMap::<Unhashable, u64>::new(64);
    let panics = Arc::new(AtomicUsize::new(1));
    let key = {
        let panics = Arc::clone(&panics);
        move |id| Unhashable {
            id,
            panics: Arc::clone(&panics),
        }
    };
    let loads = AtomicUsize::new(0);
    let failed = catch_unwind(AssertUnwindSafe(|| {
        map.get_or_insert_with(key(1), || {
            loads.fetch_add(1, Ordering::SeqCst);
            10
        })
    }));
    assert!(failed.is_err(), "the caller's Hash panicked");
    assert_eq!(loads.load(Ordering::SeqCst), 0, "nothing loaded");
    panics.store(0, Ordering::SeqCst);
    let next = crate::loading::within_limit("the call after a panicking Hash", move || {
        map.get_or_insert_with(key(1), || 11)
    });
    assert_eq!(next, 11);
}
