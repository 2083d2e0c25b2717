//! Seed chapter 4: type-erased values pinning large buffers. A `HashMap<String, Box<dyn Any>>`
//! used as a per-key scratchpad holds every buffer anyone ever stored; with a bound of eight
//! entries the managed map keeps at most eight buffers alive, whatever the key churn.
//!
//! `cargo run --release --example type_erased`; exits non-zero if the managed map holds more
//! than its bound's worth of buffers.

use std::any::Any;
use std::collections::HashMap;
use std::process::ExitCode;

use mapguard::LruMap;

#[global_allocator]
static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

const BUFFER: usize = 1 << 20; // 1 MiB each
const KEYS: usize = 200;
const BOUND: usize = 8;

fn buffer(fill: u8) -> Box<dyn Any> {
    Box::new(vec![fill; BUFFER])
}

fn main() -> ExitCode {
    let before = HEAP.allocated();
    let mut std_scratch: HashMap<String, Box<dyn Any>> = HashMap::new();
    for key in 0..KEYS {
        std_scratch.insert(format!("upload-{key}"), buffer(key as u8));
    }
    let std_bytes = HEAP.allocated() - before;
    let std_entries = std_scratch.len();
    drop(std_scratch);

    let before = HEAP.allocated();
    let mut scratch: LruMap<String, Box<dyn Any>> =
        LruMap::builder(BOUND).name("Uploads.scratch").build();
    for key in 0..KEYS {
        scratch.insert(format!("upload-{key}"), buffer(key as u8));
    }
    let newest = scratch
        .peek(&format!("upload-{}", KEYS - 1))
        .and_then(|b| b.downcast_ref::<Vec<u8>>())
        .map(Vec::len);
    let managed_bytes = HEAP.allocated() - before;

    println!("{KEYS} keys, each storing a 1 MiB buffer behind Box<dyn Any>\n");
    println!("| map | entries | heap held |");
    println!("|---|---:|---:|");
    println!(
        "| std HashMap<String, Box<dyn Any>> | {std_entries} | {} MiB |",
        std_bytes >> 20
    );
    println!(
        "| mapguard LruMap, max = {BOUND} | {} | {} MiB |",
        scratch.len(),
        managed_bytes >> 20
    );
    println!("\nthe newest buffer is still there: {newest:?} bytes");
    if scratch.len() <= BOUND && managed_bytes <= (BOUND + 1) * BUFFER && newest == Some(BUFFER) {
        println!("ok: the bound holds the retained bytes to {BOUND} buffers");
        ExitCode::SUCCESS
    } else {
        eprintln!("FAILED: {} entries, {managed_bytes} bytes", scratch.len());
        ExitCode::FAILURE
    }
}
