//! Leak detection on a mock clock: each test owns its detector and clock, so they run in
//! parallel with no lock (other tests' registry reads only add samples of the truth).

use std::sync::mpsc;
use std::time::Duration;

use mapguard::registry::{self, LeakDetector, Suspicion, Thresholds};
use mapguard::testing::MockClock;
use mapguard::{Lifetime, LruMap};

const MINUTE: Duration = Duration::from_secs(60);

fn suspicion(detector: &LeakDetector, name: &str) -> Option<Suspicion> {
    detector
        .suspects()
        .into_iter()
        .find(|s| s.map.name == name)
        .map(|s| s.suspicion)
}

#[test]
fn growth_in_steps_with_pauses_is_caught_at_the_check_after_a_pause() {
    let clock = MockClock::new();
    let detector = LeakDetector::with_clock(clock.clone());
    let mut map = LruMap::builder(1_000_000).name("Leak.steps").build();
    // Batches of 5,000 entries two minutes apart, a check after each batch ...
    for batch in 0..4_u32 {
        for key in 0..5_000 {
            map.insert((batch, key), ());
        }
        let flagged = suspicion(&detector, "Leak.steps");
        if batch < 3 {
            assert_eq!(
                flagged, None,
                "batch {batch}: watched for less than a window"
            );
        }
        clock.advance(2 * MINUTE);
    }
    // ... and once more after a pause with no growth at all.
    clock.advance(MINUTE);
    let Some(Suspicion::Growing {
        growth,
        per_minute,
        growing_for,
    }) = suspicion(&detector, "Leak.steps")
    else {
        panic!("a map that grew by 20,000 in steps was not flagged");
    };
    // The window (5 minutes) starts at the sample of minute 4 (batch 2: 15,000 entries).
    assert_eq!(growth, 5_000);
    assert_eq!(per_minute, 1_000);
    assert_eq!(growing_for, 9 * MINUTE, "since the first sample");
}

#[test]
fn a_map_that_shrinks_below_the_windows_start_is_not_growing() {
    let clock = MockClock::new();
    let detector = LeakDetector::with_clock(clock.clone());
    let mut map = LruMap::builder(1_000_000).name("Leak.shrinks").build();
    map.extend((0..5_000).map(|k| (k, ())));
    for minute in 0..8 {
        let _ = registry::snapshot();
        if minute == 5 {
            map.retain(|k, ()| *k < 1_000); // a purge: back below where the window started
            map.extend((10_000..14_000).map(|k| (k, ())));
        }
        clock.advance(MINUTE);
    }
    assert_eq!(suspicion(&detector, "Leak.shrinks"), None);
}

#[test]
fn a_scraped_service_is_judged_on_its_scrapes_alone() {
    let clock = MockClock::new();
    let detector = LeakDetector::with_clock(clock.clone());
    let mut sessions = LruMap::builder(1_000_000).name("Leak.scraped").build();
    let mut next = 0_u64;
    // 10 minutes of scrapes every 15 s; 100 sessions leak between scrapes.
    for _ in 0..40 {
        sessions.extend((next..next + 100).map(|k| (k, ())));
        next += 100;
        let text = registry::render_prometheus();
        assert!(text.contains("Leak.scraped"));
        clock.advance(Duration::from_secs(15));
    }
    // The check at 10:00 looks back 5 minutes, to the scrape at 5:00 (2,100 sessions); the
    // last 15 s gained nothing, so the rate is a little under the 400 a minute it leaked at.
    assert_eq!(
        suspicion(&detector, "Leak.scraped"),
        Some(Suspicion::Growing {
            growth: 1_900,
            per_minute: 380,
            growing_for: 10 * MINUTE
        })
    );
}

#[test]
fn a_steady_map_at_its_bound_is_never_flagged() {
    let clock = MockClock::new();
    let detector =
        LeakDetector::with_clock(clock.clone()).thresholds(Thresholds::default().min_growth(10));
    let mut cache = LruMap::builder(2_000).name("Leak.steady").build();
    let mut filled_fast = LruMap::builder(5_000).name("Leak.filled").build();
    for minute in 0..30_u64 {
        // Hot keys repeat: at its bound, no evictions.
        cache.extend((0..2_000).map(|k| (k, minute)));
        if minute < 3 {
            filled_fast.extend((minute * 2_000..(minute + 1) * 2_000).map(|k| (k, ())));
        }
        for suspect in detector.suspects() {
            assert!(
                !suspect.map.name.starts_with("Leak.steady")
                    && !suspect.map.name.starts_with("Leak.filled"),
                "minute {minute}: {suspect:?}"
            );
        }
        clock.advance(MINUTE);
    }
}

#[test]
fn a_thrashing_map_is_flagged_with_its_evictions_in_the_window() {
    let clock = MockClock::new();
    let detector = LeakDetector::with_clock(clock.clone());
    let mut thrash = LruMap::builder(100).name("Leak.thrash").build();
    let mut next = 0_u64;
    for _ in 0..10 {
        thrash.extend((next..next + 50).map(|k| (k, ()))); // keys never repeat
        next += 50;
        let _ = registry::snapshot();
        clock.advance(MINUTE);
    }
    // Window: the last 5 minutes; the start sample is at minute 5 (after 300 inserts).
    assert_eq!(
        suspicion(&detector, "Leak.thrash"),
        Some(Suspicion::Thrashing { evictions: 200 })
    );
}

#[test]
fn a_forgotten_scope_is_flagged_with_a_caller_threshold() {
    let detector = LeakDetector::with_clock(MockClock::new())
        .thresholds(Thresholds::default().forgotten_scope_ends(3));
    let mut forgotten = LruMap::builder(10)
        .name("Leak.forgotten")
        .lifetime(Lifetime::Batch)
        .build();
    forgotten.insert(1, ());
    let mut served = LruMap::builder(10).lifetime(Lifetime::Batch).build();
    for batch in 0..3 {
        served.insert(batch, ());
        served.end_scope(Lifetime::Batch);
    }
    assert!(matches!(
        suspicion(&detector, "Leak.forgotten"),
        Some(Suspicion::ScopeNeverEnded { scope_ends }) if scope_ends >= 3
    ));
    forgotten.end_scope(Lifetime::Batch);
    assert_eq!(suspicion(&detector, "Leak.forgotten"), None);
}

#[test]
fn several_detectors_keep_their_own_clocks_histories_and_thresholds() {
    let (fast_clock, slow_clock) = (MockClock::new(), MockClock::new());
    let fast = LeakDetector::with_clock(fast_clock.clone())
        .thresholds(Thresholds::default().window(MINUTE).min_growth(100));
    let slow = LeakDetector::with_clock(slow_clock.clone());
    let mut map = LruMap::builder(1_000_000).name("Leak.several").build();
    for step in 0..6_u64 {
        map.extend((step * 100..(step + 1) * 100).map(|k| (k, ())));
        let _ = registry::snapshot();
        fast_clock.advance(Duration::from_secs(30));
        slow_clock.advance(Duration::from_secs(1));
    }
    // The fast detector has watched for 3 minutes of its time; its 1-minute window starts at
    // the sample of 2:00 (500 entries), and the map holds 600.
    assert!(matches!(
        suspicion(&fast, "Leak.several"),
        Some(Suspicion::Growing {
            growth: 100,
            per_minute: 100,
            ..
        })
    ));
    // The slow one has seen 6 seconds: not a window yet (and the map is young on the
    // registry's clock, so the one-shot rule does not apply either).
    assert_eq!(suspicion(&slow, "Leak.several"), None);
}

#[test]
fn a_watch_reports_until_it_is_dropped() {
    let mut map = LruMap::builder(2).name("Leak.watched").build();
    let _ = registry::snapshot();
    map.extend((0..100).map(|k| (k, ()))); // thrashes
    let (sender, inbox) = mpsc::channel();
    let watch = registry::watch(Duration::from_millis(1), move |suspects| {
        let thrash = suspects.into_iter().any(|s| {
            s.map.name == "Leak.watched" && matches!(s.suspicion, Suspicion::Thrashing { .. })
        });
        let _ = sender.send(thrash);
    });
    // Waits for a message, not for time: the timeout only guards against a hang.
    let reported = inbox
        .recv_timeout(Duration::from_secs(60))
        .expect("a report");
    assert!(reported);
    drop(watch);
    // The thread is gone: its sender was dropped with it.
    while inbox.recv_timeout(Duration::from_secs(60)).is_ok() {}
    assert!(matches!(
        inbox.recv_timeout(Duration::from_secs(1)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    ));
}

#[test]
fn a_request_map_written_outside_its_requests_is_flagged_with_its_unscoped_growth() {
    use mapguard::ConcurrentLruMap;
    use mapguard::scope::Scope;

    let clock = MockClock::new();
    let detector =
        LeakDetector::with_clock(clock.clone()).thresholds(Thresholds::default().min_growth(100));
    let leaky = ConcurrentLruMap::builder(1_000_000)
        .name("Leak.unscoped")
        .lifetime(Lifetime::Request)
        .build();
    let clean = ConcurrentLruMap::builder(1_000_000)
        .name("Leak.scoped")
        .lifetime(Lifetime::Request)
        .build();
    let mut next = 0_u64;
    for _ in 0..10 {
        // Each minute: 50 requests whose entries leave with them, in both maps ...
        for _ in 0..50 {
            let request = Scope::new(Lifetime::Request);
            let _current = request.enter();
            leaky.insert(next, ());
            clean.insert(next, ());
            next += 1;
        }
        // ... and 40 writes into `leaky` from outside any request (a background job).
        for _ in 0..40 {
            leaky.insert(next, ());
            next += 1;
        }
        leaky.maintain();
        clean.maintain();
        let _ = suspicion(&detector, "Leak.unscoped");
        clock.advance(MINUTE);
    }
    assert_eq!(leaky.unscoped(), 400);
    assert_eq!(leaky.len(), 400, "the requests' own entries left");
    assert_eq!(suspicion(&detector, "Leak.scoped"), None);
    let Some(Suspicion::UnscopedWrites { unscoped, growth }) =
        suspicion(&detector, "Leak.unscoped")
    else {
        panic!("unscoped writes growing by 40 a minute were not flagged");
    };
    assert_eq!(unscoped, 400);
    // The last check is at minute 10; the 5-minute window starts at the sample of minute 5,
    // taken after the sixth batch of writes (6 × 40 = 240).
    assert_eq!(growth, 400 - 240);

    // The figure is in the map's stats, the report and the Prometheus page too.
    let stats = &mapguard::ManagedCache::stats(&leaky)[0];
    assert_eq!(stats.unscoped, 400);
    let report = registry::snapshot();
    let row = report.iter().find(|m| m.name == "Leak.unscoped").unwrap();
    assert_eq!(row.unscoped, 400);
    assert!(
        registry::render_prometheus().lines().any(|line| line
            .starts_with("mapguard_map_unscoped_entries{map=\"Leak.unscoped\"")
            && line.ends_with(" 400")),
        "the Prometheus page has the unscoped gauge"
    );
    let table = registry::report();
    let header = table.lines().next().unwrap();
    assert!(header.contains("unscoped"));
}
