//! Integration tests over the real sample files in `../shared/data/bankfeeds` (read in place,
//! never copied) and the expected results converted to JSON in `tests/expected/`; the
//! settlement samples the project wrote itself are in `tests/data/settlement/`.

mod bai2_samples;
mod behaviour;
mod betterplace;
mod chinese_csv;
mod common;
mod compact;
mod fingerprints;
mod genkgo;
mod inventory;
mod mt940_rs;
mod robustness;
mod settlement;
mod wolph;
