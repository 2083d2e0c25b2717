//! Every map declares its lifecycle, so the clippy layer has nothing to say.
#![deny(clippy::disallowed_types)]

// The import names the type; each use declares its lifecycle (the layer still checks those).
#[allow(clippy::disallowed_types, reason = "only in #[managed_map] and #[unmanaged] fields")]
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use mapguard::{LruMap, ManagedCache};

#[mapguard::managed]
#[derive(Default)]
pub struct Service {
    #[managed_map(lifetime = "request", max = 1_000)]
    pub per_request: HashMap<u64, String>,
    #[managed_map(lifetime = "process", max = 64, evict = "reject", concurrent)]
    pub shared: HashMap<String, u64>,
    #[unmanaged(reason = "HTTP status texts, filled once at start-up")]
    pub statuses: HashMap<u16, &'static str>,
}

#[mapguard::unmanaged(reason = "ISO country codes, filled once")]
pub static COUNTRIES: LazyLock<Mutex<HashMap<&'static str, u16>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

pub static SESSIONS: LazyLock<mapguard::ConcurrentLruMap<u64, String>> =
    LazyLock::new(|| mapguard::ConcurrentLruMap::new(10_000));

#[derive(ManagedCache)]
pub struct Scratch {
    #[managed_map(lifetime = "request")]
    pub buffers: LruMap<u64, Vec<u8>>,
}

/// Only with `--features leak`: the map the layer exists to catch.
#[cfg(feature = "leak")]
pub struct Leaky {
    pub everything: HashMap<String, String>,
}

pub fn end_request(service: &mut Service) -> usize {
    service.end_scope(mapguard::Lifetime::Request)
}
