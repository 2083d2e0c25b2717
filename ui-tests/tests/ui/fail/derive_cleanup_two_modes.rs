// Two decisions for one field (`skip`, then `with`): an error at the second, not a silent win.
use mapguard::{Cleanup, RemovalCause};

fn close(_name: &mut String, _cause: RemovalCause) {}

#[derive(Cleanup)]
struct Session {
    #[cleanup(skip, with = close)]
    name: String,
    #[cleanup(skip)]
    #[cleanup(skip)]
    tag: String,
}

fn main() {}
