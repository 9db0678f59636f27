//! SWIFT MT940 (customer statement) and MT942 (interim transaction report).

mod compact;
mod entries;
mod info86;
mod line61;
mod statement;
mod tags;

use rust_decimal::Decimal;

use compact::{Arena, Bal, Marks, Span, Stmt};
pub use compact::{CompactFile, StatementRef, TransactionRef};
pub use info86::Info as Information;
pub use tags::Field;

use crate::check::{self, Occurrences};
use crate::error::{ErrorKind, FeedError, Location};
use crate::fingerprint::{self, Fingerprint};
use crate::model::{Format, ParsedFile};
use crate::text::{Input, trim};
use crate::values::{DateProblem, parse_unsigned, yymmdd};
use crate::{ParseOptions, detect, text};

/// Split MT940/MT942 bytes into fields (`:TAG:` plus continuation lines), message by message.
/// A low-level view for debugging a bank's file; [`crate::parse_file`] builds statements.
#[must_use]
pub fn fields(bytes: &[u8]) -> Vec<Vec<Field>> {
    match crate::text::prepare(bytes, None, crate::text::Fallback::Western) {
        Ok(input) => tags::messages(&input),
        Err(_) => Vec::new(),
    }
}

/// True if some line of `head` starts with an MT940/MT942 field tag.
pub(crate) fn looks_like_swift(head: &[u8]) -> bool {
    text::split_lines(head)
        .filter_map(|l| tags::tag_at(trim(l)))
        .any(|(tag, _)| tag == b"NS" || tag.first().is_some_and(u8::is_ascii_digit))
}

/// A `:61:` statement line, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// Value date (`None` when it is no calendar day, e.g. 30 February).
    pub value_date: Option<chrono::NaiveDate>,
    /// Entry (booking) date, placed in the year nearest the value date.
    pub entry_date: Option<chrono::NaiveDate>,
    /// Signed amount: credits and reversals of debits positive.
    pub amount: Decimal,
    /// `RC`/`RD`: a reversal.
    pub reversal: bool,
    /// Funds code (third letter of the currency), if present.
    pub funds_code: Option<char>,
    /// Transaction type identification code, e.g. `NTRF`.
    pub transaction_type: String,
    /// Reference for the account owner (up to `//`).
    pub customer_reference: String,
    /// Reference of the account servicing institution (after `//`).
    pub bank_reference: Option<String>,
    /// Supplementary details (further lines).
    pub supplementary_details: Vec<String>,
}

/// Parse the value of a `:61:` field (continuation lines separated by newlines).
///
/// # Errors
/// Names the part that is wrong and what was expected.
pub fn parse_statement_line(value: &str) -> Result<StatementLine, String> {
    let l = line61::parse(value.as_bytes())
        .map_err(|p| format!("{}: expected {}, found {:?}", p.part, p.expected, p.found))?;
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok(StatementLine {
        value_date: l.value_date.ok(),
        entry_date: l.entry_date.and_then(Result::ok),
        amount: l.signed_amount(),
        reversal: matches!(
            l.mark,
            line61::Mark::ReversalOfCredit | line61::Mark::ReversalOfDebit
        ),
        funds_code: l.funds_code,
        transaction_type: lossy(l.type_code),
        customer_reference: lossy(l.customer_reference),
        bank_reference: l.bank_reference.map(lossy),
        supplementary_details: l.supplementary.iter().map(|s| lossy(s)).collect(),
    })
}

/// Interpret a `:86:` text with the bank dialects this crate knows.
#[must_use]
pub fn parse_information(text: &str) -> Information {
    info86::parse(text)
}

/// Parse a balance field value (`:60F:`, `:62F:`, `:64:`, `:65:`): `C100318EUR380115,12`.
///
/// # Errors
/// Names the part that is wrong (mark, date, currency, amount) and what was expected.
pub fn parse_balance(value: &str) -> Result<crate::Balance, String> {
    balance(trim(value.as_bytes()))
        .map(Bal::to_balance)
        .map_err(|(part, expected, found)| format!("{part}: expected {expected}, found {found:?}"))
}

pub(crate) type PartError = (&'static str, &'static str, String);

pub(crate) fn balance(v: &[u8]) -> Result<Bal, PartError> {
    let lossy = |s: &[u8]| String::from_utf8_lossy(s).into_owned();
    let sign = match v.first() {
        Some(b'C') => Decimal::ONE,
        Some(b'D') => Decimal::NEGATIVE_ONE,
        _ => {
            return Err((
                "debit/credit mark",
                "C or D",
                lossy(v.get(..1).unwrap_or(v)),
            ));
        }
    };
    let date_raw = v.get(1..7).unwrap_or_default();
    let date = yymmdd(date_raw).map_err(|p| match p {
        DateProblem::Shape => ("date", "six digits YYMMDD", lossy(date_raw)),
        DateProblem::NoSuchDay => ("date", "an existing calendar day", lossy(date_raw)),
    })?;
    let ccy = v.get(7..10).unwrap_or_default();
    let currency = match *ccy {
        [a, b, c] if ccy.iter().all(u8::is_ascii_uppercase) => [a, b, c],
        _ => return Err(("currency", "a three-letter ISO 4217 code", lossy(ccy))),
    };
    let raw_amount = v.get(10..).unwrap_or_default();
    // SWIFT writes a decimal comma; some banks' exports write a balance with a decimal point.
    // Either is read, one separator at most (no thousands separators).
    let separator = if raw_amount.contains(&b'.') && !raw_amount.contains(&b',') {
        b'.'
    } else {
        b','
    };
    let amount = parse_unsigned(raw_amount, separator).ok_or_else(|| {
        (
            "amount",
            "digits with one decimal comma (or point), like 1234,56",
            lossy(raw_amount),
        )
    })?;
    Ok(Bal {
        amount: sign * amount,
        currency,
        date,
        intermediate: false,
    })
}

/// Parse an MT940/MT942 file into the compact form: the same statements, checks and errors
/// as [`crate::parse_file`], with all text of the file in one buffer, read through
/// [`StatementRef`]/[`TransactionRef`] views (no allocation per statement or transaction).
/// Fingerprints are not computed by the parse: [`CompactFile::fingerprints`] (or the first
/// [`TransactionRef::fingerprint`]) computes those of the whole file on first use, the same
/// values as `parse_file`'s.
/// [`CompactFile::to_parsed_file`] gives exactly what `parse_file` returns.
///
/// `format` is `Mt940` or `Mt942` (only the reported format differs); `None` detects which.
///
/// # Errors
/// As [`crate::parse_file`]: a bad encoding label, or a `format` that is not MT940/MT942.
pub fn parse_compact(
    name: &str,
    bytes: &[u8],
    format: Option<Format>,
    options: &ParseOptions,
) -> Result<CompactFile, FeedError> {
    let result = (|| {
        let format = match format {
            Some(f @ (Format::Mt940 | Format::Mt942)) => f,
            None if detect::is_mt942(bytes) => Format::Mt942,
            None => Format::Mt940,
            Some(other) => {
                return Err(FeedError::new(
                    ErrorKind::UnknownFormat,
                    Location::File,
                    "format",
                    "mt940 or mt942",
                    other.name(),
                ));
            }
        };
        let forced = options
            .encoding
            .as_deref()
            .map(text::encoding_for_label)
            .transpose()?;
        let input = text::prepare(bytes, forced, text::Fallback::Western)?;
        Ok(compact_file(name, format, &input, options))
    })();
    result.map_err(|e| e.with_file(name))
}

/// Parse prepared input into the compact form: statements, strict/flag sorting, what the
/// fingerprints need (they are computed on demand, see [`CompactFile::fingerprints`]).
pub(crate) fn compact_file(
    name: &str,
    format: Format,
    input: &Input<'_>,
    options: &ParseOptions,
) -> CompactFile {
    // Room for what real files need, so the buffers are rarely copied while they grow: the
    // file's text once, plus the `:86:` texts without line breaks and the values cut from
    // them (1.3–2 times the input in the samples); a transaction per 256 bytes, six extra
    // fields per transaction, a statement per 1000 bytes (a larger buffer grows by
    // doubling). Not more: glibc hands a large free block at the top of the heap back to
    // the system (128 KiB by default) and faults it in again for the next file, which cost
    // about 3 % on small files when the reservations of a 28 KiB file added up to 160 KiB.
    let len = input.bytes.len();
    let mut arena = Arena {
        text: String::with_capacity(len.saturating_mul(2).saturating_add(64)),
        txs: Vec::with_capacity(len / 256 + 1),
        extras: Vec::with_capacity(len / 40 + 8),
    };
    let mut statements = Vec::with_capacity(len / 1000 + 1);
    let mut errors = Vec::new();
    // Basis digests of the transactions of statements built but rejected (strict mode),
    // each after the number of kept transactions before it: they still count for the
    // occurrence numbers of the fingerprints after them (computed on demand).
    let mut rejected = Vec::new();
    each_statement(
        input,
        &mut arena,
        |arena, index, whole_file, result, marks, prints| {
            let built = result.as_ref().ok().map(|st| Basics::of(st));
            match check::sort_one(
                name,
                index,
                whole_file,
                result,
                options,
                &mut errors,
                |st| &mut st.flags,
            ) {
                Some(st) => statements.push(std::mem::replace(st, Stmt::empty(0))),
                None => {
                    if let Some(st) = built {
                        let at = marks.txs();
                        prints.each_digest(arena, st, |_, d| rejected.push((at, d)));
                    }
                    // Nothing else of a rejected statement is kept.
                    arena.truncate(marks);
                }
            }
        },
    );
    CompactFile {
        format,
        encoding: input.encoding_name(),
        errors,
        statements,
        arena,
        prints: compact::FilePrints::new(rejected),
    }
}

/// What the fingerprints of a statement's transactions need of the statement.
#[derive(Debug, Clone, Copy)]
struct Basics {
    account: Span,
    currency: Span,
    txs: (usize, usize),
}

impl Basics {
    fn of(st: &Stmt) -> Self {
        Self {
            account: st.account,
            currency: st.currency,
            txs: st.txs,
        }
    }
}

/// Fingerprints statement by statement, occurrence numbers counted over one file; its
/// buffers are kept for the next file (see [`Reuse`]).
#[derive(Debug, Default)]
struct Prints {
    seen: Occurrences,
    prefix: Vec<u8>,
    hasher: fingerprint::BasisHasher,
    /// The fingerprints of the last kept statement (the owned model).
    fingerprints: Vec<Fingerprint>,
}

impl Prints {
    /// Occurrence numbers start over.
    fn start_file(&mut self, transactions: usize) {
        self.seen.start_file(transactions);
    }

    /// The basis digest of each of statement `st`'s transactions, in order, to `each`.
    fn each_digest(
        &mut self,
        arena: &Arena,
        st: Basics,
        mut each: impl FnMut(&mut Self, [u8; 32]),
    ) {
        let currency = arena.get(st.currency);
        fingerprint::basis_prefix(arena.get(st.account), currency, &mut self.prefix);
        for tx in arena.txs.get(st.txs.0..st.txs.1).unwrap_or_default() {
            let basis = compact::basis(arena, currency, tx);
            let digest = self.hasher.digest_after(&self.prefix, &basis);
            each(self, digest);
        }
    }

    /// The fingerprints of statement `st`'s transactions, appended to `out`.
    fn fingerprints_into(&mut self, arena: &Arena, st: Basics, out: &mut Vec<Fingerprint>) {
        self.each_digest(arena, st, |p, d| out.push(p.seen.fingerprint(d)));
    }

    /// The fingerprints of statement `st`'s transactions, into `self.fingerprints`.
    fn keep(&mut self, arena: &Arena, st: Basics) {
        let mut out = std::mem::take(&mut self.fingerprints);
        out.clear();
        self.fingerprints_into(arena, st, &mut out);
        self.fingerprints = out;
    }

    /// Count statement `st`'s transactions (a statement not kept) without fingerprints.
    fn skip(&mut self, arena: &Arena, st: Basics) {
        self.each_digest(arena, st, |p, d| p.seen.count(d));
    }
}

/// The fingerprints of every kept transaction of a compact file, in file order: what
/// [`CompactFile::fingerprints`] computes on first use. `rejected` are the digests of
/// statements built but not kept, each after the number of kept transactions before it.
pub(crate) fn file_fingerprints(
    arena: &Arena,
    statements: &[Stmt],
    rejected: &[(usize, [u8; 32])],
) -> Vec<Fingerprint> {
    let mut reuse = Reuse::take();
    let prints = &mut reuse.prints;
    prints.start_file(arena.txs.len() + rejected.len());
    let mut out = Vec::with_capacity(arena.txs.len());
    let mut rejected = rejected.iter().peekable();
    for st in statements {
        while let Some((_, d)) = rejected.next_if(|(at, _)| *at <= st.txs.0) {
            prints.seen.count(*d);
        }
        prints.fingerprints_into(arena, Basics::of(st), &mut out);
    }
    // As in `each_statement`: a large file's buffers are not kept.
    if arena.txs.len() <= Reuse::KEEP_AFTER / 256 {
        Reuse::put(reuse);
    }
    out
}

/// Parse prepared input into the owned model: each statement is built in the compact form,
/// turned into a [`crate::Statement`] at once, and its buffers are reused for the next.
pub(crate) fn owned_file(
    name: &str,
    format: Format,
    input: &Input<'_>,
    options: &ParseOptions,
) -> ParsedFile {
    let mut arena = Arena::default();
    // A statement per 500 bytes at most in real files: the list is not regrown (copying it,
    // and handing large blocks back and forth with the system allocator).
    let mut statements = Vec::with_capacity(input.bytes.len() / 500 + 1);
    let mut errors = Vec::new();
    each_statement(
        input,
        &mut arena,
        |arena, index, whole_file, result, marks, prints| {
            // Every statement that could be built counts for the occurrence numbers, also
            // one rejected in strict mode.
            let built = result.as_ref().ok().map(|st| Basics::of(st));
            if let Some(st) = check::sort_one(
                name,
                index,
                whole_file,
                result,
                options,
                &mut errors,
                |st| &mut st.flags,
            ) {
                prints.keep(arena, Basics::of(st));
                let st = StatementRef::with_fingerprints(arena, st, &prints.fingerprints);
                statements.push(st.to_statement());
            } else if let Some(st) = built {
                prints.skip(arena, st);
            }
            arena.truncate(marks);
        },
    );
    ParsedFile {
        file: name.to_string(),
        format,
        encoding: input.encoding_name().to_string(),
        statements,
        errors,
    }
}

/// What [`each_statement`] hands each statement to.
trait Sink: FnMut(&mut Arena, usize, bool, Result<&mut Stmt, FeedError>, Marks, &mut Prints) {}

impl<F: FnMut(&mut Arena, usize, bool, Result<&mut Stmt, FeedError>, Marks, &mut Prints)> Sink
    for F
{
}

/// Build every message of the input into a statement (or the reason it was rejected), and
/// hand each to `sink` in file order with its 1-based index, whether it is the file's only
/// one, the arena marks from before it was built and the fingerprint state of the file
/// (occurrence numbers started afresh; the sink computes fingerprints where it needs them,
/// for every statement that could be built, so that a statement rejected in strict mode
/// does not shift the occurrence numbers of the ones after it).
fn each_statement(input: &Input<'_>, arena: &mut Arena, mut sink: impl Sink) {
    let mut reuse = Reuse::take();
    statements_of(input, arena, &mut sink, &mut reuse);
    // Buffers grow with the file; a large file's are not kept for the thread's lifetime.
    if input.bytes.len() <= Reuse::KEEP_AFTER {
        Reuse::put(reuse);
    }
}

/// The buffers [`each_statement`] needs besides the file's result, kept per thread for the
/// next file: most files are small, and allocating these afresh for each was a visible
/// share of the cost of a file of 1–2 KB. Each is cleared before it is used.
#[derive(Debug, Default)]
struct Reuse {
    fields: Vec<tags::Field>,
    next: Vec<tags::Field>,
    work: statement::Work,
    prints: Prints,
}

thread_local! {
    static REUSE: std::cell::Cell<Option<Box<Reuse>>> = const { std::cell::Cell::new(None) };
}

impl Reuse {
    /// Files up to this size give their buffers back for the next one.
    const KEEP_AFTER: usize = 1 << 20;

    /// This thread's buffers, or new ones (also when a parse on this thread is under way).
    fn take() -> Box<Self> {
        REUSE.with(std::cell::Cell::take).unwrap_or_default()
    }

    fn put(mut self: Box<Self>) {
        self.fields.clear();
        self.next.clear();
        REUSE.with(|r| r.set(Some(self)));
    }
}

/// [`each_statement`] with the buffers it reuses.
fn statements_of(input: &Input<'_>, arena: &mut Arena, sink: &mut impl Sink, reuse: &mut Reuse) {
    let Reuse {
        fields,
        next,
        work,
        prints,
    } = reuse;
    let mut splitter = tags::Splitter::new(input);
    // `fields`: the message being built; `next`: the one after it (to know whether it is
    // the only one).
    if !splitter.next_into(fields) {
        let e = FeedError::new(
            ErrorKind::MissingField,
            Location::File,
            "MT940 message",
            "fields starting with :20: (transaction reference)",
            "no SWIFT field tags",
        );
        let marks = arena.marks();
        sink(arena, 1, true, Err(e), marks, prints);
        return;
    }
    // Input that was transcoded (UTF-16) is validated here once; else `prepare` did it.
    let owned_utf8 = match (&input.bytes, input.utf8) {
        (std::borrow::Cow::Owned(b), None) if input.encoding == encoding_rs::UTF_8 => {
            std::str::from_utf8(b).ok()
        }
        _ => None,
    };
    let utf8 = input.utf8.or(owned_utf8);
    // Occurrence numbers count within this file only.
    prints.start_file(input.bytes.len() / 256 + 1);
    // The statement being built, reused (see `statement::Builder::st`).
    let mut current = Stmt::empty(0);
    let mut index = 0;
    loop {
        let more = splitter.next_into(next);
        index += 1;
        let whole_file = index == 1 && !more;
        let marks = arena.marks();
        let result = statement::Builder::new(input, utf8, work, arena, &mut current)
            .build(fields)
            .map(|()| &mut current);
        sink(arena, index, whole_file, result, marks, prints);
        if !more {
            break;
        }
        std::mem::swap(fields, next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11 item 5: a balance with a decimal point is read (some banks' exports), the
    /// decimal comma still is, and a thousands separator is refused, naming the part.
    #[test]
    fn balances_take_a_decimal_comma_or_point() {
        let point = parse_balance("C260301EUR1000.50").expect("point");
        let comma = parse_balance("C260301EUR1000,50").expect("comma");
        assert_eq!(point.amount, comma.amount);
        assert_eq!(point.amount.to_string(), "1000.50");
        assert_eq!(
            parse_balance("D260301EUR7.")
                .expect("trailing point")
                .amount,
            Decimal::from(-7)
        );
        for bad in [
            "C260301EUR1.000,50",
            "C260301EUR1,000.50",
            "C260301EUR1.2.3",
        ] {
            let error = parse_balance(bad).expect_err(bad);
            assert!(error.starts_with("amount:"), "{bad}: {error}");
        }
        // A whole statement whose balances use points parses and checks.
        let file = b":20:R\r\n:25:NL91RABO0123456789\r\n:28C:1/1\r\n:60F:C260301EUR1000.00\r\n\
:61:2603010301C100,00NTRFNONREF//B1\r\n:86:/ORDP//NAME/JANSEN J\r\n-34 for March\r\n\
:62F:C260301EUR1100.00\r\n-";
        let parsed = parse_compact("r.sta", file, None, &ParseOptions::default()).expect("parses");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.statements().count(), 1);
    }

    /// The buffers kept per thread between files must not carry anything over: the same
    /// file parsed again (after others) gets the same fingerprints, occurrence numbers
    /// starting at 0 again.
    #[test]
    fn reused_buffers_start_each_file_afresh() {
        let twice = b":20:A\r\n:25:DE19/123\r\n:28C:1\r\n:60F:C240301EUR10,00\r\n\
:61:2403010301C1,00NTRFNONREF//B1\r\n:86:166?00GUTSCHRIFT?20ABC\r\n\
:61:2403010301C1,00NTRFNONREF//B1\r\n:86:166?00GUTSCHRIFT?20ABC\r\n:62F:C240301EUR12,00\r\n-";
        let other = b":20:B\r\n:25:X/9\r\n:60F:C240301EUR0,00\r\n:61:2403010301D5,00NTRFR\r\n\
:62F:D240301EUR5,00\r\n-";
        let options = ParseOptions::default();
        let prints = |bytes: &[u8]| -> Vec<String> {
            let f = parse_compact("a.sta", bytes, None, &options).expect("parses");
            assert!(f.errors.is_empty(), "{:?}", f.errors);
            let mut out = Vec::new();
            for s in f.statements() {
                out.extend(s.transactions().map(|t| t.fingerprint().to_string()));
            }
            out
        };
        let first = prints(twice);
        assert_eq!(first.len(), 2);
        assert_ne!(first[0], first[1], "occurrence numbers separate the two");
        prints(other);
        assert_eq!(prints(twice), first);
        // The owned model (the same buffers, taken and given back) agrees.
        let owned = crate::parse_file("a.sta", twice, None, &options).expect("parses");
        let again: Vec<String> = owned.statements[0]
            .transactions
            .iter()
            .map(|t| t.fingerprint.to_string())
            .collect();
        assert_eq!(again, first);
    }

    /// Fingerprints computed on demand count the transactions of a statement rejected in
    /// strict mode, as the owned model does: the same payment in three statements, the
    /// middle one unbalanced.
    #[test]
    fn on_demand_fingerprints_count_rejected_statements() {
        let st = |id: &str, close: &str| {
            format!(
                ":20:{id}\r\n:25:DE19/123\r\n:28C:1\r\n:60F:C240301EUR10,00\r\n\
:61:2403010301C1,00NTRFNONREF//B1\r\n:86:166?00GUTSCHRIFT?20ABC\r\n:62F:C240301EUR{close}\r\n-\r\n"
            )
        };
        let file = [st("A", "11,00"), st("B", "99,00"), st("C", "11,00")].concat();
        let prints = |mode| {
            let options = ParseOptions {
                mode,
                ..ParseOptions::default()
            };
            let compact = parse_compact("a.sta", file.as_bytes(), None, &options).expect("parses");
            let owned =
                crate::parse_file("a.sta", file.as_bytes(), None, &options).expect("parses");
            let lazy: Vec<Fingerprint> = compact
                .statements()
                .flat_map(|s| {
                    s.transactions()
                        .map(|t| t.fingerprint())
                        .collect::<Vec<_>>()
                })
                .collect();
            assert_eq!(lazy, compact.fingerprints());
            let eager: Vec<Fingerprint> = owned
                .statements
                .iter()
                .flat_map(|s| s.transactions.iter().map(|t| t.fingerprint))
                .collect();
            assert_eq!(lazy, eager);
            assert_eq!(compact.to_parsed_file("a.sta"), owned);
            lazy
        };
        let strict = prints(crate::CheckMode::Strict);
        let flag = prints(crate::CheckMode::Flag);
        assert_eq!(strict.len(), 2);
        assert_eq!(flag.len(), 3);
        assert_eq!(strict, [flag[0], flag[2]], "B's transaction still counts");
    }
}
