"""I10, I12, I17: the money rules, for any fees, coverage, deductible and maximum (Hypothesis)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from revisit.domain.billing import CENT, ClaimStatus, Coverage, FeeLine, claim_move_error, split

CATEGORIES = ["diagnostic", "preventive", "basic", "major"]
money = st.decimals(min_value=0, max_value=50_000, places=2, allow_nan=False, allow_infinity=False)
lines = st.lists(st.builds(FeeLine, code=st.just("D0000"), category=st.sampled_from(CATEGORIES), fee=money),
                 max_size=12)
coverage = st.one_of(st.none(), st.builds(
    Coverage,
    percent_by_category=st.dictionaries(st.sampled_from(CATEGORIES), st.integers(0, 100)),
    deductible_remaining=money, maximum_remaining=st.one_of(st.none(), money),
    deductible_exempt=st.frozensets(st.sampled_from(CATEGORIES))))


@given(lines, coverage)
def test_the_portions_add_up_to_the_total_and_are_never_negative(fee_lines, plan):
    bill = split(fee_lines, plan)
    assert bill.insurance + bill.patient == bill.total == sum((line.fee for line in fee_lines), Decimal("0"))
    for line in bill.lines:
        assert line.insurance >= 0 and line.patient >= 0 and line.deductible >= 0
        assert line.insurance + line.patient == line.line.fee
        assert line.insurance == line.insurance.quantize(CENT)  # cents, as documented
    if plan is not None:
        assert bill.deductible <= plan.deductible_remaining
        if plan.maximum_remaining is not None:
            assert bill.insurance <= plan.maximum_remaining
    else:
        assert bill.insurance == 0


def test_the_rounding_rule_is_half_up_per_line_on_the_plans_share():
    # 33 % of 10.05 = 3.3165 -> 3.32 to the plan, 6.73 to the patient
    bill = split([FeeLine("D2391", "basic", Decimal("10.05"))], Coverage(percent_by_category={"basic": 33}))
    assert (bill.insurance, bill.patient) == (Decimal("3.32"), Decimal("6.73"))
    # 0.005 exactly: half up
    half = split([FeeLine("D2391", "basic", Decimal("0.01"))], Coverage(percent_by_category={"basic": 50}))
    assert (half.insurance, half.patient) == (Decimal("0.01"), Decimal("0.00"))


def test_deductible_first_then_percentages_then_the_annual_maximum():
    plan = Coverage(percent_by_category={"preventive": 100, "basic": 80, "major": 50},
                    deductible_remaining=Decimal("50"), maximum_remaining=Decimal("400"),
                    deductible_exempt=frozenset({"preventive"}))
    bill = split([FeeLine("D1110", "preventive", Decimal("120.00")), FeeLine("D2391", "basic", Decimal("185.00")),
                  FeeLine("D2740", "major", Decimal("1350.00"))], plan)
    assert [(s.deductible, s.insurance, s.patient) for s in bill.lines] == [
        (Decimal("0"), Decimal("120.00"), Decimal("0.00")),  # preventive: no deductible
        (Decimal("50"), Decimal("108.00"), Decimal("77.00")),  # 80 % of 135
        (Decimal("0"), Decimal("172.00"), Decimal("1178.00")),  # 675 due, 172 of the maximum left
    ]


def test_a_fee_must_be_cents_and_not_negative():
    with pytest.raises(ValueError, match="D9"):
        split([FeeLine("D9", "basic", Decimal("-1.00"))], None)
    with pytest.raises(ValueError):
        split([FeeLine("D9", "basic", Decimal("1.005"))], None)


@pytest.mark.parametrize(("current", "target", "allowed"), [
    ("draft", "submitted", True), ("submitted", "accepted", True), ("submitted", "denied", True),
    ("accepted", "paid", True), ("accepted", "denied", True),
    ("paid", "draft", False), ("submitted", "draft", False), ("draft", "paid", False), ("denied", "submitted", False),
])
def test_claims_move_forward_only(current, target, allowed):
    error = claim_move_error(ClaimStatus(current), ClaimStatus(target))
    assert (error is None) == allowed
    if not allowed:
        assert target in error
