#![no_main]
//! Replays arbitrary operations on the map kind `weak` against the reference model.

libfuzzer_sys::fuzz_target!(|run: mapguard_fuzz::Run| {
    mapguard_fuzz::replay(mapguard_fuzz::Kind::Weak, &run);
});
