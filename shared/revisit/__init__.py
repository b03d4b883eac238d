"""Revisit: patient recall for clinic chains. The domain package shipped to every Lambda."""

import gc
import os

__version__ = "0.1.0"

# A Lambda cold start imports about 560 modules and builds some 70 models: the cyclic collector would walk
# that growing heap again and again and free nothing (about 20 ms of every cold start, issue 14). It is paused
# from the handler's first import until its first invocation, which freezes what the init made (never to be
# scanned again) and starts it (revisit.lambda_runtime.end_of_init).
COLLECTOR_PAUSED_FOR_INIT = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and gc.isenabled()
if COLLECTOR_PAUSED_FOR_INIT:
    gc.disable()
