"""Visit billing (I11, I12, I17) and claim status (I10): pure rules on exact money.

Money is `Decimal` end to end, in the clinic's currency, in cents. The rounding rule (docs/data-model.md):
each line's insurance share is computed on the line, rounded half-up to the cent, then capped by what is
left of the annual maximum; the patient owes the line's fee minus that share. So the insurance and patient
portions always add up to the total exactly, neither is ever negative, and no cent is invented by rounding
a sum of rounded shares.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class FeeLine:
    """One procedure performed, priced from the clinic's fee schedule (I11)."""

    code: str
    category: str
    fee: Decimal
    tooth: str | None = None


@dataclass(frozen=True)
class Coverage:
    """What the patient's plan pays this visit (from the eligibility answer, I16)."""

    percent_by_category: dict[str, int]
    """The plan's share of a category's fee, 0-100; a category not listed is not covered."""
    deductible_remaining: Decimal = ZERO
    maximum_remaining: Decimal | None = None
    """What the plan still pays this benefit year; None: no annual maximum."""
    deductible_exempt: frozenset[str] = frozenset()
    """Categories the deductible does not apply to (preventive care, in most dental plans)."""


@dataclass(frozen=True)
class SplitLine:
    line: FeeLine
    deductible: Decimal
    """Of the fee, what went to the deductible (the patient pays it)."""
    insurance: Decimal
    patient: Decimal


@dataclass(frozen=True)
class Bill:
    lines: tuple[SplitLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((s.line.fee for s in self.lines), ZERO)

    @property
    def insurance(self) -> Decimal:
        return sum((s.insurance for s in self.lines), ZERO)

    @property
    def patient(self) -> Decimal:
        return sum((s.patient for s in self.lines), ZERO)

    @property
    def deductible(self) -> Decimal:
        return sum((s.deductible for s in self.lines), ZERO)


def split(lines: Iterable[FeeLine], coverage: Coverage | None) -> Bill:
    """I12, I17: the total, and who pays what of it, line by line in the order performed."""
    deductible_left = coverage.deductible_remaining if coverage else ZERO
    maximum_left = coverage.maximum_remaining if coverage else None
    split_lines = []
    for line in lines:
        if line.fee < 0 or line.fee != cents(line.fee):
            raise ValueError(f"fee of {line.code} must be a non-negative amount in cents, not {line.fee}")
        percent = coverage.percent_by_category.get(line.category, 0) if coverage else 0
        deductible = ZERO
        if percent and line.category not in coverage.deductible_exempt:
            deductible = min(deductible_left, line.fee)
            deductible_left -= deductible
        insurance = cents((line.fee - deductible) * percent / 100)
        if maximum_left is not None:
            insurance = min(insurance, maximum_left)
            maximum_left -= insurance
        split_lines.append(SplitLine(line=line, deductible=deductible, insurance=insurance,
                                     patient=line.fee - insurance))
    return Bill(lines=tuple(split_lines))


class ClaimStatus(StrEnum):
    """I10: an insurance claim's life: drafted at close-out, then moved by the billing office or the payer."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PAID = "paid"
    DENIED = "denied"


CLAIM_MOVES: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.DRAFT: frozenset({ClaimStatus.SUBMITTED}),
    ClaimStatus.SUBMITTED: frozenset({ClaimStatus.ACCEPTED, ClaimStatus.DENIED}),
    ClaimStatus.ACCEPTED: frozenset({ClaimStatus.PAID, ClaimStatus.DENIED}),
    ClaimStatus.PAID: frozenset(),
    ClaimStatus.DENIED: frozenset(),
}
"""Forward only: paid and denied are final (a resubmission is a new claim)."""


def claim_move_error(current: ClaimStatus, target: ClaimStatus) -> str | None:
    """Why a claim cannot go from `current` to `target`; None if it can."""
    if target in CLAIM_MOVES[current]:
        return None
    allowed = sorted(s.value for s in CLAIM_MOVES[current])
    return (f"a {current.value} claim cannot become {target.value}"
            + (f" (it can become {', '.join(allowed)})" if allowed else f" ({current.value} is final)"))
