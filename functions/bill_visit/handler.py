"""I16, I17, I10: the visit's coverage verified, the total split between plan and patient, the claim drafted."""

from revisit.lambda_runtime import step
from revisit.models.steps.intake import VisitRef
from revisit.services.visit import bill_visit

lambda_handler = step(VisitRef)(bill_visit)
