"""Court fees of a property case in the People's Republic of China (R-L7).

The acceptance fee (案件受理费) of a property case follows the national fee schedule,
诉讼费用交纳办法 (2007) art. 13(1): 50 yuan up to 10,000 yuan claimed, then a falling rate on
each further band of the amount, added up band by band. A payment order (支付令) costs one
third of it, and a case withdrawn or settled by mediation pays half (art. 15, 14).

Amounts are `decimal.Decimal` in yuan, never floats; results are rounded to the fen.
"""

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")

# (upper bound of the band in yuan, rate on the part of the amount inside the band);
# None: no upper bound.
_BANDS = (
    (Decimal("100000"), Decimal("0.025")),
    (Decimal("200000"), Decimal("0.02")),
    (Decimal("500000"), Decimal("0.015")),
    (Decimal("1000000"), Decimal("0.01")),
    (Decimal("2000000"), Decimal("0.009")),
    (Decimal("5000000"), Decimal("0.008")),
    (Decimal("10000000"), Decimal("0.007")),
    (Decimal("20000000"), Decimal("0.006")),
    (None, Decimal("0.005")),
)
_FLAT_UP_TO = Decimal("10000")
_FLAT_FEE = Decimal("50")


def acceptance_fee(claimed: Decimal) -> Decimal:
    """The acceptance fee of a property case claiming `claimed` yuan."""
    if claimed < 0:
        raise ValueError(f"a claim is not negative: {claimed}")
    fee = _FLAT_FEE
    lower = _FLAT_UP_TO
    for upper, rate in _BANDS:
        if claimed <= lower:
            break
        top = claimed if upper is None else min(claimed, upper)
        fee += (top - lower) * rate
        if upper is None:
            break
        lower = upper
    return fee.quantize(FEN, rounding=ROUND_HALF_UP)


def payment_order_fee(claimed: Decimal) -> Decimal:
    """A payment order's fee: one third of the acceptance fee (R-L7)."""
    return (acceptance_fee(claimed) / 3).quantize(FEN, rounding=ROUND_HALF_UP)
