// `on_remove` takes a function's path or a closure; a call that would make a hook is an error
// that points to `on_removal_boxed` for a hook with state.
use std::collections::HashMap;

fn make_hook() -> fn(u32, String, mapguard::RemovalCause) {
    |_, _, _| {}
}

#[mapguard::managed]
#[derive(Default)]
struct Pool {
    #[managed_map(lifetime = "process", max = 10, on_remove = make_hook())]
    conns: HashMap<u32, String>,
}

fn main() {}
