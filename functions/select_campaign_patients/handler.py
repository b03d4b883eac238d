"""A5: a page of a clinic's inactive patients; those in the campaign's segments join it."""

from revisit.lambda_runtime import step
from revisit.models.steps.reactivation import CampaignPage
from revisit.services.reactivation import select_campaign_patients

lambda_handler = step(CampaignPage)(select_campaign_patients)
