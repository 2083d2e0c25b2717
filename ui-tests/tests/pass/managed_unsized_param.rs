// A struct generic over an unsized type (`T: ?Sized`) can hold managed maps.
#![deny(warnings)]
#![allow(
    clippy::default_trait_access,
    reason = "the field's type after rewriting is the macro's; a user writes `Default::default()`"
)]
use std::collections::HashMap;
use std::rc::Rc;

#[mapguard::managed]
struct Handlers<T: ?Sized> {
    #[managed_map(lifetime = "process", max = 16)]
    by_name: HashMap<String, Rc<T>>,
}

#[test]
fn expands_and_runs() {
    let mut handlers: Handlers<dyn Fn(u32) -> u32> = Handlers {
        by_name: Default::default(),
    };
    let double: Rc<dyn Fn(u32) -> u32> = Rc::new(|x| x * 2);
    handlers.by_name.insert("double".to_owned(), double);
    assert_eq!(handlers.by_name.get("double").map(|f| f(21)), Some(42));
}
