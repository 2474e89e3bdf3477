"""An API handler whose module code loads heavy libraries."""

import os
import time

# Stands for importing a large SDK or loading a model: it runs in the init
# phase, once per execution environment.
time.sleep(1.2)
CACHE = {}


def handler(event, context):
    time.sleep(0.05)  # the real work: 50 ms
    return {
        "init_type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
        "path": event.get("path", "/"),
    }
