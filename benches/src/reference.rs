//! A simulated adaptive W-TinyLFU, the reference policy (Caffeine's;
//! Einziger et al., "Adaptive Software Cache Management", Middleware 2018): a column of
//! `compare --suite traces`, and the `reference_policy` runner's subject.
//!
//! A simulation, not a cache: keys only, on std collections. It follows Caffeine's design: an
//! LRU window in front of a segmented LRU main (80% protected); a count-min sketch of four rows
//! of 4-bit counters, one counter a row per slot of the capacity, halved every 10× capacity
//! increments, counting every request; a window victim enters the main only if the sketch
//! counts it more often than the main's LRU victim; and a hill climber on the window's share
//! (samples of a factor × capacity requests, a first step of 1/16 of the capacity shrinking
//! ×0.98 a sample, back to 1/16 when the hit ratio moves 5 points, first down from 1% unless
//! told to grow first). Left out: Caffeine's doorkeeper and its random admission against hash
//! flooding.

use std::collections::HashMap;

use crate::Key;

const NIL: u32 = u32::MAX;

/// The three LRU queues; every entry is in one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Queue {
    Window = 0,
    Probation = 1,
    Protected = 2,
}

#[derive(Clone, Copy)]
struct Node {
    key: Key,
    prev: u32,
    next: u32,
    queue: Queue,
}

/// A queue's ends (head most recent) and length.
#[derive(Clone, Copy)]
struct Ends {
    head: u32,
    tail: u32,
    len: usize,
}

const EMPTY: Ends = Ends {
    head: NIL,
    tail: NIL,
    len: 0,
};

/// Four rows of saturating 4-bit counts (a byte each, for clarity), halved when the sample
/// is full so old popularity fades.
struct Sketch {
    rows: [Vec<u8>; 4],
    mask: usize,
    additions: usize,
    sample: usize,
}

fn row_hash(key: Key, row: u64) -> usize {
    let mut x = key ^ row.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (x ^ (x >> 31)) as usize
}

impl Sketch {
    fn new(width: usize, sample: usize) -> Self {
        let width = width.next_power_of_two().max(16);
        Self {
            rows: std::array::from_fn(|_| vec![0; width]),
            mask: width - 1,
            additions: 0,
            sample,
        }
    }

    fn frequency(&self, key: Key) -> u8 {
        (0..4)
            .map(|row| self.rows[row][row_hash(key, row as u64) & self.mask])
            .min()
            .unwrap_or(0)
    }

    fn increment(&mut self, key: Key) {
        let mut added = false;
        for row in 0..4 {
            let count = &mut self.rows[row][row_hash(key, row as u64) & self.mask];
            if *count < 15 {
                *count += 1;
                added = true;
            }
        }
        if added {
            self.additions += 1;
            if self.additions >= self.sample {
                self.rows.iter_mut().flatten().for_each(|count| *count /= 2);
                self.additions /= 2;
            }
        }
    }
}

/// The climber's settings (Caffeine's defaults but for the sample factor and direction).
#[derive(Clone, Copy, Debug)]
pub struct Climb {
    /// Requests per sample, as a factor of the capacity.
    pub sample_factor: f64,
    /// Whether the first step grows the window (Caffeine shrinks it first).
    pub grow_first: bool,
}

impl Default for Climb {
    fn default() -> Self {
        Self {
            sample_factor: 10.0,
            grow_first: false,
        }
    }
}

#[mapguard::unmanaged(
    reason = "a simulation's index: at most capacity + 1 keys, evicted on every miss"
)]
/// The simulated cache.
pub struct WTinyLfu {
    nodes: Vec<Node>,
    free: Vec<u32>,
    index: HashMap<Key, u32>,
    queues: [Ends; 3],
    capacity: usize,
    max_window: usize,
    max_protected: usize,
    sketch: Sketch,
    hits: u64,
    requests: u64,
    sample: u64,
    previous_rate: f64,
    /// Entries the window moves by at the next sample; positive grows it.
    step: f64,
}

impl std::fmt::Debug for WTinyLfu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WTinyLfu")
            .field("capacity", &self.capacity)
            .field("len", &self.index.len())
            .field("max_window", &self.max_window)
            .finish_non_exhaustive()
    }
}

impl WTinyLfu {
    /// The window's share of the capacity now, from 0 to 1.
    #[must_use]
    #[allow(clippy::cast_precision_loss, reason = "a ratio")]
    pub fn window_share(&self) -> f64 {
        self.max_window as f64 / self.capacity.max(1) as f64
    }

    /// Replays `keys` through a fresh cache of `capacity`: hits over requests.
    #[must_use]
    #[allow(clippy::cast_precision_loss, reason = "a ratio")]
    pub fn hit_ratio(keys: &[Key], capacity: usize) -> f64 {
        let mut cache = Self::new(capacity, Climb::default());
        let hits = keys.iter().filter(|&&key| cache.request(key)).count();
        hits as f64 / keys.len().max(1) as f64
    }

    /// An empty cache of `capacity` keys.
    #[must_use]
    pub fn new(capacity: usize, climb: Climb) -> Self {
        let max_window = capacity / 100;
        let first_step = capacity as f64 / 16.0;
        #[allow(clippy::cast_sign_loss, reason = "at least 1")]
        let sample = (climb.sample_factor * capacity as f64).max(1.0) as u64;
        let mut cache = Self {
            nodes: Vec::with_capacity(capacity + 1),
            free: Vec::new(),
            index: HashMap::with_capacity(capacity + 1),
            queues: [EMPTY; 3],
            capacity,
            max_window,
            max_protected: 0,
            sketch: Sketch::new(capacity, 10 * capacity),
            hits: 0,
            requests: 0,
            sample,
            previous_rate: 0.0,
            step: if climb.grow_first {
                first_step
            } else {
                -first_step
            },
        };
        cache.set_window(max_window);
        cache
    }

    fn set_window(&mut self, max_window: usize) {
        self.max_window = max_window;
        self.max_protected = (self.capacity - max_window) * 4 / 5;
    }

    fn unlink(&mut self, at: u32) {
        let Node {
            prev, next, queue, ..
        } = self.nodes[at as usize];
        let ends = &mut self.queues[queue as usize];
        ends.len -= 1;
        if prev == NIL {
            ends.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        let ends = &mut self.queues[queue as usize];
        if next == NIL {
            ends.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
    }

    fn push_front(&mut self, at: u32, queue: Queue) {
        let head = self.queues[queue as usize].head;
        let node = &mut self.nodes[at as usize];
        (node.prev, node.next, node.queue) = (NIL, head, queue);
        if head == NIL {
            self.queues[queue as usize].tail = at;
        } else {
            self.nodes[head as usize].prev = at;
        }
        let ends = &mut self.queues[queue as usize];
        ends.head = at;
        ends.len += 1;
    }

    fn move_to(&mut self, at: u32, queue: Queue) {
        self.unlink(at);
        self.push_front(at, queue);
    }

    fn evict(&mut self, at: u32) {
        self.unlink(at);
        self.index.remove(&self.nodes[at as usize].key);
        self.free.push(at);
    }

    fn tail(&self, queue: Queue) -> u32 {
        self.queues[queue as usize].tail
    }

    fn len(&self, queue: Queue) -> usize {
        self.queues[queue as usize].len
    }

    /// One request: whether it hit. A miss stores the key.
    pub fn request(&mut self, key: Key) -> bool {
        self.sketch.increment(key);
        let hit = if let Some(&at) = self.index.get(&key) {
            match self.nodes[at as usize].queue {
                Queue::Window => self.move_to(at, Queue::Window),
                Queue::Probation | Queue::Protected => {
                    self.move_to(at, Queue::Protected);
                    self.demote_protected();
                }
            }
            true
        } else {
            self.store(key);
            false
        };
        self.hits += u64::from(hit);
        self.requests += 1;
        if self.requests >= self.sample {
            self.climb();
        }
        hit
    }

    fn store(&mut self, key: Key) {
        let node = Node {
            key,
            prev: NIL,
            next: NIL,
            queue: Queue::Window,
        };
        let at = if let Some(at) = self.free.pop() {
            self.nodes[at as usize] = node;
            at
        } else {
            self.nodes.push(node);
            u32::try_from(self.nodes.len() - 1).expect("a simulated cache fits u32 slots")
        };
        self.index.insert(key, at);
        self.push_front(at, Queue::Window);
        let candidates = self.spill_window();
        self.evict_from_main(candidates);
    }

    fn demote_protected(&mut self) {
        while self.len(Queue::Protected) > self.max_protected {
            self.move_to(self.tail(Queue::Protected), Queue::Probation);
        }
    }

    /// Moves what the window holds beyond its share to the probation queue's head; returns
    /// how many moved (the candidates for admission).
    fn spill_window(&mut self) -> usize {
        let mut moved = 0;
        while self.len(Queue::Window) > self.max_window {
            self.move_to(self.tail(Queue::Window), Queue::Probation);
            moved += 1;
        }
        moved
    }

    /// While over capacity: the oldest new candidate against the probation queue's LRU entry;
    /// the one the sketch counts less often leaves (the candidate on a tie).
    fn evict_from_main(&mut self, mut candidates: usize) {
        while self.index.len() > self.capacity {
            let probation = self.queues[Queue::Probation as usize];
            if candidates == 0 || probation.len < 2 {
                let victim = [Queue::Probation, Queue::Protected, Queue::Window]
                    .into_iter()
                    .map(|queue| self.tail(queue))
                    .find(|&tail| tail != NIL)
                    .expect("over capacity, so not empty");
                self.evict(victim);
                continue;
            }
            let mut candidate = probation.head;
            for _ in 1..candidates {
                candidate = self.nodes[candidate as usize].next;
            }
            candidates -= 1;
            let victim = probation.tail;
            let candidate_count = self.sketch.frequency(self.nodes[candidate as usize].key);
            let victim_count = self.sketch.frequency(self.nodes[victim as usize].key);
            if candidate != victim && candidate_count > victim_count {
                self.evict(victim);
            } else {
                self.evict(candidate);
            }
        }
    }

    /// A sample is full: move the window's share one step, turning round if the hit ratio fell.
    fn climb(&mut self) {
        let rate = self.hits as f64 / self.requests as f64;
        let change = rate - self.previous_rate;
        let amount = if change >= 0.0 { self.step } else { -self.step };
        self.step = if change.abs() >= 0.05 {
            self.capacity as f64 / 16.0 * amount.signum()
        } else {
            amount * 0.98
        };
        (self.previous_rate, self.hits, self.requests) = (rate, 0, 0);
        let window = (self.max_window as f64 + amount.round()).clamp(0.0, self.capacity as f64);
        #[allow(clippy::cast_sign_loss, reason = "clamped to 0..=capacity")]
        self.set_window(window as usize);
        // A bigger window takes the main's least recent entries; a smaller one spills into
        // probation.
        while self.len(Queue::Window) < self.max_window {
            let Some(from) = [Queue::Probation, Queue::Protected]
                .into_iter()
                .map(|queue| self.tail(queue))
                .find(|&tail| tail != NIL)
            else {
                break;
            };
            self.move_to(from, Queue::Window);
        }
        self.demote_protected();
        self.spill_window();
    }
}
