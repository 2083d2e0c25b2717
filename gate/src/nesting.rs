//! How deeply a file nests, measured on its tokens before syn parses it.
//!
//! syn parses by recursive descent: every nested group, generic argument, prefix operator,
//! closure or assignment it is inside of is a frame on the stack, and a file nested a few
//! thousand levels deep (generated code, or a file written to break the gate) overflows any
//! stack, which aborts the process. Tokenizing is iterative, so the gate measures first and
//! skips, naming it, a file deeper than [`MAX_NESTING`]; everything shallower is parsed on a
//! thread whose stack holds that many levels of the costliest construct with room to spare
//! (see [`STACK_BYTES`]).
//!
//! The measure is an upper bound of the parser's depth, in levels: along the path of groups
//! to a token, each group counts one, plus, within each group, the operators still open
//! before the token in its statement: punctuation and prefix keywords since the last `,`
//! or `;`, `|` and unclosed `<` since the last `;` (closure heads and generics span
//! commas).

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// The deepest nesting the gate parses. Real code stays far below it: of the 5,889 files of
/// this workspace's dependencies, the deepest measures 103 (gimli's table of operations),
/// and this repository's under 50.
pub(crate) const MAX_NESTING: usize = 512;

/// The stack the parse and scan run on: 512 levels of the costliest construct measured
/// (nested generic types in a debug build, about 60 KiB a level: parsing, scanning and
/// dropping the tree) take about 30 MiB; eight times that, reserved (a thread's stack is
/// only committed as it is used).
pub(crate) const STACK_BYTES: usize = 256 << 20;

/// Keywords that open a construct syn parses by recursing into what follows.
const PREFIX_KEYWORDS: &[&str] = &[
    "async", "box", "break", "const", "dyn", "impl", "move", "mut", "ref", "return", "static",
    "unsafe", "yield",
];

/// The open operators of one group's current statement.
#[derive(Clone, Copy, Default)]
struct Open {
    /// Levels outside this group.
    base: usize,
    /// Punctuation and prefix keywords since the last `,` or `;`.
    operators: usize,
    /// `|` since the last `;`.
    bars: usize,
    /// Unclosed `<` since the last `;`.
    angles: usize,
    /// The last token was a joint `-` or `=` (so a `>` after it is `->` or `=>`).
    arrow: bool,
    /// The last token was `#` (so a `!` after it opens an inner attribute).
    hash: bool,
}

impl Open {
    fn depth(&self) -> usize {
        self.base + self.operators + self.bars + self.angles
    }

    fn end_statement(&mut self) {
        *self = Self {
            base: self.base,
            ..Self::default()
        };
    }
}

/// The nesting of `tokens` (see the module docs), without recursion.
pub(crate) fn depth(tokens: TokenStream) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(tokens.into_iter(), Open::default())];
    while let Some((tokens, open)) = stack.last_mut() {
        let Some(token) = tokens.next() else {
            stack.pop();
            continue;
        };
        let (mut arrow, mut hash) = (false, false);
        match token {
            TokenTree::Group(group) => {
                let inner = Open {
                    base: open.depth() + 1,
                    ..Open::default()
                };
                deepest = deepest.max(inner.base);
                if group.delimiter() == Delimiter::Brace {
                    // A block ends the statements around it as far as the parser's stack goes.
                    open.end_statement();
                }
                stack.push((group.stream().into_iter(), inner));
                continue;
            }
            TokenTree::Punct(punct) => match punct.as_char() {
                ';' => open.end_statement(),
                ',' => open.operators = 0,
                '#' => hash = true,
                '!' if open.hash => {}
                '.' | ':' | '\'' | '$' | '@' | '?' => {}
                '|' => open.bars += 1,
                '<' => open.angles += 1,
                '>' if open.arrow => {}
                '>' => open.angles = open.angles.saturating_sub(1),
                c => {
                    open.operators += 1;
                    arrow = matches!(c, '-' | '=') && punct.spacing() == Spacing::Joint;
                }
            },
            TokenTree::Ident(ident) => {
                if PREFIX_KEYWORDS.iter().any(|keyword| ident == keyword) {
                    open.operators += 1;
                }
            }
            TokenTree::Literal(_) => {}
        }
        open.arrow = arrow;
        open.hash = hash;
        deepest = deepest.max(open.depth());
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::depth;

    fn of(text: &str) -> usize {
        depth(text.parse().unwrap())
    }

    #[test]
    fn each_kind_of_nesting_counts_a_level() {
        assert_eq!(of("f((((1))))"), 4);
        assert!(of("type T = Option<Option<Option<u8>>>;") >= 3);
        assert!(of("type T = HashMap<K, HashMap<K, HashMap<K, V>>>;") >= 3);
        assert!(of("let x = !!!!!!true;") >= 6);
        assert!(of("let f = |a, b| |c, d| |e, f| 1;") >= 6);
        assert!(of("a = b = c = d = 1;") >= 4);
        assert!(of("type F = fn() -> fn() -> fn() -> u8;") >= 3);
    }

    #[test]
    fn statements_commas_and_closed_generics_do_not_add_up() {
        let many = "let a: Vec<u8> = x - 1; ".repeat(1_000);
        assert!(of(&many) < 8, "{}", of(&many));
        let table = format!("[{}]", "-1, ".repeat(5_000));
        assert!(of(&table) < 4);
        let arms = format!("match x {{ {} }}", "1 => a - b, ".repeat(1_000));
        assert!(of(&arms) < 6);
        let docs = "//! A crate's docs.\n".repeat(1_000) + &"/// An item's.\n".repeat(1_000);
        assert!(of(&(docs + "fn f() {}")) < 4);
    }
}
