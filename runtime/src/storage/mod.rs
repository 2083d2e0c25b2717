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
