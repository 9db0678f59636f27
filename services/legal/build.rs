// `sqlx::migrate!` embeds the migrations when the crate is compiled; without this, adding a
// migration file would not rebuild the crate, and the binary would run without it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
