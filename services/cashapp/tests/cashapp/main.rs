//! Integration tests of the cash application engine (one binary, modules by topic).

mod common;
mod decisions;
mod exceptions;
mod files;
mod incremental;
mod properties;
mod quality;
