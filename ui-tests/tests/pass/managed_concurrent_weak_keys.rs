// `weak_keys, concurrent`: a ConcurrentWeakKeyMap shared through `&self`; a dead key's value
// leaves through the hook with `Collected`, whichever thread dropped the key.
use mapguard::RemovalCause;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

static COLLECTED: AtomicUsize = AtomicUsize::new(0);

fn counted(_key: Weak<String>, _value: u32, cause: RemovalCause) {
    if cause == RemovalCause::Collected {
        COLLECTED.fetch_add(1, Ordering::Relaxed);
    }
}

#[mapguard::managed]
#[derive(Default)]
struct Registry {
    #[managed_map(lifetime = "process", weak_keys, concurrent, on_remove = counted)]
    by_user: HashMap<Weak<String>, u32>,
}

#[test]
fn expands_and_runs() {
    let registry = Arc::new(Registry::default());
    let user = Arc::new(String::from("ada"));
    registry.by_user.insert(Arc::clone(&user), 1);
    let worker = {
        let registry = Arc::clone(&registry);
        std::thread::spawn(move || {
            assert_eq!(registry.by_user.get("ada"), Some(1));
            drop(user);
        })
    };
    worker.join().unwrap();
    assert_eq!(registry.by_user.maintain(), 1);
    assert_eq!(COLLECTED.load(Ordering::Relaxed), 1);
}
