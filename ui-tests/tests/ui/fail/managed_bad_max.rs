// Zero, negative, a string, a fraction and a constant of the wrong type: each is reported at
// its own token. (A constant that is zero: managed_bad_max_const_zero.rs, since the compiler
// evaluates constants only once types check.)
use std::collections::HashMap;

#[mapguard::managed]
struct Cache {
    #[managed_map(lifetime = "request", max = 0)]
    zero: HashMap<u64, String>,
    #[managed_map(lifetime = "request", max = -5)]
    negative: HashMap<u64, String>,
    #[managed_map(lifetime = "request", max = "5000")]
    string: HashMap<u64, String>,
    #[managed_map(lifetime = "request", max = 2.5)]
    fraction: HashMap<u64, String>,
}

const SMALL: u32 = 10;

#[mapguard::managed]
#[derive(Default)]
struct Consts {
    #[managed_map(lifetime = "request", max = SMALL)]
    wrong_type: HashMap<u64, String>,
}

fn main() {
    let _ = Consts::default();
}
