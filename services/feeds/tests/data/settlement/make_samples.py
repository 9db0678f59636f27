#!/usr/bin/env python3
"""Write the settlement sample files (invented merchants, customers and cards; no real data).

Run from this folder: python3 make_samples.py. Each file is written as UTF-8 with BOM
(`NAME.csv`) and GB18030 (`NAME.gb18030.csv`), as the channels' exports come. Fees are
rounded half up to the fen; the figures the tests state are printed at the end.
"""
from decimal import Decimal, ROUND_HALF_UP

FEN = Decimal("0.01")


def fee(amount, rate):
    return (amount * Decimal(rate)).quantize(FEN, rounding=ROUND_HALF_UP)


def write(name, lines):
    text = "\r\n".join(lines) + "\r\n"
    with open(f"{name}.csv", "wb") as f:
        f.write(b"\xef\xbb\xbf" + text.encode("utf-8"))
    with open(f"{name}.gb18030.csv", "wb") as f:
        f.write(text.encode("gb18030"))


def lcg(seed):
    while True:
        seed = (seed * 1103515245 + 12345) % (1 << 31)
        yield seed


def pos():
    """30 card payments of one terminal batch, debit 0.38 %, credit 0.6 %."""
    rnd = lcg(20261202)
    rows, gross, fees = [], Decimal(0), Decimal(0)
    for i in range(30):
        amount = Decimal(2000 + next(rnd) % 48000) + Decimal(next(rnd) % 100) / 100
        credit = next(rnd) % 3 == 0
        f = fee(amount, "0.006" if credit else "0.0038")
        gross, fees = gross + amount, fees + f
        card = ("625807******" if credit else "622848******") + f"{next(rnd) % 10000:04d}"
        kind = "贷记卡" if credit else "借记卡"
        issuer = "示例银行" if credit else "样本农商银行"
        contract = f"HT-2026-{101 + i:04d}"
        # Every third payment names the contract only in the remark (订单号 empty).
        order, remark = (contract, "首付款") if i % 3 else ("", f"{contract} 首付款")
        rows.append(
            f"2026-12-02,2026-12-01,{9 + i // 4:02d}:{(i * 7) % 60:02d}:{(i * 13) % 60:02d},"
            f"10086001,000123,{i + 1:06d},{334455000000 + i * 17:012d},{card},{kind},{issuer},消费,"
            f"{amount:.2f},{f:.2f},{amount - f:.2f},{order},{remark}"
        )
    lines = [
        "银联商务POS交易结算明细",
        "商户名称：样本置业（演示）有限公司",
        "商户编号：898440100000001",
        "清算日期：2026-12-02",
        "清算日期,交易日期,交易时间,终端号,批次号,凭证号,参考号,卡号,卡类型,发卡行,交易类型,"
        "交易金额,手续费,清算金额,订单号,备注",
        *rows,
        f"合计,,,,,,,,,,30笔,{gross:.2f},{fees:.2f},{gross - fees:.2f},,",
    ]
    write("pos", lines)
    return gross, fees


WALLET_DAYS = [
    ("2026-12-01", [("HT-2026-0201", "5000.00"), ("HT-2026-0202", "12800.00")]),
    ("2026-12-02", [("HT-2026-0203", "3000.00"), ("HT-2026-0204", "880.50"), ("HT-2026-0205", "20000.00")]),
    ("2026-12-03", [("HT-2026-0206", "6666.66")]),
]
# (day, contract refunded, refund amount): a partial refund of an earlier payment.
REFUND = ("2026-12-03", "HT-2026-0202", Decimal("800.00"))


def wechat():
    rate = "0.006"
    header = (
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
        "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
        "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
    )
    rows, count, pay, ref, fees = [], 0, Decimal(0), Decimal(0), Decimal(0)
    order_of = {}
    for d, (day, payments) in enumerate(WALLET_DAYS):
        for k, (contract, amount) in enumerate(payments):
            amount = Decimal(amount)
            f = fee(amount, rate)
            tx = f"42000000{d}{k}2026120{d + 1}{1234567 + 31 * k:010d}"
            order = f"WX{day.replace('-', '')}{k:03d}"
            order_of[contract] = (tx, order, amount)
            attach = contract if k % 2 == 0 else ""
            openid = f"oSample{d}{k}xYzDemoOpenIdAbc{d * 7 + k:02d}"
            rows.append(
                f"`{day} {10 + k}:{15 + d}:00,`wx0000000000demo1,`1900000101,`0,`,`{tx},`{order},"
                f"`{openid},`JSAPI,`SUCCESS,`OTHERS,`CNY,`{amount:.2f},`0.00,`0,`0,`0.00,`0.00,`,`,"
                f"`{contract} 购房款,`{attach},`{f:.2f},`0.60%,`{amount:.2f},`0.00,`"
            )
            count, pay, fees = count + 1, pay + amount, fees + f
    day, contract, amount = REFUND
    tx, order, original = order_of[contract]
    f = -fee(amount, rate)
    rows.append(
        f"`{day} 16:30:00,`wx0000000000demo1,`1900000101,`0,`,`{tx},`{order},"
        f"`oSample01xYzDemoOpenIdAbc01,`JSAPI,`REFUND,`OTHERS,`CNY,`{original:.2f},`0.00,"
        f"`50300000012026120300001,`RF{order},`{amount:.2f},`0.00,`ORIGINAL,`SUCCESS,"
        f"`{contract} 购房款,`,`{f:.2f},`0.60%,`{original:.2f},`{amount:.2f},`"
    )
    count, ref, fees = count + 1, ref + amount, fees + f
    lines = [
        header,
        *rows,
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
        f"`{count},`{pay:.2f},`{ref:.2f},`0.00,`{fees:.2f},`{pay:.2f},`{ref:.2f}",
    ]
    write("wechatpay", lines)
    return pay, ref, fees


def alipay():
    rate = "0.006"
    header = (
        "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
        "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
        "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
        "退款批次号/请求号,服务费（元）,分润（元）,备注"
    )
    payers = ["张*明(138****5678)", "李*(lif***@example.com)", "王*华(139****0001)",
              "赵*(186****2222)", "陈*芳(chen***@example.com)", "刘*(150****3333)"]
    rows, n, pay, ref, fees = [], 0, Decimal(0), Decimal(0), Decimal(0)
    trade_of = {}
    for d, (day, payments) in enumerate(WALLET_DAYS):
        for k, (contract, amount) in enumerate(payments):
            amount = Decimal(amount)
            f = fee(amount, rate)
            trade = f"2026120{d + 1}22001400{k}{5550001 + 97 * n:010d}"
            order = f"ALI{day.replace('-', '')}{k:03d}"
            trade_of[contract] = (trade, order)
            remark = contract if k % 2 else ""
            t = f"{day} {11 + k}:0{d}:30"
            rows.append(
                f"{trade}\t,{order}\t,交易,{contract} 购房款,{t},{t},,,,,{payers[n % len(payers)]},"
                f"{amount:.2f},{amount:.2f},0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,{-f:.2f}"
                f",0.00,{remark}"
            )
            n, pay, fees = n + 1, pay + amount, fees + f
    day, contract, amount = REFUND
    trade, order = trade_of[contract]
    f = fee(amount, rate)
    t = f"{day} 17:45:10"
    rows.append(
        f"{trade}\t,{order}\t,退款,{contract} 购房款,{t},{t},,,,,李*(lif***@example.com),"
        f"{-amount:.2f},{-amount:.2f},0.00,0.00,0.00,0.00,0.00,,0.00,0.00,RF{order}\t,{f:.2f}"
        f",0.00,{contract} 退部分房款"
    )
    ref, fees = ref + amount, fees - f
    lines = [
        "#支付宝业务明细查询",
        "#账号：[20880000000000000001]",
        "#起始日期：[2026年12月01日 00:00:00]   终止日期：[2026年12月04日 00:00:00]",
        "#-----------------------------------------业务明细列表----------------------------------------",
        header,
        *rows,
        "#-----------------------------------------业务明细列表结束------------------------------------",
        f"#交易合计：{n}笔，商家实收共{pay:.2f}元，商家优惠共0.00元",
        f"#退款合计：1笔，商家实收共{-ref:.2f}元，商家优惠共0.00元",
        "#导出时间：[2026年12月04日 09:00:00]",
    ]
    write("alipay", lines)
    return pay, ref, fees


if __name__ == "__main__":
    g, f = pos()
    print(f"pos: gross {g} fee {f} net {g - f}")
    p, r, f = wechat()
    print(f"wechatpay: payments {p} refunds {r} fee {f} net {p - r - f}")
    p, r, f = alipay()
    print(f"alipay: payments {p} refunds {r} fee {f} net {p - r - f}")
