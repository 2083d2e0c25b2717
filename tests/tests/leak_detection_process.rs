//! The process-wide detector on a mock registry clock. One test in its own binary: it sets the
//! registry's clock, which is process-wide.

use std::time::Duration;

use mapguard::LruMap;
use mapguard::registry::{self, Suspicion};
use mapguard::testing::MockClock;

#[test]
fn scrapes_alone_feed_leak_suspects_and_a_one_shot_check_sees_old_growth() {
    let clock = MockClock::new();
    registry::set_clock(clock.clone());

    // A program that only ever renders Prometheus text, every 15 s, while a map leaks ...
    let mut leaky = LruMap::builder(1_000_000).name("Process.leaky").build();
    let mut steady = LruMap::builder(1_000).name("Process.steady").build();
    let mut next = 0_u64;
    for _ in 0..40 {
        leaky.extend((next..next + 100).map(|k| (k, ())));
        next += 100;
        steady.extend((0..1_000).map(|k| (k, ())));
        let _ = registry::render_prometheus();
        clock.advance(Duration::from_secs(15));
    }
    // ... and calls leak_suspects once, at the end.
    let suspects = registry::leak_suspects();
    let leaky_suspect = suspects.iter().find(|s| s.map.name == "Process.leaky");
    assert!(
        matches!(
            leaky_suspect.map(|s| &s.suspicion),
            // Over the last 5 minutes: from the scrape at 5:00 (2,100 entries) to 4,000.
            Some(Suspicion::Growing {
                per_minute: 380,
                growth: 1_900,
                ..
            })
        ),
        "{suspects:#?}"
    );
    assert!(suspects.iter().all(|s| s.map.name != "Process.steady"));

    // A map nobody read while it grew for ten minutes: judged on its own figures.
    let mut unwatched = LruMap::builder(1_000_000).name("Process.unwatched").build();
    for minute in 0..10_u64 {
        unwatched.extend((minute * 500..(minute + 1) * 500).map(|k| (k, ())));
        clock.advance(Duration::from_secs(60));
    }
    let suspects = registry::leak_suspects();
    assert!(
        matches!(
            suspects.iter().find(|s| s.map.name == "Process.unwatched").map(|s| &s.suspicion),
            Some(Suspicion::Growing { growth: 5_000, per_minute: 500, growing_for })
                if *growing_for == Duration::from_secs(600)
        ),
        "{suspects:#?}"
    );
}
