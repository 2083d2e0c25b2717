//! The framework ends the request scope: [`RequestScopeLayer`], a `tower` layer for HTTP
//! services (axum, tonic, hyper), runs every request in a new request [`Scope`], so the
//! entries a handler writes into concurrent maps of lifetime `"request"` leave when its
//! request ends, with [`RemovalCause::ScopeEnded`](crate::RemovalCause::ScopeEnded).
//!
//! The scope is current while the handler's future is polled (on whichever thread polls it)
//! and while the response body is polled; it ends when the response body is finished or
//! dropped, when the handler fails, panics (the future is dropped while unwinding), or is
//! dropped because the client went away.
//!
//! An ended request's entries are invisible at once and leave (through their hooks) at each
//! map's next operation; for maps no request touches, run the [`maintenance`](crate::maintenance)
//! schedule too (`maintenance::spawn`, with the `tokio` feature).
//!
//! Behind the `tower` feature, which adds no async runtime: only the crates of tower's two
//! traits and of http's types. The same feature serves the registry to operators:
//! [`RegistryService`], the live maps' page and their Prometheus text in one mount.
//!
//! ```
//! use mapguard::tower::RequestScopeLayer;
//! use tower_layer::Layer;
//! # use std::convert::Infallible;
//! # #[derive(Clone)]
//! # struct Handler;
//! # impl tower_service::Service<http::Request<String>> for Handler {
//! #     type Response = http::Response<String>;
//! #     type Error = Infallible;
//! #     type Future = std::future::Ready<Result<http::Response<String>, Infallible>>;
//! #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
//! #         std::task::Poll::Ready(Ok(()))
//! #     }
//! #     fn call(&mut self, _: http::Request<String>) -> Self::Future {
//! #         std::future::ready(Ok(http::Response::new(String::new())))
//! #     }
//! # }
//!
//! // With axum: `Router::new().route(...).layer(RequestScopeLayer::new())`.
//! let service = RequestScopeLayer::new().layer(Handler);
//! # drop(service);
//! ```

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::scope::{Lifetime, Scope};

mod pages;

pub use pages::RegistryService;

/// Runs every request of the service it wraps in a new request [`Scope`] (see the
/// [module docs](self)).
///
/// ```
/// use mapguard::tower::RequestScopeLayer;
/// let layer = RequestScopeLayer::new();
/// assert_eq!(format!("{layer:?}"), "RequestScopeLayer");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestScopeLayer;

impl RequestScopeLayer {
    /// The layer.
    ///
    /// ```
    /// let _layer = mapguard::tower::RequestScopeLayer::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self
    }
}

impl<S> tower_layer::Layer<S> for RequestScopeLayer {
    type Service = RequestScope<S>;

    fn layer(&self, inner: S) -> RequestScope<S> {
        RequestScope { inner }
    }
}

/// The service [`RequestScopeLayer`] makes: `inner`, each request in a scope of its own.
///
/// ```
/// use mapguard::tower::{RequestScope, RequestScopeLayer};
/// use tower_layer::Layer;
/// let service: RequestScope<()> = RequestScopeLayer::new().layer(());
/// assert_eq!(service.get_ref(), &());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RequestScope<S> {
    inner: S,
}

impl<S> RequestScope<S> {
    /// The wrapped service.
    ///
    /// ```
    /// use tower_layer::Layer;
    /// let service = mapguard::tower::RequestScopeLayer::new().layer(7);
    /// assert_eq!(*service.get_ref(), 7);
    /// ```
    #[must_use]
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, by value.
    ///
    /// ```
    /// use tower_layer::Layer;
    /// let service = mapguard::tower::RequestScopeLayer::new().layer(7);
    /// assert_eq!(service.into_inner(), 7);
    /// ```
    #[must_use]
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    ReqBody,
    ResBody,
> tower_service::Service<http::Request<ReqBody>> for RequestScope<S>
{
    type Response = http::Response<ScopedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let scope = Scope::new(Lifetime::Request);
        // Current during `call` too: some services do their work before returning a future.
        let future = {
            let _current = scope.enter();
            self.inner.call(request)
        };
        ResponseFuture {
            scope: Some(scope),
            future,
        }
    }
}

pin_project! {
    /// The future of [`RequestScope`]'s response: the handler's, polled in the request's
    /// scope. Dropped before it finishes (a client that went away), it ends the scope.
    pub struct ResponseFuture<F> {
        // Before `future`, so dropped first: a cancelled request's scope has ended by the
        // time anything the handler held is dropped.
        scope: Option<Scope>,
        #[pin]
        future: F,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<F: Future<Output = Result<http::Response<B>, E>>, B, E> Future for ResponseFuture<F> {
    type Output = Result<http::Response<ScopedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // Polled after it finished (no scope): the inner future decides what that means.
        let polled = current_during(this.scope.as_ref(), || this.future.poll(cx));
        let Poll::Ready(result) = polled else {
            return Poll::Pending;
        };
        // An error ends the scope here (the handle drops); a response carries it in its body.
        let scope = this.scope.take();
        Poll::Ready(result.map(|response| response.map(|body| ScopedBody { body, scope })))
    }
}

pin_project! {
    /// A response body that holds its request's scope: current while the body is polled,
    /// ended once the body is finished or dropped.
    pub struct ScopedBody<B> {
        #[pin]
        body: B,
        scope: Option<Scope>,
    }
}

impl<B> ScopedBody<B> {
    /// The request's scope, until the body is finished.
    #[must_use]
    pub fn scope(&self) -> Option<&Scope> {
        self.scope.as_ref()
    }
}

impl<B> fmt::Debug for ScopedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedBody")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for ScopedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = current_during(this.scope.as_ref(), || this.body.poll_frame(cx));
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            // Finished (or failed): the request is over.
            drop(this.scope.take());
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Runs `poll` with `scope` (if any) current on this thread.
fn current_during<R>(scope: Option<&Scope>, poll: impl FnOnce() -> R) -> R {
    let _current = scope.map(Scope::enter);
    poll()
}
