// #[mapguard::unmanaged(reason)] on statics and types: the item is unchanged.
#![deny(clippy::disallowed_types)]
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

#[mapguard::unmanaged(reason = "ISO country codes, filled once")]
static COUNTRIES: LazyLock<Mutex<HashMap<&'static str, u16>>> =
    LazyLock::new(|| Mutex::new(HashMap::from([("SE", 752)])));

#[mapguard::unmanaged(reason = "a lookup table built at start-up")]
struct Table {
    entries: HashMap<u8, u8>,
}

#[test]
fn expands_and_runs() {
    assert_eq!(COUNTRIES.lock().unwrap()["SE"], 752);
    let table = Table {
        entries: HashMap::new(),
    };
    assert!(table.entries.is_empty());
}
