// A bounded map never evicts, so it has `try_insert`, not `insert`.
fn main() {
    let mut map = mapguard::BoundedMap::new(8);
    map.insert(1, "one");
}
