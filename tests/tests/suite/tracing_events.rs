//! The `tracing` feature: hook panics (error), new leak suspects found by `registry::watch`
//! (warn), scope ends with their counts (debug) and values leaving by cause (trace) reach a
//! subscriber as events with target `mapguard` and the map's name as a field.
//!
//! Each test installs its subscriber for its own thread only (`with_default`), so the other
//! tests of this binary, running at once, do not reach it.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Duration;

use mapguard::scope::Scope;
use mapguard::{ConcurrentLruMap, Lifetime, LruMap, RemovalCause};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// One event as the subscriber saw it: level, target, and every field as text.
#[derive(Clone, Debug)]
struct Seen {
    level: Level,
    target: String,
    fields: BTreeMap<String, String>,
}

impl Seen {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// A subscriber that keeps every event at or above `max` (a level filter, as
/// `tracing-subscriber`'s would be).
#[derive(Clone)]
struct Recorder {
    max: Level,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Recorder {
    fn new(max: Level) -> Self {
        // tracing computes a callsite's interest once, process-wide. While a single
        // dispatcher is registered, it asks only the registering thread's current one, so
        // another test's thread (no recorder: "never") could meet one of our callsites first
        // and switch it off for every later recorder. A second recorder that lives as long
        // as the process makes every registration ask all of them.
        static KEEPER: OnceLock<tracing::Dispatch> = OnceLock::new();
        KEEPER.get_or_init(|| {
            tracing::Dispatch::new(Self {
                max: Level::ERROR,
                seen: Arc::default(),
            })
        });
        Self {
            max,
            seen: Arc::default(),
        }
    }

    /// The events of target `mapguard` naming `map`.
    fn of(&self, map: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|seen| seen.target == "mapguard" && seen.field("map") == Some(map))
            .cloned()
            .collect()
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Recorder {
    /// Never cached as "always" or "never": tests of this binary install recorders on their
    /// own threads at the same time, each with its own level. (A service's one global
    /// subscriber has no such race.)
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.seen.lock().unwrap().push(Seen {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            fields,
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn evictions_are_trace_events_with_their_cause_and_count() {
    let recorder = Recorder::new(Level::TRACE);
    tracing::subscriber::with_default(recorder.clone(), || {
        let mut map = LruMap::builder(2).name("Trace.evicting").build();
        for key in 0..5 {
            map.insert(key, ());
        }
        assert_eq!(map.remove(&4), Some(())); // handed back: not a departure through the cleanup path
        map.clear();
    });
    let events = recorder.of("Trace.evicting");
    let count = |cause: RemovalCause| -> u64 {
        events
            .iter()
            .filter(|e| e.level == Level::TRACE && e.field("cause") == Some(cause.as_str()))
            .map(|e| e.field("count").unwrap().parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!(count(RemovalCause::Evicted), 3, "{events:#?}");
    assert_eq!(count(RemovalCause::Cleared), 1, "{events:#?}");
    assert_eq!(events.len(), 4, "nothing else: {events:#?}");
}

#[test]
fn a_subscriber_that_does_not_listen_at_trace_gets_no_evictions() {
    let recorder = Recorder::new(Level::DEBUG);
    tracing::subscriber::with_default(recorder.clone(), || {
        let mut map = LruMap::builder(1).name("Trace.filtered").build();
        for key in 0..10 {
            map.insert(key, ());
        }
    });
    assert!(recorder.of("Trace.filtered").is_empty());
}

#[test]
fn hook_panics_are_error_events() {
    let recorder = Recorder::new(Level::ERROR);
    tracing::subscriber::with_default(recorder.clone(), || {
        let mut map = LruMap::builder(1)
            .name("Trace.panicking")
            .on_removal(|_key: u8, _value: u8, _cause| panic!("a hook fails on purpose"))
            .build();
        map.insert(1, 1);
        let outcome = catch_unwind(AssertUnwindSafe(|| map.insert(2, 2)));
        assert!(outcome.is_err(), "the hook's panic reaches the caller");
        std::mem::forget(map); // dropping it would run the panicking hook again
    });
    let events = recorder.of("Trace.panicking");
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].level, Level::ERROR);
    assert_eq!(events[0].field("count"), Some("1"));
}

#[test]
fn scope_ends_are_debug_events_with_their_counts() {
    let recorder = Recorder::new(Level::DEBUG);
    tracing::subscriber::with_default(recorder.clone(), || {
        let map = ConcurrentLruMap::builder(64)
            .name("Trace.request_rows")
            .lifetime(Lifetime::Request)
            .build();
        let request = Scope::new(Lifetime::Request);
        {
            let _current = request.enter();
            for key in 0..3 {
                map.insert(key, key);
            }
        }
        assert_eq!(request.end(), 3);
        assert_eq!(map.len(), 0); // the map's next operation settles the ended scope
        map.insert(10, 10); // unscoped: leaves with the whole lifetime's end
        assert_eq!(map.end_scope(Lifetime::Request), 1);
    });
    let ends: Vec<(String, String)> = recorder
        .of("Trace.request_rows")
        .into_iter()
        .filter(|e| e.level == Level::DEBUG)
        .map(|e| {
            assert_eq!(e.field("lifetime"), Some("request"));
            (
                e.field("count").unwrap().to_owned(),
                e.field("whole_lifetime").unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        ends,
        [
            (String::from("3"), String::from("false")),
            (String::from("1"), String::from("true"))
        ]
    );
}

#[test]
fn the_watch_warns_once_per_new_suspect_on_the_callers_subscriber() {
    let recorder = Recorder::new(Level::WARN);
    let (checks, checked) = mpsc::channel();
    let mut thrashing = LruMap::builder(2).name("Trace.thrashing").build();
    let _ = mapguard::registry::snapshot(); // a sample before the evictions
    for key in 0..100 {
        thrashing.insert(key, ());
    }
    let watch = tracing::subscriber::with_default(recorder.clone(), || {
        mapguard::registry::watch(Duration::from_millis(5), move |suspects| {
            let _ = checks.send(suspects.iter().any(|s| s.map.name == "Trace.thrashing"));
        })
    });
    // Three checks that each saw the map suspected.
    let mut suspected = 0;
    while suspected < 3 {
        let seen = checked
            .recv_timeout(Duration::from_secs(30))
            .expect("the watch checks");
        suspected += usize::from(seen);
    }
    drop(watch);
    let warnings = recorder.of("Trace.thrashing");
    assert_eq!(
        warnings.len(),
        1,
        "one alert, not one per check: {warnings:#?}"
    );
    assert_eq!(warnings[0].level, Level::WARN);
    assert!(
        warnings[0]
            .field("suspicion")
            .unwrap()
            .starts_with("thrashing")
    );
    assert!(
        warnings[0]
            .field("site")
            .unwrap()
            .contains("tracing_events.rs")
    );
    drop(thrashing);
}
