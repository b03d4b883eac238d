"""Insurance eligibility (R9, I16).

A real deployment puts a clearinghouse (an X12 270/271 exchange) behind `EligibilityProvider`. None can
be reached from here, so the default provider answers from the coverage stored on the patient's
record in DynamoDB: the most recent policy that is valid on the service date. It says so in its
`source`, and every result records where it came from.
"""

from __future__ import annotations

from datetime import date

from revisit import clock
from revisit.models.entities import CoverageStatus, EligibilityResult, InsurancePolicy, Patient
from revisit.models.tenant import TenantConfig


class StoredCoverageEligibility:
    name = "stored-coverage"

    def verify(self, patient: Patient, policy: InsurancePolicy | None, service_date: date,
               recall_types: list[str] | None = None) -> EligibilityResult:
        checked_at = clock.now()
        if policy is None:
            return EligibilityResult(status=CoverageStatus.UNKNOWN, checked_at=checked_at, source=self.name)
        active = policy.valid_from <= service_date and (policy.valid_to is None or service_date <= policy.valid_to)
        covered = None
        if recall_types is not None:  # X2: a policy that lists what it covers covers only those
            covered = [rt for rt in recall_types if not policy.covered_recall_types or rt in policy.covered_recall_types]
            active = active and bool(covered)
        return EligibilityResult(
            covered_recall_types=covered if active else ([] if covered is not None else None),
            status=CoverageStatus.ACTIVE if active else CoverageStatus.INACTIVE,
            payer=policy.payer,
            plan=policy.plan,
            member_id=policy.member_id,
            coverage_percent=policy.coverage_percent if active else 0,
            category_percent=dict(policy.category_percent) if active and policy.category_percent else None,
            deductible_remaining=policy.deductible if active else None,  # the year's: claims are taken off by billing
            maximum_remaining=policy.annual_maximum if active else None,
            plan_begin=policy.valid_from,
            plan_end=policy.valid_to,
            checked_at=checked_at,
            source=self.name,
        )


def eligibility_provider(config: TenantConfig, recorded_dir: str | None = None):
    """The tenant's provider: stored coverage, or its clearinghouse over X12 270/271 (HTTPS on AWS; the
    recorded 271 answers in `recorded_dir` offline and in tests)."""
    if config.eligibility.provider != "x12":
        return StoredCoverageEligibility()
    from revisit.adapters.x12_eligibility import HttpsTransport, RecordedTransport, X12Eligibility

    settings = config.eligibility.x12
    transport = RecordedTransport(recorded_dir) if recorded_dir else HttpsTransport(str(settings.endpoint))
    return X12Eligibility(config, transport)
