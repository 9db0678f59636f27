//! csv
use crate::ParseOptions;
use crate::error::{ErrorKind, FeedError, Location};
use crate::model::Statement;
use crate::text::Input;
/// profile
#[derive(Debug, Clone)]
pub struct CsvProfile {
    pub name: String,
}
pub(crate) fn find_profile(name: &str, _o: &ParseOptions) -> Result<CsvProfile, FeedError> {
    Err(FeedError::new(
        ErrorKind::UnknownFormat,
        Location::File,
        "p",
        "p",
        name,
    ))
}
pub(crate) fn detect_profile(_b: &[u8], _o: &ParseOptions) -> Option<String> {
    None
}
pub(crate) fn parse(
    _input: &Input<'_>,
    _p: &CsvProfile,
    _o: &ParseOptions,
) -> Vec<Result<Statement, FeedError>> {
    Vec::new()
}
