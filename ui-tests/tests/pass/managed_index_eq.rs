// `map[&key]`, `==`, and `derive(PartialEq)` on a managed struct.
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default, PartialEq, Debug)]
struct Prices {
    #[managed_map(lifetime = "process", max = 8)]
    by_sku: HashMap<String, u32>,
    #[managed_map(lifetime = "process", max = 8, evict = "reject")]
    stock: HashMap<String, u32>,
}

#[test]
fn expands_and_runs() {
    let mut a = Prices::default();
    let mut b = Prices::default();
    a.by_sku.insert(String::from("tea"), 3);
    b.by_sku.insert(String::from("tea"), 3);
    a.stock.try_insert(String::from("tea"), 10).unwrap();
    b.stock.try_insert(String::from("tea"), 10).unwrap();
    assert_eq!(a.by_sku["tea"], 3);
    assert_eq!(a, b);
    b.stock.try_insert(String::from("tea"), 9).unwrap();
    assert_ne!(a, b);
}
