// A hook with two arguments, and one taking references: each is one error at its path,
// naming the signature to write.
use std::collections::HashMap;

use mapguard::RemovalCause;

fn closed(_id: u64, _name: String) {}
fn peeked(_id: &u64, _name: &String, _cause: RemovalCause) {}

#[mapguard::managed]
#[derive(Default)]
struct Sessions {
    #[managed_map(lifetime = "session", max = 10, on_remove = closed)]
    two_args: HashMap<u64, String>,
    #[managed_map(lifetime = "session", max = 10, on_remove = peeked)]
    by_reference: HashMap<u64, String>,
}

fn main() {
    let _ = Sessions::default();
}
