// `.cleanup()` asks every value to clean itself; `String` has no `Cleanup`.
fn main() {
    let mut map = mapguard::LruMap::<u32, String>::builder(8).cleanup().build();
    map.insert(1, String::from("x"));
}
