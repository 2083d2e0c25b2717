// A concurrent map of values that cannot cross threads: the struct is not `Sync`, and the
// error says which value type is to blame.
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

#[mapguard::managed]
#[derive(Default)]
struct Shared {
    #[managed_map(lifetime = "process", max = 10, concurrent)]
    rules: HashMap<u64, Rc<String>>,
}

fn main() {
    let shared = Arc::new(Shared::default());
    std::thread::spawn(move || shared.rules.len());
}
