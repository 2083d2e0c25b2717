// derive(Cleanup) on a struct and an enum: fields cleaned in declaration order, skip and with.
use mapguard::{Cleanup, RemovalCause};
use std::cell::RefCell;
use std::rc::Rc;

struct Probe(&'static str, Rc<RefCell<Vec<&'static str>>>);
impl Cleanup for Probe {
    fn cleanup(&mut self, _: RemovalCause) {
        self.1.borrow_mut().push(self.0);
    }
}

fn custom(probe: &mut Probe, _: RemovalCause) {
    probe.1.borrow_mut().push("custom");
}

#[derive(Cleanup)]
struct Pair {
    first: Probe,
    #[cleanup(skip)]
    _skipped: Probe,
    #[cleanup(with = custom)]
    third: Probe,
    second: Probe,
}

#[derive(Cleanup)]
enum Either {
    Left(Probe),
    Right { probe: Probe },
}

#[test]
fn expands_and_runs() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let probe = |name| Probe(name, Rc::clone(&log));
    let mut pair = Pair {
        first: probe("first"),
        _skipped: probe("skipped"),
        third: probe("third"),
        second: probe("second"),
    };
    pair.cleanup(RemovalCause::Dropped);
    assert_eq!(*log.borrow(), ["first", "custom", "second"]);
    Either::Left(probe("left")).cleanup(RemovalCause::Evicted);
    Either::Right {
        probe: probe("right"),
    }
    .cleanup(RemovalCause::Evicted);
    assert_eq!(log.borrow()[3..], ["left", "right"]);
}
