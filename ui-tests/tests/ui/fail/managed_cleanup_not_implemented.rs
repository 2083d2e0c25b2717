// `cleanup` asks the value type to clean itself; `Conn` does not implement `Cleanup`.
use std::collections::HashMap;

struct Conn;

#[mapguard::managed]
#[derive(Default)]
struct Cache {
    #[managed_map(lifetime = "request", max = 10, cleanup)]
    conns: HashMap<u64, Conn>,
}

fn main() {}
