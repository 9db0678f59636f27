use crate::ParseOptions;
use crate::error::FeedError;
use crate::model::Statement;
use crate::text::Input;
pub(crate) fn parse(_input: &Input<'_>, _o: &ParseOptions) -> Vec<Result<Statement, FeedError>> {
    Vec::new()
}
