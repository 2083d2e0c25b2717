pub struct Pair<'a, T: Clone>(
    pub ::mapguard::__private::ManagedMap<
        &'a str,
        T,
        ::mapguard::__private::Lru,
        RandomState,
        ::mapguard::__private::NoListener,
        ::mapguard::__private::Scoped<::mapguard::__private::Expiring>,
        ::mapguard::__private::Configured<__MapguardConfig_4Pair_0<'a, T>>,
    >,
)
where
    T: Default;
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    clippy::disallowed_types,
    reason = "names the field's declared map type, which #[mapguard::managed] replaced"
)]
pub struct __MapguardConfig_4Pair_0<'a, T: Clone>(
    ::mapguard::__private::PhantomData<
        fn() -> (
            &'a (),
            ::mapguard::__private::PhantomData<T>,
            HashMap<&'a str, T, RandomState>,
        ),
    >,
)
where
    T: Default;
#[automatically_derived]
impl<
    'a,
    T: Clone,
> ::mapguard::__private::FieldConfig<&'a str, T, ::mapguard::__private::NoListener>
for __MapguardConfig_4Pair_0<'a, T>
where
    T: Default,
{
    const MAX: ::mapguard::__private::usize = 2usize;
    const LIFETIME: ::mapguard::__private::Lifetime = ::mapguard::__private::Lifetime::Batch;
    const NAME: &'static str = "Pair.0";
    const TTL: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::None;
    const IDLE: ::mapguard::__private::Option<::mapguard::__private::Duration> = ::mapguard::__private::Option::Some(
        ::mapguard::__private::Duration::from_millis(250u64),
    );
    const MAX_WEIGHT: ::mapguard::__private::Option<::mapguard::__private::u64> = ::mapguard::__private::Option::None;
}
#[automatically_derived]
impl<'a, T: Clone> ::mapguard::__private::ManagedCache for Pair<'a, T>
where
    T: Default,
{
    #[allow(unused_mut)]
    fn end_scope(
        &mut self,
        lifetime: ::mapguard::__private::Lifetime,
    ) -> ::mapguard::__private::usize {
        let mut fields = ::mapguard::__private::EachField::new();
        {
            fields
                .run(|| <::mapguard::__private::ManagedMap<
                    &'a str,
                    T,
                    ::mapguard::__private::Lru,
                    RandomState,
                    ::mapguard::__private::NoListener,
                    ::mapguard::__private::Scoped<::mapguard::__private::Expiring>,
                    ::mapguard::__private::Configured<__MapguardConfig_4Pair_0<'a, T>>,
                > as ::mapguard::__private::ManagedCache>::end_scope(
                    &mut self.0,
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
                    &'a str,
                    T,
                    ::mapguard::__private::Lru,
                    RandomState,
                    ::mapguard::__private::NoListener,
                    ::mapguard::__private::Scoped<::mapguard::__private::Expiring>,
                    ::mapguard::__private::Configured<__MapguardConfig_4Pair_0<'a, T>>,
                > as ::mapguard::__private::ManagedCache>::maintain(&mut self.0));
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
                    &'a str,
                    T,
                    ::mapguard::__private::Lru,
                    RandomState,
                    ::mapguard::__private::NoListener,
                    ::mapguard::__private::Scoped<::mapguard::__private::Expiring>,
                    ::mapguard::__private::Configured<__MapguardConfig_4Pair_0<'a, T>>,
                > as ::mapguard::__private::ManagedCache>::stats(&self.0),
            );
        }
        stats
    }
}
const _: () = {
    #[allow(dead_code, clippy::all, clippy::pedantic)]
    fn __mapguard_lifecycle_checks<'a, T: Clone>()
    where
        T: Default,
    {
        use ::mapguard::__private::{MapProbe as _, PlainProbe as _};
        ::mapguard::__private::require_managed_values::<
            T,
            _,
        >(&(&::mapguard::__private::Probe::<T>::new()).lifecycle());
    }
};
