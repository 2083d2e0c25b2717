//! Seed chapter 4: type-erased values pinning large buffers. A `HashMap<String, Box<dyn Any>>`
//! used as a per-key scratchpad holds every buffer anyone ever stored. A count bound stops
//! the growth, but not the bytes: eight entries can pin 8 buffers of any size. `max_bytes`
//! bounds what the entries weigh, with a weigher that knows the buffers behind the `dyn Any`.
//!
//! `cargo run --release --example type_erased`; exits non-zero if the weighed map holds more
//! than its budget.

use std::any::Any;
use std::collections::HashMap;
use std::process::ExitCode;

use mapguard::LruMap;

#[global_allocator]
static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

const KEYS: usize = 200;
const BOUND: usize = 8;
const BUDGET: usize = 8 << 20;

type Scratch = Box<dyn Any + Send>;

/// Uploads of very different sizes: 64 KiB to 4 MiB.
fn upload(key: usize) -> Scratch {
    let size = (key * 7_919 % 64 + 1) << 16;
    Box::new(vec![key as u8; size])
}

/// What a scratch value holds on the heap: the buffer behind the `dyn Any`, when it is one
/// of the types stored here.
fn scratch_bytes(_key: &String, value: &Scratch) -> u64 {
    if let Some(bytes) = value.downcast_ref::<Vec<u8>>() {
        bytes.capacity() as u64
    } else if let Some(text) = value.downcast_ref::<String>() {
        text.capacity() as u64
    } else {
        0
    }
}

#[mapguard::managed]
#[derive(Default)]
struct Uploads {
    #[managed_map(lifetime = "process", max_bytes = "8MiB", weigher = scratch_bytes)]
    scratch: HashMap<String, Scratch>,
}

fn held(fill: impl FnOnce() -> usize) -> (usize, usize) {
    let before = HEAP.allocated();
    let entries = fill();
    (entries, HEAP.allocated() - before)
}

fn main() -> ExitCode {
    let mut std_scratch: HashMap<String, Scratch> = HashMap::new();
    let (std_entries, std_bytes) = held(|| {
        for key in 0..KEYS {
            std_scratch.insert(format!("upload-{key}"), upload(key));
        }
        std_scratch.len()
    });
    drop(std_scratch);

    let mut counted: LruMap<String, Scratch> =
        LruMap::builder(BOUND).name("Uploads.counted").build();
    let (counted_entries, counted_bytes) = held(|| {
        for key in 0..KEYS {
            counted.insert(format!("upload-{key}"), upload(key));
        }
        counted.len()
    });
    drop(counted);

    let mut uploads = Uploads::default();
    let (weighed_entries, weighed_bytes) = held(|| {
        for key in 0..KEYS {
            uploads.scratch.insert(format!("upload-{key}"), upload(key));
        }
        uploads.scratch.len()
    });
    let newest = uploads
        .scratch
        .contains_key(&format!("upload-{}", KEYS - 1));

    println!("{KEYS} keys, each storing a 64 KiB - 4 MiB buffer behind Box<dyn Any>\n");
    println!("| map | entries | heap held |");
    println!("|---|---:|---:|");
    println!(
        "| std HashMap<String, Box<dyn Any>> | {std_entries} | {:.1} MiB |",
        mib(std_bytes)
    );
    println!(
        "| mapguard LruMap, max = {BOUND} | {counted_entries} | {:.1} MiB |",
        mib(counted_bytes)
    );
    println!(
        "| #[managed_map(max_bytes = \"8MiB\")] | {weighed_entries} | {:.1} MiB (weight {:.1} MiB) |",
        mib(weighed_bytes),
        mib(uploads.scratch.weight() as usize)
    );
    // The map's own storage (slab, table, keys) comes on top of the weighed buffers.
    let slack = 64 << 10;
    if uploads.scratch.weight() <= BUDGET as u64 && weighed_bytes <= BUDGET + slack && newest {
        println!(
            "\nok: the weighed map holds at most {} MiB of buffers",
            BUDGET >> 20
        );
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "FAILED: {weighed_entries} entries, {weighed_bytes} bytes, weight {}",
            uploads.scratch.weight()
        );
        ExitCode::FAILURE
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}
