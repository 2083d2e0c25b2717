//! Storage shared by every map kind: the slab and its recency list, expiry, key-lifetime
//! histograms. Nothing here runs hooks or knows the registry: operations hand what leaves
//! back to the map that called them.

pub(crate) mod ages;
pub(crate) mod expiry;
pub(crate) mod order;
pub(crate) mod pool;
pub(crate) mod scopes;
pub(crate) mod store;
pub(crate) mod weigher;
pub(crate) mod wheel;

/// A hasher for keys that are hashes already: returns the one `u64` written (anything else
/// written is folded in rather than ignored). The weak-keyed maps' stored hashes and the
/// adaptive policy's shadows of hashes use it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Prehashed(u64);

impl core::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}
