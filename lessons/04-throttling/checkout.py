"""The checkout function: small, fast and critical."""

import os
import time


def handler(event, context):
    time.sleep(0.2)
    return {
        "order": event.get("order", 0),
        "init_type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
    }
