// A plain `String` field in a `#[derive(Cleanup)]` type: the error says to skip it.
use mapguard::{Cleanup, RemovalCause};

struct Socket;
impl Cleanup for Socket {
    fn cleanup(&mut self, _cause: RemovalCause) {}
}

#[derive(Cleanup)]
struct Connection {
    socket: Socket,
    peer_name: String,
}

fn main() {}
