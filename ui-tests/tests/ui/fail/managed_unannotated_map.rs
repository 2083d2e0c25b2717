// A map field with no lifecycle attribute is the leak the attribute exists to stop.
use std::collections::HashMap;

#[mapguard::managed]
struct Cache {
    entries: HashMap<String, Vec<u8>>,
}

fn main() {}
