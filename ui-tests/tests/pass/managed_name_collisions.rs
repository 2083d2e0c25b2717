// `Foo_bar.baz` and `Foo.bar_baz` in one module: the generated names never collide.
#![deny(warnings)]
#![allow(non_camel_case_types)]
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default)]
struct Foo_bar {
    #[managed_map(lifetime = "request", max = 4)]
    baz: HashMap<u8, u8>,
}

#[mapguard::managed]
#[derive(Default)]
struct Foo {
    #[managed_map(lifetime = "request", max = 8)]
    bar_baz: HashMap<u8, u8>,
}

#[test]
fn expands_and_runs() {
    let (one, other) = (Foo_bar::default(), Foo::default());
    assert_eq!((one.baz.name(), one.baz.max()), ("Foo_bar.baz", 4));
    assert_eq!(
        (other.bar_baz.name(), other.bar_baz.max()),
        ("Foo.bar_baz", 8)
    );
}
