"""A login endpoint that sets two cookies, behind any front door."""

COOKIES = ["session=abc123; Path=/; HttpOnly", "theme=dark; Path=/"]
TAGS = ["new", "sale"]


def handler(event, context):
    body = "Welcome back"
    if event.get("version") == "2.0":
        # HTTP API, payload 2.0: cookies have their own list;
        # other repeated headers are joined with commas.
        return {
            "statusCode": 200,
            "cookies": COOKIES,
            "headers": {"Content-Type": "text/plain", "X-Tags": ",".join(TAGS)},
            "body": body,
        }
    if "multiValueHeaders" in event:
        # REST API (payload 1.0), or an ALB with multi-value headers on.
        return {
            "statusCode": 200,
            "multiValueHeaders": {
                "Content-Type": ["text/plain"],
                "Set-Cookie": COOKIES,
                "X-Tags": TAGS,
            },
            "body": body,
        }
    # An ALB with multi-value headers off: one value per header name.
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain", "Set-Cookie": COOKIES[0]},
        "body": body,
    }
