"""I1-I6: a new patient's core data checked, the onboarding and pre-visit tasks, the profile status."""

from revisit.lambda_runtime import step
from revisit.models.steps.intake import IntakeRef
from revisit.services.intake import onboard_patient

lambda_handler = step(IntakeRef)(onboard_patient)
