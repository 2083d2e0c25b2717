//! Parsing and validating `#[managed_map(...)]` and `#[unmanaged(...)]`.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprPath, ExprUnary, Lit, LitStr, UnOp};

use crate::ctxt::{Errors, Keys, list, suggestion};

pub(crate) const KEYS: &[&str] = &[
    "lifetime",
    "max",
    "evict",
    "weak_keys",
    "ttl",
    "idle",
    "cleanup",
    "on_remove",
    "name",
    "concurrent",
    "alias",
    "max_bytes",
    "max_weight",
    "weigher",
    "shards",
    "expire_after",
    "clock",
];
pub(crate) const LIFETIMES: &[&str] = &["request", "session", "batch", "process"];
const EVICTIONS: &[&str] = &["lru", "adaptive", "reject"];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Evict {
    Lru,
    Adaptive,
    Reject,
}

/// A validated `#[managed_map(...)]`. Fields the user got wrong are `None`; their errors are
/// in the `Errors` the parser was given.
pub(crate) struct MapAttr {
    /// The whole attribute, for errors about what it lacks.
    pub(crate) attr: syn::Attribute,
    pub(crate) lifetime: Option<Scope>,
    pub(crate) max: Option<Max>,
    pub(crate) evict: Option<(Evict, Span)>,
    pub(crate) weak_keys: Option<Span>,
    pub(crate) ttl: Option<u64>,
    pub(crate) idle: Option<u64>,
    pub(crate) cleanup: Option<Span>,
    /// `concurrent`: a `ConcurrentMap`, shared through `&self`.
    pub(crate) concurrent: Option<Span>,
    /// `on_remove = path` or `on_remove = |key, value, cause| ...` (a closure that captures
    /// nothing: it becomes a `fn` pointer).
    pub(crate) on_remove: Option<Expr>,
    pub(crate) name: Option<LitStr>,
    /// `alias = Name`: a type alias for the rewritten field's type, to name it elsewhere.
    pub(crate) alias: Option<syn::Ident>,
    /// `max_bytes = "64MiB"` or `max_weight = N` (either may be an expression): the weight
    /// budget, and where it was given.
    pub(crate) budget: Option<(Limit, Span)>,
    /// `shards = N` (or an expression): a concurrent map's shard count.
    pub(crate) shards: Option<Limit>,
    /// `weigher = path`: what weighs entries, instead of the value's `Weigh` impl.
    pub(crate) weigher: Option<ExprPath>,
    /// `expire_after = PATH`: a value (a `const` or unit struct) implementing `ExpireAfter`.
    pub(crate) expire_after: Option<ExprPath>,
    /// `clock = TYPE`: a `Clock + Default` type, built with the struct.
    pub(crate) clock: Option<ExprPath>,
    /// The keys given, right or wrong (valid.rs checks what must be there).
    pub(crate) keys: Keys,
    /// Where `evict` was given.
    pub(crate) evict_key: Option<Span>,
}

/// `#[unmanaged(reason = "...")]`: the reason, when one was given and is not empty.
pub(crate) struct UnmanagedAttr {
    pub(crate) reason: Option<String>,
}

fn string_value(expr: &Expr, key: &str, example: &str, errors: &mut Errors) -> Option<LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit.clone()),
        other => {
            errors.spanned(
                other,
                format!("`{key}` takes a string: write `{key} = {example}`"),
            );
            None
        }
    }
}

/// The bound: a literal, checked here; a constant's path, type-checked as `usize` and
/// asserted at least 1 at compile time; or any other expression of type `usize`, evaluated
/// when the struct is built (a run-time check then names the field).
pub(crate) enum Max {
    Literal(u64),
    Const(Expr),
    Runtime(Expr),
}

/// A budget or a shard count: a literal, checked here, or an expression evaluated when the
/// struct is built.
pub(crate) enum Limit {
    Literal(u64),
    Runtime(Expr),
}

/// A whole positive number for `key`, or an error naming it; `most` bounds it where it has a
/// bound.
fn positive_int(
    int: &syn::LitInt,
    key: &str,
    example: &str,
    most: Option<u64>,
    errors: &mut Errors,
) -> Option<u64> {
    match int.base10_parse::<u64>() {
        Ok(0) => {
            errors.spanned(
                int,
                format!("`{key}` must be at least 1, like `{key} = {example}`"),
            );
            None
        }
        Ok(value) if most.is_some_and(|most| value > most) => {
            let most = most.unwrap_or_default();
            errors.spanned(int, format!("`{key}` must be at most {most}"));
            None
        }
        Ok(value) => Some(value),
        Err(_) => {
            errors.spanned(
                int,
                format!("`{key}` must be a whole number, like `{key} = {example}`"),
            );
            None
        }
    }
}

/// `max_weight = N` or `shards = N`: a positive number, or an expression evaluated when the
/// struct is built.
fn parse_limit(
    expr: &Expr,
    key: &str,
    example: &str,
    most: Option<u64>,
    errors: &mut Errors,
) -> Option<Limit> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => positive_int(int, key, example, most, errors).map(Limit::Literal),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_), ..
        }) => {
            errors.spanned(
                expr,
                format!("`{key}` must be positive, like `{key} = {example}`"),
            );
            None
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) if key == "max_weight" => {
            errors.spanned(
                lit,
                "`max_weight` takes a number of the weigher's units, not a string: for a budget \
                 in bytes write `max_bytes = \"64MiB\"`",
            );
            None
        }
        Expr::Lit(other) => {
            errors.spanned(
                other,
                format!(
                    "`{key}` takes a number or an expression evaluated when the struct is built, \
                     like `{key} = {example}` or `{key} = limits().{key}`"
                ),
            );
            None
        }
        other => Some(Limit::Runtime(other.clone())),
    }
}

fn parse_max(expr: &Expr, errors: &mut Errors) -> Option<Max> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<u64>() {
            Ok(0) => {
                errors.spanned(
                    int,
                    "`max` must be at least 1: a map that holds nothing would clean every value \
                     as it arrives",
                );
                None
            }
            Ok(max) if max > u64::from(u32::MAX - 1) => {
                errors.spanned(int, "`max` must be at most 4294967294 (2^32 - 2)");
                None
            }
            Ok(max) => Some(Max::Literal(max)),
            Err(_) => {
                errors.spanned(
                    int,
                    "`max` must be a whole number of entries, like `max = 5000`",
                );
                None
            }
        },
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_), ..
        }) => {
            errors.spanned(
                expr,
                "`max` must be a positive number of entries, like `max = 5000`",
            );
            None
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => {
            errors.spanned(
                lit,
                format!(
                    "`max` takes a number, not a string: write `max = {}`",
                    lit.value().trim()
                ),
            );
            None
        }
        Expr::Lit(other) => {
            errors.spanned(
                other,
                "`max` must be a number of entries or a `usize` constant, like `max = 5000` or \
                 `max = MAX_SESSIONS`",
            );
            None
        }
        // A constant: the compiler checks it.
        Expr::Path(_) => Some(Max::Const(expr.clone())),
        // A field, a call, arithmetic, a block ...: evaluated when the struct is built.
        other => Some(Max::Runtime(other.clone())),
    }
}

/// A map's lifetime, as `lifetime = "..."` names it.
#[derive(Clone, Copy)]
pub(crate) enum Scope {
    Request,
    Session,
    Batch,
    Process,
}

impl Scope {
    /// The `mapguard::Lifetime` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Self::Request => "Request",
            Self::Session => "Session",
            Self::Batch => "Batch",
            Self::Process => "Process",
        }
    }
}

/// The lifetime a string names, or an error listing the four (with "did you mean").
pub(crate) fn lifetime_name(lit: &LitStr, errors: &mut Errors) -> Option<Scope> {
    let name = lit.value();
    let scope = match name.as_str() {
        "request" => Some(Scope::Request),
        "session" => Some(Scope::Session),
        "batch" => Some(Scope::Batch),
        "process" => Some(Scope::Process),
        _ => None,
    };
    if scope.is_some() {
        return scope;
    }
    errors.spanned(
        lit,
        format!(
            "unknown lifetime {name:?}: expected one of {}{}",
            list(LIFETIMES),
            suggestion(&name, LIFETIMES)
        ),
    );
    None
}

/// Parses a duration in humantime's format (`"250ms"`, `"30s"`, `"5min"`, `"1h30m"`,
/// `"1d"`, `"2h 15m"`) into whole milliseconds; `None` if it does not parse, is shorter than
/// a millisecond, or does not fit.
pub(crate) fn parse_duration(text: &str) -> Option<u64> {
    let duration = humantime::parse_duration(text.trim()).ok()?;
    u64::try_from(duration.as_millis())
        .ok()
        .filter(|&ms| ms > 0)
}

/// `"64MiB"` in bytes: a positive whole number and `B`, `KiB`, `MiB` or `GiB`.
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim() {
        "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor).filter(|&bytes| bytes > 0)
}

/// `max_bytes`: a size string, a number of bytes, or an expression giving bytes, evaluated
/// when the struct is built.
fn size_value(expr: &Expr, errors: &mut Errors) -> Option<(Limit, Span)> {
    let lit = match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => lit,
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => {
            let bytes = positive_int(int, "max_bytes", "\"64MiB\"", None, errors)?;
            return Some((Limit::Literal(bytes), int.span()));
        }
        Expr::Lit(_) | Expr::Unary(_) => {
            errors.spanned(
                expr,
                "`max_bytes` takes a size, like `max_bytes = \"64MiB\"`, or an expression \
                 giving bytes (`u64`), evaluated when the struct is built",
            );
            return None;
        }
        other => return Some((Limit::Runtime(other.clone()), other.span())),
    };
    let parsed = parse_size(&lit.value());
    if parsed.is_none() {
        errors.spanned(
            lit,
            format!(
                "invalid size {:?} for `max_bytes`: write a positive whole number followed by \
                 `B`, `KiB`, `MiB` or `GiB`, like \"512KiB\", \"64MiB\" or \"2GiB\"",
                lit.value()
            ),
        );
    }
    parsed.map(|bytes| (Limit::Literal(bytes), lit.span()))
}

fn duration_value(expr: &Expr, key: &str, errors: &mut Errors) -> Option<u64> {
    let lit = string_value(expr, key, "\"30s\"", errors)?;
    let parsed = parse_duration(&lit.value());
    if parsed.is_none() {
        errors.spanned(
            &lit,
            format!(
                "invalid duration {:?} for `{key}`: write whole numbers with units (`ms`, `s`, \
                 `m` or `min`, `h`, `d`), at least a millisecond, like \"250ms\", \"30s\", \
                 \"5min\", \"1h30m\" or \"1d\"",
                lit.value()
            ),
        );
    }
    parsed
}

/// An example value of `key`, for the message about a `...` left to fill in.
fn placeholder_example(key: &str) -> &'static str {
    match key {
        "max" => "10_000",
        "lifetime" => "\"request\"",
        "ttl" | "idle" => "\"30s\"",
        "max_bytes" => "\"64MiB\"",
        "max_weight" => "1_000",
        "shards" => "4",
        _ => "...",
    }
}

impl MapAttr {
    /// Validates one `key = value` pair into `self`.
    fn apply(&mut self, key: &str, value: &Expr, errors: &mut Errors) {
        let parsed = self;
        match key {
            "lifetime" => {
                let example = "\"request\"";
                if let Some(lit) = string_value(value, "lifetime", example, errors) {
                    parsed.lifetime = lifetime_name(&lit, errors);
                }
            }
            "max" => parsed.max = parse_max(value, errors),
            "evict" => {
                if let Some(lit) = string_value(value, "evict", "\"lru\"", errors) {
                    match lit.value().as_str() {
                        "lru" => parsed.evict = Some((Evict::Lru, lit.span())),
                        "adaptive" => parsed.evict = Some((Evict::Adaptive, lit.span())),
                        "reject" => parsed.evict = Some((Evict::Reject, lit.span())),
                        other => errors.spanned(
                            &lit,
                            format!(
                                "unknown eviction {other:?}: expected {} (evict the \
                                 least recently used), {} (evict by recency and \
                                 frequency, for caches) or {} (refuse new keys when \
                                 full){}",
                                "`lru`",
                                "`adaptive`",
                                "`reject`",
                                suggestion(other, EVICTIONS)
                            ),
                        ),
                    }
                }
            }
            "ttl" => parsed.ttl = duration_value(value, "ttl", errors),
            "idle" => parsed.idle = duration_value(value, "idle", errors),
            "on_remove" => match value {
                Expr::Path(_) | Expr::Closure(_) => parsed.on_remove = Some(value.clone()),
                other => errors.spanned(
                    other,
                    "`on_remove` takes the path of a function `fn(K, V, RemovalCause)`, like \
                     `on_remove = log_removal`, or a closure that captures nothing, like \
                     `on_remove = |key, value, cause| log(key, cause)` (a hook with state of its \
                     own: build the map with `on_removal_boxed`)",
                ),
            },
            "max_bytes" => parsed.budget = size_value(value, errors),
            "max_weight" => {
                parsed.budget = parse_limit(value, "max_weight", "1_000", None, errors)
                    .map(|limit| (limit, value.span()));
            }
            "shards" => {
                parsed.shards = parse_limit(value, "shards", "4", Some(1 << 16), errors);
            }
            "weigher" => match value {
                Expr::Path(path) => parsed.weigher = Some(path.clone()),
                other => errors.spanned(
                    other,
                    "`weigher` takes the path of a function `fn(&K, &V) -> u64`, like \
                     `weigher = page_bytes`",
                ),
            },
            "expire_after" => match value {
                Expr::Path(path) => parsed.expire_after = Some(path.clone()),
                other => errors.spanned(
                    other,
                    "`expire_after` takes the path of a value whose type implements \
                     `mapguard::expiry::ExpireAfter<K, V>` (a `const` or a unit struct), like \
                     `expire_after = SessionExpiry` or `expire_after = mapguard::expiry::OnlyWhenSet`",
                ),
            },
            "clock" => match value {
                Expr::Path(path) => parsed.clock = Some(path.clone()),
                other => errors.spanned(
                    other,
                    "`clock` takes the path of a type implementing `mapguard::expiry::Clock` and \
                     `Default`, like `clock = mapguard::expiry::TokioClock`",
                ),
            },
            "alias" => match value {
                Expr::Path(ExprPath {
                    path, qself: None, ..
                }) if path.get_ident().is_some() => {
                    parsed.alias = path.get_ident().cloned();
                }
                other => errors.spanned(
                    other,
                    "`alias` takes the name of a type alias to declare for the field's managed \
                     map type, like `alias = SessionMap`",
                ),
            },
            "name" => {
                if let Some(lit) = string_value(value, "name", "\"Sessions.by_id\"", errors) {
                    if lit.value().trim().is_empty() {
                        errors.spanned(&lit, "`name` must not be empty");
                    } else {
                        parsed.name = Some(lit);
                    }
                }
            }
            _ => {}
        }
    }

    /// Parses the attribute, reporting every problem into `errors`.
    pub(crate) fn parse(attr: &syn::Attribute, errors: &mut Errors) -> Self {
        let mut parsed = Self {
            attr: attr.clone(),
            lifetime: None,
            max: None,
            evict: None,
            weak_keys: None,
            ttl: None,
            idle: None,
            cleanup: None,
            concurrent: None,
            budget: None,
            shards: None,
            weigher: None,
            expire_after: None,
            clock: None,
            on_remove: None,
            name: None,
            alias: None,
            keys: Keys::default(),
            evict_key: None,
        };
        let result = attr.parse_nested_meta(|meta| {
            let path = &meta.path;
            let key = path.get_ident().map_or_else(
                || quote::quote!(#path).to_string().replace(' ', ""),
                ToString::to_string,
            );
            let key_span = meta.path.span();
            let has_value = meta.input.peek(syn::Token![=]);
            if !parsed.keys.first(&key, &meta.path, errors) {
                // The first one stands.
                if has_value {
                    let _: Expr = meta.value()?.parse()?;
                }
                return Ok(());
            }
            match key.as_str() {
                "weak_keys" | "cleanup" | "concurrent" => {
                    if has_value {
                        let value: Expr = meta.value()?.parse()?;
                        errors.spanned(
                            &value,
                            format!("`{key}` is a flag: write just `{key}`, without a value"),
                        );
                    }
                    // Taken as meant even when written `= true`, so that the one mistake
                    // does not also cause "needs `max`" and the like.
                    let flag = match key.as_str() {
                        "weak_keys" => &mut parsed.weak_keys,
                        "concurrent" => &mut parsed.concurrent,
                        _ => &mut parsed.cleanup,
                    };
                    *flag = Some(key_span);
                }
                known if KEYS.contains(&known) => {
                    if !has_value {
                        errors.at(key_span, format!("`{key}` needs a value: `{key} = ...`"));
                        return Ok(());
                    }
                    let input = meta.value()?;
                    // `...` is what `cargo mapguard fix` leaves to be filled in.
                    if input.peek(syn::Token![...]) {
                        let dots: syn::Token![...] = input.parse()?;
                        errors.spanned(
                            dots,
                            format!(
                                "replace `...` (left by `cargo mapguard fix`) with this map's \
                                 `{known}`, e.g. `{known} = {}`",
                                placeholder_example(known)
                            ),
                        );
                        return Ok(());
                    }
                    let value: Expr = input.parse()?;
                    if known == "evict" {
                        parsed.evict_key = Some(key_span);
                    }
                    parsed.apply(known, &value, errors);
                }
                unknown => {
                    errors.at(
                        key_span,
                        format!(
                            "unknown key `{unknown}` in #[managed_map]: expected one of: {}{}",
                            list(KEYS),
                            suggestion(unknown, KEYS)
                        ),
                    );
                    if has_value {
                        let _: Expr = meta.value()?.parse()?;
                    }
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error);
        }
        parsed
    }
}

impl UnmanagedAttr {
    pub(crate) fn parse(attr: &syn::Attribute, errors: &mut Errors) -> Self {
        let example = "#[unmanaged(reason = \"filled once at start-up\")]";
        let mut keys = Keys::default();
        let mut unknown_seen = false;
        let mut reason = None;
        if let syn::Meta::Path(path) = &attr.meta {
            errors.spanned(
                path,
                format!("#[unmanaged] needs a reason, so reviewers know why this map may grow: {example}"),
            );
            return Self { reason };
        }
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("reason") {
                let first = keys.first("reason", &meta.path, errors);
                let value: Expr = meta.value()?.parse()?;
                if !first {
                    return Ok(());
                }
                if let Some(lit) =
                    string_value(&value, "reason", "\"filled once at start-up\"", errors)
                {
                    if lit.value().trim().is_empty() {
                        errors.spanned(
                            &lit,
                            "the reason must not be empty: say why this map cannot grow without \
                             bound, e.g. \"filled once at start-up\"",
                        );
                    } else if lit.value().trim() == "..." {
                        errors.spanned(
                            &lit,
                            "replace `...` (left by `cargo mapguard fix`) with why this map may \
                             grow without bound, e.g. \"filled once at start-up\"",
                        );
                    } else {
                        reason = Some(lit.value());
                    }
                }
            } else {
                unknown_seen = true;
                errors.spanned(
                    &meta.path,
                    format!(
                        "unknown key in #[unmanaged]: the only key is `reason`, as in {example}"
                    ),
                );
                if meta.input.peek(syn::Token![=]) {
                    let _: Expr = meta.value()?.parse()?;
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error);
        } else if !keys.contains("reason") && !unknown_seen {
            errors.spanned(attr, format!("#[unmanaged] needs a reason: {example}"));
        }
        Self { reason }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Some(250));
        assert_eq!(parse_duration("30s"), Some(30_000));
        assert_eq!(parse_duration("10m"), Some(600_000));
        assert_eq!(parse_duration("2h"), Some(7_200_000));
        assert_eq!(parse_duration("5min"), Some(300_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration("1d"), Some(86_400_000));
        assert_eq!(parse_duration("2h 15m"), Some(8_100_000));
        assert_eq!(parse_duration("10 minutes"), Some(600_000));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("500us"), None, "under a millisecond");
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("1.5s"), Some(1_500));
        assert_eq!(parse_duration("soon"), None);
    }
}
