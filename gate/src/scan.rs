//! One file's findings: fields of structs, enums and unions, statics, and the statics of
//! `thread_local!` and `lazy_static!`, whose type is or holds a map with no lifecycle.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Attribute, Fields, Ident, Token, Type};

use crate::sources::SourceFile;
use crate::types::{Names, unraw};
use crate::{Finding, Kind, Suggestion, SuggestionSpan};

pub(crate) fn file(source: &SourceFile, relative: &str, names: &Names) -> Vec<Finding> {
    let mut scanner = Scanner {
        text: &source.text,
        relative,
        names,
        findings: Vec::new(),
        in_managed: false,
    };
    scanner.visit_file(&source.syntax);
    scanner.findings
}

struct Scanner<'a> {
    text: &'a str,
    relative: &'a str,
    names: &'a Names,
    findings: Vec<Finding>,
    /// Whether the struct being scanned carries `#[mapguard::managed]`: its map fields take
    /// `#[managed_map(...)]`.
    in_managed: bool,
}

/// What an item's attributes declare about its lifecycle.
enum Declared {
    /// `#[managed_map(...)]`: the map is managed; its key and value still must hold no map.
    Managed,
    /// `#[unmanaged(reason = "...")]` with a reason.
    Unmanaged,
    /// `#[unmanaged]` with no or an empty reason: not a declaration.
    EmptyReason,
    Nothing,
}

fn declared(attrs: &[Attribute]) -> Declared {
    for attr in attrs {
        let Some(last) = attr.path().segments.last() else {
            continue;
        };
        if last.ident == "managed_map" {
            return Declared::Managed;
        }
        if last.ident == "unmanaged" {
            // `...` is what `cargo mapguard fix` leaves to be filled in: not a reason yet.
            return if reason_of(attr).is_some_and(|reason| !matches!(reason.trim(), "" | "...")) {
                Declared::Unmanaged
            } else {
                Declared::EmptyReason
            };
        }
    }
    Declared::Nothing
}

fn reason_of(attr: &Attribute) -> Option<String> {
    let mut reason = None;
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("reason") {
            let lit: syn::LitStr = meta.value()?.parse()?;
            reason = Some(lit.value());
        }
        Ok(())
    });
    reason
}

/// `#[cfg(test)]`-style allowances of a whole item: `#[mapguard::unmanaged(reason = "...")]`
/// on a struct, enum or union covers its fields.
fn item_unmanaged(attrs: &[Attribute]) -> bool {
    matches!(declared(attrs), Declared::Unmanaged)
}

impl Scanner<'_> {
    fn type_text(&self, ty: &Type) -> String {
        let range = ty.span().byte_range();
        self.text
            .get(range)
            .filter(|text| !text.is_empty())
            .map_or_else(|| quote::quote!(#ty).to_string(), collapse)
    }

    fn push(
        &mut self,
        span: Span,
        kind: Kind,
        item: String,
        ty: &Type,
        (headline, help): (String, String),
    ) {
        let at = span.start();
        let end = ty.span().end();
        let line = self
            .text
            .lines()
            .nth(at.line.saturating_sub(1))
            .unwrap_or("");
        let width = if end.line == at.line {
            end.column.saturating_sub(at.column).max(1)
        } else {
            line.chars().count().saturating_sub(at.column).max(1)
        };
        self.findings.push(Finding {
            file: self.relative.to_owned(),
            line: at.line,
            column: at.column + 1,
            kind,
            item,
            ty: self.type_text(ty),
            message: format!("{headline}: {help}"),
            headline,
            help,
            snippet: (line.trim_end().to_owned(), width),
            baseline_state: None,
            suggestion: None,
        });
    }

    fn field(&mut self, item: String, attrs: &[Attribute], ty: &Type) {
        match declared(attrs) {
            Declared::Unmanaged => {}
            Declared::Managed => {
                let inner = self.names.map_arguments(ty).unwrap_or_default();
                if let Some(map) = inner.iter().find_map(|arg| self.names.map_in(arg)) {
                    let message = (
                        format!(
                            "the values of managed map `{item}` hold a map (`{map}`) with no lifecycle"
                        ),
                        "use a managed map as the value type (`mapguard::LruMap<K, V>` built with \
                         a `max`), or a #[mapguard::managed] struct"
                            .to_owned(),
                    );
                    self.push(ty.span(), Kind::MapValue, item, ty, message);
                }
            }
            Declared::EmptyReason => {
                if let Some(map) = self.names.map_in(ty) {
                    let message = (
                        format!(
                            "field `{item}` holds a map (`{map}`) and its #[unmanaged] gives no reason"
                        ),
                        "write #[unmanaged(reason = \"why it may grow\")]".to_owned(),
                    );
                    self.push(ty.span(), Kind::Field, item, ty, message);
                }
            }
            Declared::Nothing => {
                if let Some(map) = self.names.map_in(ty) {
                    let help = if self.names.rewritable(ty) {
                        "add #[managed_map(lifetime = \"request\", max = 10_000)] (with \
                         #[mapguard::managed] on the type), or #[unmanaged(reason = \"...\")] to say \
                         why it may grow"
                            .to_owned()
                    } else {
                        format!(
                            "#[managed_map] rewrites a bare `HashMap<K, V>` field only, not this \
                             `{map}`: add #[unmanaged(reason = \"...\")] to say why it may grow, \
                             or hold a managed map (`mapguard::LruMap<K, V>`, built with a `max`)"
                        )
                    };
                    let message = (
                        format!("field `{item}` holds a map (`{map}`) with no lifecycle"),
                        help,
                    );
                    self.push(ty.span(), Kind::Field, item, ty, message);
                }
            }
        }
    }

    fn fields(&mut self, owner: &str, fields: &Fields) {
        for (index, field) in fields.iter().enumerate() {
            let name = field
                .ident
                .as_ref()
                .map_or_else(|| index.to_string(), unraw);
            let found = self.findings.len();
            self.field(format!("{owner}.{name}"), &field.attrs, &field.ty);
            let undeclared = matches!(declared(&field.attrs), Declared::Nothing);
            if self.in_managed && undeclared && self.findings.len() > found {
                let anchor =
                    first_token(&field.vis, field.ident.as_ref().map(Ident::span), &field.ty);
                // Only what the attribute can apply: it rewrites a bare `HashMap` alone.
                if self.names.rewritable(&field.ty) {
                    self.suggest(
                        anchor,
                        "#[managed_map(lifetime = \"...\", max = ...)]",
                        "declare the map's lifecycle: fill in its lifetime (request, session, batch or process) and its bound",
                    );
                } else {
                    self.suggest(
                        anchor,
                        "#[unmanaged(reason = \"...\")]",
                        "#[managed_map] cannot rewrite this type: say why the map may grow",
                    );
                }
            }
        }
    }

    /// Attaches to the last finding an insertion of `attribute` on its own line before the
    /// line of `anchor`, indented as that line is.
    fn suggest(&mut self, anchor: Span, attribute: &str, message: &str) {
        let line = anchor.start().line;
        let mut start = 0;
        for (index, text) in self.text.split_inclusive('\n').enumerate() {
            if index + 1 == line {
                break;
            }
            start += text.len();
        }
        let indent: String = self.text[start..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        // Only where the item or field starts its line: an attribute put on a line that
        // begins with something else (a one-line struct) would land on that instead.
        let before_anchor = self.text[start..]
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(anchor.start().column)
            .collect::<String>();
        if !before_anchor.trim().is_empty() {
            return;
        }
        let span =
            SuggestionSpan::insertion(self.relative, start, line, format!("{indent}{attribute}\n"));
        if let Some(finding) = self.findings.last_mut() {
            finding.suggestion = Some(Suggestion {
                message: format!(
                    "{message}; the code does not compile until each `...` is filled in"
                ),
                spans: vec![span],
            });
        }
    }

    fn global(&mut self, kind: Kind, name: String, attrs: &[Attribute], ty: &Type) {
        let empty = match declared(attrs) {
            Declared::Unmanaged | Declared::Managed => return,
            Declared::EmptyReason => true,
            Declared::Nothing => false,
        };
        let Some(map) = self.names.map_in(ty) else {
            return;
        };
        let what = match kind {
            Kind::ThreadLocal => "thread-local",
            Kind::LazyStatic => "lazy static",
            _ => "static",
        };
        let message = if empty {
            (
                format!(
                    "{what} `{name}` holds a map (`{map}`) and its #[unmanaged] gives no reason"
                ),
                "write #[mapguard::unmanaged(reason = \"why it may grow\")]".to_owned(),
            )
        } else {
            let life = if kind == Kind::ThreadLocal {
                "thread"
            } else {
                "process"
            };
            (
                format!(
                    "{what} `{name}` holds a map (`{map}`) with no lifecycle, for the life of the {life}"
                ),
                "use a bounded map (`mapguard::ConcurrentLruMap<K, V>` in a `LazyLock`), or \
                 #[mapguard::unmanaged(reason = \"...\")] to say why it may grow"
                    .to_owned(),
            )
        };
        self.push(ty.span(), kind, name, ty, message);
    }
}

/// The attribute `cargo mapguard fix` writes on a static or an alias, its reason to fill in.
const UNMANAGED: &str = "#[mapguard::unmanaged(reason = \"...\")]";
const UNMANAGED_MESSAGE: &str =
    "say why it may grow (or make it a bounded map by hand: the gate never changes a type)";

/// Where an item or field starts, past its attributes: its visibility, else `name`, else its
/// type.
fn first_token(vis: &syn::Visibility, name: Option<Span>, ty: &Type) -> Span {
    match vis {
        syn::Visibility::Inherited => name.unwrap_or_else(|| ty.span()),
        vis => vis.span(),
    }
}

/// Wrappers that make a value shared state: an alias of one of these that holds a map names
/// what a service builds once and hands around (its router's state, its tasks).
const SHARED: &[&str] = &[
    "Arc", "Rc", "Mutex", "RwLock", "RefCell", "LazyLock", "OnceLock", "Lazy", "OnceCell",
];

impl Scanner<'_> {
    /// A `type` alias of shared state that holds a map with no lifecycle. Plain aliases of a
    /// map (`type Index = HashMap<K, V>`) are not reported: where they are used, as a field
    /// or a static, that use is checked (and a `#[managed_map]` field may name one).
    fn alias(&mut self, item: &syn::ItemType) {
        let Type::Path(path) = &*item.ty else {
            return;
        };
        let Some(outer) = path.path.segments.last() else {
            return;
        };
        let outer = unraw(&outer.ident);
        let outer = self.names.renamed(&outer);
        if !SHARED.contains(&outer.as_str()) {
            return;
        }
        let empty = match declared(&item.attrs) {
            Declared::Unmanaged | Declared::Managed => return,
            Declared::EmptyReason => true,
            Declared::Nothing => false,
        };
        let Some(map) = self.names.map_in(&item.ty) else {
            return;
        };
        let name = unraw(&item.ident);
        let message = if empty {
            (
                format!(
                    "type alias `{name}` holds a map (`{map}`) and its #[unmanaged] gives no reason"
                ),
                "write #[mapguard::unmanaged(reason = \"why it may grow\")]".to_owned(),
            )
        } else {
            (
                format!(
                    "type alias `{name}` is shared state holding a map (`{map}`) with no lifecycle: \
                     what is built from it once (in `main`, as a router's state) keeps every entry"
                ),
                format!(
                    "alias a bounded map instead (`type {name} = Arc<mapguard::ConcurrentLruMap<K, V>>;`), \
                     or #[mapguard::unmanaged(reason = \"...\")] on the alias to say why it may grow"
                ),
            )
        };
        self.push(item.ty.span(), Kind::Alias, name, &item.ty, message);
    }
}

impl<'ast> Visit<'ast> for Scanner<'_> {
    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        if !item_unmanaged(&item.attrs) {
            self.in_managed = item.attrs.iter().any(|attr| {
                attr.path()
                    .segments
                    .last()
                    .is_some_and(|last| last.ident == "managed")
            });
            self.fields(&unraw(&item.ident), &item.fields);
            self.in_managed = false;
        }
        syn::visit::visit_item_struct(self, item);
    }

    fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
        if !item_unmanaged(&item.attrs) {
            let owner = unraw(&item.ident);
            for variant in &item.variants {
                self.fields(
                    &format!("{owner}::{}", unraw(&variant.ident)),
                    &variant.fields,
                );
            }
        }
        syn::visit::visit_item_enum(self, item);
    }

    fn visit_item_union(&mut self, item: &'ast syn::ItemUnion) {
        if !item_unmanaged(&item.attrs) {
            let owner = unraw(&item.ident);
            for field in &item.fields.named {
                let name = field.ident.as_ref().map(unraw).unwrap_or_default();
                self.field(format!("{owner}.{name}"), &field.attrs, &field.ty);
            }
        }
        syn::visit::visit_item_union(self, item);
    }

    fn visit_item_type(&mut self, item: &'ast syn::ItemType) {
        let found = self.findings.len();
        self.alias(item);
        if self.findings.len() > found && matches!(declared(&item.attrs), Declared::Nothing) {
            let anchor = first_token(&item.vis, Some(item.type_token.span), &item.ty);
            self.suggest(anchor, UNMANAGED, UNMANAGED_MESSAGE);
        }
        syn::visit::visit_item_type(self, item);
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        let found = self.findings.len();
        self.global(Kind::Static, unraw(&item.ident), &item.attrs, &item.ty);
        if self.findings.len() > found && matches!(declared(&item.attrs), Declared::Nothing) {
            let anchor = first_token(&item.vis, Some(item.static_token.span), &item.ty);
            self.suggest(anchor, UNMANAGED, UNMANAGED_MESSAGE);
        }
        syn::visit::visit_item_static(self, item);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let Some(last) = mac.path.segments.last() else {
            return;
        };
        let kind = if last.ident == "thread_local" {
            Kind::ThreadLocal
        } else if last.ident == "lazy_static" {
            Kind::LazyStatic
        } else {
            return;
        };
        // A body that does not parse as statics is some other macro's: nothing to report.
        if let Ok(Statics(statics)) = mac.parse_body::<Statics>() {
            for declared in statics {
                self.global(kind, unraw(&declared.name), &declared.attrs, &declared.ty);
            }
        }
    }

    // Locals die with their function: not this gate's business. Items inside bodies are
    // still visited (a `static` in a function is a global).
    fn visit_local(&mut self, _local: &'ast syn::Local) {}
}

/// One `static` of `thread_local!` or `lazy_static!`.
struct MacroStatic {
    attrs: Vec<Attribute>,
    name: syn::Ident,
    ty: Type,
}

/// `[attrs] [vis] static [ref] NAME: Type = init;` repeated.
struct Statics(Vec<MacroStatic>);

impl Parse for Statics {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut statics = Vec::new();
        while !input.is_empty() {
            let attrs = input.call(Attribute::parse_outer)?;
            let _: syn::Visibility = input.parse()?;
            let _: Token![static] = input.parse()?;
            if input.peek(Token![ref]) {
                let _: Token![ref] = input.parse()?;
            }
            let name: syn::Ident = input.parse()?;
            let _: Token![:] = input.parse()?;
            let ty: Type = input.parse()?;
            let _: Token![=] = input.parse()?;
            // The initializer, up to the `;` that ends this static (or the end).
            while !input.is_empty() && !input.peek(Token![;]) {
                let _: proc_macro2::TokenTree = input.parse()?;
            }
            if input.peek(Token![;]) {
                let _: Token![;] = input.parse()?;
            }
            statics.push(MacroStatic { attrs, name, ty });
        }
        Ok(Self(statics))
    }
}

/// The type as one line: runs of whitespace become one space.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
