"""A5: a patient of a reactivation campaign: the next link of the chain, or the end at the first response."""

from revisit.lambda_runtime import step
from revisit.models.steps.reactivation import ReactivationRef
from revisit.services.reactivation import reactivate

lambda_handler = step(ReactivationRef)(reactivate)
