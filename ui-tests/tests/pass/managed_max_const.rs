// `max` takes any constant expression of type `usize`, checked at compile time.
#![deny(warnings)]
use std::collections::HashMap;

const MAX_SESSIONS: usize = 5_000;

const fn per_worker(workers: usize) -> usize {
    1_024 / workers
}

#[mapguard::managed]
#[derive(Default)]
struct Server {
    #[managed_map(lifetime = "session", max = MAX_SESSIONS)]
    sessions: HashMap<u64, String>,
    #[managed_map(lifetime = "request", max = 64 * 1024)]
    buffers: HashMap<u64, Vec<u8>>,
    #[managed_map(lifetime = "process", max = per_worker(4), evict = "reject")]
    slots: HashMap<u8, u8>,
}

#[test]
fn expands_and_runs() {
    let server = Server::default();
    assert_eq!(server.sessions.max(), 5_000);
    assert_eq!(server.buffers.max(), 65_536);
    assert_eq!(server.slots.max(), 256);
}
