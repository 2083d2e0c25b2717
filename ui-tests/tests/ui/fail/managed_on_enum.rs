#[mapguard::managed]
enum State {
    Empty,
}

fn main() {}
