//! Guides: a map shared between threads and a service's request and session scopes
//! ([`services`]), finding a leak in a running service ([`finding_leaks`]), and answers to
//! common questions ([`faq`]). The attribute's reference is on [`macro@crate::managed`], the
//! map kinds and their methods on [`crate::map`], choosing a policy on [`crate::policy`].

#[doc = include_str!("../docs/services.md")]
pub mod services {}

#[doc = include_str!("../docs/finding-leaks.md")]
pub mod finding_leaks {}

#[doc = include_str!("../docs/faq.md")]
pub mod faq {}
