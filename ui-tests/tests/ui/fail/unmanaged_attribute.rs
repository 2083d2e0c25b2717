// #[mapguard::unmanaged] on an item needs a non-empty reason.
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

#[mapguard::unmanaged]
static NO_REASON: LazyLock<Mutex<HashMap<u32, u32>>> = LazyLock::new(Default::default);

#[mapguard::unmanaged(reason = "")]
static EMPTY: LazyLock<Mutex<HashMap<u32, u32>>> = LazyLock::new(Default::default);

#[mapguard::unmanaged(because = "typo")]
static WRONG_KEY: LazyLock<Mutex<HashMap<u32, u32>>> = LazyLock::new(Default::default);

fn main() {}
