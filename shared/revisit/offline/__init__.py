"""The embedded runtime: AWS emulated by moto in process, the same ASL files and handlers, virtual time.

Not shipped to Lambda (the layer build leaves this package out).
"""
