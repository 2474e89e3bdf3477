"""Your first Lambda handler.

Module-level code (like GREETINGS below) runs once, when an execution
environment starts: that is the init phase of a cold start.
"""

GREETINGS = 0


def handler(event, context):
    global GREETINGS
    GREETINGS += 1
    name = event.get("name", "stranger")
    print(f"Greeting {name} from {context.function_name}")
    return {"message": f"Hello, {name}!", "greetings_here": GREETINGS}
