// Raw identifiers name the map as people read them: `Match.type`, not `r#Match.r#type`.
#![deny(warnings)]
#![allow(non_camel_case_types)]
use std::collections::HashMap;

use mapguard::ManagedCache;

#[mapguard::managed]
#[derive(Default)]
struct r#Match {
    #[managed_map(lifetime = "request", max = 4)]
    r#type: HashMap<u8, u8>,
}

#[test]
fn expands_and_runs() {
    let mut game = r#Match::default();
    game.r#type.insert(1, 1);
    assert_eq!(game.stats()[0].name, "Match.type");
    assert_eq!(game.r#type.name(), "Match.type");
}
