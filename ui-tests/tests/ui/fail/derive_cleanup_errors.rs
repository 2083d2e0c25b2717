use mapguard::Cleanup;

struct NotCleanable;

#[derive(Cleanup)]
struct Value {
    inner: NotCleanable,
    #[cleanup(sikp)]
    other: NotCleanable,
}

fn main() {}
