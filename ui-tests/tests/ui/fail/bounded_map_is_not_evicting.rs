// Code generic over the evicting policies does not take a BoundedMap: the error says why, and
// what a bounded map offers instead.
use mapguard::ManagedMap;
use mapguard::policy::Evicting;

fn warm<P: Evicting>(map: &mut ManagedMap<u32, u32, P>) {
    map.insert(1, 1);
}

fn main() {
    let mut table = mapguard::BoundedMap::new(4);
    warm(&mut table);
}
