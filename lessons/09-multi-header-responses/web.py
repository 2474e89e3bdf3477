"""A login endpoint that sets two cookies."""

COOKIES = ["session=abc123; Path=/; HttpOnly", "theme=dark; Path=/"]


def handler(event, context):
    headers = {"Content-Type": "text/plain"}
    for cookie in COOKIES:
        headers["Set-Cookie"] = cookie
    return {"statusCode": 200, "headers": headers, "body": "Welcome back"}
