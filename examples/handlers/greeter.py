"""A small handler for examples/real_handler.toml: greets and counts its calls."""

import time

CALLS = 0  # module state: kept between warm invocations of one environment


def handler(event, context):
    global CALLS
    CALLS += 1
    time.sleep(0.05)  # virtual: it sets the Duration, it does not slow the run
    name = event.get("name", "world")
    print(f"greeting {name}, call {CALLS} in this environment")
    return {"message": f"Hello, {name}!", "calls": CALLS}
