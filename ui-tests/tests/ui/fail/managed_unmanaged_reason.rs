use std::collections::HashMap;

#[mapguard::managed]
struct Cache {
    #[unmanaged]
    no_reason: HashMap<u16, String>,
    #[unmanaged(reason = "  ")]
    empty_reason: HashMap<u16, String>,
    #[unmanaged(because = "static")]
    wrong_key: HashMap<u16, String>,
}

fn main() {}
