use std::collections::HashMap;
use std::rc::Rc;

#[mapguard::managed]
struct Cache {
    #[managed_map(lifetime = "process", weak_keys)]
    meta: HashMap<Rc<String>, u32>,
}

fn main() {}
