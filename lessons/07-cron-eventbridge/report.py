"""A daily report, run by an EventBridge schedule."""


def handler(event, context):
    rule = event["resources"][0].split("/")[-1]
    print(f"Report for {event['time']} (rule {rule})")
    return {"report": event["time"], "rule": rule}
