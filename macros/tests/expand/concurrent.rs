#[derive(Default)]
pub struct RuleCache {
    compiled: ::mapguard::__private::ConcurrentMap<
        String,
        Arc<Rule>,
        ::mapguard::__private::Lru,
        ::mapguard::__private::DefaultHashBuilder,
        __MapguardHooks_9RuleCache_compiled,
        ::mapguard::__private::NoExpiry,
        ::mapguard::__private::Configured<__MapguardConfig_9RuleCache_compiled>,
    >,
    scratch: ::mapguard::__private::ConcurrentMap<
        u64,
        Conn,
        ::mapguard::__private::Reject,
        ::mapguard::__private::DefaultHashBuilder,
        __MapguardHooks_9RuleCache_scratch,
        ::mapguard::__private::NoExpiry,
        ::mapguard::__private::Configured<__MapguardConfig_9RuleCache_scratch>,
    >,
}
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    clippy::disallowed_types,
    reason = "names the field's declared map type, which #[mapguard::managed] replaced"
)]
struct __MapguardConfig_9RuleCache_compiled(
    ::mapguard::__private::PhantomData<fn() -> (HashMap<String, Arc<Rule>>)>,
);
#[automatically_derived]
impl ::mapguard::__private::FieldConfig<
    String,
    Arc<Rule>,
    __MapguardHooks_9RuleCache_compiled,
> for __MapguardConfig_9RuleCache_compiled {
    const MAX: ::mapguard::__private::usize = 10000usize;
    const LIFETIME: ::mapguard::__private::Lifetime = ::mapguard::__private::Lifetime::Process;
    const NAME: &'static str = "RuleCache.compiled";
    const TTL: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::None;
    const IDLE: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::None;
    const MAX_WEIGHT: ::mapguard::__private::Option<::mapguard::__private::u64> = ::mapguard::__private::Option::None;
    fn __enrol_map<
        M: ::mapguard::__private::EnrolMap<
                String,
                Arc<Rule>,
                __MapguardHooks_9RuleCache_compiled,
            >,
    >(map: &M) {
        use ::mapguard::__private::{CrossingProbe as _, LocalProbe as _};
        (&::mapguard::__private::Probe::<
            (String, Arc<Rule>, __MapguardHooks_9RuleCache_compiled),
        >::new())
            .enrol_map(map);
    }
}
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    clippy::disallowed_types,
    reason = "names the field's declared map type, which #[mapguard::managed] replaced"
)]
struct __MapguardHooks_9RuleCache_compiled(
    ::mapguard::__private::PhantomData<fn() -> (HashMap<String, Arc<Rule>>)>,
);
#[automatically_derived]
impl ::mapguard::__private::Default for __MapguardHooks_9RuleCache_compiled {
    fn default() -> Self {
        Self(::mapguard::__private::PhantomData)
    }
}
#[automatically_derived]
impl ::mapguard::__private::Clone for __MapguardHooks_9RuleCache_compiled {
    fn clone(&self) -> Self {
        Self(::mapguard::__private::PhantomData)
    }
}
#[automatically_derived]
impl ::mapguard::__private::fmt::Debug for __MapguardHooks_9RuleCache_compiled {
    fn fmt(
        &self,
        f: &mut ::mapguard::__private::fmt::Formatter<'_>,
    ) -> ::mapguard::__private::fmt::Result {
        f.write_str("RuleCache.compiled hooks")
    }
}
#[automatically_derived]
impl ::mapguard::__private::ConcurrentListener<String, Arc<Rule>>
for __MapguardHooks_9RuleCache_compiled {
    fn on_removal(
        &self,
        key: String,
        value: Arc<Rule>,
        cause: ::mapguard::__private::RemovalCause,
    ) {
        let hook: fn(String, Arc<Rule>, ::mapguard::__private::RemovalCause) = log;
        hook(key, value, cause);
    }
}
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    clippy::disallowed_types,
    reason = "names the field's declared map type, which #[mapguard::managed] replaced"
)]
struct __MapguardConfig_9RuleCache_scratch(
    ::mapguard::__private::PhantomData<fn() -> (HashMap<u64, Conn>)>,
);
#[automatically_derived]
impl ::mapguard::__private::FieldConfig<u64, Conn, __MapguardHooks_9RuleCache_scratch>
for __MapguardConfig_9RuleCache_scratch {
    const MAX: ::mapguard::__private::usize = 64usize;
    const LIFETIME: ::mapguard::__private::Lifetime = ::mapguard::__private::Lifetime::Request;
    const NAME: &'static str = "RuleCache.scratch";
    const TTL: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::None;
    const IDLE: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::None;
    const MAX_WEIGHT: ::mapguard::__private::Option<::mapguard::__private::u64> = ::mapguard::__private::Option::None;
    fn __enrol_map<
        M: ::mapguard::__private::EnrolMap<u64, Conn, __MapguardHooks_9RuleCache_scratch>,
    >(map: &M) {
        use ::mapguard::__private::{CrossingProbe as _, LocalProbe as _};
        (&::mapguard::__private::Probe::<
            (u64, Conn, __MapguardHooks_9RuleCache_scratch),
        >::new())
            .enrol_map(map);
    }
}
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    clippy::disallowed_types,
    reason = "names the field's declared map type, which #[mapguard::managed] replaced"
)]
struct __MapguardHooks_9RuleCache_scratch(
    ::mapguard::__private::PhantomData<fn() -> (HashMap<u64, Conn>)>,
);
#[automatically_derived]
impl ::mapguard::__private::Default for __MapguardHooks_9RuleCache_scratch {
    fn default() -> Self {
        Self(::mapguard::__private::PhantomData)
    }
}
#[automatically_derived]
impl ::mapguard::__private::Clone for __MapguardHooks_9RuleCache_scratch {
    fn clone(&self) -> Self {
        Self(::mapguard::__private::PhantomData)
    }
}
#[automatically_derived]
impl ::mapguard::__private::fmt::Debug for __MapguardHooks_9RuleCache_scratch {
    fn fmt(
        &self,
        f: &mut ::mapguard::__private::fmt::Formatter<'_>,
    ) -> ::mapguard::__private::fmt::Result {
        f.write_str("RuleCache.scratch hooks")
    }
}
#[automatically_derived]
impl ::mapguard::__private::ConcurrentListener<u64, Conn>
for __MapguardHooks_9RuleCache_scratch {
    fn on_removal(
        &self,
        key: u64,
        mut value: Conn,
        cause: ::mapguard::__private::RemovalCause,
    ) {
        <Conn as ::mapguard::__private::Cleanup>::cleanup(&mut value, cause);
        let _ = (key, value, cause);
    }
}
#[automatically_derived]
impl ::mapguard::__private::ManagedCache for RuleCache {
    #[allow(unused_mut)]
    fn end_scope(
        &mut self,
        lifetime: ::mapguard::__private::Lifetime,
    ) -> ::mapguard::__private::usize {
        let mut fields = ::mapguard::__private::EachField::new();
        {
            fields
                .run(|| <::mapguard::__private::ConcurrentMap<
                    String,
                    Arc<Rule>,
                    ::mapguard::__private::Lru,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_9RuleCache_compiled,
                    ::mapguard::__private::NoExpiry,
                    ::mapguard::__private::Configured<
                        __MapguardConfig_9RuleCache_compiled,
                    >,
                > as ::mapguard::__private::ManagedCache>::end_scope(
                    &mut self.compiled,
                    lifetime,
                ));
        }
        {
            fields
                .run(|| <::mapguard::__private::ConcurrentMap<
                    u64,
                    Conn,
                    ::mapguard::__private::Reject,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_9RuleCache_scratch,
                    ::mapguard::__private::NoExpiry,
                    ::mapguard::__private::Configured<
                        __MapguardConfig_9RuleCache_scratch,
                    >,
                > as ::mapguard::__private::ManagedCache>::end_scope(
                    &mut self.scratch,
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
                .run(|| <::mapguard::__private::ConcurrentMap<
                    String,
                    Arc<Rule>,
                    ::mapguard::__private::Lru,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_9RuleCache_compiled,
                    ::mapguard::__private::NoExpiry,
                    ::mapguard::__private::Configured<
                        __MapguardConfig_9RuleCache_compiled,
                    >,
                > as ::mapguard::__private::ManagedCache>::maintain(&mut self.compiled));
        }
        {
            fields
                .run(|| <::mapguard::__private::ConcurrentMap<
                    u64,
                    Conn,
                    ::mapguard::__private::Reject,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_9RuleCache_scratch,
                    ::mapguard::__private::NoExpiry,
                    ::mapguard::__private::Configured<
                        __MapguardConfig_9RuleCache_scratch,
                    >,
                > as ::mapguard::__private::ManagedCache>::maintain(&mut self.scratch));
        }
        fields.finish()
    }
    #[allow(unused_mut)]
    fn stats(&self) -> ::mapguard::__private::Vec<::mapguard::__private::MapStats> {
        let mut stats = ::mapguard::__private::Vec::new();
        {
            ::mapguard::__private::Extend::extend(
                &mut stats,
                <::mapguard::__private::ConcurrentMap<
                    String,
                    Arc<Rule>,
                    ::mapguard::__private::Lru,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_9RuleCache_compiled,
                    ::mapguard::__private::NoExpiry,
                    ::mapguard::__private::Configured<
                        __MapguardConfig_9RuleCache_compiled,
                    >,
                > as ::mapguard::__private::ManagedCache>::stats(&self.compiled),
            );
        }
        {
            ::mapguard::__private::Extend::extend(
                &mut stats,
                <::mapguard::__private::ConcurrentMap<
                    u64,
                    Conn,
                    ::mapguard::__private::Reject,
                    ::mapguard::__private::DefaultHashBuilder,
                    __MapguardHooks_9RuleCache_scratch,
                    ::mapguard::__private::NoExpiry,
                    ::mapguard::__private::Configured<
                        __MapguardConfig_9RuleCache_scratch,
                    >,
                > as ::mapguard::__private::ManagedCache>::stats(&self.scratch),
            );
        }
        stats
    }
}
const _: () = {
    #[allow(dead_code, clippy::all, clippy::pedantic)]
    fn __mapguard_lifecycle_checks() {
        use ::mapguard::__private::{MapProbe as _, PlainProbe as _};
        ::mapguard::__private::require_managed_values::<
            Arc<Rule>,
            _,
        >(&(&::mapguard::__private::Probe::<Arc<Rule>>::new()).lifecycle());
        ::mapguard::__private::require_managed_values::<
            Conn,
            _,
        >(&(&::mapguard::__private::Probe::<Conn>::new()).lifecycle());
    }
};
