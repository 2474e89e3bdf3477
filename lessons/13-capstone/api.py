"""POST /orders: check an order, store it in S3, answer at once."""

import json

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    order = event["body"]
    if order.get("qty", 0) < 1:
        return {"statusCode": 400, "body": "qty must be 1 or more"}
    key = f"orders/{order['customer']}/{order['id']}.json"
    s3.put_object(Bucket="shop", Key=key, Body=json.dumps(order))
    return {"statusCode": 202, "body": json.dumps({"stored": key})}
