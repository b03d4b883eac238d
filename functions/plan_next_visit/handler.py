"""I13, I14: the draft treatment plan from the visit's findings, and the hygienist's task to book it."""

from revisit.lambda_runtime import step
from revisit.models.steps.intake import VisitRef
from revisit.services.visit import plan_next_visit

lambda_handler = step(VisitRef)(plan_next_visit)
