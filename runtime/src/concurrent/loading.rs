//! Loading a value into a shared map once, however many callers ask for it at once (single
//! flight), with no lock held while it loads.
//!
//! The first caller to miss a key starts a [`Flight`] for it: the key goes into the map's list
//! of flights (under the key's shard lock, so a second caller either finds the value or finds
//! the flight) and the caller loads, with no lock held. Callers for the same key wait on the
//! flight: a thread blocks on its condition variable, a task leaves its waker. Callers for
//! other keys are not delayed: they never touch the flight, and the shard lock is held only
//! to look up and to store.
//!
//! When the load succeeds, the loader stores its own value under the shard lock, taking the
//! key back out of the list there (so a caller arriving after that finds the value in the
//! map), and then settles the flight with a clone for its waiters. A [`Landing`] guard owns
//! the flight from before the load runs until it is settled: whatever ends the load early
//! (the loader fails or panics, its task is cancelled, `Clone`, `Hash` or `Eq` panics, or a
//! hook run by the store does), the guard abandons the flight: its key leaves the list, and
//! each waiter looks again, so one of them becomes the loader. No waiter blocks forever.
//!
//! A loader that asks the map for its own key would wait for itself. A blocking loader is
//! known by its thread; an async one by the flights this thread is polling the loads of
//! right now ([`POLLING`]): a wait met inside that poll can never end, so it panics.

use core::cell::RefCell;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::sync::Arc;

#[cfg(mapguard_shuttle)]
use shuttle::sync::{Condvar, Mutex, MutexGuard};
#[cfg(mapguard_shuttle)]
use shuttle::thread::{self, ThreadId};
#[cfg(not(mapguard_shuttle))]
use std::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(mapguard_shuttle))]
use std::thread::{self, ThreadId};

use std::sync::PoisonError;

/// One load in flight, and what its waiters get.
#[derive(Debug)]
pub(crate) struct Flight<V> {
    /// The key's hash: where its shard is, for storing.
    pub(crate) hash: u64,
    state: Mutex<State<V>>,
    settled: Condvar,
}

#[derive(Debug)]
enum State<V> {
    /// The load runs; `loader` is the thread running a blocking load (a task's has none).
    /// `blocked`: whether a thread waits on the condvar (most loads have no waiter, and then
    /// settling makes no futex call).
    Loading {
        loader: Option<ThreadId>,
        wakers: Vec<Waker>,
        blocked: bool,
    },
    Loaded(V),
    Abandoned,
}

/// Locks a mutex whose holders never panic while holding it (they only read and write state).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<V: Clone> Flight<V> {
    fn new(hash: u64, loader: Option<ThreadId>) -> Arc<Self> {
        Arc::new(Self {
            hash,
            state: Mutex::new(State::Loading {
                loader,
                wakers: Vec::new(),
                blocked: false,
            }),
            settled: Condvar::new(),
        })
    }

    /// Ends the flight: with the value (`Some`) or abandoned (`None`). Wakes every waiter.
    fn settle(&self, outcome: Option<V>) {
        let settled = outcome.map_or(State::Abandoned, State::Loaded);
        let (wakers, blocked) = match core::mem::replace(&mut *lock(&self.state), settled) {
            State::Loading {
                wakers, blocked, ..
            } => (wakers, blocked),
            _ => (Vec::new(), false),
        };
        // The state changed under the lock, so a thread about to wait sees it settled instead.
        if blocked {
            self.settled.notify_all();
        }
        for waker in wakers {
            waker.wake();
        }
    }

    /// Blocks until the flight ends: its value, or `None` if it was abandoned (load it
    /// yourself).
    ///
    /// # Panics
    ///
    /// If the calling thread is the one loading, or is polling this flight's async load: it
    /// would wait for itself forever.
    fn wait(self: &Arc<Self>) -> Option<V> {
        self.refuse_self_wait();
        let mut state = lock(&self.state);
        loop {
            match &mut *state {
                State::Loading {
                    loader, blocked, ..
                } => {
                    if *loader == Some(thread::current().id()) {
                        waits_for_itself();
                    }
                    *blocked = true;
                    state = self
                        .settled
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                State::Loaded(value) => return Some(value.clone()),
                State::Abandoned => return None,
            }
        }
    }

    /// Panics if this thread is polling this flight's own async load right now.
    fn refuse_self_wait(self: &Arc<Self>) {
        let id = flight_id(self);
        if POLLING.with(|polling| polling.borrow().contains(&id)) {
            waits_for_itself();
        }
    }

    /// [`wait`](Self::wait) for a task: leaves its waker and returns `Pending` while loading.
    fn poll_settled(&self, cx: &Context<'_>) -> Poll<Option<V>> {
        match &mut *lock(&self.state) {
            State::Loading { wakers, .. } => {
                if !wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
            State::Loaded(value) => Poll::Ready(Some(value.clone())),
            State::Abandoned => Poll::Ready(None),
        }
    }
}

/// A loader that waits for its own key: the panic, the same for every form.
#[cold]
#[track_caller]
fn waits_for_itself() -> ! {
    panic!(
        "mapguard: a loader asked the map for the key it is loading (it would wait for itself); \
         load other keys only, or return the value"
    )
}

/// What identifies a flight while it lives: its address (compared, never dereferenced).
fn flight_id<V>(flight: &Arc<Flight<V>>) -> usize {
    Arc::as_ptr(flight).cast::<()>() as usize
}

thread_local! {
    /// The flights whose async loads this thread is polling now, innermost last: a wait for
    /// one of them met during that poll is the loader waiting for itself.
    static POLLING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Marks a flight's load as being polled on this thread until dropped (a panicking poll too).
struct Polling(usize);

impl Polling {
    fn enter(id: usize) -> Self {
        POLLING.with(|polling| polling.borrow_mut().push(id));
        Self(id)
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        POLLING.with(|polling| {
            let mut polling = polling.borrow_mut();
            if let Some(at) = polling.iter().rposition(|&id| id == self.0) {
                polling.remove(at);
            }
        });
    }
}

/// The keys being loaded, each with its flight, in one of [`FLIGHT_LISTS`] lists picked by
/// the key's hash. Few loads run at once, so lists; a list's lock is taken only after a miss,
/// inside the key's shard lock (never the other way round). Several lists, because every miss
/// takes one twice: with one list for the whole map, threads missing on different shards
/// queued on it (2 threads ran a third as fast as 1, `compare --suite shared`).
#[derive(Debug)]
pub(crate) struct Flights<Q, V> {
    lists: Box<[FlightList<Q, V>]>,
}

/// Keys being loaded, with their flights.
type FlightList<Q, V> = Mutex<Vec<(Q, Arc<Flight<V>>)>>;

/// How many lists a map's flights are spread over.
const FLIGHT_LISTS: usize = 16;

impl<Q, V> Default for Flights<Q, V> {
    fn default() -> Self {
        Self {
            lists: (0..FLIGHT_LISTS).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }
}

impl<Q, V> Flights<Q, V> {
    /// The list of the keys whose hash is `hash`.
    fn list(&self, hash: u64) -> &FlightList<Q, V> {
        &self.lists[hash as usize % FLIGHT_LISTS]
    }
}

/// What a caller does after looking a key up.
pub(crate) enum Joined<Q, V> {
    /// The value was there.
    Found(V),
    /// Another caller is loading it: wait (the key comes back, for a retry).
    Wait(Q, Arc<Flight<V>>),
    /// Nobody is: load it (the key is in the list of flights).
    Load(Arc<Flight<V>>),
}

impl<Q: Eq, V: Clone> Flights<Q, V> {
    /// After a miss, under the key's shard lock: the flight loading `key`, or a new one (with
    /// `key` in the list) for the caller to load.
    #[cold]
    #[inline(never)]
    pub(crate) fn join_or_start(&self, key: Q, hash: u64, blocking: bool) -> Joined<Q, V> {
        let mut loads = lock(self.list(hash));
        if let Some((_, flight)) = loads.iter().find(|(loading, _)| *loading == key) {
            return Joined::Wait(key, Arc::clone(flight));
        }
        // Only a thread that loads in place can wait for itself; a task may wait on any thread.
        let loader = blocking.then(|| thread::current().id());
        let flight = Flight::new(hash, loader);
        loads.push((key, Arc::clone(&flight)));
        Joined::Load(flight)
    }

    /// Takes `flight`'s key back out of the list: the load is over.
    pub(crate) fn land(&self, flight: &Arc<Flight<V>>) -> Q {
        self.take_key(flight)
            .expect("a flight stays in the list until it lands")
    }

    /// `flight`'s key, out of the list, if it is still there. Compares flights by address
    /// only: no user code runs.
    fn take_key(&self, flight: &Arc<Flight<V>>) -> Option<Q> {
        let mut loads = lock(self.list(flight.hash));
        let at = loads
            .iter()
            .position(|(_, loading)| Arc::ptr_eq(loading, flight))?;
        Some(loads.swap_remove(at).0)
    }

    /// Ends `flight` with nothing stored by it: its key leaves the list if a store had not
    /// taken it yet, and its waiters look again.
    fn abandon(&self, flight: &Arc<Flight<V>>) {
        drop(self.take_key(flight));
        flight.settle(None);
    }
}

/// A map that loads through [`Flights`]: each concurrent kind, for its key type.
pub(crate) trait Flown {
    /// The key callers pass (a weak-keyed map's strong key).
    type Key: Eq;
    type Value: Clone;

    fn flights(&self) -> &Flights<Self::Key, Self::Value>;

    /// The key's hash, taken once per call: it picks the shard and finds the key in it, and
    /// the flight keeps it for storing.
    fn hash(&self, key: &Self::Key) -> u64;

    /// The value, if present: a counted hit, exactly what `get` does (a hit takes this path
    /// alone; a miss looks again in `find_or_join`, under the same lock as the flights).
    fn get_hashed(&self, hash: u64, key: &Self::Key) -> Option<Self::Value>;

    /// Under the key's shard lock: the value (a counted hit), or after a miss the key's flight
    /// joined or started.
    /// `blocking`: the caller loads on its own thread (not in a task).
    fn find_or_join(
        &self,
        key: Self::Key,
        hash: u64,
        blocking: bool,
    ) -> Joined<Self::Key, Self::Value>;
}

/// How a kind stores a load, by its policy: an evicting map always does; a bounded one
/// refuses when the map is full.
pub(crate) trait LoadInto: Flown {
    /// What a full map that refuses new keys hands back.
    type Rejected;

    /// Stores a loaded value under the shard lock of `flight`'s key, taking the key back out
    /// of the flights there; its hooks (and those of what it evicts) run after the lock.
    fn store(
        &self,
        flight: &Arc<Flight<Self::Value>>,
        value: Self::Value,
    ) -> Result<(), Self::Rejected>;
}

/// Why a load gave no value.
pub(crate) enum Failed<Er, R> {
    /// The loader's own error.
    Load(Er),
    /// The map was full and refuses new keys.
    Rejected(R),
}

/// Owns a flight from before its load runs until it is settled, and abandons it if anything
/// ends the load first: a loader that fails, panics or is cancelled (its future dropped), a
/// panicking `Clone`, `Hash` or `Eq`, a hook run by the store. The waiters then look again.
struct Landing<'a, M: LoadInto> {
    map: &'a M,
    flight: Arc<Flight<M::Value>>,
    settled: bool,
}

impl<'a, M: LoadInto> Landing<'a, M> {
    /// Made before the load runs, so that however it ends, the flight does.
    fn new(map: &'a M, flight: Arc<Flight<M::Value>>) -> Self {
        Self {
            map,
            flight,
            settled: false,
        }
    }

    /// Stores the loader's own value and settles the flight with a clone of it for the
    /// waiters; the caller gets another. A refusal hands the loader's own value back (inside
    /// the rejection) and abandons the flight, as a failed load does.
    fn land<Er>(
        mut self,
        loaded: Result<M::Value, Er>,
    ) -> Result<M::Value, Failed<Er, M::Rejected>> {
        let value = loaded.map_err(Failed::Load)?;
        // Cloned before the store: once stored, the value may be evicted at any moment.
        let copy = value.clone();
        match self.map.store(&self.flight, value) {
            Ok(()) => {
                let for_waiters = copy.clone();
                self.settled = true;
                self.flight.settle(Some(for_waiters));
                Ok(copy)
            }
            Err(rejected) => Err(Failed::Rejected(rejected)),
        }
    }
}

impl<M: LoadInto> Drop for Landing<'_, M> {
    fn drop(&mut self) {
        if !self.settled {
            self.map.flights().abandon(&self.flight);
        }
    }
}

/// The value for `key`, loading it with `load` on this thread if absent, once however many
/// threads ask (see the module docs). A hit costs a lookup: the rest is out of line.
#[inline]
pub(crate) fn load_blocking<M: LoadInto, Er>(
    map: &M,
    key: M::Key,
    load: impl FnOnce() -> Result<M::Value, Er>,
) -> Result<M::Value, Failed<Er, M::Rejected>> {
    let hash = map.hash(&key);
    match map.get_hashed(hash, &key) {
        Some(value) => Ok(value),
        None => wait_or_load(map, map.find_or_join(key, hash, true), load),
    }
}

/// [`load_blocking`] after a miss: waits for the key's flight, or runs its own load.
#[cold]
#[inline(never)]
fn wait_or_load<M: LoadInto, Er>(
    map: &M,
    mut joined: Joined<M::Key, M::Value>,
    load: impl FnOnce() -> Result<M::Value, Er>,
) -> Result<M::Value, Failed<Er, M::Rejected>> {
    loop {
        match joined {
            Joined::Found(value) => return Ok(value),
            Joined::Wait(key, flight) => match flight.wait() {
                Some(value) => return Ok(value),
                None => joined = map.find_or_join(key, flight.hash, true),
            },
            // The landing exists before `load` runs: a panic drops it, abandoning the flight.
            Joined::Load(flight) => return Landing::new(map, flight).land(load()),
        }
    }
}

/// [`load_blocking`] for a task: waiting leaves a waker, loading awaits `load`.
pub(crate) async fn load_async<M: LoadInto, Er>(
    map: &M,
    mut key: M::Key,
    load: impl Future<Output = Result<M::Value, Er>>,
) -> Result<M::Value, Failed<Er, M::Rejected>> {
    let hash = map.hash(&key);
    if let Some(value) = map.get_hashed(hash, &key) {
        return Ok(value);
    }
    loop {
        match map.find_or_join(key, hash, false) {
            Joined::Found(value) => return Ok(value),
            Joined::Wait(again, flight) => {
                flight.refuse_self_wait();
                match core::future::poll_fn(|cx| flight.poll_settled(cx)).await {
                    Some(value) => return Ok(value),
                    None => key = again,
                }
            }
            // Cancelling the task drops the landing, abandoning the flight.
            Joined::Load(flight) => {
                let id = flight_id(&flight);
                let landing = Landing::new(map, flight);
                let mut load = pin!(load);
                let loaded = core::future::poll_fn(|cx| {
                    let _polling = Polling::enter(id);
                    load.as_mut().poll(cx)
                })
                .await;
                return landing.land(loaded);
            }
        }
    }
}
