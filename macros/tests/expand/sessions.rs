#[derive(Default)]
struct Sessions {
    by_id: ::mapguard::__private::ManagedMap<
        u64,
        Conn,
        ::mapguard::__private::Lru,
        ::mapguard::__private::DefaultHashBuilder,
        ::mapguard::__private::NoListener,
        ::mapguard::__private::Scoped<::mapguard::__private::NoExpiry>,
        ::mapguard::__private::Configured<__MapguardConfig_8Sessions_by_id>,
    >,
    open: ::mapguard::__private::ManagedMap<
        String,
        Channel,
        ::mapguard::__private::Reject,
        ::mapguard::__private::DefaultHashBuilder,
        __MapguardHooks_8Sessions_open,
        ::mapguard::__private::Scoped<::mapguard::__private::NoExpiry>,
        ::mapguard::__private::Configured<__MapguardConfig_8Sessions_open>,
    >,
    meta: ::mapguard::__private::WeakKeyMap<
        Weak<Node>,
        Meta,
        ::mapguard::__private::Lru,
        ::mapguard::__private::DefaultHashBuilder,
        __MapguardHooks_8Sessions_meta,
        ::mapguard::__private::Expiring,
        ::mapguard::__private::Configured<__MapguardConfig_8Sessions_meta>,
    >,
    #[allow(clippy::disallowed_types, reason = "fixed table filled once at start-up")]
    codes: HashMap<u16, &'static str>,
    name: String,
}
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    clippy::disallowed_types,
    reason = "names the field's declared map type, which #[mapguard::managed] replaced"
)]
struct __MapguardConfig_8Sessions_by_id(
    ::mapguard::__private::PhantomData<fn() -> (HashMap<u64, Conn>)>,
);
#[automatically_derived]
impl ::mapguard::__private::FieldConfig<u64, Conn, ::mapguard::__private::NoListener>
for __MapguardConfig_8Sessions_by_id {
    const MAX: ::mapguard::__private::usize = 5000usize;
    const LIFETIME: ::mapguard::__private::Lifetime = ::mapguard::__private::Lifetime::Request;
    const NAME: &'static str = "Sessions.by_id";
    const TTL: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::None;
    const IDLE: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::None;
    const MAX_WEIGHT: ::mapguard::__private::Option<::mapguard::__private::u64> = ::mapguard::__private::Option::None;
}
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    clippy::disallowed_types,
    reason = "names the field's declared map type, which #[mapguard::managed] replaced"
)]
struct __MapguardConfig_8Sessions_open(
    ::mapguard::__private::PhantomData<fn() -> (HashMap<String, Channel>)>,
);
#[automatically_derived]
impl ::mapguard::__private::FieldConfig<String, Channel, __MapguardHooks_8Sessions_open>
for __MapguardConfig_8Sessions_open {
    const MAX: ::mapguard::__private::usize = 100usize;
    const LIFETIME: ::mapguard::__private::Lifetime = ::mapguard::__private::Lifetime::Session;
    const NAME: &'static str = "Sessions.open";
    const TTL: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::None;
    const IDLE: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::None;
    const MAX_WEIGHT: ::mapguard::__private::Option<::mapguard::__private::u64> = ::mapguard::__private::Option::None;
}
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    clippy::disallowed_types,
    reason = "names the field's declared map type, which #[mapguard::managed] replaced"
)]
struct __MapguardHooks_8Sessions_open(
    ::mapguard::__private::PhantomData<fn() -> (HashMap<String, Channel>)>,
);
#[automatically_derived]
impl ::mapguard::__private::Default for __MapguardHooks_8Sessions_open {
    fn default() -> Self {
        Self(::mapguard::__private::PhantomData)
    }
}
#[automatically_derived]
impl ::mapguard::__private::Clone for __MapguardHooks_8Sessions_open {
    fn clone(&self) -> Self {
        Self(::mapguard::__private::PhantomData)
    }
}
#[automatically_derived]
impl ::mapguard::__private::fmt::Debug for __MapguardHooks_8Sessions_open {
    fn fmt(
        &self,
        f: &mut ::mapguard::__private::fmt::Formatter<'_>,
    ) -> ::mapguard::__private::fmt::Result {
        f.write_str("Sessions.open hooks")
    }
}
#[automatically_derived]
impl ::mapguard::__private::RemovalListener<String, Channel>
for __MapguardHooks_8Sessions_open {
    fn on_removal(
        &mut self,
        key: String,
        mut value: Channel,
        cause: ::mapguard::__private::RemovalCause,
    ) {
        <Channel as ::mapguard::__private::Cleanup>::cleanup(&mut value, cause);
        let _ = (key, value, cause);
    }
}
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    clippy::disallowed_types,
    reason = "names the field's declared map type, which #[mapguard::managed] replaced"
)]
struct __MapguardConfig_8Sessions_meta(
    ::mapguard::__private::PhantomData<fn() -> (HashMap<Weak<Node>, Meta>)>,
);
#[automatically_derived]
impl ::mapguard::__private::FieldConfig<Weak<Node>, Meta, __MapguardHooks_8Sessions_meta>
for __MapguardConfig_8Sessions_meta {
    const MAX: ::mapguard::__private::usize = ::mapguard::__private::usize::MAX;
    const LIFETIME: ::mapguard::__private::Lifetime = ::mapguard::__private::Lifetime::Process;
    const NAME: &'static str = "Sessions.meta";
    const TTL: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::Some(
        ::mapguard::__private::Duration::from_millis(600000u64),
    );
    const IDLE: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::None;
    const MAX_WEIGHT: ::mapguard::__private::Option<::mapguard::__private::u64> = ::mapguard::__private::Option::None;
}
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    clippy::disallowed_types,
    reason = "names the field's declared map type, which #[mapguard::managed] replaced"
)]
struct __MapguardHooks_8Sessions_meta(
    ::mapguard::__private::PhantomData<fn() -> (HashMap<Weak<Node>, Meta>)>,
);
#[automatically_derived]
impl ::mapguard::__private::Default for __MapguardHooks_8Sessions_meta {
    fn default() -> Self {
        Self(::mapguard::__private::PhantomData)
    }
}
#[automatically_derived]
impl ::mapguard::__private::Clone for __MapguardHooks_8Sessions_meta {
    fn clone(&self) -> Self {
        Self(::mapguard::__private::PhantomData)
    }
}
#[automatically_derived]
impl ::mapguard::__private::fmt::Debug for __MapguardHooks_8Sessions_meta {
    fn fmt(
        &self,
        f: &mut ::mapguard::__private::fmt::Formatter<'_>,
    ) -> ::mapguard::__private::fmt::Result {
        f.write_str("Sessions.meta hooks")
    }
}
#[automatically_derived]
impl ::mapguard::__private::RemovalListener<Weak<Node>, Meta>
for __MapguardHooks_8Sessions_meta {
    fn on_removal(
        &mut self,
        key: Weak<Node>,
        value: Meta,
        cause: ::mapguard::__private::RemovalCause,
    ) {
        let hook: fn(Weak<Node>, Meta, ::mapguard::__private::RemovalCause) = log_removal;
        hook(key, value, cause);
    }
}
#[automatically_derived]
impl ::mapguard::__private::ManagedCache for Sessions {
    #[allow(unused_mut)]
    fn end_scope(
        &mut self,
        lifetime: ::mapguard::__private::Lifetime,
    ) -> ::mapguard::__private::usize {
        let mut fields = ::mapguard::__private::EachField::new();
        {
            fields
                .run(|| <::mapguard::__private::ManagedMap<
                    u64,
                    Conn,
                    ::mapguard::__private::Lru,
                    ::mapguard::__private::DefaultHashBuilder,
                    ::mapguard::__private::NoListener,
                    ::mapguard::__private::Scoped<::mapguard::__private::NoExpiry>,
                    ::mapguard::__private::Configured<__MapguardConfig_8Sessions_by_id>,
                > as ::mapguard::__private::ManagedCache>::end_scope(
                    &mut self.by_id,
                    lifetime,
                ));
        }
        {
            fields
                .run(|| <::mapguard::__private::ManagedMap<
                    String,
                    Channel,
                    ::mapguard::__private::Reject,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_8Sessions_open,
                    ::mapguard::__private::Scoped<::mapguard::__private::NoExpiry>,
                    ::mapguard::__private::Configured<__MapguardConfig_8Sessions_open>,
                > as ::mapguard::__private::ManagedCache>::end_scope(
                    &mut self.open,
                    lifetime,
                ));
        }
        {
            fields
                .run(|| <::mapguard::__private::WeakKeyMap<
                    Weak<Node>,
                    Meta,
                    ::mapguard::__private::Lru,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_8Sessions_meta,
                    ::mapguard::__private::Expiring,
                    ::mapguard::__private::Configured<__MapguardConfig_8Sessions_meta>,
                > as ::mapguard::__private::ManagedCache>::end_scope(
                    &mut self.meta,
                    lifetime,
                ));
        }
        fields.finish()
    }
    #[allow(unused_mut)]
    fn maintain(&mut self) -> ::mapguard::__private::usize {
        let mut fields = ::mapguard::__private::EachField::new();
        {
            fields
                .run(|| <::mapguard::__private::ManagedMap<
                    u64,
                    Conn,
                    ::mapguard::__private::Lru,
                    ::mapguard::__private::DefaultHashBuilder,
                    ::mapguard::__private::NoListener,
                    ::mapguard::__private::Scoped<::mapguard::__private::NoExpiry>,
                    ::mapguard::__private::Configured<__MapguardConfig_8Sessions_by_id>,
                > as ::mapguard::__private::ManagedCache>::maintain(&mut self.by_id));
        }
        {
            fields
                .run(|| <::mapguard::__private::ManagedMap<
                    String,
                    Channel,
                    ::mapguard::__private::Reject,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_8Sessions_open,
                    ::mapguard::__private::Scoped<::mapguard::__private::NoExpiry>,
                    ::mapguard::__private::Configured<__MapguardConfig_8Sessions_open>,
                > as ::mapguard::__private::ManagedCache>::maintain(&mut self.open));
        }
        {
            fields
                .run(|| <::mapguard::__private::WeakKeyMap<
                    Weak<Node>,
                    Meta,
                    ::mapguard::__private::Lru,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_8Sessions_meta,
                    ::mapguard::__private::Expiring,
                    ::mapguard::__private::Configured<__MapguardConfig_8Sessions_meta>,
                > as ::mapguard::__private::ManagedCache>::maintain(&mut self.meta));
        }
        fields.finish()
    }
    #[allow(unused_mut)]
    fn stats(&self) -> ::mapguard::__private::Vec<::mapguard::__private::MapStats> {
        let mut stats = ::mapguard::__private::Vec::new();
        {
            ::mapguard::__private::Extend::extend(
                &mut stats,
                <::mapguard::__private::ManagedMap<
                    u64,
                    Conn,
                    ::mapguard::__private::Lru,
                    ::mapguard::__private::DefaultHashBuilder,
                    ::mapguard::__private::NoListener,
                    ::mapguard::__private::Scoped<::mapguard::__private::NoExpiry>,
                    ::mapguard::__private::Configured<__MapguardConfig_8Sessions_by_id>,
                > as ::mapguard::__private::ManagedCache>::stats(&self.by_id),
            );
        }
        {
            ::mapguard::__private::Extend::extend(
                &mut stats,
                <::mapguard::__private::ManagedMap<
                    String,
                    Channel,
                    ::mapguard::__private::Reject,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_8Sessions_open,
                    ::mapguard::__private::Scoped<::mapguard::__private::NoExpiry>,
                    ::mapguard::__private::Configured<__MapguardConfig_8Sessions_open>,
                > as ::mapguard::__private::ManagedCache>::stats(&self.open),
            );
        }
        {
            ::mapguard::__private::Extend::extend(
                &mut stats,
                <::mapguard::__private::WeakKeyMap<
                    Weak<Node>,
                    Meta,
                    ::mapguard::__private::Lru,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_8Sessions_meta,
                    ::mapguard::__private::Expiring,
                    ::mapguard::__private::Configured<__MapguardConfig_8Sessions_meta>,
                > as ::mapguard::__private::ManagedCache>::stats(&self.meta),
            );
        }
        stats
    }
}
const _: () = {
    #[allow(dead_code, clippy::all, clippy::pedantic)]
    fn __mapguard_lifecycle_checks() {
        use ::mapguard::__private::{MapProbe as _, PlainProbe as _};
        use ::mapguard::__private::{AnyWeakKey as _, HashedWeakKey as _};
        ::mapguard::__private::require_lifecycle::<
            String,
            _,
        >(&(&::mapguard::__private::Probe::<String>::new()).lifecycle());
        ::mapguard::__private::require_managed_values::<
            Conn,
            _,
        >(&(&::mapguard::__private::Probe::<Conn>::new()).lifecycle());
        ::mapguard::__private::require_managed_values::<
            Channel,
            _,
        >(&(&::mapguard::__private::Probe::<Channel>::new()).lifecycle());
        ::mapguard::__private::require_managed_values::<
            Meta,
            _,
        >(&(&::mapguard::__private::Probe::<Meta>::new()).lifecycle());
        ::mapguard::__private::require_weak_key::<
            Weak<Node>,
            _,
        >(&(&&::mapguard::__private::WeakKeyProbe::<Weak<Node>>::new()).weak_key());
    }
};
