//! Every label of the console in Chinese (first, the default) and English.
//!
//! One macro line per label holds both languages, so a label without one of them does not
//! compile; the tests check that neither is empty and that the Chinese one is Chinese.

/// The language of a page: `zh-CN` unless the person switched (cookie `console_lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// From the cookie value; anything else is Chinese.
    pub fn parse(value: &str) -> Self {
        match value {
            "en" => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// The cookie value and the `lang` attribute's short form.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The `<html lang>` value.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The other language (the switch offers it).
    pub fn other(self) -> Self {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

macro_rules! labels {
    ($($key:ident => $zh:literal, $en:literal;)*) => {
        /// A label of the console.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum L { $(
            #[doc = $en]
            $key,
        )* }

        impl L {
            /// Every label.
            pub const ALL: &'static [L] = &[$(L::$key,)*];

            /// The label in `lang`.
            pub fn t(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((L::$key, Lang::Zh) => $zh, (L::$key, Lang::En) => $en,)*
                }
            }
        }
    };
}

labels! {
    AppName => "催收工作台", "Collections console";
    SwitchLanguage => "English", "中文";
    SignIn => "登录", "Sign in";
    SignOut => "退出", "Sign out";
    SignedInAs => "当前用户", "Signed in as";
    Roles => "角色", "Roles";
    Team => "团队", "Team";
    DemoBanner => "本地演示登录：令牌由本地栈的临时密钥签发，切勿用于生产环境。", "Demo sign-in of the local stack: tokens are signed with its throwaway key. Never for production.";
    ChooseIdentity => "选择演示身份", "Choose a demo identity";
    ChooseIdentityHelp => "每个身份获得一个短期令牌，与 collectctl auth token 签发的相同；各服务按该令牌的角色和范围授权。", "Each identity gets a short-lived token, as `collectctl auth token` signs it; the services authorise by its roles and scope.";
    SignInWithProvider => "通过单点登录", "Sign in with single sign-on";
    NavQueue => "工作队列", "Work queue";
    NavExceptions => "异常队列", "Exception queue";
    NavPayments => "到账记录", "Payments";
    NavLegal => "法务案件", "Legal cases";
    NavDashboards => "报表看板", "Dashboards";
    QueueTitle => "我的工作队列", "My work queue";
    QueueHelp => "按预期回收金额排序（回款概率 × 可催收金额）。", "Ordered by expected recovery (probability of payment × collectible amount).";
    Debtor => "债务人", "Debtor";
    Owner => "负责人", "Owner";
    Grade => "信用等级", "Grade";
    DaysOverdue => "逾期天数", "Days overdue";
    Collectible => "可催收金额", "Collectible";
    Probability => "回款概率", "Probability";
    ExpectedRecovery => "预期回收", "Expected recovery";
    Reasons => "依据", "Reasons";
    NextTaskDue => "下一任务时间", "Next task due";
    OpenTasks => "待办任务", "Open tasks";
    NoOpenTasks => "没有待办任务。", "No open tasks.";
    QueueEmpty => "队列为空。", "The queue is empty.";
    Task => "任务", "Task";
    Channel => "渠道", "Channel";
    Step => "步骤", "Step";
    DueAt => "到期时间", "Due";
    MovedBecause => "因行为规则顺延", "Moved by the conduct rules";
    Open => "打开", "Open";
    DebtorTitle => "债务人详情", "Debtor";
    Contacts => "联系方式", "Contacts";
    TimeZone => "时区", "Time zone";
    Language => "语言", "Language";
    ConductProfile => "行为规范", "Conduct profile";
    NextAllowedContact => "下次允许联系时间", "Next allowed contact";
    NextAllowedContactHelp => "最早的待办任务或已排期消息的时间，已按行为规则（安静时段、频次上限、节假日）排定。", "The earliest open task or scheduled message, as the conduct rules (quiet hours, frequency cap, holidays) placed it.";
    NoneScheduled => "暂无排期", "Nothing scheduled";
    Items => "应收明细", "Items";
    Contract => "合同", "Contract";
    Installment => "期数", "Installment";
    DueDate => "到期日", "Due date";
    Amount => "金额", "Amount";
    OpenAmount => "未付金额", "Open";
    LateFee => "滞纳金", "Late fee";
    Status => "状态", "Status";
    AgingBucket => "账龄", "Aging";
    DunningCase => "催收案件", "Dunning case";
    CurrentStep => "当前步骤", "Current step";
    Hold => "暂停原因", "On hold because";
    CompleteTask => "完成任务", "Complete task";
    Outcome => "结果", "Outcome";
    Note => "备注", "Note";
    Submit => "提交", "Submit";
    ContactLog => "联系记录", "Contact log";
    Actor => "经办人", "By";
    At => "时间", "At";
    Template => "模板", "Template";
    Proof => "送达证明", "Proof";
    Promises => "还款承诺", "Promises";
    MakePromise => "登记还款承诺", "Record a promise to pay";
    PromisedDate => "承诺日期", "Promised date";
    GraceDays => "宽限天数", "Grace days";
    Paid => "已付", "Paid";
    Disputes => "争议", "Disputes";
    OpenDispute => "登记争议", "Open a dispute";
    Reason => "原因", "Reason";
    Deadline => "答复期限", "Respond by";
    DisputedItems => "争议项目", "Disputed items";
    NoneYet => "暂无。", "None yet.";
    Messages => "消息", "Messages";
    TaskCompleted => "任务已完成，结果已记入联系记录。", "Task completed; the outcome is in the contact log.";
    PromiseRecorded => "还款承诺已登记，催收将等待至承诺日期。", "Promise recorded; dunning waits until its date.";
    DisputeOpened => "争议已登记，相关项目暂停催收。", "Dispute opened; dunning pauses for its items.";
    ExceptionsTitle => "到账异常队列", "Payment exception queue";
    ExceptionsHelp => "系统不猜测（R-P5）：请核对证据，确认候选或关闭异常。", "Flagged, never guessed (R-P5): check the evidence, then confirm a candidate or dismiss.";
    Kind => "类型", "Kind";
    Reference => "附言", "Reference";
    SuggestedAction => "建议操作", "Suggested action";
    Candidates => "候选", "Candidates";
    Evidence => "证据", "Evidence";
    Confidence => "置信度", "Confidence";
    WouldAllocate => "确认后分配", "Would allocate";
    Confirm => "确认此候选", "Confirm this candidate";
    Dismiss => "关闭（不分配）", "Dismiss (apply nothing)";
    DismissNoteRequired => "关闭时必须填写原因。", "A note is required to dismiss.";
    NoExceptions => "没有待处理的异常。", "No open exceptions.";
    ExceptionConfirmed => "已确认：款项已提交合同服务分配。", "Confirmed: the payment was proposed to contracts for allocation.";
    ExceptionDismissed => "异常已关闭。", "Exception dismissed.";
    OpenByKind => "按类型统计的未处理数", "Open by kind";
    PaymentsTitle => "最近到账", "Recent payments";
    BookingDate => "记账日", "Booked";
    Payer => "付款人", "Payer";
    PayerAccount => "付款账户", "Payer account";
    Allocations => "分配", "Allocations";
    LegalTitle => "法务案件", "Legal cases";
    Case => "案件", "Case";
    OpenedOn => "立案日", "Opened";
    AmountClaimed => "主张金额", "Claimed";
    WithdrawalFlagged => "待撤诉", "Flagged for withdrawal";
    Yes => "是", "yes";
    No => "否", "no";
    NoCases => "没有案件。", "No cases.";
    History => "案件进程", "History";
    Costs => "费用与事件", "Events";
    CourtFees => "诉讼费", "Court fees";
    Limitation => "诉讼时效", "Limitation period";
    DownloadBundle => "下载证据包（zip）", "Download the evidence bundle (zip)";
    BundleHelp => "证据包含合同、台账、通知及送达证明、联系记录摘录、承诺与争议，并附签名清单；可用 collectctl evidence verify 离线核验（R-L3、R-L8）。", "The bundle holds the contracts, ledger, notices with delivery proofs, the contact-log extract, promises and disputes, with a signed manifest; `collectctl evidence verify` checks it offline (R-L3, R-L8).";
    Receivables => "应收项目", "Receivables";
    Claimed => "主张", "Claimed";
    DashboardsTitle => "报表看板", "Dashboards";
    Aging => "账龄分布", "Aging";
    AgingAsOf => "截至", "As of";
    Balance => "余额", "Balance";
    Share => "占比", "Share";
    KpiTrend => "CEI 与 DSO 趋势", "CEI and DSO trend";
    Cei => "回款有效指数 CEI（%）", "CEI (%)";
    Dso => "应收账款周转天数 DSO（天）", "DSO (days)";
    Month => "月份", "Month";
    TrendUntil => "趋势截至（营业日）", "Trends until (business date)";
    Show => "显示", "Show";
    ForecastVsActual => "预测与实际回款", "Forecast against actual";
    Actual => "实际回款", "Actual collected";
    Forecast => "预测回款", "Forecast";
    ForecastNext => "未来12周预计回款", "Expected inflow, next 12 weeks";
    ForecastBacktest => "回测：留出周的预测与实际回款", "Backtest: forecast against actual on held-back weeks";
    ForecastError => "加权平均绝对百分比误差（WAPE）与偏差", "Weighted absolute percentage error (WAPE) and bias";
    ForecastScheduled => "到期应收", "Falling due";
    ForecastPromised => "承诺还款", "Promised";
    ForecastOverdue => "逾期回收", "Overdue recovered";
    WeekFrom => "周（起）", "Week from";
    Beyond => "12周后仍未回收", "Not expected within 12 weeks";
    Provisions => "坏账准备", "Provisions";
    LossRate => "损失率", "Loss rate";
    Provision => "计提金额", "Provision";
    Voucher => "凭证草稿", "Draft voucher";
    Account => "科目", "Account";
    Debit => "借方", "Debit";
    Credit => "贷方", "Credit";
    Total => "合计", "Total";
    Change => "本期变动", "Change";
    NoData => "暂无数据。", "No data.";
    SectionUnavailable => "本部分不可用", "This section is not available";
    ErrorTitle => "无法完成", "That did not work";
    ErrorWhatNext => "下一步", "What to do next";
    ErrorServiceSaid => "服务返回", "The service said";
    ErrUnauthenticated => "登录已过期或无效，请重新登录。", "Your sign-in expired or is not valid. Sign in again.";
    ErrPermissionDenied => "您的角色或负责范围不包括此操作。如需处理，请联系主管重新分配或授予角色。", "Your role or your assigned customers do not cover this. Ask a supervisor to reassign the customer or grant the role.";
    ErrNotFound => "找不到该记录，可能已被处理。请返回列表刷新。", "The record was not found; it may have been handled. Go back to the list and reload it.";
    ErrInvalid => "输入有误，请返回修改后重试。", "The input is not valid. Go back, correct it and try again.";
    ErrPrecondition => "当前状态不允许此操作，请刷新后查看最新状态。", "The record's state does not allow this now. Reload it to see where it stands.";
    ErrUnavailable => "服务暂时不可用，请稍后重试；如持续出现请联系管理员。", "The service is not reachable right now. Try again in a moment; tell an administrator if it persists.";
    ErrOther => "服务出错，请稍后重试并联系管理员。", "The service failed. Try again later and tell an administrator.";
    ErrCsrf => "表单已过期（安全校验失败），请返回页面刷新后重新提交。", "The form expired (security check failed). Go back, reload the page and submit again.";
    ErrNotSignedIn => "请先登录。", "Please sign in first.";
    ErrBadInput => "表单内容不完整。", "The form is incomplete.";
    ErrSignInFailed => "登录失败。", "Sign-in failed.";
    BackToStart => "返回首页", "Back to the start page";
    Home => "首页", "Home";
    ChannelSms => "短信", "SMS";
    ChannelEmail => "电子邮件", "E-mail";
    ChannelApp => "应用消息", "App message";
    ChannelPhone => "电话", "Phone call";
    ChannelLetter => "信函", "Letter";
    ChannelDoorNotice => "上门张贴通知", "Door notice";
    ChannelVisit => "上门拜访", "Visit";
    ChannelLawyerLetter => "律师函", "Lawyer's letter";
    ChannelPaymentOrder => "支付令申请", "Payment order";
    ChannelLitigation => "移交诉讼", "Litigation hand-off";
    OutcomeSent => "已发送", "sent";
    OutcomeDelivered => "已送达", "delivered";
    OutcomeFailed => "失败", "failed";
    OutcomeReturned => "退回", "returned";
    OutcomeAnswered => "已接通", "answered";
    OutcomeNoAnswer => "无人接听", "no answer";
    OutcomeRefused => "拒绝", "refused";
    OutcomePromiseMade => "承诺还款", "promise made";
    OutcomeDisputed => "提出争议", "disputed";
    OutcomeWrongNumber => "号码错误", "wrong number";
    ReasonQuietHours => "安静时段", "quiet hours";
    ReasonFrequencyCap => "频次上限", "frequency cap";
    ReasonHoliday => "节假日", "public holiday";
    ReasonThirdParty => "可能向第三方泄露债务", "third-party disclosure";
    CaseOpened => "已立案", "opened";
    CaseLawyersLetter => "已发律师函", "lawyer's letter sent";
    CasePaymentOrder => "已申请支付令", "payment order applied";
    CaseLitigation => "已起诉", "litigation filed";
    CaseJudgment => "已判决", "judgment";
    CaseEnforcement => "执行中", "enforcement";
    CaseClosed => "已结案", "closed";
    PaymentMatched => "已匹配，待确认", "matched, awaiting contracts";
    PaymentAllocated => "已分配", "allocated";
    PaymentException => "异常", "exception";
    BucketCurrent => "未到期", "current";
    Bucket1To30 => "1–30天", "1–30 days";
    Bucket31To60 => "31–60天", "31–60 days";
    Bucket61To90 => "61–90天", "61–90 days";
    Bucket91To180 => "91–180天", "91–180 days";
    BucketOver180 => "180天以上", "over 180 days";
    Unknown => "未知", "unknown";
    PromiseOpen => "等待中", "waiting";
    PromiseKept => "已履行", "kept";
    PromiseBroken => "已违约", "broken";
    DisputeOpenStatus => "处理中", "open";
    DisputeRejectedStatus => "已驳回（恢复催收）", "rejected (dunning resumes)";
    DisputeUpheldStatus => "成立（项目退出催收）", "upheld (items leave dunning)";
    TaskOpen => "待办", "open";
    TaskDone => "已完成", "done";
    RecvScheduled => "未到期", "scheduled";
    RecvPartial => "部分已付", "partially paid";
    RecvPaid => "已付清", "paid";
    RecvOverdue => "已逾期", "overdue";
    CompletedTasks => "已完成任务", "Completed tasks";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_cjk(text: &str) -> bool {
        text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_label_has_chinese_and_english() {
        for label in L::ALL {
            let zh = label.t(Lang::Zh);
            let en = label.t(Lang::En);
            assert!(!zh.trim().is_empty(), "{label:?} has no Chinese");
            assert!(!en.trim().is_empty(), "{label:?} has no English");
            // The switch names the other language in that language.
            if *label != L::SwitchLanguage {
                assert!(
                    has_cjk(zh),
                    "{label:?}: the Chinese label {zh:?} is not Chinese"
                );
                assert!(
                    !has_cjk(en),
                    "{label:?}: the English label {en:?} has Chinese"
                );
            }
        }
    }

    #[test]
    fn chinese_is_the_default_and_unknown_values_fall_back_to_it() {
        assert_eq!(Lang::default(), Lang::Zh);
        assert_eq!(Lang::parse("en"), Lang::En);
        assert_eq!(Lang::parse("fr"), Lang::Zh);
        assert_eq!(Lang::parse(""), Lang::Zh);
        assert_eq!(Lang::Zh.other(), Lang::En);
    }
}
