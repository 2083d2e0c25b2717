#![no_main]
//! Replays arbitrary operations on the map kind `adaptive` against the reference model.

libfuzzer_sys::fuzz_target!(|run: mapguard_fuzz::Run| {
    mapguard_fuzz::replay(mapguard_fuzz::Kind::Adaptive, &run);
});
