// `Self` in a managed field means the struct, as it does everywhere else in it: a trie, and a
// hook that is an associated function.
use mapguard::RemovalCause;
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default)]
struct Trie {
    #[managed_map(lifetime = "process", max = 64, on_remove = Self::closed)]
    children: HashMap<char, Box<Self>>,
    terminal: bool,
}

impl Trie {
    fn closed(_key: char, _child: Box<Self>, _cause: RemovalCause) {}

    fn insert(&mut self, word: &str) {
        let mut chars = word.chars();
        match chars.next() {
            None => self.terminal = true,
            Some(c) => {
                if !self.children.contains_key(&c) {
                    self.children.insert(c, Box::default());
                }
                self.children.get_mut(&c).unwrap().insert(chars.as_str());
            }
        }
    }
}

#[test]
fn expands_and_runs() {
    let mut trie = Trie::default();
    trie.insert("map");
    trie.insert("mad");
    assert_eq!(trie.children.len(), 1);
    assert_eq!(trie.children.peek(&'m').unwrap().children.len(), 1);
}
