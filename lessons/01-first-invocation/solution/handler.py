"""Your first Lambda handler, now safe when the event has no name."""

GREETINGS = 0


def handler(event, context):
    global GREETINGS
    GREETINGS += 1
    name = event.get("name", "stranger")
    print(f"Greeting {name} from {context.function_name}")
    return {"message": f"Hello, {name}!", "greetings_here": GREETINGS}
