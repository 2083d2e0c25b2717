#![no_main]
//! Replays arbitrary operations on the map kind `lru` against the reference model.

libfuzzer_sys::fuzz_target!(|run: mapguard_fuzz::Run| {
    mapguard_fuzz::replay(mapguard_fuzz::Kind::Lru, &run);
});
