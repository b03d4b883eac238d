"""I11, I12: a closed visit's procedures priced from the clinic's fee schedule, and the total."""

from revisit.lambda_runtime import step
from revisit.models.steps.intake import VisitRef
from revisit.services.visit import price_visit

lambda_handler = step(VisitRef)(price_visit)
