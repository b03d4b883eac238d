"""What an operator runs against a deployed tenant: the deploy steps and the doctor."""
