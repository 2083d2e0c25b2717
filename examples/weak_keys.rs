//! Seed chapter 3: a cache keyed by objects keeps every one of them alive. A std map keyed
//! by `Rc<Node>` pins each node for as long as the map lives; a `WeakKeyMap` holds weak keys,
//! so a node dies when its owners drop it, and its cached value leaves with `Collected`.
//!
//! `cargo run --release --example weak_keys`; exits non-zero if a dead node's entry is kept.

use std::cell::Cell;
use std::collections::HashMap;
use std::process::ExitCode;
use std::rc::{Rc, Weak};

use mapguard::{RemovalCause, WeakKeyMap};

#[global_allocator]
static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

#[derive(PartialEq, Eq, Hash)]
struct Node {
    id: u32,
    payload: [u8; 256],
}

const NODES: u32 = 20_000;

fn nodes() -> Vec<Rc<Node>> {
    (0..NODES)
        .map(|id| {
            Rc::new(Node {
                id,
                payload: [0; 256],
            })
        })
        .collect()
}

fn main() -> ExitCode {
    // std: metadata keyed by the node itself.
    let before = HEAP.allocated();
    let mut std_meta: HashMap<Rc<Node>, String> = HashMap::new();
    let owners = nodes();
    for node in &owners {
        std_meta.insert(Rc::clone(node), format!("layout of {}", node.id));
    }
    drop(owners); // the program is done with every node ...
    let std_entries = std_meta.len();
    let std_bytes = HEAP.allocated() - before; // ... but the map keeps them all alive
    drop(std_meta);

    // managed: weak keys.
    let collected = Rc::new(Cell::new(0_u32));
    let counter = Rc::clone(&collected);
    let before = HEAP.allocated();
    let mut meta = WeakKeyMap::<Weak<Node>, String>::builder()
        .on_removal(move |_node, _layout, cause| {
            if cause == RemovalCause::Collected {
                counter.set(counter.get() + 1);
            }
        })
        .build();
    let owners = nodes();
    for node in &owners {
        meta.insert(Rc::clone(node), format!("layout of {}", node.id));
    }
    let live_lookup = meta.get(&*owners[7]).cloned();
    drop(owners);
    meta.maintain();
    let managed_entries = meta.len();
    let managed_bytes = HEAP.allocated() - before;

    println!("{NODES} nodes cached, then dropped by the program\n");
    println!("| map | entries left | heap held | values collected by the hook |");
    println!("|---|---:|---:|---:|");
    println!("| std HashMap<Rc<Node>, _> | {std_entries} | {std_bytes} B | - |");
    println!(
        "| mapguard WeakKeyMap<Weak<Node>, _> | {managed_entries} | {managed_bytes} B | {} |",
        collected.get()
    );
    println!("\nlookup while the node was alive: {live_lookup:?}");
    if managed_entries == 0 && collected.get() == NODES && live_lookup.is_some() {
        println!("ok: every dead node's entry left, each through the hook with Collected");
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "FAILED: {managed_entries} entries left, {} collected",
            collected.get()
        );
        ExitCode::FAILURE
    }
}
