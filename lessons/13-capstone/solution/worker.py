"""Ship each order that S3 reports under orders/."""

from urllib.parse import unquote_plus

import boto3

s3 = boto3.client("s3")

ADDRESSES = {
    "ada": "12 Engine Row, London",
    "grace hopper": "1 Compiler Lane, Arlington",
}


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        # S3 sends the key form-encoded: a space arrives as +.
        key = unquote_plus(record["s3"]["object"]["key"])
        _, customer, name = key.split("/")
        address = ADDRESSES[customer]
        print(f"Shipping {name} to {address}")
        s3.put_object(Bucket=bucket, Key=f"shipped/{name}", Body=address)
