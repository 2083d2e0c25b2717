//! A facade over mapguard, which it depends on as `mg`: `#[mg::managed(crate = mg)]` builds
//! here, and users of the facade write `#[mapguard_facade::guard::managed(crate =
//! mapguard_facade::guard)]` (see the pass case `ui-tests/tests/pass/managed_crate_path.rs`).
//!
//! ```
//! use mapguard_facade::guard::{Lifetime, ManagedCache};
//! let mut service = mapguard_facade::Renamed::default();
//! service.scratch.insert(1, 1);
//! assert_eq!(service.end_scope(Lifetime::Request), 1);
//! ```

use std::collections::HashMap;

/// mapguard, re-exported under the facade's own name.
pub use mg as guard;

/// Managed through the renamed dependency.
#[mg::managed(crate = mg)]
#[derive(Debug, Default)]
pub struct Renamed {
    /// A request-scoped map of at most 4 entries.
    #[managed_map(lifetime = "request", max = 4)]
    pub scratch: HashMap<u64, u64>,
}
