//! [`RegistryService`]: the operator's page and the Prometheus text, as a tower service.

use core::convert::Infallible;
use core::future::{Ready, ready};
use core::task::{Context, Poll};

use http::{Method, Request, Response, StatusCode, header};

use crate::registry;

/// Serves the registry to operators: [`registry::render_html`] at any path, and
/// [`registry::render_prometheus`] at a path ending in `/metrics`. Mount it with one call —
/// with axum, `router.nest_service("/mapguard", RegistryService::new())` serves the page at
/// `/mapguard` and the scrape at `/mapguard/metrics`. Only `GET` and `HEAD`; other methods
/// get `405`. Responses are never cached (`Cache-Control: no-store`): every request is a
/// fresh read (and a sample for the leak detector).
///
/// ```
/// use mapguard::tower::RegistryService;
/// use tower_service::Service;
///
/// let mut pages = RegistryService::new();
/// let get = |path: &str| http::Request::get(path).body(()).unwrap();
/// let page = mapguard::testing::block_on(pages.call(get("/mapguard"))).unwrap();
/// assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
/// assert!(page.body().starts_with("<!DOCTYPE html>"));
/// let scrape = mapguard::testing::block_on(pages.call(get("/mapguard/metrics"))).unwrap();
/// assert!(scrape.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct RegistryService;

impl RegistryService {
    /// The service.
    ///
    /// ```
    /// let _pages = mapguard::tower::RegistryService::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self
    }
}

impl<B> tower_service::Service<Request<B>> for RegistryService {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(respond(request.method(), request.uri().path())))
    }
}

fn respond(method: &Method, path: &str) -> Response<String> {
    let head = *method == Method::HEAD;
    if !head && *method != Method::GET {
        return Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "GET, HEAD")
            .body(String::new())
            .expect("a static response is valid");
    }
    let (content_type, body) = if path.trim_end_matches('/').ends_with("/metrics") {
        // The text format's own content type (version 0.0.4).
        (
            "text/plain; version=0.0.4; charset=utf-8",
            registry::render_prometheus(),
        )
    } else {
        ("text/html; charset=utf-8", registry::render_html())
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .body(if head { String::new() } else { body })
        .expect("a static response is valid")
}
