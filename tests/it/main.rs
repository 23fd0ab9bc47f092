//! The bot's own integration suite: the `/h` grammar and help, the store on SQLite and
//! (with `TEST_DATABASE_URL`) PostgreSQL, the kept fuzz inputs, and the binary as a
//! process. Nothing here needs the fakes: the end-to-end suite lives in
//! crates/sandbox.

mod connections;
mod fuzz_corpus;
mod grammar;
mod layers;
mod process;
mod store;
mod store_deploys;
mod store_outbox;
mod store_queue;
