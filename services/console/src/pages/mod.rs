//! The page frame (navigation by role, language switch, sign-out), the error page and the
//! helpers every page uses to name values in the person's language. maud escapes every
//! interpolated string, so a name or a service message can never become markup.

pub mod collector;
pub mod dashboards;
pub mod finance;
pub mod legal;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use proto::types::v1 as types;

use crate::config::SignInMode;
use crate::i18n::{L, Lang};
use crate::signin::DEMO_IDENTITIES;
use crate::web::{Ctx, Failure, nav_for};

/// The console's stylesheet (served as `/console.css`; the CSP allows no inline styles).
pub const STYLE: &str = include_str!("console.css");

/// An HTML response.
pub fn html_response(markup: Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// The frame around every page.
pub fn layout(ctx: &Ctx, title: &str, current: &str, body: Markup) -> Markup {
    let demo = matches!(ctx.state.settings.sign_in, SignInMode::LocalStack(_));
    let other = ctx.lang.other();
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.html()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (ctx.t(L::AppName)) }
                link rel="stylesheet" href="/console.css";
            }
            body {
                @if demo {
                    div.demo role="note" { (ctx.t(L::DemoBanner)) }
                }
                header {
                    a.brand href="/" { (ctx.t(L::AppName)) }
                    @if let Some(user) = &ctx.session {
                        nav {
                            @for (path, label) in nav_for(user) {
                                a href=(path) class=[(path == current).then_some("current")] { (ctx.t(label)) }
                            }
                        }
                    }
                    div.user {
                        a.lang href=(format!("/lang/{}?back={}", other.code(), current)) lang=(other.html()) { (L::SwitchLanguage.t(ctx.lang)) }
                        @if let Some(user) = &ctx.session {
                            span.who {
                                (ctx.t(L::SignedInAs)) " " strong { (user.subject) }
                                " · " (user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "))
                                @if let Some(team) = &user.team { " · " (ctx.t(L::Team)) " " (team) }
                            }
                            form.inline method="post" action="/signout" {
                                input type="hidden" name="csrf" value=(user.csrf);
                                button type="submit" { (ctx.t(L::SignOut)) }
                            }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page explaining a failure and what to do next.
pub fn error_page(ctx: &Ctx, failure: &Failure) -> Response {
    let signed_in = ctx.session.is_some()
        && !matches!(failure, Failure::Status(s) if s.code() == tonic::Code::Unauthenticated);
    let body = html! {
        section.error data-code=(failure.detail().unwrap_or_default().split(':').next().unwrap_or_default()) {
            h2 { (ctx.t(L::ErrorWhatNext)) }
            p.advice { (ctx.t(failure.advice())) }
            @if let Some(detail) = failure.detail() {
                p { (ctx.t(L::ErrorServiceSaid)) ": " code { (detail) } }
            }
            p {
                @if signed_in {
                    a href="/" { (ctx.t(L::BackToStart)) }
                } @else {
                    a href="/signin" { (ctx.t(L::SignIn)) }
                }
            }
        }
    };
    let mut response = html_response(layout(ctx, ctx.t(L::ErrorTitle), "/", body));
    *response.status_mut() = failure.http_status();
    response
}

/// The page for someone signed in whose roles have no page here.
pub fn nothing_for_role(ctx: &Ctx) -> Response {
    error_page(
        ctx,
        &Failure::Status(tonic::Status::permission_denied(
            "none of your roles has a page in the console",
        )),
    )
}

/// The sign-in page of the local stack: one button per demo identity.
pub fn signin_page(ctx: &Ctx, login: &str) -> Response {
    let body = html! {
        p { (ctx.t(L::ChooseIdentityHelp)) }
        ul.identities {
            @for (subject, role, team) in DEMO_IDENTITIES {
                li {
                    form method="post" action="/signin/demo" {
                        input type="hidden" name="login" value=(login);
                        input type="hidden" name="identity" value=(subject);
                        button type="submit" data-identity=(subject) {
                            strong { (subject) } " · " (role.as_str())
                            @if let Some(team) = team { " · " (team) }
                        }
                    }
                }
            }
        }
    };
    html_response(layout(ctx, ctx.t(L::ChooseIdentity), "/signin", body))
}

/// Shown after the OIDC callback: moves on to the start page from this site (see signin).
pub fn continue_page(ctx: &Ctx) -> Response {
    html_response(html! {
        (DOCTYPE)
        html lang=(ctx.lang.html()) {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content="0; url=/";
                title { (ctx.t(L::AppName)) }
            }
            body { a href="/" { (ctx.t(L::Home)) } }
        }
    })
}

/// `12345.6` → `12,345.60`-style grouping of a decimal string, keeping its digits.
pub fn group_digits(amount: &str) -> String {
    let (sign, rest) = amount.strip_prefix('-').map_or(("", amount), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    if !int.chars().all(|c| c.is_ascii_digit()) {
        return amount.to_owned();
    }
    // A zero is never negative on a page ("-0.00" comes from sums of reversals).
    let sign = if rest.chars().all(|c| c == '0' || c == '.') {
        ""
    } else {
        sign
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// An amount with its currency, e.g. `30,000.00 CNY`; "–" when absent.
pub fn money(m: Option<&types::Money>) -> String {
    match m {
        Some(m) if !m.amount.is_empty() => format!("{} {}", group_digits(&m.amount), m.currency),
        _ => "–".to_owned(),
    }
}

/// The amount of a money value as a decimal, for charts (0 when absent or malformed).
pub fn amount(m: Option<&types::Money>) -> rust_decimal::Decimal {
    m.and_then(|m| m.amount.parse().ok()).unwrap_or_default()
}

/// A contact channel in words.
pub fn channel(lang: Lang, value: i32) -> &'static str {
    use types::ContactChannel as C;
    let label = match C::try_from(value) {
        Ok(C::Sms) => L::ChannelSms,
        Ok(C::Email) => L::ChannelEmail,
        Ok(C::AppMessage) => L::ChannelApp,
        Ok(C::PhoneCall) => L::ChannelPhone,
        Ok(C::Letter) => L::ChannelLetter,
        Ok(C::DoorNotice) => L::ChannelDoorNotice,
        Ok(C::Visit) => L::ChannelVisit,
        Ok(C::LawyerLetter) => L::ChannelLawyerLetter,
        Ok(C::PaymentOrderRequest) => L::ChannelPaymentOrder,
        Ok(C::LitigationHandoff) => L::ChannelLitigation,
        _ => L::Unknown,
    };
    label.t(lang)
}

/// The outcomes a person can enter for a call, visit or delivery, with their wire values.
pub const OUTCOMES: &[(types::ContactOutcome, L)] = &[
    (types::ContactOutcome::Answered, L::OutcomeAnswered),
    (types::ContactOutcome::PromiseMade, L::OutcomePromiseMade),
    (types::ContactOutcome::NoAnswer, L::OutcomeNoAnswer),
    (types::ContactOutcome::Refused, L::OutcomeRefused),
    (types::ContactOutcome::Disputed, L::OutcomeDisputed),
    (types::ContactOutcome::WrongNumber, L::OutcomeWrongNumber),
    (types::ContactOutcome::Delivered, L::OutcomeDelivered),
    (types::ContactOutcome::Returned, L::OutcomeReturned),
];

/// A contact outcome in words.
pub fn outcome(lang: Lang, value: i32) -> &'static str {
    use types::ContactOutcome as O;
    let label = match O::try_from(value) {
        Ok(O::Sent) => L::OutcomeSent,
        Ok(O::Failed) => L::OutcomeFailed,
        Ok(other) => OUTCOMES
            .iter()
            .find(|(o, _)| *o == other)
            .map_or(L::Unknown, |(_, l)| *l),
        Err(_) => L::Unknown,
    };
    label.t(lang)
}

/// Why the conduct rules moved a contact, in words ("" when they did not).
pub fn conduct_reason(lang: Lang, value: i32) -> &'static str {
    use types::ConductReason as R;
    match R::try_from(value) {
        Ok(R::QuietHours) => L::ReasonQuietHours.t(lang),
        Ok(R::FrequencyCap) => L::ReasonFrequencyCap.t(lang),
        Ok(R::Holiday) => L::ReasonHoliday.t(lang),
        Ok(R::ThirdPartyDisclosure) => L::ReasonThirdParty.t(lang),
        _ => "",
    }
}

/// A proto enum value's name as words: `HOLD_REASON_PROMISE_TO_PAY` → `promise to pay`.
pub fn enum_words(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_lowercase()
        .replace('_', " ")
}

/// The last characters of an id, for tables (the full id is in the link and a title); the
/// end of a UUIDv7 is its random part, its start the time, alike for ids made together.
pub fn short(id: &str) -> &str {
    id.get(id.len().saturating_sub(8)..).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_without_changing_their_digits() {
        assert_eq!(group_digits("30000.00"), "30,000.00");
        assert_eq!(group_digits("1234567"), "1,234,567");
        assert_eq!(group_digits("-1000.5"), "-1,000.5");
        assert_eq!(group_digits("999.99"), "999.99");
        assert_eq!(group_digits("abc"), "abc");
        assert_eq!(group_digits("-0.00"), "0.00");
        assert_eq!(money(None), "–");
    }

    #[test]
    fn every_enterable_outcome_has_a_label() {
        for (o, label) in OUTCOMES {
            assert_eq!(outcome(Lang::En, *o as i32), label.t(Lang::En));
        }
        assert_eq!(outcome(Lang::Zh, 99), L::Unknown.t(Lang::Zh));
    }
}
